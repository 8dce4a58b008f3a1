// Package envoy renders the bootstrap an Envoy needs to find Archway's xDS
// server, launches and supervises a local Envoy, and talks to Envoy's admin
// API. Everything else Envoy runs (listeners, routes, clusters) arrives over
// xDS from the translator; the bootstrap carries only what Envoy needs before
// its first xDS response.
package envoy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	connmonitorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	heapmonitorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Defaults applied by Bootstrap to zero-valued BootstrapOptions fields.
const (
	// DefaultAdminAddr keeps Envoy's admin API on loopback: it can drain,
	// quit and dump secrets, so it must never face the network by default.
	DefaultAdminAddr = "127.0.0.1:9901"
	// DefaultNodeCluster is the service cluster Envoys announce in their
	// xDS node; Archway serves every node of a cluster the same snapshot.
	DefaultNodeCluster = "archway"
	// DefaultXDSConnectTimeout bounds each TCP connect to the xDS server;
	// Envoy retries with its own backoff after a failure.
	DefaultXDSConnectTimeout = 5 * time.Second
	// DefaultMaxDownstreamConnections is the process-wide cap on client
	// connections, the limit Envoy's edge best practices ask for so that a
	// flood of idle connections cannot exhaust file descriptors.
	DefaultMaxDownstreamConnections = 50000
)

// XDSKeepaliveInterval is how often Envoy PINGs the xDS connection; a PING
// unanswered for xdsKeepaliveTimeout tears the connection down so the ADS
// stream is re-established elsewhere. A gRPC server allows far fewer PINGs
// by default (grpc-go: one per 5 minutes, then GOAWAY "too_many_pings"), so
// the xDS server's keepalive.EnforcementPolicy must set MinTime to at most
// this interval and PermitWithoutStream.
const XDSKeepaliveInterval = 30 * time.Second

const xdsKeepaliveTimeout = 5 * time.Second

// xdsClusterName names the static cluster that carries the ADS stream.
const xdsClusterName = ServicesClusterName

// Resource monitor and overload action names understood by Envoy 1.40.
const (
	monitorDownstreamConnections = "envoy.resource_monitors.global_downstream_max_connections"
	monitorFixedHeap             = "envoy.resource_monitors.fixed_heap"
	actionShrinkHeap             = "envoy.overload_actions.shrink_heap"
	actionStopAcceptingRequests  = "envoy.overload_actions.stop_accepting_requests"
	upstreamHTTPOptionsKey       = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
)

// BootstrapOptions describe the one Envoy a bootstrap is for. Zero values
// take the documented defaults.
type BootstrapOptions struct {
	// NodeID identifies the Envoy to the xDS server (node.id); required.
	NodeID string
	// Cluster is the node's service cluster (node.cluster); DefaultNodeCluster if empty.
	Cluster string
	// XDSAddr is the HOST:PORT of Archway's Envoy-facing gRPC server; required.
	// An IP literal gives a STATIC cluster, a host name a STRICT_DNS one.
	XDSAddr string
	// AdminAddr is the IP:PORT Envoy's admin API listens on; DefaultAdminAddr
	// if empty. Port 0 lets Envoy pick (see LauncherOptions.AdminAddressPath).
	AdminAddr string
	// Delta selects the incremental xDS protocol (DELTA_GRPC) over state of
	// the world (GRPC) for the ADS stream.
	Delta bool
	// XDSConnectTimeout is the connect timeout of the xDS cluster;
	// DefaultXDSConnectTimeout if zero.
	XDSConnectTimeout time.Duration
	// MaxDownstreamConnections caps client connections across all listeners;
	// DefaultMaxDownstreamConnections if zero.
	MaxDownstreamConnections int64
	// MaxHeapBytes, when set, makes Envoy shrink its heap at 95% of this size
	// and answer new requests with 503 at 98%. Zero leaves the heap unmonitored.
	MaxHeapBytes uint64
	// Runtime holds static runtime keys (for example "overload.premature_reset_total_stream_count")
	// layered below the admin layer. Values must be what structpb.NewValue accepts.
	Runtime map[string]any
}

