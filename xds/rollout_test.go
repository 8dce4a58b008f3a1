package xds_test

import (
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/xds"
	"github.com/archway-gateway/archway/xds/translate"
)

// These tests check the make-before-break order of a rollout on the wire:
// a client gets every cluster before any route that uses it, and keeps it
// until after its routes no longer use it.

// Backends the tests point integrations at. Nothing listens there: the
// clusters are what matters, not the traffic.
const (
	backendA = "127.0.0.1:10001"
	backendB = "127.0.0.1:10002"
	backendC = "127.0.0.1:10003"
)

const notACKedInTime = "envoys did not ACK new clusters in time; publishing the routes that use them anyway"

var versionPattern = regexp.MustCompile(`^[1-9][0-9]*-[0-9a-f]{12}$`)

// newRolloutEnv starts a path-style control plane with the given rollout
// bounds.
func newRolloutEnv(t *testing.T, ackTimeout, grace time.Duration) *env {
	t.Helper()
	return newEnvXDS(t, 5*time.Millisecond, 50*time.Millisecond, slog.LevelInfo, xds.Options{
		Translate:         translate.Options{GatewayAddr: "127.0.0.1:10080", PathStyle: true},
		ClusterAckTimeout: ackTimeout,
		ClusterGrace:      grace,
	})
}

// proxiedAPI is an API with one route to an HTTP proxy integration,
// deployed to prod.
type proxiedAPI struct{ api, integration string }

func (e *env) proxiedAPI(t *testing.T, backend string) proxiedAPI {
	t.Helper()
	api := e.api(t, "moving")
	in := e.integration(t, api.GetId(), proxy("backend", "http://"+backend+"/items"))
	e.route(t, api.GetId(), "GET", "/items", in.GetId())
	e.stage(t, api.GetId(), "prod", nil)
	e.deploy(t, api.GetId(), "prod")
	return proxiedAPI{api.GetId(), in.GetId()}
}

// moveTo points the API at backend and deploys it.
func (e *env) moveTo(t *testing.T, p proxiedAPI, backend string) {
	t.Helper()
	e.setProxyURI(t, p.api, p.integration, "http://"+backend+"/items")
	e.deploy(t, p.api, "prod")
}

// TestNewClusterBeforeRoutes moves a route from backend A to backend B.
// The client gets a CDS response with both A and B before any route
// response that uses B, keeps A until after its routes no longer use it,
// and eventually has B alone.
func TestNewClusterBeforeRoutes(t *testing.T) {
	for name, delta := range protocols {
		t.Run(name, func(t *testing.T) {
			e := newRolloutEnv(t, waitTimeout, waitTimeout)
			c := dialADS(t, e.addr, "node-"+name, delta, nil)
			p := e.proxiedAPI(t, backendA)
			c.waitFor(t, "routes to A", routesUse(clusterOf(backendA)))
			c.waitFor(t, "the server's version", acceptedCurrent(e.xds))
			mark := len(c.all())

			e.moveTo(t, p, backendB)
			c.waitFor(t, "routes to B", routesUse(clusterOf(backendB)))
			c.waitFor(t, "A to go", func(c *adsClient) bool { return !hasCluster(c, clusterOf(backendA)) })

			log := c.all()
			checkMakeBeforeBreak(t, log)
			log = log[mark:]
			withB := slices.IndexFunc(log, func(r received) bool {
				return r.typeURL == resource.ClusterType && r.resources[clusterOf(backendB)] != nil
			})
			toB := slices.IndexFunc(log, func(r received) bool {
				return r.typeURL == resource.RouteType && routeClusters(r.resources)[clusterOf(backendB)]
			})
			withoutA := slices.IndexFunc(log, func(r received) bool {
				return r.typeURL == resource.ClusterType && r.resources[clusterOf(backendA)] == nil
			})
			if withB < 0 || toB < 0 || withoutA < 0 || withB >= toB || toB >= withoutA {
				t.Fatalf("CDS with B at %d, routes to B at %d, CDS without A at %d; want them in this order: %v", withB, toB, withoutA, c.history()[mark:])
			}
			if log[withB].resources[clusterOf(backendA)] == nil {
				t.Errorf("the CDS response that added B (%s) removed A", log[withB].version)
			}
			if v, w := log[withB].version, log[toB].version; v == w || !versionPattern.MatchString(v) || !versionPattern.MatchString(w) {
				t.Errorf("clusters came at version %q, routes at %q; want two snapshots of <revision>-<hash>", v, w)
			}
			// The last snapshot only dropped A, so over delta only the
			// clusters carry its version.
			c.waitFor(t, "the server's version", func(c *adsClient) bool { return c.version(resource.ClusterType) == e.xds.Version() })
		})
	}
}

