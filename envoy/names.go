package envoy

import "strconv"

// Names of the resources the translator generates. Envoy and the services
// that read Envoy's configuration (admin dumps, stats, access logs) refer to
// them by these names, so they never change between snapshots.
const (
	// HTTPListenerName is the one listener that serves every API.
	HTTPListenerName = "archway_http"
	// HTTPRouteConfigName names that listener's routes: the one RDS route
	// configuration with path-style access, or else the scoped-routes
	// configuration whose scopes select one route configuration per API.
	HTTPRouteConfigName = "archway_http"
)

// Route metadata. The translator stamps every route with the IDs of what it
// serves under filter_metadata[MetadataNamespace], and ext_authz gets the
// same keys as context_extensions, so that services find the API, stage,
// route and deployment a request matched without matching paths again.
const (
	MetadataNamespace    = "archway"
	MetadataAPIID        = "api_id"
	MetadataStage        = "stage"
	MetadataRouteID      = "route_id"
	MetadataDeploymentID = "deployment_id"
)

// ext_proc stream metadata. Envoy sends a route's IDs to the ext_proc
// service as the gRPC metadata of every stream it opens for the route
// (ExtProcPerRoute.overrides.grpc_initial_metadata), under these keys; the
// service (package extproc) reads the same keys.
const (
	ExtProcMetadataAPIID        = InternalHeaderPrefix + "api-id"
	ExtProcMetadataStage        = InternalHeaderPrefix + "stage"
	ExtProcMetadataRouteID      = InternalHeaderPrefix + "route-id"
	ExtProcMetadataDeploymentID = InternalHeaderPrefix + "deployment-id"
)

// InternalHeaderPrefix starts every header Archway's services use to talk to
// each other through Envoy. Envoy strips such headers from client requests,
// so a client can never forge what a service asserted.
const InternalHeaderPrefix = "x-archway-"

// Extension names. HTTP filter names are also the keys of a route's
// typed_per_filter_config, so the filter chain and the routes must agree on
// them.
const (
	FilterHTTPConnectionManager = "envoy.filters.network.http_connection_manager"
	FilterHeaderMutation        = "envoy.filters.http.header_mutation"
	FilterExtAuthz              = "envoy.filters.http.ext_authz"
	FilterRateLimit             = "envoy.filters.http.ratelimit"
	FilterExtProc               = "envoy.filters.http.ext_proc"
	FilterRouter                = "envoy.filters.http.router"
	PathMatchURITemplate        = "envoy.path.match.uri_template"
	PathRewriteURITemplate      = "envoy.path.rewrite.uri_template"
	TransportSocketTLS          = "envoy.transport_sockets.tls"
)

// UpstreamClusterName names the cluster of one HTTP(S) backend. Routes that
// proxy to the same scheme, host and port share the cluster and its
// connection pool, and the name stays the same for as long as any route uses
// that backend, so Envoy keeps its connections across snapshots. The host is
// expected in lower case, without IPv6 brackets.
func UpstreamClusterName(scheme, host string, port uint32) string {
	return scheme + "|" + host + "|" + strconv.FormatUint(uint64(port), 10)
}

// ServicesClusterName names the bootstrap's static cluster to Archway's
// Envoy-facing gRPC port. It carries the ADS stream and, because ext_authz,
// ext_proc and the rate-limit service are served on the same port, their
// calls too: an Envoy needs no other address to reach its control plane.
const ServicesClusterName = "archway_xds"

// Rate-limit descriptors. Routes with a stage or route throttle send the
// rate-limit service one descriptor in RateLimitDomain with one entry,
// RateLimitRouteKey = RateLimitRouteValue(api, stage, route): the service
// finds the throttle by those IDs, never by matching descriptors.
const (
	RateLimitDomain   = "archway"
	RateLimitRouteKey = "archway_route"
)

// RateLimitRouteValue is the descriptor value of one route of one stage.
// API and route IDs are [a-z0-9] and stage names never hold '/', so the
// value splits back unambiguously.
func RateLimitRouteValue(apiID, stage, routeID string) string {
	return apiID + "/" + stage + "/" + routeID
}
