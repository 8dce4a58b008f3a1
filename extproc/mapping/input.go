package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/archway-gateway/archway/extproc/jsonpath"
	"github.com/archway-gateway/archway/extproc/vtl"
)

// maxCachedPaths bounds the compiled JSONPath expressions one request
// keeps, so that a template looping over computed paths cannot grow the
// cache without end.
const maxCachedPaths = 64

// input is $input: the method request payload and parameters. Like the
// rest of Vars, it serves one rendering and is not safe for concurrent use.
type input struct {
	r *Request
	// params is $input.params(), made the first time a template asks for
	// it; until then $input.params(x) reads the request's parameters.
	params *vtl.Map

	// body is $input.body, the payload as a string, copied from r.Body the
	// first time a template reads it rather than on every read.
	body    string
	hasBody bool

	decoded bool
	doc     any
	// paths caches compiled paths: a template often evaluates the same
	// path inside a #foreach.
	paths map[string]*jsonpath.Path
}

// newInput returns $input for r.
func newInput(r *Request) *input {
	return &input{r: r}
}

// allParams returns $input.params(), the map {path, querystring, header}
// a template may read and change.
func (in *input) allParams() *vtl.Map {
	if in.params == nil {
		in.params = vtl.NewMapCap(3)
		in.params.Set("path", paramMap(in.r.PathParams))
		in.params.Set("querystring", paramMap(in.r.Query))
		in.params.Set("header", paramMap(in.r.Header))
	}
	return in.params
}

// Property resolves $input.body.
func (in *input) Property(name string) (any, bool) {
	if name == "body" {
		if !in.hasBody {
			in.body, in.hasBody = string(in.r.Body), true
		}
		return in.body, true
	}
	return nil, false
}

// Method calls $input.json(x), $input.path(x), $input.params() and
// $input.params(x).
func (in *input) Method(name string, args []any) (any, bool, error) {
	if name == "params" && len(args) == 0 {
		return in.allParams(), true, nil
	}
	if len(args) != 1 {
		return nil, false, nil
	}
	arg, ok := args[0].(string)
	if !ok {
		return nil, false, nil
	}
	switch name {
	case "params":
		return in.param(arg), true, nil
	case "json":
		v, err := in.json(arg)
		return v, true, err
	case "path":
		v, err := in.path(arg)
		return v, true, err
	}
	return nil, false, nil
}

// param looks name up in the path, the query string and then the headers,
// the order API Gateway documents: in $input.params() once a template has
// it (and may have changed it), else in the request.
func (in *input) param(name string) string {
	if in.params == nil {
		for _, params := range [...][]Param{in.r.PathParams, in.r.Query, in.r.Header} {
			if v, ok := lastValue(params, name); ok {
				return v
			}
		}
		v, _ := header(in.r.Header, name)
		return v
	}
	for _, kind := range [...]string{"path", "querystring", "header"} {
		m := childMap(in.params, kind)
		if m == nil {
			continue
		}
		if v, ok := m.Get(name); ok {
			return scalarText(v)
		}
	}
	if v, ok := header(in.r.Header, name); ok {
		return v
	}
	return ""
}

// json is $input.json(path): the value at path as JSON text.
func (in *input) json(path string) (string, error) {
	v, found, err := in.eval(path)
	if err != nil {
		return "", err
	}
	if !found {
		return `""`, nil
	}
	return jsonpath.Encode(v), nil
}

// path is $input.path(path): a copy of the value at path that a
// template may navigate and change.
func (in *input) path(path string) (any, error) {
	v, found, err := in.eval(path)
	if err != nil || !found {
		return nil, err
	}
	return templateValue(v), nil
}

// eval evaluates path over the payload; found is false when a definite
// path names nothing.
func (in *input) eval(path string) (v any, found bool, err error) {
	p, err := in.compile(path)
	if err != nil {
		return nil, false, err
	}
	v, err = p.Eval(in.document())
	if errors.Is(err, jsonpath.ErrNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

// compile compiles path, or takes it from the request's cache.
func (in *input) compile(path string) (*jsonpath.Path, error) {
	if p, ok := in.paths[path]; ok {
		return p, nil
	}
	p, err := jsonpath.Compile(path)
	if err != nil {
		return nil, err
	}
	if in.paths == nil {
		in.paths = make(map[string]*jsonpath.Path)
	}
	if len(in.paths) < maxCachedPaths {
		in.paths[path] = p
	}
	return p, nil
}

// document decodes the payload once: empty reads as {}, and text that is
// not JSON as one string.
func (in *input) document() any {
	if !in.decoded {
		in.doc, in.decoded = parseBody(in.r.Body), true
	}
	return in.doc
}

// parseBody decodes a payload as API Gateway reads it.
func parseBody(body []byte) any {
	if len(bytes.TrimSpace(body)) == 0 {
		return vtl.NewMap()
	}
	doc, err := jsonpath.Decode(body)
	if err != nil {
		return string(body)
	}
	return doc
}

// templateValue copies a decoded JSON value into the values templates
// handle: numbers become int64 (Java's Integer or Long) when written as
// integers that fit, and float64 (Double) otherwise. The copy keeps a
// template that changes what $input.path returned from changing the
// payload later paths read.
func templateValue(v any) any {
	switch v := v.(type) {
	case json.Number:
		return number(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = templateValue(e)
		}
		return out
	case *vtl.Map:
		out := vtl.NewMapCap(v.Len())
		for k, e := range v.All() {
			out.Set(k, templateValue(e))
		}
		return out
	}
	return v
}

// number converts a JSON number to Java's Integer/Long or Double.
func number(n json.Number) any {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
