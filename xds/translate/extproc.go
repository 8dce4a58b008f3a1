package translate

import (
	"time"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// extProcMessageTimeout bounds how long Envoy waits for Archway's answer to
// one ext_proc message (request headers, the buffered body). Envoy's
// default of 200 ms is too short for rendering templates over a body of up
// to 10 MB on a loaded service; an answer still missing after two seconds
// means Archway is in trouble, and the client gets 504 rather than waiting.
const extProcMessageTimeout = 2 * time.Second

// allowedRoutingMutations is the one routing header ext_proc may change
// beyond Envoy's default rules: :method, which a Lambda-proxy route's
// processor sets to POST, since a function is always invoked with POST
// whatever the client's method, and a non-proxy HTTP route's processor
// sets to the integration's method. By default Envoy 1.40 silently
// ignores a change of host, :authority, :scheme or :method sent with the
// answer to a body, though it applies one sent with CONTINUE_AND_REPLACE
// (checked against the real Envoy: a GET without a body became a POST, a
// PATCH with one stayed a PATCH); the others stay forbidden. Other
// headers, :path among them, need no rule. Envoy matches the expression
// against the whole name.
const allowedRoutingMutations = ":method"

// extProcFilter is the external processing filter, through which Archway's
// ext_proc service carries out what Envoy cannot: template-driven mock,
// Lambda-proxy and non-proxy HTTP integrations, and API Gateway's request
// validators.
//
// It is disabled in the filter chain (HttpFilter.disabled) and enabled
// only on the routes that carry an ExtProcPerRoute (see extProcPerRoute),
// and its default processing_mode skips both headers, so that a route
// without an override opens no stream even if it enabled the filter.
// Routes cannot change the service or the failure mode, and the service
// cannot change a route's mode (allow_mode_override false): what Envoy
// sends is decided by the translator alone. The service may change any
// header but Envoy's own (x-envoy-*) and the routing headers host,
// :authority and :scheme (see allowedRoutingMutations); a change it may
// not make is ignored and counted in the filter's
// rejected_header_mutations.
//
// With the response headers Envoy sends extProcResponseAttributes.
//
// It fails closed (failure_mode_allow false): when Archway cannot be
// reached, breaks the stream or does not answer in extProcMessageTimeout,
// the client gets Envoy's 500 (504 on a timeout) rather than a request
// that skipped validation or a template.
//
// The stream as a whole has no deadline: Envoy 1.40's ext_proc filter
// ignores grpc_service.timeout (it sends no grpc-timeout), and a stream
// lives as long as its HTTP request, so message_timeout bounds every wait
// for Archway and the connection manager's timeouts bound the request.
func extProcFilter() *extprocv3.ExternalProcessor {
	return &extprocv3.ExternalProcessor{
		GrpcService:       servicesGrpc(nil),
		FailureModeAllow:  false,
		MessageTimeout:    durationpb.New(extProcMessageTimeout),
		AllowModeOverride: false,
		ProcessingMode: &extprocv3.ProcessingMode{
			RequestHeaderMode:  extprocv3.ProcessingMode_SKIP,
			ResponseHeaderMode: extprocv3.ProcessingMode_SKIP,
		},
		MutationRules: &mutationrulesv3.HeaderMutationRules{
			AllowExpression: &matcherv3.RegexMatcher{Regex: allowedRoutingMutations},
		},
		ResponseAttributes: extProcResponseAttributes(),
	}
}

// extProcResponseAttributes are the attributes Envoy sends the service
// with the response headers (extproc.ResponseAttributes, which the
// translator does not import): Envoy's response code details, by which
// the service tells Envoy's own replies (response_timeout,
// upstream_reset_before_response_started{...}, request_payload_too_large)
// from the backend's response (via_upstream), and what the service needs
// of the request on a stream Envoy opens at the response, whose request
// headers the route skips (responseHeadersMode). Envoy evaluates each as
// a CEL expression and leaves out one that yields nothing.
func extProcResponseAttributes() []string {
	return []string{
		"response.code_details", "request.method", "request.path", "request.host", "request.id",
		"request.headers['accept']", "request.headers['user-agent']", "request.headers['x-forwarded-for']",
	}
}

// requestHeadersMode is the processing_mode of a route whose processor
// reads only the request headers: a request validator that checks
// required parameters on a route Envoy proxies or answers itself. Envoy
// opens the stream, sends the headers, and goes on (or answers the
// validator's 400) without buffering anything. It is what the service
// derives from extproc.Mode{}.
func requestHeadersMode() *extprocv3.ProcessingMode {
	return &extprocv3.ProcessingMode{
		RequestHeaderMode:   extprocv3.ProcessingMode_SEND,
		ResponseHeaderMode:  extprocv3.ProcessingMode_SKIP,
		RequestTrailerMode:  extprocv3.ProcessingMode_SKIP,
		ResponseTrailerMode: extprocv3.ProcessingMode_SKIP,
	}
}

// responseHeadersMode is the processing_mode of a proxy route of an API
// that customizes a gateway response type Envoy's own replies stand for
// (model.API.CustomizesEnvoyReplies): Envoy opens the stream only when the
// response headers arrive, the backend's or Envoy's own reply (a timeout,
// a refused connection), so that the service can answer the latter with
// the API's override; the request costs nothing. The service reads the
// request from the response attributes. Checked against the real Envoy,
// which opens the stream at the response and sends the attributes.
func responseHeadersMode() *extprocv3.ProcessingMode {
	return &extprocv3.ProcessingMode{
		RequestHeaderMode:   extprocv3.ProcessingMode_SKIP,
		ResponseHeaderMode:  extprocv3.ProcessingMode_SEND,
		RequestTrailerMode:  extprocv3.ProcessingMode_SKIP,
		ResponseTrailerMode: extprocv3.ProcessingMode_SKIP,
	}
}

// requestBodyMode is the processing_mode of a route whose processor reads
// the request (headers and the whole body) and never the response: the
// mode the ext_proc service derives from extproc.Mode{RequestBody: true}.
// Bodies are BUFFERED, the one body mode the service accepts: Envoy sends
// the whole body in one message, after the headers' answer.
func requestBodyMode() *extprocv3.ProcessingMode {
	return &extprocv3.ProcessingMode{
		RequestHeaderMode:   extprocv3.ProcessingMode_SEND,
		ResponseHeaderMode:  extprocv3.ProcessingMode_SKIP,
		RequestBodyMode:     extprocv3.ProcessingMode_BUFFERED,
		RequestTrailerMode:  extprocv3.ProcessingMode_SKIP,
		ResponseTrailerMode: extprocv3.ProcessingMode_SKIP,
	}
}

// exchangeMode is the processing_mode of a route whose processor
// transforms both directions of the exchange: the Lambda-proxy route
// (the request becomes the proxy event, the function's result the
// response) and the non-proxy HTTP route (the request template and
// parameter mappings make the backend's request, the integration response
// its status selects makes the client's). Both need the request headers
// and the whole body, and the backend's status, headers and whole body.
// It is what the service derives from
// extproc.Mode{RequestBody: true, ResponseBody: true}.
func exchangeMode() *extprocv3.ProcessingMode {
	return &extprocv3.ProcessingMode{
		RequestHeaderMode:   extprocv3.ProcessingMode_SEND,
		ResponseHeaderMode:  extprocv3.ProcessingMode_SEND,
		RequestBodyMode:     extprocv3.ProcessingMode_BUFFERED,
		ResponseBodyMode:    extprocv3.ProcessingMode_BUFFERED,
		RequestTrailerMode:  extprocv3.ProcessingMode_SKIP,
		ResponseTrailerMode: extprocv3.ProcessingMode_SKIP,
	}
}

// extProcPerRoute enables ext_proc on one route with processing mode pm,
// and makes Envoy send the route's IDs as the metadata of every stream it
// opens for it, by which the service finds the route's processor without
// matching paths again. Empty IDs are left out.
func extProcPerRoute(pm *extprocv3.ProcessingMode, ids map[string]string) (*anypb.Any, error) {
	md := make([]*corev3.HeaderValue, 0, 4)
	for _, kv := range [...][2]string{
		{envoy.ExtProcMetadataAPIID, ids[envoy.MetadataAPIID]},
		{envoy.ExtProcMetadataStage, ids[envoy.MetadataStage]},
		{envoy.ExtProcMetadataRouteID, ids[envoy.MetadataRouteID]},
		{envoy.ExtProcMetadataDeploymentID, ids[envoy.MetadataDeploymentID]},
	} {
		if kv[1] != "" {
			md = append(md, &corev3.HeaderValue{Key: kv[0], Value: kv[1]})
		}
	}
	return toAny(&extprocv3.ExtProcPerRoute{Override: &extprocv3.ExtProcPerRoute_Overrides{
		Overrides: &extprocv3.ExtProcOverrides{ProcessingMode: pm, GrpcInitialMetadata: md},
	}})
}

// templateMock makes t a route that Archway's ext_proc service answers:
// API Gateway's MOCK integration in its template form, whose request
// template reads $input.body, so the route sends the request headers and
// the whole body, and nothing of the response.
//
// The body is buffered up to the listener's per_connection_buffer_limit_bytes
// (1 MiB by default), and a larger one gets Envoy's 413: a route's
// request_body_buffer_limit, which would raise it to API Gateway's 10 MB,
// belongs to its RouteAction, and Envoy ignores it on a direct response.
//
// The service always answers such a route with an immediate response, so
// the route's own action is never reached unless the service let the
// request through, which would be a bug: it then answers API Gateway's
// 500, as the service itself would answer a failure, rather than anything
// a client could mistake for the mock's answer.
func (b *targetBuilder) templateMock(t *routeTarget, ids map[string]string) error {
	if err := t.enableExtProc(requestBodyMode(), ids); err != nil {
		return err
	}
	t.direct = &routev3.DirectResponseAction{
		Status: 500,
		Body:   &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: `{"message":"Internal server error"}`}},
	}
	t.addHeaders = []*corev3.HeaderValueOption{
		setHeader("content-type", "application/json"),
		setHeader("x-amzn-errortype", "InternalServerErrorException"),
	}
	return nil
}

