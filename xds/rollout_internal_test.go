package xds

import (
	"slices"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

func edsCluster(name string) *clusterv3.Cluster {
	c := cluster(name, time.Second)
	c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
	return c
}

func assignment(name string) *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{ClusterName: name}
}

// TestUnionStaysConsistent merges the clusters of two translations: a
// cluster in both is the first's, and the merged EDS assignments are
// exactly those the merged clusters fetch, as Consistent() requires.
func TestUnionStaysConsistent(t *testing.T) {
	tests := map[string]struct {
		first, second       []*clusterv3.Cluster
		firstEDS, secondEDS []*endpointv3.ClusterLoadAssignment
		want                []string // assignments
	}{
		"disjoint": {
			first: []*clusterv3.Cluster{edsCluster("b")}, firstEDS: []*endpointv3.ClusterLoadAssignment{assignment("b")},
			second: []*clusterv3.Cluster{edsCluster("a")}, secondEDS: []*endpointv3.ClusterLoadAssignment{assignment("a")},
			want: []string{"a", "b"},
		},
		"no longer EDS": {
			first:  []*clusterv3.Cluster{cluster("a", time.Second)},
			second: []*clusterv3.Cluster{edsCluster("a")}, secondEDS: []*endpointv3.ClusterLoadAssignment{assignment("a")},
		},
		"EDS in both": {
			first: []*clusterv3.Cluster{edsCluster("a")}, firstEDS: []*endpointv3.ClusterLoadAssignment{assignment("a")},
			second: []*clusterv3.Cluster{edsCluster("a")}, secondEDS: []*endpointv3.ClusterLoadAssignment{assignment("a")},
			want: []string{"a"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clusters := unionClusters(tc.first, tc.second)
			if clusters[0] != tc.first[0] {
				t.Error("a cluster in both is not the first's")
			}
			eds := unionEndpoints(clusters, tc.firstEDS, tc.secondEDS)
			var got []string
			for _, la := range eds {
				got = append(got, la.GetClusterName())
			}
			if slices.Sort(got); !slices.Equal(got, tc.want) {
				t.Errorf("assignments %q, want %q", got, tc.want)
			}
			snap, err := cachev3.NewSnapshot("1", map[resource.Type][]types.Resource{
				resource.ClusterType:  asResources(clusters),
				resource.EndpointType: asResources(eds),
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := snap.Consistent(); err != nil {
				t.Error(err)
			}
		})
	}
}

func asResources[T types.Resource](in []T) []types.Resource {
	out := make([]types.Resource, len(in))
	for i, r := range in {
		out[i] = r
	}
	return out
}

// TestFleetAnswers checks what the rollout waits for: a node has answered
// a version of a type once it ACKed or NACKed it, and accepted a version
// of several types once it ACKed each.
func TestFleetAnswers(t *testing.T) {
	f := newFleet("cp", time.Now)
	for _, id := range []string{"n1", "n2", "n3"} {
		f.connect(&corev3.Node{Id: id}, false)
	}
	f.ack("n1", resource.ClusterType, "2-a")
	f.nack("n2", resource.ClusterType, "2-a", "bad")
	f.ack("n3", resource.ClusterType, "1-z")
	if got := f.unanswered(resource.ClusterType, "2-a"); !slices.Equal(got, []string{"n3"}) {
		t.Errorf("unanswered = %q, want n3", got)
	}
	f.ack("n1", resource.RouteType, "2-a")
	f.ack("n2", resource.RouteType, "2-a")
	if got := f.unaccepted("2-a", []string{resource.ClusterType, resource.RouteType}); !slices.Equal(got, []string{"n2", "n3"}) {
		t.Errorf("unaccepted = %q, want n2 (rejected) and n3 (behind)", got)
	}
	f.disconnect("n3")
	select {
	case <-f.answered:
	default:
		t.Error("no wake-up after answers and a departure")
	}
	if got := f.unanswered(resource.ClusterType, "2-a"); len(got) != 0 {
		t.Errorf("unanswered = %q after n3 left", got)
	}
}
