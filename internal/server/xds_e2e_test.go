package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/store/storetest"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/xds/translate"
)

// TestEnvoyServesDeployedAPIs runs `archway serve` with a real Envoy, over
// both xDS protocols: an API applied at start-up serves a real backend, a
// mock and API Gateway's not-found answer through Envoy's listener; a
// deployment made through the admin API takes effect; and Envoy's admin API
// shows the snapshot version it runs and no rejected update.
func TestEnvoyServesDeployedAPIs(t *testing.T) {
	bin := testenvoy.Binary(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"backend": r.Method + " " + r.URL.Path})
	}))
	t.Cleanup(backend.Close)
	for name, delta := range map[string]bool{"sotw": false, "delta": true} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			run := startWithEnvoy(ctx, t, bin, strings.TrimPrefix(backend.URL, "http://"), delta)
			gateway, admin, adminAPI := run.gateway, run.admin, run.envoy
			if err := adminAPI.WaitReady(ctx); err != nil {
				t.Fatal(err)
			}
			apis, err := admin.ListApis(ctx, &adminv1.ListApisRequest{Name: "shop"})
			if err != nil || len(apis.GetApis()) != 1 {
				t.Fatalf("ListApis(shop) = %v, %v", apis, err)
			}
			shop := apis.GetApis()[0].GetId()
			host := shop + "." + translate.DefaultBaseDomain

			expect(t, gateway, host, "/live/items/42", 200, `{"backend":"GET /catalog/42"}`)
			expect(t, gateway, "127.0.0.1", "/"+shop+"/live/health", 200, `{"status":"ok"}`)
			expect(t, gateway, host, "/live/nothing", 404, `{"message":"Not Found"}`)
			expect(t, gateway, host, "/prod/health", 404, `{"message":"Not Found"}`)

			if _, err := admin.Deploy(ctx, &adminv1.DeployRequest{ApiId: shop, StageName: "prod"}); err != nil {
				t.Fatal(err)
			}
			eventually(ctx, t, "prod to serve /health after Deploy", func() bool {
				status, body := get(t, gateway, host, "/prod/health")
				return status == 200 && body == `{"status":"ok"}`
			})

			eventually(ctx, t, "Envoy to run the served routes", func() bool {
				return dynamicVersion(ctx, t, adminAPI, "dynamic_route_configs") == run.routesVersion(t, delta)
			})
			if got := dynamicVersion(ctx, t, adminAPI, "dynamic_listeners"); got == "" {
				t.Error("Envoy has no dynamic listener")
			}
			stats, err := adminAPI.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for stat, want := range map[string]func(uint64) bool{
				"cluster_manager.cds.update_success":   func(v uint64) bool { return v > 0 },
				"listener_manager.lds.update_success":  func(v uint64) bool { return v > 0 },
				"listener_manager.lds.update_rejected": func(v uint64) bool { return v == 0 },
				"cluster_manager.cds.update_rejected":  func(v uint64) bool { return v == 0 },
				"control_plane.connected_state":        func(v uint64) bool { return v == 1 },
			} {
				if v, ok := stats[stat]; !ok || !want(v) {
					t.Errorf("Envoy stat %s = %d (present %v)", stat, v, ok)
				}
			}
		})
	}
}

// gatewayRun is a running `archway serve` with its own Envoy.
type gatewayRun struct {
	srv     *Server
	gateway string // Envoy's listener
	admin   adminv1.AdminServiceClient
	envoy   envoy.AdminClient
	// translate are the options the server translates with.
	translate translate.Options
}

// routesVersion is the version Envoy reports for the route configuration
// it should run: the snapshot version over state of the world; over delta,
// where versions are per resource, go-control-plane's hash of the route
// configuration, translated here again from the current model.
func (r gatewayRun) routesVersion(t *testing.T, delta bool) string {
	t.Helper()
	if !delta {
		return r.srv.xdsServer.Version()
	}
	res, err := translate.Translate(r.srv.watcher.Current(), r.translate)
	if err != nil || len(res.Routes) != 1 {
		t.Fatalf("translate: %v, %d route configurations", err, len(res.Routes))
	}
	b, err := cachev3.MarshalResource(res.Routes[0])
	if err != nil {
		t.Fatal(err)
	}
	return cachev3.HashResource(b)
}

// startWithEnvoy starts `archway serve` with the xds component, the admin
// API, the shop API applied and an Envoy of its own, and waits until
// Envoy's admin API answers.
func startWithEnvoy(ctx context.Context, t *testing.T, bin, backend string, delta bool) gatewayRun {
	t.Helper()
	dir := t.TempDir()
	def, err := os.ReadFile(filepath.Join("testdata", "shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	apply := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(apply, []byte(strings.ReplaceAll(string(def), "BACKEND", backend)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, storetest.New(t))
	cfg.Apply = []string{apply}
	cfg.Translate = translate.Options{GatewayAddr: freeAddr(t), PathStyle: true}
	cfg.Envoy = EnvoyConfig{
		Mode:             EnvoyAuto,
		Binary:           bin,
		BootstrapPath:    filepath.Join(dir, "bootstrap.yaml"),
		AdminAddressPath: filepath.Join(dir, "admin-address"),
		Bootstrap:        envoy.BootstrapOptions{NodeID: "e2e", AdminAddr: "127.0.0.1:0", Delta: delta},
		Output:           testenvoy.LogWriter(t, "envoy: "),
	}
	srv := start(t, cfg)
	addr, err := envoy.WaitAdminAddress(ctx, cfg.Envoy.AdminAddressPath)
	if err != nil {
		t.Fatal(err)
	}
	return gatewayRun{
		srv: srv, gateway: cfg.Translate.GatewayAddr, admin: adminClient(t, srv),
		envoy: envoy.NewAdminClient(addr), translate: cfg.Translate,
	}
}

// get sends GET path with the Host header host through the gateway.
func get(t *testing.T, gateway, host, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+gateway+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// expect checks one request's answer.
func expect(t *testing.T, gateway, host, path string, status int, body string) {
	t.Helper()
	if gotStatus, gotBody := get(t, gateway, host, path); gotStatus != status || gotBody != body {
		t.Errorf("GET %s%s = %d %q, want %d %q", host, path, gotStatus, gotBody, status, body)
	}
}

// eventually checks cond until it holds or ctx is done. Envoy applies
// updates asynchronously and has no notification to wait on.
func eventually(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// dynamicVersion returns the version Envoy's config dump gives the one
// dynamic resource of a kind ("dynamic_listeners" or
// "dynamic_route_configs"), or "" if there is none.
func dynamicVersion(ctx context.Context, t *testing.T, a envoy.AdminClient, resource string) string {
	t.Helper()
	body, err := a.ConfigDumpJSON(ctx, resource)
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Configs []struct {
			VersionInfo string `json:"version_info"`
			ActiveState struct {
				VersionInfo string `json:"version_info"`
			} `json:"active_state"`
		} `json:"configs"`
	}
	if err := json.Unmarshal(body, &dump); err != nil {
		t.Fatalf("config dump of %s: %v", resource, err)
	}
	if len(dump.Configs) != 1 {
		return ""
	}
	c := dump.Configs[0]
	return c.VersionInfo + c.ActiveState.VersionInfo
}
