package gatewayresponse

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/extproc/vtl"
)

// headerKeyPrefix starts the keys of a GatewayResponse's responseParameters
// in API Gateway's API and OpenAPI extension:
// gatewayresponse.header.Access-Control-Allow-Origin.
const headerKeyPrefix = "gatewayresponse."

// source is where a mapping expression takes its value from.
type source int

const (
	sourceStatic source = iota
	sourceHeader
	sourceMultiHeader
	sourceQuery
	sourceMultiQuery
	sourcePath
	sourceStageVariable
	sourceContext
)

// methodRequestSources maps the method.request.<position> of a mapping
// expression to its source.
func methodRequestSources() map[string]source {
	return map[string]source{
		"header":                sourceHeader,
		"multivalueheader":      sourceMultiHeader,
		"querystring":           sourceQuery,
		"multivaluequerystring": sourceMultiQuery,
		"path":                  sourcePath,
	}
}

// expr is one compiled parameter mapping expression: a static value or a
// reference into the request.
type expr struct {
	src source
	// arg is the static value, the parameter or stage variable name, or,
	// for context, unused.
	arg string
	// path is the $context property path, for context references.
	path []string
}

// headerMapping sets one response header from an expression.
type headerMapping struct {
	name string
	expr expr
}

// parseHeaderName accepts a response header name, written either bare
// (X-Request-Id) or as API Gateway's parameter key
// (gatewayresponse.header.X-Request-Id), and returns the bare name.
func parseHeaderName(key string) (string, error) {
	name := key
	if rest, ok := strings.CutPrefix(key, headerKeyPrefix); ok {
		pos, n, found := strings.Cut(rest, ".")
		if !found || pos != "header" {
			return "", fmt.Errorf("%q: a gateway response can only set headers (gatewayresponse.header.NAME)", key)
		}
		name = n
	}
	if !isToken(name) {
		return "", fmt.Errorf("%q is not a valid HTTP header name", name)
	}
	return name, nil
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2), the
// syntax of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// parseExpr compiles a parameter mapping expression as API Gateway writes
// it: a static value in single quotes ('*.example.com'),
// method.request.{header,multivalueheader,querystring,multivaluequerystring,path}.NAME,
// stageVariables.NAME, or context.PROPERTY[.PROPERTY...].
func parseExpr(s string) (expr, error) {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		v := s[1 : len(s)-1]
		if strings.ContainsAny(v, "\r\n\x00") {
			return expr{}, errors.New("a static value cannot contain CR, LF or NUL")
		}
		return expr{src: sourceStatic, arg: v}, nil
	}
	if rest, ok := strings.CutPrefix(s, "method.request."); ok {
		pos, name, _ := strings.Cut(rest, ".")
		src, known := methodRequestSources()[pos]
		if !known || name == "" {
			return expr{}, fmt.Errorf("%q: want method.request.{header,multivalueheader,querystring,multivaluequerystring,path}.NAME", s)
		}
		return expr{src: src, arg: name}, nil
	}
	if name, ok := strings.CutPrefix(s, "stageVariables."); ok {
		if !isStageVariableName(name) {
			return expr{}, fmt.Errorf("%q: a stage variable name is [A-Za-z0-9_]+", s)
		}
		return expr{src: sourceStageVariable, arg: name}, nil
	}
	if rest, ok := strings.CutPrefix(s, "context."); ok {
		path := strings.Split(rest, ".")
		for _, p := range path {
			if p == "" {
				return expr{}, fmt.Errorf("%q: empty context property", s)
			}
		}
		return expr{src: sourceContext, path: path}, nil
	}
	return expr{}, fmt.Errorf("%q is not a mapping expression: want a 'static value', method.request.*, stageVariables.* or context.*", s)
}

// isStageVariableName reports whether s is a stage variable's name:
// letters, digits and underscores.
func isStageVariableName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// eval returns the expression's value for r, and false when it names
// something the request does not have, in which case API Gateway leaves
// the header out. ctx is the request's $context.
func (e expr) eval(r *mapping.Request, ctx *vtl.Map) (string, bool) {
	switch e.src {
	case sourceStatic:
		return e.arg, true
	case sourceHeader:
		return last(r.Header, e.arg, strings.EqualFold)
	case sourceMultiHeader:
		return joined(r.Header, e.arg, strings.EqualFold)
	case sourceQuery:
		return last(r.Query, e.arg, equal)
	case sourceMultiQuery:
		return joined(r.Query, e.arg, equal)
	case sourcePath:
		return last(r.PathParams, e.arg, equal)
	case sourceStageVariable:
		v, ok := r.StageVariables[e.arg]
		return v, ok
	case sourceContext:
		return contextValue(ctx, e.path)
	}
	return "", false
}

// equal compares parameter names case-sensitively, as API Gateway does
// for query strings and path parameters.
func equal(a, b string) bool { return a == b }

// last returns the last value of the parameter called name, as API
// Gateway's single-valued parameter maps hold it.
func last(params []mapping.Param, name string, eq func(a, b string) bool) (string, bool) {
	v, found := "", false
	for _, p := range params {
		if eq(p.Name, name) {
			v, found = p.Value, true
		}
	}
	return v, found
}

// joined returns every value of the parameter called name, joined with
// commas as a multi-valued parameter is sent in one header.
func joined(params []mapping.Param, name string, eq func(a, b string) bool) (string, bool) {
	var vs []string
	for _, p := range params {
		if eq(p.Name, name) {
			vs = append(vs, p.Value)
		}
	}
	return strings.Join(vs, ","), vs != nil
}

// contextValue looks a property path up in $context. Only scalar values
// can be a header: a map (context.identity) names nothing.
func contextValue(ctx *vtl.Map, path []string) (string, bool) {
	var v any = ctx
	for _, p := range path {
		m, ok := v.(*vtl.Map)
		if !ok {
			return "", false
		}
		if v, ok = m.Get(p); !ok {
			return "", false
		}
	}
	switch v := v.(type) {
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	case int:
		return strconv.Itoa(v), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}
