package translate

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/archway-gateway/archway/envoy"
)

// Host-style layout: one route configuration per API, selected by scoped
// RDS (SRDS) on the first label of the Host.
//
// Envoy's xDS resources are the unit of every push: a route configuration
// is sent whole whenever any part of it changes. With one route
// configuration for the whole gateway, a change to one API re-sends every
// route of every API to every Envoy, megabytes at a few thousand routes.
// With one per API, delta xDS sends only the changed API's configuration,
// whatever the size of the gateway (see docs/xds.md for the measurements
// and the alternatives considered).
//
// The connection manager builds each request's scope key from its Host,
// {apiId}.{baseDomain}[:port]: the text before the first ".", the API id.
// Each API's ScopedRouteConfiguration maps that key to the API's route
// configuration. A request whose key is no API id matches no scope, and
// Envoy answers it 404 with an empty body (counted as the listener's
// no_route stat), before any route is consulted.

// hostKeyHeader is the header the scope key is taken from. Envoy keeps
// the HTTP/1.1 Host header and the HTTP/2 and HTTP/3 :authority
// pseudo-header as :authority.
const hostKeyHeader = ":authority"

// scopedRoutes returns the connection manager's route specifier in the
// host-style layout: scopes and route configurations both from ADS, the
// scope key being the first label of the Host.
func scopedRoutes() *hcmv3.HttpConnectionManager_ScopedRoutes {
	return &hcmv3.HttpConnectionManager_ScopedRoutes{ScopedRoutes: &hcmv3.ScopedRoutes{
		Name: envoy.HTTPRouteConfigName,
		ScopeKeyBuilder: &hcmv3.ScopedRoutes_ScopeKeyBuilder{
			Fragments: []*hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder{{
				Type: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_{
					HeaderValueExtractor: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor{
						Name:             hostKeyHeader,
						ElementSeparator: ".",
						ExtractType:      &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_Index{Index: 0},
					},
				},
			}},
		},
		RdsConfigSource: adsSource(),
		ConfigSpecifier: &hcmv3.ScopedRoutes_ScopedRds{ScopedRds: &hcmv3.ScopedRds{ScopedRdsConfigSource: adsSource()}},
	}}
}

// apiScope returns the routing scope of one API: requests whose Host
// starts with "{apiId}." are routed by the API's own route configuration.
func apiScope(apiID string) *routev3.ScopedRouteConfiguration {
	return &routev3.ScopedRouteConfiguration{
		Name:                   apiRouteConfigName(apiID),
		RouteConfigurationName: apiRouteConfigName(apiID),
		Key: &routev3.ScopedRouteConfiguration_Key{Fragments: []*routev3.ScopedRouteConfiguration_Key_Fragment{{
			Type: &routev3.ScopedRouteConfiguration_Key_Fragment_StringKey{StringKey: apiID},
		}}},
	}
}

// apiRouteConfiguration returns the route configuration of one API: its
// virtual host, then a catch-all for Hosts that start with the API's id
// but do not end in the base domain, which get the API's not-found answer
// (notFound, the route that ends the virtual host too) rather than
// Envoy's empty one.
func apiRouteConfiguration(apiID string, vhost *routev3.VirtualHost, notFound *routev3.Route, maxBody int) *routev3.RouteConfiguration {
	other := &routev3.VirtualHost{
		Name:    defaultVirtualHostName,
		Domains: []string{"*"},
		Routes:  []*routev3.Route{notFound},
	}
	return routeConfiguration(apiRouteConfigName(apiID), []*routev3.VirtualHost{vhost, other}, maxBody)
}
