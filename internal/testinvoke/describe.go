package testinvoke

import (
	"maps"
	"slices"
	"strings"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/model"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// headerValues converts headers to the admin API's form.
func headerValues(h extproc.Headers) []*adminv1.HeaderValue {
	out := make([]*adminv1.HeaderValue, 0, len(h))
	for _, f := range h {
		out = append(out, &adminv1.HeaderValue{Name: f.Name, Value: f.Value})
	}
	return out
}

// pathOnly is a request target without its query string.
func pathOnly(target string) string {
	p, _, _ := strings.Cut(target, "?")
	return p
}

// rawParams matches path (inside the API, without the stage's prefix)
// against t and returns the values of t's parameters as sent, not
// decoded, which is what Envoy's URI template rewrite substitutes; nil if
// the path does not match. A greedy parameter takes the rest of the path.
func rawParams(t model.PathTemplate, path string) map[string]string {
	params, ok := t.Match(path)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(params))
	for _, p := range params {
		out[p.Name] = p.Value
	}
	return out
}

// formatPairs writes m as name=value, in the order of names.
func formatPairs(m map[string]string, names []string) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		if v, ok := m[n]; ok {
			parts = append(parts, n+"="+v)
		}
	}
	return strings.Join(parts, ", ")
}

// formatMap writes m as name=value, sorted by name.
func formatMap(m map[string]string) string {
	return formatPairs(m, slices.Sorted(maps.Keys(m)))
}

// joinDetail appends the processors' log lines to a step's detail.
func joinDetail(detail, logs string) string {
	if logs = strings.TrimSpace(logs); logs == "" {
		return detail
	}
	return detail + "\nlog: " + strings.ReplaceAll(logs, "\n", "\nlog: ")
}

// integrationKind names in's kind as the admin API does.
func integrationKind(in *model.Integration) string {
	switch {
	case in.HTTPProxy != nil:
		return "HTTP proxy"
	case in.Function != nil:
		return "FUNCTION, payload format " + in.Function.PayloadVersion
	case in.HTTP != nil:
		return "HTTP"
	case in.Mock != nil && in.Mock.Templates != nil:
		return "MOCK with templates"
	case in.Mock != nil:
		return "MOCK"
	}
	return "unknown"
}
