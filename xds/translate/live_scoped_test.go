package translate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
	"github.com/archway-gateway/archway/internal/testutil/testnet"
)

// TestEnvoyServesScopedRoutes serves the host-style translation of
// testdata/live/scoped.yaml to the real Envoy over ADS, state of the world
// and delta, from go-control-plane's server on loopback. Envoy subscribes
// to the scopes, then to the route configurations they name, as it does
// from Archway's xDS server. Each API's host reaches its own backend, a
// Host whose first label is no API id gets Envoy's empty 404, and a change
// to one API reaches Envoy through that API's route configuration.
func TestEnvoyServesScopedRoutes(t *testing.T) {
	bin := testenvoy.Binary(t)
	a := httptest.NewServer(http.HandlerFunc(echoHandler))
	t.Cleanup(a.Close)
	b := httptest.NewServer(http.HandlerFunc(echoHandler))
	t.Cleanup(b.Close)
	backendA, backendB := strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://")
	fixture, err := os.ReadFile(filepath.Join("testdata", "live", "scoped.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fixture = []byte(strings.NewReplacer("BACKEND_A", backendA, "BACKEND_B", backendB).Replace(string(fixture)))

	tests := map[string]struct {
		method, host, path string
		status             int
		body               string // exact response body, when not proxied
		backend, upstream  string // who must answer, and what it must see
	}{
		"API a":                       {method: "GET", host: "scopeda01.execute-api.localhost", path: "/prod/x/y", status: 200, backend: backendA, upstream: "GET /a/x/y"},
		"API a, port in host":         {method: "POST", host: "scopeda01.execute-api.localhost:8443", path: "/prod/z", status: 200, backend: backendA, upstream: "POST /a/z"},
		"API b":                       {method: "GET", host: "scopedb01.execute-api.localhost", path: "/v1/items/7", status: 200, backend: backendB, upstream: "GET /b/items/7"},
		"API b not found":             {method: "GET", host: "scopedb01.execute-api.localhost", path: "/v1/nothing", status: 403, body: `{"message":"Missing Authentication Token"}`},
		"API b under another domain":  {method: "GET", host: "scopedb01.example.com", path: "/v1/items/7", status: 403, body: `{"message":"Missing Authentication Token"}`},
		"no such API":                 {method: "GET", host: "nosuchapi.execute-api.localhost", path: "/prod/x", status: 404},
		"path-style is not served":    {method: "GET", host: "127.0.0.1", path: "/scopeda01/prod/x", status: 404},
		"API id in upper case misses": {method: "GET", host: "SCOPEDA01.execute-api.localhost", path: "/prod/x", status: 404},
	}
	for name, delta := range map[string]bool{"sotw": false, "delta": true} {
		t.Run(name, func(t *testing.T) {
			g := startScopedGateway(t, bin, string(fixture), delta)
			for name, tc := range tests {
				t.Run(name, func(t *testing.T) {
					resp, data := send(t, g.addr, tc.method, tc.host, tc.path, "", nil)
					if resp.StatusCode != tc.status {
						t.Fatalf("status = %d, want %d (body %q)", resp.StatusCode, tc.status, data)
					}
					if tc.backend == "" && string(data) != tc.body {
						t.Errorf("body = %q, want %q", data, tc.body)
					}
					if got := resp.Header.Get("X-Upstream-Host"); got != tc.backend {
						t.Errorf("answered by backend %q, want %q", got, tc.backend)
					}
					if got := resp.Header.Get("X-Upstream"); got != tc.upstream {
						t.Errorf("backend saw %q, want %q", got, tc.upstream)
					}
				})
			}
			g.serve(t, "a2")
			waitUntil(t, "API a's new route configuration", func() bool {
				resp, _ := send(t, g.addr, "GET", "scopeda01.execute-api.localhost", "/prod/x", "", nil)
				return resp.Header.Get("X-Upstream") == "GET /a2/x"
			})
			resp, _ := send(t, g.addr, "GET", "scopedb01.execute-api.localhost", "/v1/items/8", "", nil)
			if got := resp.Header.Get("X-Upstream"); got != "GET /b/items/8" {
				t.Errorf("after API a changed, API b's backend saw %q", got)
			}
		})
	}
}

// scopedGateway is an Envoy fed over ADS by go-control-plane's server.
type scopedGateway struct {
	addr, node string
	fixture    string // with PREFIX_A still to replace
	tr         *Translator
	cache      cachev3.SnapshotCache
	version    int
}

// startScopedGateway serves the fixture's translation, API a proxying to
// /a, over an ADS server on loopback, and runs Envoy against it until the
// test ends.
func startScopedGateway(t *testing.T, bin, fixture string, delta bool) *scopedGateway {
	t.Helper()
	g := &scopedGateway{addr: testnet.ClosedAddr(t), node: "scoped-" + strconv.FormatBool(delta), fixture: fixture}
	var err error
	if g.tr, err = NewTranslator(Options{GatewayAddr: g.addr}); err != nil {
		t.Fatal(err)
	}
	g.cache = cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil)
	g.serve(t, "a")
	srv := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(srv, serverv3.NewServer(t.Context(), g.cache, nil))
	xdsAddr := serveGRPC(t, srv)
	bs, err := envoy.Bootstrap(envoy.BootstrapOptions{NodeID: g.node, XDSAddr: xdsAddr, AdminAddr: "127.0.0.1:0", Delta: delta})
	if err != nil {
		t.Fatal(err)
	}
	runEnvoy(t, bin, bs)
	waitForGateway(t, g.addr)
	waitUntil(t, "Envoy to serve API a", func() bool {
		r, _ := send(t, g.addr, "GET", "scopeda01.execute-api.localhost", "/prod/ready", "", nil)
		return r.StatusCode == http.StatusOK
	})
	return g
}

// serve translates the fixture with API a proxying to /prefixA and sets
// the result as the next snapshot.
func (g *scopedGateway) serve(t *testing.T, prefixA string) {
	t.Helper()
	cfg, _, err := parseFixture([]byte(strings.ReplaceAll(g.fixture, "PREFIX_A", prefixA)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.tr.Translate(cfg)
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("Translate: %v %v", err, res.Problems)
	}
	g.version++
	snap, err := cachev3.NewSnapshot(strconv.Itoa(g.version), res.ByType())
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Consistent(); err != nil {
		t.Fatal(err)
	}
	if err := g.cache.SetSnapshot(context.Background(), g.node, snap); err != nil {
		t.Fatal(err)
	}
}
