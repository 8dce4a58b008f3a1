package translate

import (
	"errors"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// maxRequestBody is API Gateway's payload limit, 10 MB: the largest request
// body Envoy buffers for the ext_proc service on a route that has a route
// entry. It is extproc.DefaultMaxBody, which the translator does not
// import (see TestExtProcAgreesWithService).
const maxRequestBody = 10 << 20

// wholePath matches the whole path of a request; a regex_rewrite never sees
// the query string.
const wholePath = `^.*$`

// functionMode is the processing_mode of a Lambda-proxy route: the service
// needs the request headers and the whole body to build the proxy event,
// and the function's status, headers and whole body to turn its result
// into the response. It is what the service derives from
// extproc.Mode{RequestBody: true, ResponseBody: true}.
func functionMode() *extprocv3.ProcessingMode {
	return &extprocv3.ProcessingMode{
		RequestHeaderMode:   extprocv3.ProcessingMode_SEND,
		ResponseHeaderMode:  extprocv3.ProcessingMode_SEND,
		RequestBodyMode:     extprocv3.ProcessingMode_BUFFERED,
		ResponseBodyMode:    extprocv3.ProcessingMode_BUFFERED,
		RequestTrailerMode:  extprocv3.ProcessingMode_SKIP,
		ResponseTrailerMode: extprocv3.ProcessingMode_SKIP,
	}
}

// function makes t a Lambda-proxy route (API Gateway's AWS_PROXY
// integration against a function served over HTTP). Envoy sends the
// request to the function's cluster, the one an HTTP proxy to the same
// scheme, host and port uses, with the function's Host and its timeout for
// the whole exchange; the ext_proc service turns the client's request into
// the proxy event on the way and the function's result into the response
// on the way back.
//
// Envoy cannot rewrite the method or the body in configuration, so the
// service replaces the body with the event and the method with POST (see
// extProcFilter's mutation rules). The path Envoy sends is InvokePath
// whatever the client asked for (the client's path and query reach the
// function inside the event, not in the URL): the rewrite replaces the
// whole path, and the service drops the query string, which every Envoy
// path rewrite keeps.
//
// The request body is buffered up to API Gateway's 10 MB: unlike a
// template mock's, this route has a route entry, on which Envoy honours
// request_body_buffer_limit.
func (b *targetBuilder) function(t *routeTarget, r *model.Route, ids map[string]string, f *model.Function) error {
	u, err := resolveUpstream(f.URI, b.stage.Variables)
	if err != nil {
		return err
	}
	if !isPathText(f.InvokePath) {
		return errors.New("function invoke path must be an absolute path of RFC 3986 path characters, without a query string")
	}
	if err := b.addCluster(u); err != nil {
		return err
	}
	a, err := extProcPerRoute(functionMode(), ids)
	if err != nil {
		return err
	}
	t.setPerFilter(envoy.FilterExtProc, a)
	t.proxy = &routev3.RouteAction{
		ClusterSpecifier:     &routev3.RouteAction_Cluster{Cluster: u.clusterName()},
		HostRewriteSpecifier: &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: u.hostHeader()},
		Timeout:              durationpb.New(f.Timeout),
		RateLimits:           routeRateLimits(b.api, b.stage, r),
		RegexRewrite: &matcherv3.RegexMatchAndSubstitute{
			Pattern:      &matcherv3.RegexMatcher{Regex: wholePath},
			Substitution: f.InvokePath,
		},
	}
	t.bodyLimit = maxRequestBody
	return nil
}