// isTemplateMock reports whether r is answered by the ext_proc service
// rather than by Envoy's direct response.
func isTemplateMock(r *model.Route) bool {
	return r.Integration.Mock != nil && r.Integration.Mock.Templates != nil
}

// envoyRouteProcessing enables ext_proc on a route whose integration
// Envoy carries out by itself (an HTTP proxy, or a mock it answers
// directly) for what Envoy cannot do by configuration:
//
//   - the request validator (model.Validation.Active): API Gateway
//     validates before any integration runs, and Envoy cannot check
//     required parameters or JSON Schema models, so the service sees the
//     request first and either answers AWS's 400 or lets it go on
//     unchanged. Envoy sends the headers always, the whole body only when
//     a model checks it (model.Validation.NeedsBody), so that a route that
//     only requires parameters costs one round trip and buffers nothing. A
//     proxy route that buffers takes bodies up to API Gateway's 10 MB, as
//     function and HTTP routes do; a mock's direct response cannot raise
//     the listener's limit (see templateMock);
//   - a proxy's method override (HTTPProxy.Method): the service sets
//     :method from the request headers, which allowedRoutingMutations lets
//     it change;
//   - on a proxy route, the API's overrides of what Envoy's own replies
//     stand for (model.API.CustomizesRouteReplies): the service answers a
//     timeout, a refused connection or the route's throttle with them, as
//     Envoy's local reply mappers (localReplyConfig) know only API
//     Gateway's defaults. When nothing else needs the request the stream
//     opens at the response (responseHeadersMode), so the backend's
//     answers cost one round trip to the service and requests none.
//
// Routes whose integration is the service's own (template mocks,
// functions, non-proxy HTTP) never come here: their processors buffer the
// request body whatever a validator needs, validate before they run, and
// see every response.
func (b *targetBuilder) envoyRouteProcessing(t *routeTarget, r *model.Route, ids map[string]string) error {
	proxy := r.Integration.HTTPProxy
	replies := proxy != nil && b.api.CustomizesRouteReplies(b.stage, r)
	var pm *extprocv3.ProcessingMode
	switch {
	case r.Validation.NeedsBody():
		pm = requestBodyMode()
		if proxy != nil {
			t.bodyLimit = maxRequestBody
		}
	case r.Validation.Active() || proxy != nil && proxy.Method != "":
		pm = requestHeadersMode()
	case replies:
		return t.enableExtProc(responseHeadersMode(), ids)
	default:
		return nil
	}
	if replies {
		pm.ResponseHeaderMode = extprocv3.ProcessingMode_SEND
	}
	return t.enableExtProc(pm, ids)
}

// notFoundExtProc makes the service answer the requests r, an API's
// not-found route, catches when the API customizes their gateway response
// (model.API.CustomizesNotFound): Envoy sends the request headers, with route ID
// model.NotFoundRouteID and the API's (and stage's) IDs, before the
// route's direct response, which stays the answer if the service lets the
// request go on. Envoy runs ext_proc's request phase before a route's
// direct response (checked against the real Envoy).
func notFoundExtProc(r *routev3.Route, api *model.API, stage string) error {
	if !api.CustomizesNotFound() {
		return nil
	}
	a, err := extProcPerRoute(requestHeadersMode(), map[string]string{
		envoy.MetadataAPIID: api.ID, envoy.MetadataStage: stage, envoy.MetadataRouteID: model.NotFoundRouteID,
	})
	if err != nil {
		return err
	}
	r.TypedPerFilterConfig = map[string]*anypb.Any{envoy.FilterExtProc: a}
	return nil
}
