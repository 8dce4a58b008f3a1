package translate

import (
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// extAuthzTimeout bounds one Check call to Archway's ext_authz service. A
// check looks the API key up in memory and meters it with at most one
// round trip to the counter store (Redis when distributed); a check still
// unanswered after a second means Archway is in trouble, and the client
// is better served by a prompt 503 than by waiting on it.
const extAuthzTimeout = time.Second

// extAuthzFilter is the external authorization filter. It is disabled in
// the filter chain (HttpFilter.disabled) and enabled only on the routes
// that carry an ExtAuthzPerRoute (see extAuthzPerRoute): Envoy treats a
// filter a route configures explicitly as enabled on that route, so routes
// that need no authorization never call Archway.
//
// It fails closed: when Archway cannot be reached or does not answer in
// extAuthzTimeout, the client gets 503 rather than an unauthorized pass.
// The request body is not sent; API keys travel in headers.
func extAuthzFilter() *extauthzv3.ExtAuthz {
	return &extauthzv3.ExtAuthz{
		Services: &extauthzv3.ExtAuthz_GrpcService{
			GrpcService: servicesGrpc(durationpb.New(extAuthzTimeout)),
		},
		TransportApiVersion: corev3.ApiVersion_V3,
		FailureModeAllow:    false,
		StatusOnError:       &typev3.HttpStatus{Code: typev3.StatusCode_ServiceUnavailable},
	}
}

// servicesGrpc is a gRPC service on Archway's Envoy-facing port, reached
// through the bootstrap's static cluster with Envoy's own gRPC client. A
// nil timeout leaves the deadline to the filter that makes the call.
func servicesGrpc(timeout *durationpb.Duration) *corev3.GrpcService {
	return &corev3.GrpcService{
		TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{
			ClusterName: envoy.ServicesClusterName,
		}},
		Timeout: timeout,
	}
}

// needsAuthz reports whether requests to r on stage st must pass Archway's
// ext_authz service: when the route requires an API key, and for mock
// routes the stage throttles, because Envoy's rate-limit filter never calls
// the rate-limit service for a direct response (it has no route entry), so
// ext_authz applies the throttle there instead.
func needsAuthz(st *model.Stage, r *model.Route) bool {
	return r.APIKeyRequired || r.Integration.Mock != nil && st.RouteThrottle(r) != nil
}

// extAuthzPerRoute enables ext_authz on one route and hands the service the
// route's IDs as context_extensions, which ext_authz sends with every
// check, so that the service finds the API, stage and route the request
// matched without matching paths again.
func extAuthzPerRoute(ids map[string]string) (*anypb.Any, error) {
	return toAny(&extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{
		CheckSettings: &extauthzv3.CheckSettings{ContextExtensions: ids},
	}})
}
