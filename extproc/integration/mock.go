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
)

// defaultContentType is the media type API Gateway assumes for a request
// without a Content-Type, and gives a response without a template.
const defaultContentType = "application/json"

// mockProcessor answers one route's requests from its MOCK integration's
// templates. One is made per route when the configuration changes; the
// compiled templates are shared between the routes of the integration.
type mockProcessor struct {
	l  *lookup
	m  *compiledMock
	rr routeRequest
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
	req := p.l.mappingRequest(x, p.rr)
	accept := x.Headers.Get(headerAccept)
	integrationRequest, ok, err := p.integrationRequest(x, req)
	if err != nil {
		return nil, err
	}
	if !ok {
		return p.rr.unsupportedMediaType(req, accept)
	}
	status, err := p.l.status.statusCode(integrationRequest)
	if err != nil {
		return nil, err
	}
	r, err := p.m.selectResponse(strconv.Itoa(status))
	if err != nil {
		return nil, err
	}
	// A mock's integration response has no body: $input reads an empty
	// payload, with the method request's parameters.
	m, err := p.l.methodResponse(r, req, nil, nil, accept)
	if err != nil {
		return nil, err
	}
	return extproc.Respond(m.status, m.headers, m.body), nil
}

// integrationRequest renders the request template for the request's media
// type, or passes the body through as passthroughBehavior allows. ok is
// false when the request must be refused as an unsupported media type.
func (p *mockProcessor) integrationRequest(x *extproc.Exchange, req *mapping.Request) ([]byte, bool, error) {
	t, pass := p.m.requestTemplate(x.Headers.Get(headerContentType))
	if t == nil {
		return x.Body, pass, nil
	}
	out, err := p.l.render(t, mapping.Vars(req))
	return []byte(out), true, err
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
