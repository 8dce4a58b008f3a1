package translate

import (
	"maps"
	"slices"
	"testing"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// TestByTypeHoldsEveryType checks that every type the listener may refer
// to is in ByType, empty or not, in both layouts: a state-of-the-world
// Envoy waits out its initial fetch timeout for a type the snapshot lacks.
func TestByTypeHoldsEveryType(t *testing.T) {
	want := []string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType, resource.ScopedRouteType}
	for name, opts := range layouts {
		for _, apis := range [][]*model.API{nil, {cacheAPI(t, "aaaa", "/a")}} {
			tr, err := NewTranslator(opts)
			if err != nil {
				t.Fatal(err)
			}
			res := mustTranslate(t, tr, 1, apis...)
			if got := slices.Sorted(maps.Keys(res.ByType())); !slices.Equal(got, want) {
				t.Errorf("%s, %d APIs: ByType has %q, want %q", name, len(apis), got, want)
			}
		}
	}
}

// TestOneAPIChangeChangesOneResource translates a Config, then the next
// one with API bbbb changed and API cccc a new pointer to the same
// definition, and compares the per-resource versions go-control-plane's
// delta xDS derives from each snapshot (a hash of each resource's bytes):
// host-style, only bbbb's route configuration has a new version, so delta
// sends only that; path-style, the one route configuration changes. The
// unchanged API's protos are handed on as the same objects.
func TestOneAPIChangeChangesOneResource(t *testing.T) {
	tests := map[string]struct {
		opts   Options
		routes []string // route configurations with a new version
	}{
		"host-style": {opts: Options{}, routes: []string{"api_bbbb"}},
		"path-style": {opts: Options{PathStyle: true}, routes: []string{envoy.HTTPRouteConfigName}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tr, err := NewTranslator(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			a, b, c := cacheAPI(t, "aaaa", "/a"), cacheAPI(t, "bbbb", "/b"), cacheAPI(t, "cccc", "/c")
			first := mustTranslate(t, tr, 1, a, b, c)
			second := mustTranslate(t, tr, 2, a, cacheAPI(t, "bbbb", "/b2"), cacheAPI(t, "cccc", "/c"))

			changed := changedVersions(t, &first, &second)
			if got := changed[resource.RouteType]; !slices.Equal(got, tc.routes) {
				t.Errorf("route configurations with a new version: %q, want %q", got, tc.routes)
			}
			for _, typ := range []string{resource.ListenerType, resource.ScopedRouteType, resource.ClusterType} {
				if got := changed[typ]; len(got) > 0 {
					t.Errorf("%s with a new version: %q, want none", typ, got)
				}
			}
			if !tc.opts.PathStyle && (first.Routes[0] != second.Routes[0] || first.ScopedRoutes[0] != second.ScopedRoutes[0]) {
				t.Error("the unchanged API's route configuration or scope is not the same proto")
			}
		})
	}
}

// changedVersions returns, by type, the names of the resources whose
// version differs between two snapshots, or that only one of them holds.
func changedVersions(t *testing.T, before, after *Resources) map[string][]string {
	t.Helper()
	versions := func(res *Resources) *cachev3.Snapshot {
		snap, err := cachev3.NewSnapshot("v", res.ByType())
		if err != nil {
			t.Fatal(err)
		}
		if err := snap.ConstructVersionMap(); err != nil {
			t.Fatal(err)
		}
		return snap
	}
	old, cur := versions(before), versions(after)
	out := make(map[string][]string)
	for typ := range before.ByType() {
		o, c := old.GetVersionMap(typ), cur.GetVersionMap(typ)
		names := maps.Clone(o)
		maps.Copy(names, c)
		for _, n := range slices.Sorted(maps.Keys(names)) {
			if o[n] != c[n] {
				out[typ] = append(out[typ], n)
			}
		}
	}
	return out
}
