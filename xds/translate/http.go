package translate

import (
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/archway-gateway/archway/internal/model"
)

// httpIntegration makes t a route of API Gateway's non-proxy HTTP
// integration: Envoy sends the request to the backend's cluster, the one
// HTTP proxies and functions on the same scheme, host and port use, with
// the backend's Host and the integration's timeout for the whole exchange;
// the ext_proc service transforms the request on the way (the request
// template makes the body, the parameter mappings the headers, the query
// string and the path parameters) and the backend's answer on the way back
// (the integration response its status selects makes the status, the
// headers and the body).
//
// The route does not rewrite the path. In a non-proxy integration the
// backend gets the integration URI's path with the mapped path parameters
// substituted, and only the mapped query parameters, never the client's
// own: the processor computes that whole request target from the URI,
// which it reads from the model by route ID, and sets :path to it. Any
// rewrite here would be applied after the processor's :path and spoil it,
// and the query string it would keep is the client's. So the URI's path
// is only checked to be sendable (RFC 3986 characters, {param} references,
// defined stage variables) and is not captured from the route's path:
// its parameters are the integration's, filled by mappings.
//
// The method the backend gets is the integration's, which the processor
// sets as :method (see allowedRoutingMutations), or else the client's.
// The request body is buffered up to API Gateway's 10 MB, as on function
// routes, and the stage's throttle of the route applies as on proxy routes.
func (b *targetBuilder) httpIntegration(t *routeTarget, r *model.Route, ids map[string]string, h *model.HTTP) error {
	u, err := resolveUpstream(h.URI, b.stage.Variables)
	if err != nil {
		return err
	}
	_, err = b.exchangeRoute(t, r, ids, u, h.Timeout)
	return err
}

// exchangeRoute makes t a route whose exchange the ext_proc service
// transforms in both directions (function and non-proxy HTTP routes): to
// u's cluster with u's Host, the integration's timeout, the stage's
// throttle, ext_proc on all four phases and the request body buffered up to
// API Gateway's 10 MB. It returns the route action for the caller to add
// to (a function's path rewrite).
func (b *targetBuilder) exchangeRoute(t *routeTarget, r *model.Route, ids map[string]string, u upstream, timeout time.Duration) (*routev3.RouteAction, error) {
	if err := b.addCluster(u); err != nil {
		return nil, err
	}
	if err := t.enableExtProc(exchangeMode(), ids); err != nil {
		return nil, err
	}
	t.proxy = &routev3.RouteAction{
		ClusterSpecifier:     &routev3.RouteAction_Cluster{Cluster: u.clusterName()},
		HostRewriteSpecifier: &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: u.hostHeader()},
		Timeout:              durationpb.New(timeout),
		RateLimits:           routeRateLimits(b.api, b.stage, r),
	}
	t.bodyLimit = maxRequestBody
	return t.proxy, nil
}
