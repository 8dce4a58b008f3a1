package translate

import (
	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/envoy"
)

// httpFilter is one entry of the HTTP filter chain.
type httpFilter struct {
	name   string
	config proto.Message
	// disabled leaves the filter off except on routes that configure it
	// in their typed_per_filter_config.
	disabled bool
}

// filterChain is the HTTP filter order, in one place. Requests pass the
// filters top to bottom:
//
//  1. header_mutation strips x-archway-* headers first, so that nothing a
//     client sends can pose as what a later filter or service asserts;
//  2. ext_authz asks Archway whether the request may pass (API keys, usage
//     plan throttles and quotas), on the routes that need it only; the
//     x-archway-* headers it adds for the backend are Archway's own;
//  3. ratelimit asks Archway whether a stage or route throttle has room,
//     on throttled routes only, after authorization, so that requests
//     refused for a missing key do not use up everyone's throttle;
//  4. ext_proc hands the exchange to Archway's ext_proc service on the
//     routes that need it only (template-driven mocks, Lambda-proxy
//     functions), after authorization and throttling, so that refused
//     requests never cost a template's work or a function's invocation;
//     its answers stand in for the backend's or rework what goes to and
//     comes from it;
//  5. the router sends the request to the route's backend or answers it
//     directly. It suppresses Envoy's own x-envoy-* request and response
//     headers, which API Gateway's clients and backends never see.
func filterChain() []httpFilter {
	return []httpFilter{
		{name: envoy.FilterHeaderMutation, config: stripInternalHeaders()},
		{name: envoy.FilterExtAuthz, config: extAuthzFilter(), disabled: true},
		{name: envoy.FilterRateLimit, config: rateLimitFilter()},
		{name: envoy.FilterExtProc, config: extProcFilter(), disabled: true},
		{name: envoy.FilterRouter, config: &routerv3.Router{SuppressEnvoyHeaders: true}},
	}
}

// stripInternalHeaders removes every request header that starts with
// envoy.InternalHeaderPrefix. Header names are lower case inside Envoy
// whatever the client sent, so a prefix match covers every spelling.
func stripInternalHeaders() *headermutationv3.HeaderMutation {
	return &headermutationv3.HeaderMutation{Mutations: &headermutationv3.Mutations{
		RequestMutations: []*mutationrulesv3.HeaderMutation{{
			Action: &mutationrulesv3.HeaderMutation_RemoveOnMatch_{RemoveOnMatch: &mutationrulesv3.HeaderMutation_RemoveOnMatch{
				KeyMatcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: envoy.InternalHeaderPrefix}},
			}},
		}},
	}}
}

// httpFilters returns filterChain as the connection manager's filters.
func httpFilters() ([]*hcmv3.HttpFilter, error) {
	chain := filterChain()
	out := make([]*hcmv3.HttpFilter, len(chain))
	for i, f := range chain {
		a, err := toAny(f.config)
		if err != nil {
			return nil, err
		}
		out[i] = &hcmv3.HttpFilter{Name: f.name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}, Disabled: f.disabled}
	}
	return out, nil
}
