package envoy_test

import (
	"context"
	"net"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/archway-gateway/archway/envoy"
)

// directResponseBody is what the test listener answers every request with.
const directResponseBody = "hello from archway"

// testListenerName names the one listener the test ADS server serves.
const testListenerName = "http"

// startADS serves one snapshot for nodeID over real ADS (SotW and delta)
// on a free loopback port and returns its address. The snapshot holds one
// listener on 127.0.0.1:0 whose only route answers directResponseBody.
func startADS(t *testing.T, nodeID string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	snapshotCache := cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil)
	// Every type Envoy waits for must be in the snapshot, even empty: the
	// cache gives an absent type version "", which is what Envoy's first
	// request carries, so a SotW stream would never answer it.
	snap, err := cachev3.NewSnapshot("1", map[resource.Type][]types.Resource{
		resource.ClusterType:  {},
		resource.ListenerType: {directResponseListener(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Consistent(); err != nil {
		t.Fatal(err)
	}
	if err := snapshotCache.SetSnapshot(ctx, nodeID, snap); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
		MinTime: envoy.XDSKeepaliveInterval / 2, PermitWithoutStream: true,
	}))
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(srv, serverv3.NewServer(ctx, snapshotCache, nil))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		cancel()
		srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("ADS server: %v", err)
		}
	})
	return lis.Addr().String()
}

func directResponseListener(t *testing.T) *listenerv3.Listener {
	t.Helper()
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: "test",
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name: "direct",
			VirtualHosts: []*routev3.VirtualHost{{
				Name:    "all",
				Domains: []string{"*"},
				Routes: []*routev3.Route{{
					Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
					Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
						Status: 200,
						Body:   &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: directResponseBody}},
					}},
				}},
			}},
		}},
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       envoy.FilterRouter,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})},
		}},
	}
	return &listenerv3.Listener{
		Name: testListenerName,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address:       "127.0.0.1",
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 0},
		}}},
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       envoy.FilterHTTPConnectionManager,
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)},
			}},
		}},
	}
}

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