// TestUnusedClusterStaysUntilRoutesACKed moves a route from A to B while a
// node never ACKs routes: A stays, since that node may still run routes to
// it, until the node leaves.
func TestUnusedClusterStaysUntilRoutesACKed(t *testing.T) {
	for name, delta := range protocols {
		t.Run(name, func(t *testing.T) {
			e := newRolloutEnv(t, waitTimeout, waitTimeout)
			c := dialADS(t, e.addr, "node-"+name, delta, nil)
			stuck := dialADS(t, e.addr, "stuck-"+name, delta, nil)
			p := e.proxiedAPI(t, backendA)
			c.waitFor(t, "routes to A", routesUse(clusterOf(backendA)))
			stuck.waitFor(t, "routes to A", routesUse(clusterOf(backendA)))
			stuck.muteType(resource.RouteType)

			e.moveTo(t, p, backendB)
			c.waitFor(t, "routes to B", routesUse(clusterOf(backendB)))
			c.mu.Lock()
			kept := hasCluster(c, clusterOf(backendA))
			c.mu.Unlock()
			if !kept {
				t.Errorf("A went while a node had not ACKed the routes that replaced it: %v", c.history())
			}

			stuck.disconnect()
			c.waitFor(t, "A to go", func(c *adsClient) bool { return !hasCluster(c, clusterOf(backendA)) })
			checkMakeBeforeBreak(t, c.all())
		})
	}
}

// TestChangeWithoutNewClustersIsOneStep redeploys a route to another path
// of the same backend: one snapshot serves it.
func TestChangeWithoutNewClustersIsOneStep(t *testing.T) {
	for name, delta := range protocols {
		t.Run(name, func(t *testing.T) {
			e := newRolloutEnv(t, waitTimeout, waitTimeout)
			c := dialADS(t, e.addr, "node-"+name, delta, nil)
			p := e.proxiedAPI(t, backendA)
			c.waitFor(t, "routes to A", routesUse(clusterOf(backendA)))
			c.waitFor(t, "the server's version", acceptedCurrent(e.xds))
			before := waitServed(t, e, e.xds.Version())
			mark := len(c.all())

			e.setProxyURI(t, p.api, p.integration, "http://"+backendA+"/other")
			e.deploy(t, p.api, "prod")
			c.waitFor(t, "the new path", func(c *adsClient) bool {
				return routeRewrites(c, "/other") && acceptedCurrent(e.xds)(c)
			})
			if served := waitServed(t, e, e.xds.Version())[len(before):]; len(served) != 1 {
				t.Errorf("the change was served in snapshots %q, want one", served)
			}
			log := c.all()
			checkMakeBeforeBreak(t, log)
			for _, r := range log[mark:] {
				if r.version != e.xds.Version() {
					t.Errorf("received %s at version %s, not the one new version %s", r.typeURL, r.version, e.xds.Version())
				}
			}
		})
	}
}

// TestSilentNodeDoesNotBlockRollout connects a node that never ACKs
// clusters: the routes to a new cluster reach the other node once the
// wait for ACKs times out, and the server says which node was behind.
func TestSilentNodeDoesNotBlockRollout(t *testing.T) {
	for name, delta := range protocols {
		t.Run(name, func(t *testing.T) {
			e := newRolloutEnv(t, 200*time.Millisecond, waitTimeout)
			c := dialADS(t, e.addr, "node-"+name, delta, nil)
			stuck := dialADSMuted(t, e.addr, "stuck-"+name, delta, nil, resource.ClusterType)
			c.waitFor(t, "the first snapshot", serves)
			stuck.waitFor(t, "the first snapshot", serves)

			e.proxiedAPI(t, backendA)
			c.waitFor(t, "routes to A", routesUse(clusterOf(backendA)))
			if n := e.logs.count(notACKedInTime); n != 1 {
				t.Errorf("the late node was logged %d times, want once", n)
			}
			checkMakeBeforeBreak(t, c.all())
		})
	}
}

