package integration

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/internal/model"
)

// defaultContentType is the media type API Gateway assumes for a request
// without a Content-Type, and gives a response without a template.
const defaultContentType = "application/json"

// mockProcessor answers one route's requests from its MOCK integration's
// templates. One is made per stream; the compiled templates are shared.
type mockProcessor struct {
	l     *lookup
	m     *compiledMock
	api   *model.API
	stage *model.Stage
	route *model.Route
}

// Mode asks for the request body: the request template reads it.
func (p *mockProcessor) Mode() extproc.Mode { return extproc.Mode{RequestBody: true} }

// Response is never called: every request is answered in Request.
func (p *mockProcessor) Response(context.Context, *extproc.Exchange) (*extproc.Decision, error) {
	return nil, nil
}

// Request runs the integration: the request template gives a status, the
// status selects an integration response, and its template renders the
// answer. Configuration errors are returned, and the Server answers them
// with API Gateway's 500.
func (p *mockProcessor) Request(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	req := newRequest(x, routeRequest{api: p.api, stage: p.stage, route: p.route}, p.l.opts.Now(), p.l.opts.XFFTrustedHops)
	integrationRequest, ok, err := p.integrationRequest(x, req)
	if err != nil {
		return nil, err
	}
	if !ok {
		return p.unsupportedMediaType(req, x.Headers.Get(headerAccept))
	}
	status, err := p.l.status.statusCode(integrationRequest)
	if err != nil {
		return nil, err
	}
	resp, err := p.m.selectResponse(strconv.Itoa(status))
	if err != nil {
		return nil, err
	}
	return p.respond(req, resp, x.Headers.Get(headerAccept))
}

// integrationRequest renders the request template for the request's media
// type, or passes the body through as passthroughBehavior allows. ok is
// false when the request must be refused as an unsupported media type.
func (p *mockProcessor) integrationRequest(x *extproc.Exchange, req *mapping.Request) ([]byte, bool, error) {
	t, pass := p.m.requestTemplate(x.Headers.Get(headerContentType))
	if t == nil {
		return x.Body, pass, nil
	}
	out, err := p.render(t, req)
	return []byte(out), true, err
}

// render renders t for req.
func (p *mockProcessor) render(t *template, req *mapping.Request) (string, error) {
	_, out, err := p.renderVars(t, req)
	return out, err
}

// renderVars renders t for req, returning the variables it rendered with
// for the overrides it may have set.
func (p *mockProcessor) renderVars(t *template, req *mapping.Request) (map[string]any, string, error) {
	return p.l.render(t, req)
}

// respond renders the integration response r as the method response.
func (p *mockProcessor) respond(req *mapping.Request, r *compiledResponse, accept string) (*extproc.Decision, error) {
	status := r.statusCode
	headers := make(extproc.Headers, 0, len(r.headers)+1)
	for _, h := range r.headers {
		headers = append(headers, extproc.Header{Name: h.name, Value: h.value})
	}
	var body []byte
	contentType := defaultContentType
	if t := r.responseTemplate(accept); t != nil {
		// A mock's integration response has no body: $input reads an
		// empty payload, with the method request's parameters.
		resp := *req
		resp.Body = nil
		vars, out, err := p.renderVars(t, &resp)
		if err != nil {
			return nil, err
		}
		body, contentType = []byte(out), t.contentType
		o := mapping.ReadOverrides(vars)
		if o.Status != 0 {
			status = o.Status
		}
		for _, h := range o.ResponseHeader {
			headers = setHeader(headers, strings.ToLower(h.Name), h.Value)
		}
	}
	if !headers.Has(headerContentType) {
		headers = append(headers, extproc.Header{Name: headerContentType, Value: contentType})
	}
	return extproc.Respond(status, headers, body), nil
}

// setHeader replaces every value of name in h with value.
func setHeader(h extproc.Headers, name, value string) extproc.Headers {
	out := h[:0]
	for _, f := range h {
		if f.Name != name {
			out = append(out, f)
		}
	}
	return append(out, extproc.Header{Name: name, Value: value})
}

// unsupportedMediaType answers with API Gateway's UNSUPPORTED_MEDIA_TYPE
// gateway response.
func (p *mockProcessor) unsupportedMediaType(req *mapping.Request, accept string) (*extproc.Decision, error) {
	return p.l.unsupportedMediaType(req, accept)
}

// fromHTTPHeader converts h to extproc's lower-case, ordered form.
func fromHTTPHeader(h http.Header) extproc.Headers {
	out := make(extproc.Headers, 0, len(h))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			out = append(out, extproc.Header{Name: strings.ToLower(name), Value: v})
		}
	}
	return out
}
