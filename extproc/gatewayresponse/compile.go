package gatewayresponse

import (
	"errors"
	"fmt"
	"mime"
	"sort"
	"strings"

	"github.com/archway-gateway/archway/extproc/vtl"
)

// ContentTypeJSON is the content type of API Gateway's default gateway
// response template, and the one chosen when the client's Accept header
// names no template the response has.
const ContentTypeJSON = "application/json"

// DefaultTemplate is the body template of every gateway response the API
// does not customize: a JSON object holding the error message.
// $context.error.messageString is the message as a JSON string, quotes
// included.
const DefaultTemplate = `{"message":$context.error.messageString}`

// Override is an API's customization of one gateway response type, as in
// API Gateway's GatewayResponse resource and the
// x-amazon-apigateway-gateway-responses OpenAPI extension. A zero field
// keeps API Gateway's default.
type Override struct {
	// StatusCode replaces the type's status code; 0 keeps it. On
	// DEFAULT_4XX and DEFAULT_5XX it becomes the status of every type of
	// that class that has no override of its own.
	StatusCode int
	// Headers are API Gateway's responseParameters: header name (bare, or
	// as gatewayresponse.header.NAME) to a mapping expression, either a
	// static value in single quotes or method.request.header.NAME,
	// method.request.multivalueheader.NAME, method.request.querystring.NAME,
	// method.request.multivaluequerystring.NAME, method.request.path.NAME,
	// stageVariables.NAME or context.PROPERTY. A header whose source the
	// request lacks is left out.
	Headers map[string]string
	// Templates are the responseTemplates: content type to body template.
	// The body is rendered as VTL with $context (including $context.error),
	// $stageVariables, $input and $util.
	Templates map[string]string
}

// FieldError is an Override that Compile refused. It names the type and
// the field, so that the admin API can report it as a field violation.
type FieldError struct {
	// Type is the gateway response type whose override is wrong.
	Type Type
	// Field is the field, for example statusCode,
	// responseTemplates["application/json"] or
	// responseParameters["gatewayresponse.header.x-id"].
	Field string
	// Err says what is wrong with it.
	Err error
}

// Error names the type, the field and the fault.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("gateway response %s: %v", e.Type, e.Err)
	}
	return fmt.Sprintf("gateway response %s: %s: %v", e.Type, e.Field, e.Err)
}

// Unwrap returns the underlying error, such as a *vtl.ParseError.
func (e *FieldError) Unwrap() error { return e.Err }

// template is one compiled body template.
type template struct {
	contentType string // as configured, sent as Content-Type
	mediaType   string // lower case, without parameters, for matching
	tmpl        *vtl.Template
}

// response is the compiled answer for one type: the override that applies
// to it (its own, its class's fallback, or none) merged with its defaults.
type response struct {
	status    int
	headers   []headerMapping
	templates []template // sorted by media type; never empty
	// custom says an override applies (the type's own or its class's);
	// explicit says it sets the status.
	custom, explicit bool
}

// Set is the compiled gateway responses of one API: every template parsed
// and every mapping expression checked once, when the configuration
// changes. A Set is immutable and safe for concurrent use.
type Set struct {
	responses map[Type]*response
}