// Bootstrap builds the bootstrap for opts. It is a pure function: the same
// options always give the same proto, and the result passes ValidateAll.
func Bootstrap(opts BootstrapOptions) (*bootstrapv3.Bootstrap, error) {
	opts = opts.withDefaults()
	xdsHost, xdsPort, adminIP, adminPort, err := opts.check()
	if err != nil {
		return nil, err
	}
	cluster, err := xdsCluster(xdsHost, xdsPort, opts.XDSConnectTimeout)
	if err != nil {
		return nil, err
	}
	overload, err := overloadManager(opts.MaxDownstreamConnections, opts.MaxHeapBytes)
	if err != nil {
		return nil, err
	}
	runtime, err := layeredRuntime(opts.Runtime)
	if err != nil {
		return nil, err
	}
	b := &bootstrapv3.Bootstrap{
		Node:             &corev3.Node{Id: opts.NodeID, Cluster: opts.Cluster},
		Admin:            adminConfig(adminIP, adminPort),
		StaticResources:  &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{cluster}},
		DynamicResources: dynamicResources(opts.Delta),
		OverloadManager:  overload,
		LayeredRuntime:   runtime,
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return b, nil
}

func (o BootstrapOptions) withDefaults() BootstrapOptions {
	if o.Cluster == "" {
		o.Cluster = DefaultNodeCluster
	}
	if o.AdminAddr == "" {
		o.AdminAddr = DefaultAdminAddr
	}
	if o.XDSConnectTimeout == 0 {
		o.XDSConnectTimeout = DefaultXDSConnectTimeout
	}
	if o.MaxDownstreamConnections == 0 {
		o.MaxDownstreamConnections = DefaultMaxDownstreamConnections
	}
	return o
}

// check validates the options and splits the two addresses. Every error
// names the `archway bootstrap` flag at fault.
func (o BootstrapOptions) check() (xdsHost string, xdsPort uint32, adminIP string, adminPort uint32, err error) {
	var errs []error
	if o.NodeID == "" {
		errs = append(errs, errors.New("node-id: required"))
	}
	xdsHost, xdsPort, xerr := splitHostPort(o.XDSAddr, false)
	if xerr != nil {
		errs = append(errs, fmt.Errorf("xds-addr: %w", xerr))
	}
	adminIP, adminPort, aerr := splitHostPort(o.AdminAddr, true)
	if aerr == nil {
		if _, perr := netip.ParseAddr(adminIP); perr != nil {
			aerr = fmt.Errorf("%q is not an IP address (Envoy's admin listener does not resolve names)", adminIP)
		}
	}
	if aerr != nil {
		errs = append(errs, fmt.Errorf("admin-addr: %w", aerr))
	}
	if o.XDSConnectTimeout < time.Millisecond {
		errs = append(errs, fmt.Errorf("xds-connect-timeout: %v is below 1ms", o.XDSConnectTimeout))
	}
	if o.MaxDownstreamConnections < 0 {
		errs = append(errs, fmt.Errorf("max-downstream-connections: %d is negative", o.MaxDownstreamConnections))
	}
	return xdsHost, xdsPort, adminIP, adminPort, errors.Join(errs...)
}

// splitHostPort splits HOST:PORT, requiring a host and a port in range.
func splitHostPort(addr string, allowZeroPort bool) (string, uint32, error) {
	if addr == "" {
		return "", 0, errors.New("required (HOST:PORT)")
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		return "", 0, fmt.Errorf("%q has no host", addr)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || (port == 0 && !allowZeroPort) {
		return "", 0, fmt.Errorf("%q: port must be 1-65535", addr)
	}
	return host, uint32(port), nil
}

func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Protocol:      corev3.SocketAddress_TCP,
		Address:       host,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

// adminConfig keeps the admin listener reachable when the global connection
// limit is hit, so an operator can still look at a saturated Envoy.
func adminConfig(ip string, port uint32) *bootstrapv3.Admin {
	return &bootstrapv3.Admin{Address: socketAddress(ip, port), IgnoreGlobalConnLimit: true}
}

// xdsCluster is the one static cluster: HTTP/2 (gRPC) to Archway, with
// HTTP/2 PINGs and TCP keepalives so that a dead control plane behind a
// NAT or load balancer is noticed and the ADS stream re-established.
func xdsCluster(host string, port uint32, connectTimeout time.Duration) (*clusterv3.Cluster, error) {
	protocol, err := packed(&upstreamhttpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
						ConnectionKeepalive: &corev3.KeepaliveSettings{
							Interval: durationpb.New(XDSKeepaliveInterval),
							Timeout:  durationpb.New(xdsKeepaliveTimeout),
						},
					},
				},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	c := &clusterv3.Cluster{
		Name:                          xdsClusterName,
		ConnectTimeout:                durationpb.New(connectTimeout),
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		TypedExtensionProtocolOptions: map[string]*anypb.Any{upstreamHTTPOptionsKey: protocol},
		UpstreamConnectionOptions: &clusterv3.UpstreamConnectionOptions{
			TcpKeepalive: &corev3.TcpKeepalive{
				KeepaliveProbes:   wrapperspb.UInt32(3),
				KeepaliveTime:     wrapperspb.UInt32(30),
				KeepaliveInterval: wrapperspb.UInt32(5),
			},
		},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: xdsClusterName,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{{
					HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
						Endpoint: &endpointv3.Endpoint{Address: socketAddress(host, port)},
					},
				}},
			}},
		},
	}
	if _, err := netip.ParseAddr(host); err != nil {
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		c.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
	}
	return c, nil
}

