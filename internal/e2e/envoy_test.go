package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/archway-gateway/archway/envoy"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// configDump is the part of Envoy's /config_dump the tests read: the
// version of the last LDS and CDS response Envoy accepted, and the dynamic
// resources it runs with the version each came in.
type configDump struct {
	Configs []struct {
		Type             string `json:"@type"`
		VersionInfo      string `json:"version_info"`
		DynamicListeners []struct {
			Name        string `json:"name"`
			ActiveState *struct {
				VersionInfo string `json:"version_info"`
			} `json:"active_state"`
		} `json:"dynamic_listeners"`
		DynamicRouteConfigs []struct {
			VersionInfo string `json:"version_info"`
			RouteConfig struct {
				Name string `json:"name"`
			} `json:"route_config"`
		} `json:"dynamic_route_configs"`
		DynamicActiveClusters []struct {
			Cluster struct {
				Name string `json:"name"`
			} `json:"cluster"`
		} `json:"dynamic_active_clusters"`
	} `json:"configs"`
}

// envoyState is what Envoy runs, from its config dump.
type envoyState struct {
	ldsVersion, cdsVersion string
	// listener is the version of the active gateway listener; empty if
	// Envoy has none.
	listener string
	// routes is the version of the gateway's route configuration; empty if
	// Envoy has none.
	routes   string
	clusters []string // sorted
}

func (s envoyState) String() string {
	return fmt.Sprintf("LDS %q (listener %q), CDS %q, routes %q, clusters %q", s.ldsVersion, s.listener, s.cdsVersion, s.routes, s.clusters)
}

// envoyState reads Envoy's config dump.
func (g *gateway) envoyState(t *testing.T) (envoyState, error) {
	body, err := g.envoy.ConfigDumpJSON(t.Context(), "")
	if err != nil {
		return envoyState{}, err
	}
	var dump configDump
	if err := json.Unmarshal(body, &dump); err != nil {
		return envoyState{}, fmt.Errorf("config dump: %w", err)
	}
	var s envoyState
	for _, c := range dump.Configs {
		switch c.Type[strings.LastIndexByte(c.Type, '.')+1:] {
		case "ListenersConfigDump":
			s.ldsVersion = c.VersionInfo
			for _, l := range c.DynamicListeners {
				if l.Name == envoy.HTTPListenerName && l.ActiveState != nil {
					s.listener = l.ActiveState.VersionInfo
				}
			}
		case "RoutesConfigDump":
			for _, r := range c.DynamicRouteConfigs {
				if r.RouteConfig.Name == envoy.HTTPRouteConfigName {
					s.routes = r.VersionInfo
				}
			}
		case "ClustersConfigDump":
			s.cdsVersion = c.VersionInfo
			for _, cl := range c.DynamicActiveClusters {
				s.clusters = append(s.clusters, cl.Cluster.Name)
			}
		}
	}
	slices.Sort(s.clusters)
	return s, nil
}

// fleetNode returns the gateway's Envoy as the admin API's fleet lists it.
func (g *gateway) fleetNode(t *testing.T) (*adminv1.EnvoyNode, error) {
	resp, err := g.admin.ListFleet(t.Context(), &adminv1.ListFleetRequest{})
	if err != nil {
		return nil, err
	}
	if n := resp.GetNodes(); len(n) != 1 || n[0].GetId() != envoyNodeID {
		return nil, fmt.Errorf("fleet is %v, want the one node %s", n, envoyNodeID)
	}
	return resp.GetNodes()[0], nil
}

// clusterOf is the name of the Envoy cluster of the HTTP backend at addr.
func clusterOf(t *testing.T, addr string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return envoy.UpstreamClusterName("http", host, uint32(p))
}

// checkEnvoy checks that Envoy runs what the xDS server published last and
// rejected nothing on the way: the fleet reports the last published version
// as acked, with no NACK; the config dump shows the gateway's listener and
// its route configuration at that version, and exactly the clusters of
// wantClusters; and the stats count no rejected update and at least every
// request the test sent. Call it when no change is in flight.
//
// With incremental xDS, each resource carries a version of its own (a hash
// of its content), so only the versions of the last responses are
// compared with what the xDS server published.
func (g *gateway) checkEnvoy(t *testing.T, wantClusters ...string) {
	t.Helper()
	wantClusters = slices.Sorted(slices.Values(wantClusters))
	var (
		node      *adminv1.EnvoyNode
		state     envoyState
		published []string
	)
	eventually(t, "Envoy to run the last published snapshot", func() (bool, string) {
		published = g.logs.published()
		var err error
		if node, err = g.fleetNode(t); err != nil {
			return false, err.Error()
		}
		if state, err = g.envoyState(t); err != nil {
			return false, err.Error()
		}
		last := ""
		if len(published) > 0 {
			last = published[len(published)-1]
		}
		// The last snapshot of a rollout may only drop clusters the routes
		// no longer use; Envoy keeps a route configuration whose content did
		// not change at the version it came with, so that version is one the
		// server published, not necessarily the last.
		ok := last != "" && node.GetAckedVersion() == last && (g.delta || slices.Contains(published, state.routes)) &&
			slices.Equal(state.clusters, wantClusters)
		return ok, fmt.Sprintf("published %q, fleet acked %q, Envoy runs %v", published, node.GetAckedVersion(), state)
	})
	if n := node.GetLastNack(); n != nil {
		t.Errorf("Envoy rejected version %s of %s: %s", n.GetVersion(), n.GetTypeUrl(), n.GetError())
	}
	if state.listener == "" || state.routes == "" {
		t.Errorf("Envoy lacks the gateway's listener or route configuration: %v", state)
	}
	// An update that leaves a type's resources as they were is not sent
	// again, so the last LDS response, whose listener depends only on the
	// gateway's options, and the last CDS response may be those of an
	// earlier snapshot; but always one the xDS server published.
	versions := map[string]string{"LDS": state.ldsVersion, "CDS": state.cdsVersion}
	if !g.delta {
		versions["listener "+envoy.HTTPListenerName] = state.listener
	}
	for what, v := range versions {
		if !slices.Contains(published, v) {
			t.Errorf("Envoy's %s version is %q, not one of the published %q", what, v, published)
		}
	}
	if !slices.Equal(state.clusters, wantClusters) {
		t.Errorf("Envoy's clusters are %q, want %q", state.clusters, wantClusters)
	}
	g.checkStats(t)
}

// checkStats checks Envoy's counters: no xDS update rejected, and the
// gateway listener counted every request the test sent through it.
func (g *gateway) checkStats(t *testing.T) {
	t.Helper()
	stats, err := g.envoy.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"listener_manager.lds.update_rejected", "cluster_manager.cds.update_rejected"} {
		if _, ok := stats[name]; !ok {
			t.Errorf("Envoy has no stat %s", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(stats)) {
		if strings.HasSuffix(name, ".update_rejected") && stats[name] != 0 {
			t.Errorf("%s = %d, want 0", name, stats[name])
		}
	}
	total := "http." + envoy.HTTPListenerName + ".downstream_rq_total"
	if got, sent := stats[total], g.sent.Load(); got < uint64(sent) || sent == 0 {
		t.Errorf("%s = %d after the test sent %d requests through Envoy", total, got, sent)
	}
}
