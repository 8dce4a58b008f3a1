package xds_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// waitTimeout bounds every wait for the server. It is a liveness bound, not
// a measurement: a healthy run finishes each wait in milliseconds.
const waitTimeout = 30 * time.Second

// rejectFunc decides what the client does with a response: an empty
// string accepts it; anything else rejects it with that error, as Envoy
// does with a configuration it cannot apply.
type rejectFunc func(typeURL string, resources map[string]proto.Message) string

// received is one response as it arrived.
type received struct {
	typeURL, version string
	// resources are what the client holds of the type after the response.
	resources map[string]proto.Message
	// sent names the resources the response itself carried: all of them
	// over state of the world, the new and changed ones over delta.
	sent []string
	at   time.Time
}

// adsClient is an in-process ADS client that behaves like Envoy: it
// subscribes to clusters and listeners (wildcard), then to the scoped
// routes (wildcard) if a listener uses scoped RDS, then to the route
// configurations its listeners and scopes name, and ACKs or NACKs every
// response, over either a state-of-the-world or a delta stream.
type adsClient struct {
	node   *corev3.Node
	delta  bool
	reject rejectFunc
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	// mute is a type URL whose responses the client applies but never
	// answers, like an Envoy stuck on them; "" for none.
	mute     string
	state    map[string]*typeState // by type URL
	log      []received
	routeSub []string // the route configurations subscribed to
	srds     bool     // subscribed to the scoped routes
	err      error    // why the stream ended
	changed  chan struct{}
}

// typeState is what the client accepted of one type.
type typeState struct {
	version   string
	resources map[string]proto.Message
}

// dialADS connects a client for nodeID to the xDS server at addr; it runs
// until the test ends or disconnect is called.
func dialADS(t testing.TB, addr, nodeID string, delta bool, reject rejectFunc) *adsClient {
	t.Helper()
	return dialADSMuted(t, addr, nodeID, delta, reject, "")
}

// dialADSMuted connects a client that never answers responses of the type
// mute, as dialADS does.
func dialADSMuted(t testing.TB, addr, nodeID string, delta bool, reject rejectFunc, mute string) *adsClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &adsClient{
		node:    &corev3.Node{Id: nodeID, Cluster: "test", UserAgentName: "envoy", UserAgentVersionType: &corev3.Node_UserAgentBuildVersion{UserAgentBuildVersion: &corev3.BuildVersion{Version: testEnvoyVersion}}},
		delta:   delta,
		reject:  reject,
		mute:    mute,
		cancel:  cancel,
		done:    make(chan struct{}),
		state:   make(map[string]*typeState),
		changed: make(chan struct{}),
	}
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	go func() {
		defer close(c.done)
		defer func() { _ = conn.Close() }()
		var err error
		if delta {
			err = c.runDelta(ctx, ads)
		} else {
			err = c.runSotw(ctx, ads)
		}
		c.update(func() { c.err = err })
	}()
	t.Cleanup(c.disconnect)
	return c
}

// disconnect closes the stream and waits until the client stopped.
func (c *adsClient) disconnect() {
	c.cancel()
	<-c.done
}

// update changes the client's state under its lock and wakes waiters.
func (c *adsClient) update(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn()
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitFor waits until cond holds on the client's state. It checks again
// whenever the client receives something, and every few milliseconds for
// conditions that also read the server's state.
func (c *adsClient) waitFor(t testing.TB, what string, cond func(c *adsClient) bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		c.mu.Lock()
		ok, changed, err := cond(c), c.changed, c.err
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("node %s: gave up waiting for %s (stream error: %v); received %v", c.node.GetId(), what, err, c.history())
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("node %s: stream ended while waiting for %s: %v", c.node.GetId(), what, err)
		}
	}
}

// version returns the accepted version of a type. c.mu must be held.
func (c *adsClient) version(typeURL string) string {
	if st := c.state[typeURL]; st != nil {
		return st.version
	}
	return ""
}

// received returns the responses of typeURL received so far, in order.
func (c *adsClient) received(typeURL string) []received {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []received
	for _, r := range c.log {
		if r.typeURL == typeURL {
			out = append(out, r)
		}
	}
	return out
}

// muteType makes the client stop answering responses of typeURL.
func (c *adsClient) muteType(typeURL string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mute = typeURL
}

// all returns every response received so far, in order.
func (c *adsClient) all() []received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.log)
}

