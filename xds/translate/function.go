package translate

import (
	"errors"

	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

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
	action, err := b.exchangeRoute(t, r, ids, u, f.Timeout)
	if err != nil {
		return err
	}
	action.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{
		Pattern:      &matcherv3.RegexMatcher{Regex: wholePath},
		Substitution: f.InvokePath,
	}
	return nil
}
