package integration

import (
	"context"
	"fmt"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/internal/model"
)

// envoyReply answers Envoy's own reply (x.LocalReply: the backend timed
// out or could not be reached, the body was over the limit) with the
// API's gateway response of its type. A reply of no particular type keeps
// Envoy's status unless the API's DEFAULT_4XX or DEFAULT_5XX sets one.
func (l *lookup) envoyReply(x *extproc.Exchange, rr routeRequest) (*extproc.Decision, error) {
	t := extproc.LocalReplyType(x.LocalReply, x.Status)
	status := 0
	if t == gatewayresponse.Default4XX || t == gatewayresponse.Default5XX {
		status = x.Status
	}
	info := mapping.ErrorInfo{Message: extproc.LocalReplyMessage(x.LocalReply)}
	resp, err := rr.responses.RenderAs(t, status, l.mappingRequest(x, rr), info, x.Headers.Get(headerAccept))
	if err != nil {
		return nil, fmt.Errorf("rendering the %s gateway response: %w", t, err)
	}
	return extproc.Respond(resp.Status, fromHTTPHeader(resp.Headers), resp.Body), nil
}

// replyProcessor serves a route Envoy proxies on its own, of an API that
// customizes the gateway responses of Envoy's replies
// (model.API.CustomizesEnvoyReplies): it sees only the response headers,
// and answers Envoy's own replies with the API's gateway response; the
// backend's responses pass unchanged.
type replyProcessor struct {
	l  *lookup
	rr routeRequest
}

// Mode asks for the response headers only: the translator opens the
// stream at the response.
func (p *replyProcessor) Mode() extproc.Mode { return extproc.Mode{ResponseHeaders: true} }

// Request lets the request through; Envoy does not send it.
func (p *replyProcessor) Request(context.Context, *extproc.Exchange) (*extproc.Decision, error) {
	return nil, nil
}

// Response renders Envoy's own reply as the API's gateway response.
func (p *replyProcessor) Response(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	if x.LocalReply == "" {
		return nil, nil
	}
	return p.l.envoyReply(x, p.rr)
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
	return &notFoundProcessor{l: l, rr: routeRequest{api: api, stage: st, route: route, responses: responses}}
}

// Mode asks for the request headers only.
func (p *notFoundProcessor) Mode() extproc.Mode { return extproc.Mode{} }

// Request answers with the API's not-found gateway response.
func (p *notFoundProcessor) Request(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	t := gatewayresponse.Type(p.rr.api.NotFoundType())
	resp, err := p.rr.responses.Render(t, p.l.mappingRequest(x, p.rr), mapping.ErrorInfo{}, x.Headers.Get(headerAccept))
	if err != nil {
		return nil, fmt.Errorf("rendering the %s gateway response: %w", t, err)
	}
	return extproc.Respond(resp.Status, fromHTTPHeader(resp.Headers), resp.Body), nil
}

// Response lets the response through; the request never reaches a backend.
func (p *notFoundProcessor) Response(context.Context, *extproc.Exchange) (*extproc.Decision, error) {
	return nil, nil
}
