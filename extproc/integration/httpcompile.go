package integration

import (
	"maps"
	"slices"
	"strings"

	"github.com/archway-gateway/archway/internal/model"
)

// compiledHTTP is a non-proxy HTTP integration, compiled once per
// configuration change and shared by every request of every route that
// uses it. It is never modified after compileHTTP.
type compiledHTTP struct {
	compiledTemplates
	// method replaces the client's method; empty keeps it.
	method string
	// path is the URI's path, query string included, in parts.
	path []uriPart
	// params are the request parameter mappings in order of target.
	params []paramMapping
	// readsContext says a mapping reads $context.
	readsContext bool
}

// uriPart is a piece of an integration URI's path: literal text, a
// {name} or greedy {name+} parameter, or a ${stageVariables.name}
// reference.
type uriPart struct {
	kind partKind
	text string
}

type partKind int

const (
	partLiteral partKind = iota
	partParam
	partGreedy
	partStageVariable
)

// paramMapping is one of requestParameters: the integration request's
// header, query string parameter or path parameter named by the key,
// set from the value's source.
type paramMapping struct {
	target targetKind
	// name is the target's name, in lower case for a header.
	name string
	from source
}

type targetKind int

const (
	targetHeader targetKind = iota
	targetQuery
	targetPath
)

// source is where a parameter mapping takes its value from.
type source struct {
	kind sourceKind
	// name is the parameter, variable or context path; the value itself
	// for a static source.
	name string
}

type sourceKind int

const (
	sourceStatic sourceKind = iota
	sourceHeader
	sourceQuery
	sourcePath
	sourceContext
	sourceStageVariable
)

// targetPrefix is how a requestParameters key names its target.
type targetPrefix struct {
	prefix string
	kind   targetKind
}

// targetPrefixes are the targets of requestParameters, as AWS writes them.
func targetPrefixes() [3]targetPrefix {
	return [...]targetPrefix{
		{"integration.request.header.", targetHeader},
		{"integration.request.querystring.", targetQuery},
		{"integration.request.path.", targetPath},
	}
}

// sourcePrefix is how a requestParameters value names its source.
type sourcePrefix struct {
	prefix string
	kind   sourceKind
}

// sourcePrefixes are the sources of requestParameters other than static
// values, as AWS writes them.
func sourcePrefixes() [5]sourcePrefix {
	return [...]sourcePrefix{
		{"method.request.header.", sourceHeader},
		{"method.request.querystring.", sourceQuery},
		{"method.request.path.", sourcePath},
		{"context.", sourceContext},
		{"stageVariables.", sourceStageVariable},
	}
}

// compileHTTP compiles h: its templates and integration responses (kept
// with their errors, as a mock's), its URI's path and its parameter
// mappings. A mapping the admin API would refuse is left out.
func compileHTTP(id string, h *model.HTTP) *compiledHTTP {
	params := parseParams(h.RequestParameters)
	return &compiledHTTP{
		compiledTemplates: compileTemplates(id, h.RequestTemplates, h.Passthrough, h.Responses, responseHeaders),
		method:            h.Method,
		path:              parseURIPath(uriPath(h.URI)),
		params:            params,
		readsContext:      slices.ContainsFunc(params, func(pm paramMapping) bool { return pm.from.kind == sourceContext }),
	}
}

// uriPath returns the path of an http(s) URI, with its query string if it
// has one; "/" when it has no path.
func uriPath(uri string) string {
	_, rest, _ := strings.Cut(uri, "://")
	i := strings.IndexAny(rest, "/?")
	if i < 0 {
		return "/"
	}
	p, _, _ := strings.Cut(rest[i:], "#")
	if p[0] == '?' {
		p = "/" + p
	}
	return p
}

// parseURIPath splits a URI's path into literal text, {param}
// references and ${stageVariables.name} references. A brace that opens
// no well-formed reference is literal text.
func parseURIPath(p string) []uriPart {
	var parts []uriPart
	literal := func(s string) {
		if s == "" {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].kind == partLiteral {
			parts[n-1].text += s
			return
		}
		parts = append(parts, uriPart{kind: partLiteral, text: s})
	}
	for p != "" {
		i := strings.IndexAny(p, "${")
		if i < 0 {
			literal(p)
			break
		}
		literal(p[:i])
		p = p[i:]
		if rest, ok := strings.CutPrefix(p, model.StageVariablePrefix); ok {
			if name, after, ok := strings.Cut(rest, "}"); ok && name != "" {
				parts = append(parts, uriPart{kind: partStageVariable, text: name})
				p = after
				continue
			}
		}
		if name, after, ok := strings.Cut(p[min(1, len(p)):], "}"); ok && p[0] == '{' && name != "" && !strings.ContainsAny(name, "{/") {
			kind := partParam
			if n, greedy := strings.CutSuffix(name, "+"); greedy {
				kind, name = partGreedy, n
			}
			parts = append(parts, uriPart{kind: kind, text: name})
			p = after
			continue
		}
		literal(p[:1])
		p = p[1:]
	}
	return parts
}

// parseParams turns requestParameters into mappings in order of target.
func parseParams(m map[string]string) []paramMapping {
	out := make([]paramMapping, 0, len(m))
	for _, key := range slices.Sorted(maps.Keys(m)) {
		pm, ok := parseParam(key, m[key])
		if ok {
			out = append(out, pm)
		}
	}
	return out
}

// parseParam parses one mapping; ok is false for one in no form AWS
// defines.
func parseParam(key, value string) (paramMapping, bool) {
	var pm paramMapping
	found := false
	for _, t := range targetPrefixes() {
		if name, ok := strings.CutPrefix(key, t.prefix); ok && name != "" {
			pm.target, pm.name, found = t.kind, name, true
			break
		}
	}
	if !found {
		return pm, false
	}
	if pm.target == targetHeader {
		pm.name = strings.ToLower(pm.name)
	}
	if v, ok := staticValue(value); ok {
		pm.from = source{kind: sourceStatic, name: v}
		return pm, true
	}
	for _, s := range sourcePrefixes() {
		if name, ok := strings.CutPrefix(value, s.prefix); ok && name != "" {
			pm.from = source{kind: s.kind, name: name}
			return pm, true
		}
	}
	return pm, false
}

// responseHeaderPrefix names a backend's header in a method response
// header mapping.
const responseHeaderPrefix = "integration.response.header."

// responseHeaders returns the method response header mappings of an
// integration with a backend: static values in single quotes, and
// integration.response.header.NAME, the backend's header. Other sources
// are left out.
func responseHeaders(h map[string]string) []header {
	out := make([]header, 0, len(h))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if from, ok := strings.CutPrefix(h[name], responseHeaderPrefix); ok && from != "" {
			out = append(out, header{name: strings.ToLower(name), from: strings.ToLower(from)})
		} else if v, ok := staticValue(h[name]); ok {
			out = append(out, header{name: strings.ToLower(name), value: v})
		}
	}
	return out
}
