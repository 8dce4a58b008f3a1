package validate

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// modelHost is the host of the URLs by which API Gateway models refer to
// each other: https://apigateway.amazonaws.com/restapis/{api}/models/{name}.
const modelHost = "apigateway.amazonaws.com"

// localAPI stands in for the API id in the URLs models are compiled under.
// References may name any API id; they always resolve within the set passed
// to Compile, as AWS resolves them within the importing API.
const localAPI = "archway"

// Models is the compiled set of one API's models. It is immutable and safe
// for concurrent use: build it once when the configuration changes and share
// it between requests.
type Models struct {
	schemas map[string]*Schema
	// docs holds each model's parsed document. Messages quote schema values
	// (enum members, bounds) as the model wrote them, which the compiled
	// form no longer has.
	docs map[string]any
}

// Schema is one compiled model, ready to validate request bodies.
type Schema struct {
	name   string
	schema *jsonschema.Schema
	models *Models
	// fast confirms valid bodies cheaply (fast.go); nil when the model
	// uses keywords it does not mirror.
	fast *fastSchema
}

// Name returns the model's name, as given to Compile.
func (s *Schema) Name() string { return s.name }

// Compile parses and compiles a set of named models, JSON Schema draft 4
// documents keyed by model name. A model may refer to its own definitions
// ("#/definitions/X") and to the other models of the set, by AWS's URL form
// "https://apigateway.amazonaws.com/restapis/{api}/models/{name}" (any api
// id) or relative to it ("Pet"). No other reference is followed: models never
// cause a file or network read. Every model is compiled eagerly, so a bad
// model fails the configuration rather than a request; the error names each
// failing model.
func Compile(models map[string]string) (*Models, error) {
	names := make([]string, 0, len(models))
	for name := range models {
		names = append(names, name)
	}
	slices.Sort(names)

	m := &Models{schemas: make(map[string]*Schema, len(models)), docs: make(map[string]any, len(models))}
	var errs []error
	for _, name := range names {
		if name == "" {
			errs = append(errs, errors.New("model with an empty name"))
			continue
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(models[name]))
		if err != nil {
			errs = append(errs, fmt.Errorf("model %q: schema is not valid JSON: %w", name, err))
			continue
		}
		m.docs[name] = doc
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.UseLoader(modelLoader(m.docs))
	for _, name := range names {
		compiled, err := c.Compile(modelURL(localAPI, name))
		if err != nil {
			errs = append(errs, fmt.Errorf("model %q: %w", name, err))
			continue
		}
		m.schemas[name] = &Schema{name: name, schema: compiled, models: m, fast: newFastSchema(compiled)}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// Schema returns the compiled model with the given name.
func (m *Models) Schema(name string) (*Schema, bool) {
	if m == nil {
		return nil, false
	}
	s, ok := m.schemas[name]
	return s, ok
}

// modelURL is the absolute URL AWS gives a model.
func modelURL(api, name string) string {
	return "https://" + modelHost + "/restapis/" + url.PathEscape(api) + "/models/" + url.PathEscape(name)
}

// modelName extracts the model name from an AWS model URL, with or without
// a fragment; ok is false for any other URL.
func modelName(raw string) (name string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || !strings.EqualFold(u.Host, modelHost) {
		return "", false
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(parts) != 4 || parts[0] != "restapis" || parts[1] == "" || parts[2] != "models" || parts[3] == "" {
		return "", false
	}
	return parts[3], true
}

// modelLoader serves the documents of the models being compiled, and
// refuses every other URL.
type modelLoader map[string]any

// Load implements jsonschema.URLLoader.
func (l modelLoader) Load(raw string) (any, error) {
	name, ok := modelName(raw)
	if !ok {
		return nil, fmt.Errorf("reference %q is not a model of this API: only %q and %q references are followed",
			raw, "#/definitions/...", "https://"+modelHost+"/restapis/{api}/models/{name}")
	}
	doc, ok := l[name]
	if !ok {
		return nil, fmt.Errorf("reference to unknown model %q", name)
	}
	return doc, nil
}

// lookup returns the raw value of keyword in the schema at schemaURL, an
// absolute location as reported by the validator.
func (m *Models) lookup(schemaURL, keyword string) (any, bool) {
	base, frag, _ := strings.Cut(schemaURL, "#")
	name, ok := modelName(base)
	if !ok {
		return nil, false
	}
	v, ok := m.docs[name]
	if !ok {
		return nil, false
	}
	for _, tok := range strings.Split(frag, "/") {
		if tok == "" {
			continue
		}
		if unescaped, err := url.PathUnescape(tok); err == nil {
			tok = unescaped
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if v, ok = child(v, tok); !ok {
			return nil, false
		}
	}
	return child(v, keyword)
}

// child steps into an object member or array element of a decoded document.
func child(v any, tok string) (any, bool) {
	switch c := v.(type) {
	case map[string]any:
		x, ok := c[tok]
		return x, ok
	case []any:
		i, ok := index(tok)
		if !ok || i >= len(c) {
			return nil, false
		}
		return c[i], true
	}
	return nil, false
}

// index parses a JSON pointer array index.
func index(tok string) (int, bool) {
	if tok == "" || len(tok) > 9 || (len(tok) > 1 && tok[0] == '0') {
		return 0, false
	}
	n := 0
	for _, r := range tok {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}
