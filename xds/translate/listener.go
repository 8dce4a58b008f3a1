package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/archway-gateway/archway/envoy"
)

// httpListener returns the one listener that serves every API. It depends
// only on the options, so a Translator builds it once.
func httpListener(s settings) (*listenerv3.Listener, error) {
	hcm, err := connectionManager(s)
	if err != nil {
		return nil, err
	}
	a, err := toAny(hcm)
	if err != nil {
		return nil, err
	}
	l := &listenerv3.Listener{
		Name: envoy.HTTPListenerName,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address:       s.listenIP,
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: s.listenPort},
		}}},
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       envoy.FilterHTTPConnectionManager,
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a},
			}},
		}},
	}
	return l, l.ValidateAll()
}

// connectionManager returns the HTTP connection manager of the listener:
//
//   - HTTP/1.1 and HTTP/2 (prior knowledge) on one port (codec AUTO);
//   - paths normalized (RFC 3986 dot segments, merged slashes) before
//     routing, and paths with escaped slashes (%2F, %5C) rejected, so that
//     a request cannot reach a route, or skip one, by spelling its path
//     differently;
//   - the client address taken from the connection, or XFFTrustedHops from
//     the right of X-Forwarded-For behind trusted proxies, and appended to
//     X-Forwarded-For for the backend;
//   - a fresh x-request-id on every external request;
//   - the backend's Server header passed through, as API Gateway does;
//   - Envoy's own replies for a failed integration or a request body over
//     the limit in API Gateway's form (see localReplyConfig);
//   - routes over the ADS stream: one route configuration per API, chosen
//     by the Host through scoped RDS (see scoped.go), or, path-style, the
//     one route configuration of the whole gateway through RDS.
func connectionManager(s settings) (*hcmv3.HttpConnectionManager, error) {
	filters, err := httpFilters()
	if err != nil {
		return nil, err
	}
	localReplies, err := localReplyConfig()
	if err != nil {
		return nil, err
	}
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix:                   envoy.HTTPListenerName,
		CodecType:                    hcmv3.HttpConnectionManager_AUTO,
		NormalizePath:                wrapperspb.Bool(true),
		MergeSlashes:                 true,
		PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_REJECT_REQUEST,
		UseRemoteAddress:             wrapperspb.Bool(true),
		XffNumTrustedHops:            s.XFFTrustedHops,
		GenerateRequestId:            wrapperspb.Bool(true),
		ServerHeaderTransformation:   hcmv3.HttpConnectionManager_PASS_THROUGH,
		RouteSpecifier:               scopedRoutes(),
		HttpFilters:                  filters,
		LocalReplyConfig:             localReplies,
	}
	if s.PathStyle {
		// A path-style request names its API in the path, which no scope
		// key can be built from: every API shares one route configuration.
		hcm.RouteSpecifier = &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			RouteConfigName: envoy.HTTPRouteConfigName,
			ConfigSource:    adsSource(),
		}}
	}
	return hcm, nil
}

// adsSource says a resource comes over the ADS stream Envoy's bootstrap
// configures.
func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}