// Compile checks and compiles an API's gateway response overrides. Types
// missing from overrides answer with API Gateway's defaults, or with their
// class's DEFAULT_4XX or DEFAULT_5XX override. Every fault is reported, each
// as a *FieldError, joined in type and field order.
func Compile(overrides map[Type]Override) (*Set, error) {
	def, err := vtl.Parse("default", DefaultTemplate)
	if err != nil {
		return nil, fmt.Errorf("gateway response default template: %w", err)
	}
	defaults := []template{{contentType: ContentTypeJSON, mediaType: ContentTypeJSON, tmpl: def}}

	compiled := make(map[Type]*response, len(overrides))
	var errs []error
	for _, t := range sortedTypes(overrides) {
		r, fieldErrs := compileOverride(t, overrides[t], defaults)
		errs = append(errs, fieldErrs...)
		compiled[t] = r
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	s := &Set{responses: make(map[Type]*response, len(Types()))}
	for _, t := range Types() {
		s.responses[t] = resolve(t, compiled, defaults)
	}
	return s, nil
}

// resolve picks the response t answers with: its own override, else its
// class's fallback override with t's status unless the fallback sets one,
// else API Gateway's default.
func resolve(t Type, compiled map[Type]*response, defaults []template) *response {
	r, ok := compiled[t]
	if !ok {
		if fb, isClass := t.fallback(); isClass {
			r, ok = compiled[fb]
		}
	}
	if !ok {
		return &response{status: t.status(), templates: defaults}
	}
	resolved := *r // the fallback's own entry keeps status 0 for the others
	resolved.custom, resolved.explicit = true, resolved.status != 0
	if resolved.status == 0 {
		resolved.status = t.status()
	}
	return &resolved
}

func sortedTypes(overrides map[Type]Override) []Type {
	ts := make([]Type, 0, len(overrides))
	for t := range overrides {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts
}

// compileOverride compiles one type's override. The status is left 0 when
// the override keeps the default, for resolve to fill in.
func compileOverride(t Type, o Override, defaults []template) (*response, []error) {
	if !t.Valid() {
		return nil, []error{&FieldError{Type: t, Field: "responseType", Err: errors.New("not a gateway response type")}}
	}
	var errs []error
	fail := func(field string, err error) {
		errs = append(errs, &FieldError{Type: t, Field: field, Err: err})
	}
	if o.StatusCode != 0 && (o.StatusCode < 100 || o.StatusCode > 599) {
		fail("statusCode", fmt.Errorf("%d is not an HTTP status code (100 to 599)", o.StatusCode))
	}
	r := &response{status: o.StatusCode, templates: defaults}
	headers, herrs := compileHeaders(o.Headers)
	for _, e := range herrs {
		fail(e.field, e.err)
	}
	r.headers = headers
	if len(o.Templates) > 0 {
		templates, terrs := compileTemplates(t, o.Templates)
		for _, e := range terrs {
			fail(e.field, e.err)
		}
		r.templates = templates
	}
	return r, errs
}

// keyError is a fault in one entry of a map field.
type keyError struct {
	field string
	err   error
}

func compileHeaders(params map[string]string) ([]headerMapping, []keyError) {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []headerMapping
	var errs []keyError
	for _, k := range keys {
		field := fmt.Sprintf("responseParameters[%q]", k)
		name, err := parseHeaderName(k)
		if err != nil {
			errs = append(errs, keyError{field, err})
			continue
		}
		e, err := parseExpr(params[k])
		if err != nil {
			errs = append(errs, keyError{field, err})
			continue
		}
		out = append(out, headerMapping{name: name, expr: e})
	}
	return out, errs
}

func compileTemplates(t Type, src map[string]string) ([]template, []keyError) {
	var out []template
	var errs []keyError
	for ct, body := range src {
		field := fmt.Sprintf("responseTemplates[%q]", ct)
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !strings.Contains(mt, "/") || strings.Contains(mt, "*") {
			errs = append(errs, keyError{field, fmt.Errorf("%q is not a media type", ct)})
			continue
		}
		tmpl, err := vtl.Parse(string(t)+" "+ct, body)
		if err != nil {
			errs = append(errs, keyError{field, err})
			continue
		}
		out = append(out, template{contentType: ct, mediaType: mt, tmpl: tmpl})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].mediaType != out[j].mediaType {
			return out[i].mediaType < out[j].mediaType
		}
		return out[i].contentType < out[j].contentType
	})
	for i := 1; i < len(out); i++ {
		if out[i].mediaType == out[i-1].mediaType {
			field := fmt.Sprintf("responseTemplates[%q]", out[i].contentType)
			errs = append(errs, keyError{field, fmt.Errorf("media type %s has another template", out[i].mediaType)})
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].field < errs[j].field })
	return out, errs
}

// CheckParameter reports what is wrong with one entry of an override's
// Headers (AWS's responseParameters): a header name, bare or as
// gatewayresponse.header.NAME, and a mapping expression. It returns nil
// for an entry Compile accepts.
func CheckParameter(key, expr string) error {
	if _, err := parseHeaderName(key); err != nil {
		return err
	}
	_, err := parseExpr(expr)
	return err
}