// dynamicResources sends listeners and clusters over one ADS stream, so
// that Envoy receives them in the order the control plane chose and never
// sees a listener before the clusters it routes to.
func dynamicResources(delta bool) *bootstrapv3.Bootstrap_DynamicResources {
	apiType := corev3.ApiConfigSource_GRPC
	if delta {
		apiType = corev3.ApiConfigSource_DELTA_GRPC
	}
	ads := func() *corev3.ConfigSource {
		return &corev3.ConfigSource{
			ResourceApiVersion:    corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		}
	}
	return &bootstrapv3.Bootstrap_DynamicResources{
		AdsConfig: &corev3.ApiConfigSource{
			ApiType:                   apiType,
			TransportApiVersion:       corev3.ApiVersion_V3,
			SetNodeOnFirstMessageOnly: true,
			GrpcServices: []*corev3.GrpcService{{
				TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
					EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: xdsClusterName},
				},
			}},
		},
		LdsConfig: ads(),
		CdsConfig: ads(),
	}
}

// overloadManager caps downstream connections with the proactive resource
// monitor Envoy 1.40 wants (the overload.global_downstream_max_connections
// runtime key is deprecated) and, when a heap size is given, sheds load
// before the kernel's OOM killer would.
func overloadManager(maxConnections int64, maxHeap uint64) (*overloadv3.OverloadManager, error) {
	connections, err := packed(&connmonitorv3.DownstreamConnectionsConfig{MaxActiveDownstreamConnections: maxConnections})
	if err != nil {
		return nil, err
	}
	om := &overloadv3.OverloadManager{
		RefreshInterval: durationpb.New(250 * time.Millisecond),
		ResourceMonitors: []*overloadv3.ResourceMonitor{{
			Name:       monitorDownstreamConnections,
			ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: connections},
		}},
	}
	if maxHeap == 0 {
		return om, nil
	}
	heap, err := packed(&heapmonitorv3.FixedHeapConfig{MaxHeapSizeBytes: maxHeap})
	if err != nil {
		return nil, err
	}
	om.ResourceMonitors = append(om.ResourceMonitors, &overloadv3.ResourceMonitor{
		Name:       monitorFixedHeap,
		ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: heap},
	})
	om.Actions = []*overloadv3.OverloadAction{
		heapAction(actionShrinkHeap, 0.95),
		heapAction(actionStopAcceptingRequests, 0.98),
	}
	return om, nil
}

func heapAction(name string, threshold float64) *overloadv3.OverloadAction {
	return &overloadv3.OverloadAction{
		Name: name,
		Triggers: []*overloadv3.Trigger{{
			Name:         monitorFixedHeap,
			TriggerOneof: &overloadv3.Trigger_Threshold{Threshold: &overloadv3.ThresholdTrigger{Value: threshold}},
		}},
	}
}

// layeredRuntime puts the static keys below an admin layer, so an operator
// can flip a runtime feature through /runtime_modify without a restart.
func layeredRuntime(values map[string]any) (*bootstrapv3.LayeredRuntime, error) {
	static, err := structpb.NewStruct(values)
	if err != nil {
		return nil, fmt.Errorf("runtime: %w", err)
	}
	return &bootstrapv3.LayeredRuntime{Layers: []*bootstrapv3.RuntimeLayer{
		{Name: "archway", LayerSpecifier: &bootstrapv3.RuntimeLayer_StaticLayer{StaticLayer: static}},
		{Name: "admin", LayerSpecifier: &bootstrapv3.RuntimeLayer_AdminLayer_{AdminLayer: &bootstrapv3.RuntimeLayer_AdminLayer{}}},
	}}, nil
}

// validatable is what protoc-gen-validate generates for every Envoy message.
type validatable interface {
	proto.Message
	ValidateAll() error
}

// packed validates m and wraps it in an Any. Bootstrap.ValidateAll does not
// look inside Any fields, so typed configs are checked before packing.
func packed(m validatable) (*anypb.Any, error) {
	if err := m.ValidateAll(); err != nil {
		return nil, err
	}
	return anypb.New(m)
}
