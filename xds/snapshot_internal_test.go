package xds

import (
	"errors"
	"regexp"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/archway-gateway/archway/internal/model"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/xds/translate"
)

func cluster(name string, timeout time.Duration) *clusterv3.Cluster {
	return &clusterv3.Cluster{Name: name, ConnectTimeout: durationpb.New(timeout)}
}

func TestContentHash(t *testing.T) {
	a, b := cluster("a", time.Second), cluster("b", time.Second)
	base := map[resource.Type][]types.Resource{resource.ClusterType: {a, b}}
	tests := map[string]struct {
		resources map[resource.Type][]types.Resource
		same      bool
	}{
		"same resources in another order": {map[resource.Type][]types.Resource{resource.ClusterType: {b, a}}, true},
		"empty types are absent types":    {map[resource.Type][]types.Resource{resource.ClusterType: {a, b}, resource.RouteType: {}}, true},
		"one field changed":               {map[resource.Type][]types.Resource{resource.ClusterType: {a, cluster("b", 2*time.Second)}}, false},
		"one resource fewer":              {map[resource.Type][]types.Resource{resource.ClusterType: {a}}, false},
		"nothing":                         {nil, false},
	}
	want, err := new(resourceHasher).hash(base)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(want) {
		t.Fatalf("hash %q is not hex SHA-256", want)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := new(resourceHasher).hash(tc.resources)
			if err != nil {
				t.Fatal(err)
			}
			if (got == want) != tc.same {
				t.Errorf("hash equal = %v, want %v", got == want, tc.same)
			}
			// A hasher that remembers base's digests agrees with a fresh one.
			var warm resourceHasher
			if _, err := warm.hash(base); err != nil {
				t.Fatal(err)
			}
			if again, err := warm.hash(tc.resources); err != nil || again != got {
				t.Errorf("warm hasher = %q, %v; fresh = %q", again, err, got)
			}
		})
	}
	if v := snapshotVersion(42, want); v != "42-"+want[:12] {
		t.Errorf("snapshotVersion = %q", v)
	}
}

func TestStatesOf(t *testing.T) {
	api := func(id string) *model.API { return &model.API{ID: id, Protocol: model.ProtocolHTTP} }
	cfg, err := model.NewConfig(3, []*model.API{api("a1"), api("a2"), api("a3")})
	if err != nil {
		t.Fatal(err)
	}
	problems := []translate.Problem{
		{APIID: "a2", Stage: "prod", Err: errors.New("unknown variable")},
		{APIID: "a2", Stage: "beta", Err: errors.New("bad host")},
		{APIID: "a3", Err: errors.New("bad id")},
	}
	want := map[string]apiState{
		"a1": {state: adminv1.ApiStatus_STATE_SERVING},
		"a2": {adminv1.ApiStatus_STATE_FAILED, "stage prod: unknown variable; stage beta: bad host"},
		"a3": {adminv1.ApiStatus_STATE_FAILED, "bad id"},
	}
	got := statesOf(cfg, problems)
	if len(got) != len(want) {
		t.Fatalf("statesOf = %v, want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %+v, want %+v", id, got[id], w)
		}
	}
}

func TestFleetRegistry(t *testing.T) {
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFleet("cp", func() time.Time { return clock })
	node := &corev3.Node{Id: "n1", Cluster: "c", UserAgentVersionType: &corev3.Node_UserAgentVersion{UserAgentVersion: "1.39.1-dev"}}

	f.connect(node, false)
	f.connect(node, true) // a second stream while the first is open
	if !f.nack("n1", resource.RouteType, "5-a", "bad") {
		t.Error("a first NACK is not new")
	}
	if f.nack("n1", resource.RouteType, "5-a", "bad") {
		t.Error("the same NACK again is new")
	}
	if !f.nack("n1", resource.ListenerType, "5-a", "bad") {
		t.Error("a NACK of another type is not new")
	}
	f.ack("n1", resource.ClusterType, "4-b")
	f.disconnect("n1")
	put, gone := f.takeDirty()
	if len(put) != 1 || len(gone) != 0 {
		t.Fatalf("dirty = %v put, %v gone; want the node, still connected", put, gone)
	}
	n := put[0]
	if n.GetEnvoyVersion() != "1.39.1-dev" || !n.GetDelta() || n.GetAckedVersion() != "4-b" ||
		n.GetLastNack().GetTypeUrl() != resource.ListenerType || n.GetControlPlane() != "cp" {
		t.Errorf("node = %v", n)
	}
	f.disconnect("n1")
	if put, gone := f.takeDirty(); len(put) != 0 || len(gone) != 1 {
		t.Errorf("after the last stream closed: %v put, %v gone; want it gone", put, gone)
	}
	if put, gone := f.takeDirty(); len(put)+len(gone) != 0 {
		t.Errorf("takeDirty twice returned %v, %v", put, gone)
	}
}