// versions returns the versions of responses.
func versions(rs []received) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.version
	}
	return out
}

// routeConfig returns the accepted route configuration called name. c.mu
// must be held.
func (c *adsClient) routeConfig(name string) *routev3.RouteConfiguration {
	if st := c.state[resource.RouteType]; st != nil {
		rc, _ := st.resources[name].(*routev3.RouteConfiguration)
		return rc
	}
	return nil
}

// accept records a response the client applies. c.mu must be held.
func (c *adsClient) accept(typeURL, version string, resources map[string]proto.Message) {
	c.state[typeURL] = &typeState{version: version, resources: resources}
}

// decide decodes resources and asks the reject function about them.
func (c *adsClient) decide(typeURL string, resources map[string]proto.Message) *statuspb.Status {
	if c.reject == nil {
		return nil
	}
	if msg := c.reject(typeURL, resources); msg != "" {
		return &statuspb.Status{Code: 3, Message: msg}
	}
	return nil
}

// routeNames returns the route configurations the listeners and the
// scopes name, as Envoy subscribes to them over RDS.
func routeNames(listeners, scopes map[string]proto.Message) []string {
	var names []string
	for _, hcm := range connectionManagers(listeners) {
		if hcm.GetRds() != nil {
			names = append(names, hcm.GetRds().GetRouteConfigName())
		}
	}
	for _, m := range scopes {
		names = append(names, m.(*routev3.ScopedRouteConfiguration).GetRouteConfigurationName())
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// usesScopedRDS reports whether a listener takes its scopes from scoped
// RDS, which Envoy then subscribes to.
func usesScopedRDS(listeners map[string]proto.Message) bool {
	return slices.ContainsFunc(connectionManagers(listeners), func(hcm *hcmv3.HttpConnectionManager) bool {
		return hcm.GetScopedRoutes().GetScopedRds() != nil
	})
}

// connectionManagers returns the HTTP connection managers of listeners.
func connectionManagers(listeners map[string]proto.Message) []*hcmv3.HttpConnectionManager {
	var out []*hcmv3.HttpConnectionManager
	for _, m := range listeners {
		for _, fc := range m.(*listenerv3.Listener).GetFilterChains() {
			for _, f := range fc.GetFilters() {
				hcm := &hcmv3.HttpConnectionManager{}
				if f.GetTypedConfig().UnmarshalTo(hcm) == nil {
					out = append(out, hcm)
				}
			}
		}
	}
	return out
}

// decodeAll unpacks Any resources by name.
func decodeAll(name func(proto.Message) string, anys ...*anypb.Any) (map[string]proto.Message, error) {
	out := make(map[string]proto.Message, len(anys))
	for _, a := range anys {
		m, err := a.UnmarshalNew()
		if err != nil {
			return nil, err
		}
		out[name(m)] = m
	}
	return out, nil
}

func resourceName(m proto.Message) string {
	if n, ok := m.(interface{ GetName() string }); ok {
		return n.GetName()
	}
	return ""
}

// subscribeScopes reports whether the client should now subscribe to the
// scoped routes: a listener uses scoped RDS and it has not yet. c.mu must
// be held.
func (c *adsClient) subscribeScopes() bool {
	if c.srds || c.state[resource.ListenerType] == nil || !usesScopedRDS(c.state[resource.ListenerType].resources) {
		return false
	}
	c.srds = true
	return true
}

// newRouteSubscription reports the route names to subscribe to after a
// listener or scope update, and whether they changed. c.mu must be held.
func (c *adsClient) newRouteSubscription() ([]string, bool) {
	var listeners, scopes map[string]proto.Message
	if st := c.state[resource.ListenerType]; st != nil {
		listeners = st.resources
	}
	if st := c.state[resource.ScopedRouteType]; st != nil {
		scopes = st.resources
	}
	names := routeNames(listeners, scopes)
	if slices.Equal(names, c.routeSub) {
		return nil, false
	}
	c.routeSub = names
	return names, true
}

// streamEnded turns the end of a stream into nil when the client hung up.
func streamEnded(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, io.EOF) {
		return context.Canceled
	}
	return err
}

// keys returns the sorted keys of m.
func keys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// history lists what the client received, as type@version, for failure
// messages.
func (c *adsClient) history() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.log))
	for i, r := range c.log {
		out[i] = r.typeURL[strings.LastIndex(r.typeURL, ".")+1:] + "@" + r.version
	}
	return out
}
