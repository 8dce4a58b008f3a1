package mapping

import (
	"strconv"

	"github.com/archway-gateway/archway/extproc/jsonpath"
	"github.com/archway-gateway/archway/extproc/vtl"
)

// Overrides is what a template set in $context.requestOverride and
// $context.responseOverride. API Gateway applies a request template's
// overrides to the integration request, and a response template's to the
// method response, instead of the configured parameter mappings.
type Overrides struct {
	// RequestHeader, RequestPath and RequestQuery replace integration
	// request parameters. A name set to a list gives one Param per element.
	RequestHeader []Param
	RequestPath   []Param
	RequestQuery  []Param
	// ResponseHeader replaces method response headers.
	ResponseHeader []Param
	// Status replaces the method response status; zero when not set or not
	// an HTTP status code (100 to 599).
	Status int
}

// ReadOverrides reads the overrides a template set in vars, as returned by
// Vars and then rendered.
func ReadOverrides(vars map[string]any) Overrides {
	ctx, _ := vars["context"].(*vtl.Map)
	req := childMap(ctx, "requestOverride")
	resp := childMap(ctx, "responseOverride")
	o := Overrides{
		RequestHeader:  overrideParams(childMap(req, "header")),
		RequestPath:    overrideParams(childMap(req, "path")),
		RequestQuery:   overrideParams(childMap(req, "querystring")),
		ResponseHeader: overrideParams(childMap(resp, "header")),
	}
	if resp != nil {
		status, _ := resp.Get("status")
		o.Status = statusCode(status)
	}
	return o
}

func childMap(m *vtl.Map, key string) *vtl.Map {
	if m == nil {
		return nil
	}
	v, _ := m.Get(key)
	child, _ := v.(*vtl.Map)
	return child
}

func overrideParams(m *vtl.Map) []Param {
	if m == nil {
		return nil
	}
	var out []Param
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		if list, ok := v.([]any); ok {
			for _, e := range list {
				out = append(out, Param{Name: k, Value: scalarText(e)})
			}
			continue
		}
		out = append(out, Param{Name: k, Value: scalarText(v)})
	}
	return out
}

// scalarText is a template value as text: strings as they are, anything
// else as JSON.
func scalarText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsonpath.Encode(v)
}

func statusCode(v any) int {
	n := 0
	switch v := v.(type) {
	case int64:
		n = int(max(min(v, 1000), 0))
	case int:
		n = v
	case string:
		n, _ = strconv.Atoi(v)
	}
	if n < 100 || n > 599 {
		return 0
	}
	return n
}
