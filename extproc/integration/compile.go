package integration

import (
	"fmt"
	"maps"
	"mime"
	"regexp"
	"slices"
	"strings"

	"github.com/archway-gateway/archway/extproc/vtl"
	"github.com/archway-gateway/archway/internal/model"
)

// compiledMock is a MOCK integration's template form, parsed once per
// configuration change and shared by every request of every route that
// uses the integration. It is never modified after compileMock.
type compiledMock struct{ compiledTemplates }

// compiledTemplates are the templates and integration responses an
// integration that transforms requests and responses has: a MOCK in its
// template form, or a non-proxy HTTP integration.
type compiledTemplates struct {
	// requestTemplates are keyed by media type in lower case.
	requestTemplates map[string]*template
	passthrough      model.Passthrough
	responses        []compiledResponse
	// defaultResponse indexes responses, or is -1 when there is none.
	defaultResponse int
}

// template is one parsed template, or why it could not be parsed.
type template struct {
	contentType string
	t           *vtl.Template
	err         error
}

// compiledResponse is one integration response.
type compiledResponse struct {
	// pattern is the selection pattern anchored at both ends; nil for the
	// default response, or when err is set.
	pattern    *regexp.Regexp
	statusCode int
	// headers are the static response headers in order of name.
	headers []header
	// templates are in order of content type, so that the fallback to
	// "the first" is the same on every request.
	templates []*template
	err       error
}

// header is one response header mapping: a static value, its quotes
// removed, or, when from is set, the backend's header of that name (lower
// case).
type header struct{ name, value, from string }

// compileMock parses the templates and patterns of t. It never fails: a
// part that does not compile is kept with its error, which the requests
// that need it answer with a 500, so that one bad template does not take
// the rest of the configuration down.
func compileMock(id string, t *model.MockTemplates) *compiledMock {
	return &compiledMock{compileTemplates(id, t.RequestTemplates, t.Passthrough, t.Responses, staticHeaders)}
}

// compileTemplates parses request templates and integration responses,
// keeping what does not compile with its error. headers picks the
// response header mappings the integration kind supports.
func compileTemplates(id string, requestTemplates map[string]string, pt model.Passthrough,
	responses []model.IntegrationResponse, headers func(map[string]string) []header,
) compiledTemplates {
	m := compiledTemplates{
		requestTemplates: make(map[string]*template, len(requestTemplates)),
		passthrough:      pt,
		defaultResponse:  -1,
	}
	for ct, src := range requestTemplates {
		m.requestTemplates[mediaType(ct)] = parseTemplate(id+" request template "+ct, ct, src)
	}
	for i, r := range responses {
		cr := compiledResponse{statusCode: r.StatusCode, headers: headers(r.Headers)}
		if r.Pattern == "" {
			if m.defaultResponse < 0 {
				m.defaultResponse = i
			}
		} else if cr.pattern, cr.err = regexp.Compile("^(?:" + r.Pattern + ")$"); cr.err != nil {
			cr.err = fmt.Errorf("integration response %d: selection pattern: %w", i, cr.err)
		}
		for _, ct := range slices.Sorted(maps.Keys(r.Templates)) {
			name := fmt.Sprintf("%s response %d template %s", id, i, ct)
			cr.templates = append(cr.templates, parseTemplate(name, ct, r.Templates[ct]))
		}
		m.responses = append(m.responses, cr)
	}
	return m
}

// requestTemplate returns the request template for a request's
// Content-Type: the template of its media type, application/json's when it
// has none. Without one, passthroughBehavior decides: pass is true when
// the body may go on unchanged (WHEN_NO_MATCH; WHEN_NO_TEMPLATES when
// there are no templates at all), false when API Gateway refuses it as an
// unsupported media type.
func (m *compiledTemplates) requestTemplate(contentType string) (t *template, pass bool) {
	ct := defaultContentType
	if contentType != "" {
		ct = mediaType(contentType)
	}
	if t := m.requestTemplates[ct]; t != nil {
		return t, true
	}
	return nil, m.passthrough == model.PassthroughWhenNoMatch ||
		m.passthrough == model.PassthroughWhenNoTemplates && len(m.requestTemplates) == 0
}

// errs returns why the parts of m that did not compile failed.
func (m *compiledTemplates) errs() []error {
	var out []error
	for _, ct := range slices.Sorted(maps.Keys(m.requestTemplates)) {
		if err := m.requestTemplates[ct].err; err != nil {
			out = append(out, err)
		}
	}
	for _, r := range m.responses {
		if r.err != nil {
			out = append(out, r.err)
		}
		for _, t := range r.templates {
			if t.err != nil {
				out = append(out, t.err)
			}
		}
	}
	return out
}

// parseTemplate parses one template, keeping the error if it fails.
func parseTemplate(name, contentType, src string) *template {
	t, err := vtl.Parse(name, src)
	return &template{contentType: contentType, t: t, err: err}
}

// staticHeaders returns the headers whose values are static: 'value' in
// single quotes, as AWS writes method.response.header mappings. For a mock
// no other mapping source exists (integration.response.header.* and
// .body name a backend's answer, and a mock has none), so other values
// map to nothing and are left out, as on API Gateway.
func staticHeaders(h map[string]string) []header {
	out := make([]header, 0, len(h))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if v, ok := staticValue(h[name]); ok {
			out = append(out, header{name: strings.ToLower(name), value: v})
		}
	}
	return out
}

// staticValue returns the value of a static mapping, 'value' in single
// quotes, without its quotes.
func staticValue(v string) (string, bool) {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1], true
	}
	return "", false
}

// mediaType returns the media type of a Content-Type value in lower case,
// without parameters: API Gateway chooses request templates by the media
// type alone, so application/json; charset=utf-8 uses application/json's.
func mediaType(ct string) string {
	if !strings.Contains(ct, ";") {
		// No parameters: the common case needs no parsing, and the
		// result is what parsing would give.
		return strings.ToLower(strings.TrimSpace(ct))
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// selectResponse returns the integration response for status: the first,
// in definition order, whose pattern matches all of it, else the default.
func (m *compiledTemplates) selectResponse(status string) (*compiledResponse, error) {
	for i := range m.responses {
		r := &m.responses[i]
		if r.err != nil {
			return nil, r.err
		}
		if r.pattern != nil && r.pattern.MatchString(status) {
			return r, nil
		}
	}
	if m.defaultResponse < 0 {
		return nil, fmt.Errorf("no match for output mapping and no default output mapping configured: endpoint response status code %s", status)
	}
	return &m.responses[m.defaultResponse], nil
}

// responseTemplate returns the template for the request's Accept header,
// taken literally as API Gateway does, else application/json's, else the
// first; nil when the response has none.
func (r *compiledResponse) responseTemplate(accept string) *template {
	if len(r.templates) == 0 {
		return nil
	}
	accept = strings.TrimSpace(accept)
	for _, want := range [...]string{accept, "application/json"} {
		for _, t := range r.templates {
			if want != "" && strings.EqualFold(t.contentType, want) {
				return t
			}
		}
	}
	return r.templates[0]
}