// TestNewerChangeRestartsRollout deploys B, and C while the server still
// waits for a node to ACK B's cluster: B's routes are never served, C's are
// once the node leaves, and no snapshot removed a cluster it had added.
func TestNewerChangeRestartsRollout(t *testing.T) {
	for name, delta := range protocols {
		t.Run(name, func(t *testing.T) {
			e := newRolloutEnv(t, waitTimeout, waitTimeout)
			c := dialADS(t, e.addr, "node-"+name, delta, nil)
			p := e.proxiedAPI(t, backendA)
			c.waitFor(t, "routes to A", routesUse(clusterOf(backendA)))
			stuck := dialADSMuted(t, e.addr, "stuck-"+name, delta, nil, resource.ClusterType)
			stuck.waitFor(t, "routes to A", routesUse(clusterOf(backendA)))

			e.moveTo(t, p, backendB)
			c.waitFor(t, "cluster B", func(c *adsClient) bool { return hasCluster(c, clusterOf(backendB)) })
			e.moveTo(t, p, backendC)
			c.waitFor(t, "cluster C", func(c *adsClient) bool { return hasCluster(c, clusterOf(backendC)) })
			c.mu.Lock()
			waiting := routesUse(clusterOf(backendA))(c) && hasCluster(c, clusterOf(backendA)) && hasCluster(c, clusterOf(backendB))
			c.mu.Unlock()
			if !waiting {
				t.Errorf("while a node is behind, the client has moved on: %v", c.history())
			}

			stuck.disconnect()
			c.waitFor(t, "routes to C", routesUse(clusterOf(backendC)))
			for _, r := range c.all() {
				if r.typeURL == resource.RouteType && routeClusters(r.resources)[clusterOf(backendB)] {
					t.Errorf("routes to B were served at %s after C was deployed", r.version)
				}
			}
			checkMakeBeforeBreak(t, c.all())
			c.waitFor(t, "C alone", func(c *adsClient) bool {
				return len(c.state[resource.ClusterType].resources) == 1 && hasCluster(c, clusterOf(backendC))
			})
		})
	}
}

// waitServed waits until the server logged serving version, and returns
// the versions it served until then.
func waitServed(t *testing.T, e *env, version string) []string {
	t.Helper()
	var served []string
	poll(t, "snapshot "+version+" to be logged", func() bool {
		served = e.logs.served()
		return slices.Contains(served, version)
	})
	return served[:slices.Index(served, version)+1]
}

// checkMakeBeforeBreak replays what a client received and checks that at
// no point did its routes use a cluster it did not have.
func checkMakeBeforeBreak(t *testing.T, log []received) {
	t.Helper()
	var clusters map[string]proto.Message
	var routes map[string]bool
	for _, r := range log {
		switch r.typeURL {
		case resource.ClusterType:
			clusters = r.resources
		case resource.RouteType:
			routes = routeClusters(r.resources)
		default:
			continue
		}
		for _, name := range keys(routes) {
			if clusters[name] == nil {
				t.Errorf("after %s at %s, routes use cluster %s, which the client does not have", r.typeURL, r.version, name)
			}
		}
	}
}

// routeClusters returns the clusters route configurations send to.
func routeClusters(rcs map[string]proto.Message) map[string]bool {
	out := make(map[string]bool)
	for _, m := range rcs {
		for _, vh := range m.(*routev3.RouteConfiguration).GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if name := r.GetRoute().GetCluster(); name != "" {
					out[name] = true
				}
				for _, w := range r.GetRoute().GetWeightedClusters().GetClusters() {
					out[w.GetName()] = true
				}
			}
		}
	}
	return out
}

// routesUse holds when the client's routes send to cluster and no other.
func routesUse(cluster string) func(*adsClient) bool {
	return func(c *adsClient) bool {
		st := c.state[resource.RouteType]
		return st != nil && slices.Equal(keys(routeClusters(st.resources)), []string{cluster})
	}
}

// routeRewrites reports whether a route of the client rewrites to a path
// ending in suffix.
func routeRewrites(c *adsClient, suffix string) bool {
	st := c.state[resource.RouteType]
	if st == nil {
		return false
	}
	for _, m := range st.resources {
		for _, vh := range m.(*routev3.RouteConfiguration).GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if strings.HasSuffix(r.GetRoute().GetPrefixRewrite(), suffix) {
					return true
				}
			}
		}
	}
	return false
}

// hasCluster reports whether the client has cluster. c.mu must be held.
func hasCluster(c *adsClient, cluster string) bool {
	st := c.state[resource.ClusterType]
	return st != nil && st.resources[cluster] != nil
}

// clusterOf is the cluster of a backend's host:port.
func clusterOf(backend string) string {
	host, port, _ := strings.Cut(backend, ":")
	n, _ := strconv.ParseUint(port, 10, 16)
	return envoy.UpstreamClusterName("http", host, uint32(n))
}
