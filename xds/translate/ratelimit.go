package translate

import (
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	ratelimitconfv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// rateLimitTimeout bounds one call to Archway's rate-limit service. A
// throttle check is one token-bucket update in memory or one round trip to
// Redis; the filter waits no longer than this before letting the request
// through (see rateLimitFilter), so it is all the latency a slow or
// unreachable Archway can add to a throttled route.
const rateLimitTimeout = 100 * time.Millisecond

// rateLimitFilter is the global rate-limit filter, which enforces stage
// and route throttles (API Gateway's throttling for all clients of a
// stage) through Archway's rate-limit service in envoy.RateLimitDomain.
//
// The filter runs on every route but calls the service only for routes
// that carry rate limits (see routeRateLimits), so unthrottled routes cost
// nothing. It fails open (failure_mode_deny false): when Archway cannot be
// reached or does not answer in rateLimitTimeout, requests pass
// unthrottled, since a throttle protects backends from bursts and refusing
// everything while the limiter is down would be the larger outage. Usage
// plan quotas, which clients pay for, are metered by ext_authz instead,
// with a per-plan failure mode.
//
// Responses carry the draft-03 X-RateLimit-Limit/-Remaining/-Reset headers
// from the service's answer. Envoy's own x-envoy-ratelimited header is left
// out: clients of API Gateway never see Envoy's headers.
func rateLimitFilter() *ratelimitv3.RateLimit {
	return &ratelimitv3.RateLimit{
		Domain:          envoy.RateLimitDomain,
		Timeout:         durationpb.New(rateLimitTimeout),
		FailureModeDeny: false,
		RateLimitService: &ratelimitconfv3.RateLimitServiceConfig{
			GrpcService:         servicesGrpc(nil),
			TransportApiVersion: corev3.ApiVersion_V3,
		},
		EnableXRatelimitHeaders:        ratelimitv3.RateLimit_DRAFT_VERSION_03,
		DisableXEnvoyRatelimitedHeader: true,
	}
}

// routeRateLimits returns the rate limits of route r of stage st: one
// descriptor naming the API, stage and route when the stage throttles the
// route, so that the service finds the throttle by those IDs; nil when it
// does not, so that Envoy does not call the service at all. Stage
// throttles change without a deployment, so they come from the stage, not
// from the deployment the stage serves.
//
// Only routes with a RouteAction can use them: Envoy's rate-limit filter
// skips routes without a route entry, which includes direct responses, and
// ignores RateLimitPerRoute.rate_limits there too.
func routeRateLimits(api *model.API, st *model.Stage, r *model.Route) []*routev3.RateLimit {
	if st.RouteThrottle(r) == nil {
		return nil
	}
	return []*routev3.RateLimit{{
		Actions: []*routev3.RateLimit_Action{{
			ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: &routev3.RateLimit_Action_GenericKey{
				DescriptorKey:   envoy.RateLimitRouteKey,
				DescriptorValue: envoy.RateLimitRouteValue(api.ID, st.Name, r.ID),
			}},
		}},
	}}
}
