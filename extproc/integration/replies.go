package integration

import (
	"context"
	"fmt"
	"strings"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/internal/model"
)

// envoyReply answers Envoy's own reply (x.LocalReply: the backend timed
// out or could not be reached, the body was over the limit, a throttle's
// 429) with the API's gateway response of its type. A reply of no
// particular type keeps Envoy's status unless the API's DEFAULT_4XX or
// DEFAULT_5XX sets one.
func (l *lookup) envoyReply(x *extproc.Exchange, rr routeRequest) (*extproc.Decision, error) {
	t := extproc.LocalReplyType(x.LocalReply, x.Status)
	status := 0
	if t == gatewayresponse.Default4XX || t == gatewayresponse.Default5XX {
		status = x.Status
	}
	info := mapping.ErrorInfo{Message: extproc.LocalReplyMessage(x.LocalReply)}
	d, err := rr.gatewayReply(t, status, l.mappingRequest(x, rr), info, x.Headers.Get(headerAccept))
	if err != nil {
		return nil, err
	}
	// A throttle's 429 keeps what it tells the client about its limit,
	// unless the override maps those headers itself.
	set := d.Reply.Headers
	for _, h := range x.ResponseHeaders {
		if rateLimitHeader(h.Name) && set.Get(h.Name) == "" {
			d.Reply.Headers = append(d.Reply.Headers, h)
		}
	}
	return d, nil
}

// gatewayReply answers the client with the API's gateway response of type
// t, rendered for req with the error info and the request's accept
// header; status is t's status unless the override names one (zero: t's
// own, see gatewayresponse.Set.RenderAs).
func (rr routeRequest) gatewayReply(t gatewayresponse.Type, status int, req *mapping.Request, info mapping.ErrorInfo, accept string) (*extproc.Decision, error) {
	resp, err := rr.responses.RenderAs(t, status, req, info, accept)
	if err != nil {
		return nil, fmt.Errorf("rendering the %s gateway response: %w", t, err)
	}
	return extproc.Respond(resp.Status, fromHTTPHeader(resp.Headers), resp.Body), nil
}

// rateLimitHeader reports whether name is one of the headers Envoy's
// rate-limit filter adds to a throttled request's 429.
func rateLimitHeader(name string) bool {
	return strings.HasPrefix(name, "x-ratelimit-") || name == "retry-after"
}

// proxyProcessor serves a route Envoy proxies, for what Envoy cannot do
// by configuration: the integration's method override (method, set as
// :method on the request), and, for an API that customizes the gateway
// responses of Envoy's replies on the route (replies;
// model.API.CustomizesRouteReplies: a timeout, a failure, a body over the
// limit, the route's throttle), answering Envoy's own replies with the
// API's gateway response; the backend's responses pass unchanged.
//
// Without a method override Envoy opens the stream at the response, so it
// costs one round trip per request, and the request is known only by
// Envoy's attributes: its method, host, request ID and the accept,
// user-agent and x-forwarded-for headers. Its path there is the one the
// backend was sent, after the route's rewrite, so the rendering sees no
// path ($context.path, path and query parameters are empty) rather than
// the backend's.
type proxyProcessor struct {
	l       *lookup
	rr      routeRequest
	method  string
	replies bool
}

// Mode asks for the request headers when the method is overridden, and
// for the response headers when the API customizes Envoy's replies.
func (p *proxyProcessor) Mode() extproc.Mode {
	return extproc.Mode{SkipRequest: p.method == "", ResponseHeaders: p.replies}
}

// requestSeen marks, in Exchange.State, an exchange whose request the
// processor saw: behind a request validator, Envoy sends it.
type requestSeen struct{}

// Request sends the request upstream with the integration's method, if it
// has one. Envoy sends it only then, or when a validator comes first.
func (p *proxyProcessor) Request(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	x.State = requestSeen{}
	if p.method == "" || p.method == x.Method {
		return nil, nil
	}
	return &extproc.Decision{Set: []extproc.HeaderOp{{Name: ":method", Value: p.method}}}, nil
}

// Response renders Envoy's own reply as the API's gateway response.
func (p *proxyProcessor) Response(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	if !p.replies || x.LocalReply == "" {
		return nil, nil
	}
	if _, ok := x.State.(requestSeen); ok {
		return p.l.envoyReply(x, p.rr)
	}
	seen := *x
	seen.Path = ""
	return p.l.envoyReply(&seen, p.rr)
}

// notFoundProcessor answers, for an API that customizes it
// (model.API.CustomizesNotFound), the requests no route of a stage
// matches: MISSING_AUTHENTICATION_TOKEN on REST APIs, RESOURCE_NOT_FOUND
// on HTTP APIs, rendered for the request.
type notFoundProcessor struct {
	l  *lookup
	rr routeRequest
}

// newNotFoundProcessor returns the not-found processor of a stage of api.
func (l *lookup) newNotFoundProcessor(api *model.API, st *model.Stage, responses *gatewayresponse.Set) *notFoundProcessor {
	route := &model.Route{ID: model.NotFoundRouteID}
	return &notFoundProcessor{l: l, rr: newRouteRequest(api, st, route, responses)}
}

// Mode asks for the request headers only.
func (p *notFoundProcessor) Mode() extproc.Mode { return extproc.Mode{} }

// Request answers with the API's not-found gateway response.
func (p *notFoundProcessor) Request(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	t := gatewayresponse.Type(p.rr.api.NotFoundType())
	return p.rr.gatewayReply(t, 0, p.l.mappingRequest(x, p.rr), mapping.ErrorInfo{}, x.Headers.Get(headerAccept))
}

// Response lets the response through; the request never reaches a backend.
func (p *notFoundProcessor) Response(context.Context, *extproc.Exchange) (*extproc.Decision, error) {
	return nil, nil
}
