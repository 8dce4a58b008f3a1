package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/archway-gateway/archway/internal/store/storetest"
	"github.com/archway-gateway/archway/internal/testutil/admintest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/xds/translate"
)

const petstoreFile = "../../examples/petstore.yaml"

func testConfig(t *testing.T, etcd *storetest.Etcd) Config {
	return Config{
		Logger:    slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		AdminAddr: "127.0.0.1:0",
		XDSAddr:   "127.0.0.1:0",
		Etcd:      EtcdConfig{Endpoints: etcd.Endpoints},
	}
}

// start runs a Server until the test ends, and checks that it then stops
// cleanly.
func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return srv
}

func adminClient(t *testing.T, srv *Server) adminv1.AdminServiceClient {
	t.Helper()
	return adminv1.NewAdminServiceClient(dial(t, srv.AdminAddr().String()))
}

func TestServerAdminRequiresToken(t *testing.T) {
	etcd := storetest.New(t)
	cfg := testConfig(t, etcd)
	cfg.AdminTokenFile = filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(cfg.AdminTokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := start(t, cfg)
	conn := dial(t, srv.AdminAddr().String())
	admin := adminv1.NewAdminServiceClient(conn)

	_, err := admin.ListApis(context.Background(), &adminv1.ListApisRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("ListApis without a token: %v, want UNAUTHENTICATED", err)
	}
	if _, err := admin.ListApis(withAuthorization("Bearer "+testToken), &adminv1.ListApisRequest{}); err != nil {
		t.Errorf("ListApis with the token: %v", err)
	}
	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{
		Service: adminv1.AdminService_ServiceDesc.ServiceName,
	})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("admin health without a token: %v, %v; want SERVING", resp.GetStatus(), err)
	}
}

// TestNewRefusesBadAdminSecurity checks the settings New refuses before
// binding anything or starting etcd: an exposed admin API, incomplete TLS,
// and data plane settings Envoy could not use.
func TestNewRefusesBadAdminSecurity(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		cfg     Config
		exposed bool
	}{
		"every interface without auth":      {cfg: Config{AdminAddr: "0.0.0.0:0"}, exposed: true},
		"every ipv6 interface without auth": {cfg: Config{AdminAddr: "[::]:0"}, exposed: true},
		"empty token file":                  {cfg: Config{AdminAddr: "0.0.0.0:0", AdminTokenFile: empty}},
		"missing token file":                {cfg: Config{AdminAddr: "127.0.0.1:0", AdminTokenFile: filepath.Join(dir, "none")}},
		"TLS without a client CA":           {cfg: Config{AdminAddr: "0.0.0.0:0", AdminTLSCert: "c", AdminTLSKey: "k"}},
		"unknown component":                 {cfg: Config{Components: []string{"admin", "router"}}},
		"missing upstream CA file": {cfg: Config{
			AdminAddr: "127.0.0.1:0", XDSAddr: "127.0.0.1:0",
			Translate: translate.Options{CAFile: filepath.Join(dir, "no-ca.pem")},
		}},
		"gateway address not an IP": {cfg: Config{
			AdminAddr: "127.0.0.1:0", XDSAddr: "127.0.0.1:0",
			Translate: translate.Options{GatewayAddr: "gateway.local:8080"},
		}},
		"profiler beyond loopback": {cfg: Config{AdminAddr: "127.0.0.1:0", DebugAddr: "0.0.0.0:0"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// No etcd is configured: New must fail before it needs one.
			srv, err := New(context.Background(), tc.cfg)
			if err == nil {
				t.Fatalf("New succeeded and listens on %v", srv.AdminAddr())
			}
			if got := errors.Is(err, ErrExposed); got != tc.exposed {
				t.Errorf("error %q: errors.Is(ErrExposed) = %v, want %v", err, got, tc.exposed)
			}
		})
	}
}

func TestNewReleasesListenersOnError(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	admin, xds := freeAddr(t), freeAddr(t)
	tests := map[string]struct {
		cfg  Config
		free []string // addresses New bound and must have released
	}{
		"embedded etcd without a data directory": {
			cfg:  Config{AdminAddr: admin, XDSAddr: xds},
			free: []string{admin, xds},
		},
		"xds address taken": {
			cfg:  Config{AdminAddr: admin, XDSAddr: taken.Addr().String()},
			free: []string{admin},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := New(context.Background(), tc.cfg); err == nil {
				t.Fatal("New succeeded")
			}
			for _, addr := range tc.free {
				lis, err := net.Listen("tcp", addr)
				if err != nil {
					t.Fatalf("%s was not released: %v", addr, err)
				}
				_ = lis.Close()
			}
		})
	}
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lis.Close() }()
	return lis.Addr().String()
}

func TestServerAppliesFilesIdempotently(t *testing.T) {
	etcd := storetest.New(t)
	cfg := testConfig(t, etcd)
	cfg.Components = []string{ComponentAdmin}
	cfg.Apply = []string{petstoreFile}

	first := admintest.Etags(t, adminClient(t, start(t, cfg)), "petstore")
	// 1 API, 4 integrations, 5 routes, 2 stages, 1 auto deployment to dev.
	if len(first) != 13 {
		t.Errorf("petstore has %d resources, want 13: %v", len(first), first)
	}
	second := admintest.Etags(t, adminClient(t, start(t, cfg)), "petstore")
	for name, etag := range first {
		if second[name] != etag {
			t.Errorf("%s: etag %s after the second apply, was %s", name, second[name], etag)
		}
	}
	if len(second) != len(first) {
		t.Errorf("the second apply made %d resources, the first %d", len(second), len(first))
	}
}

func TestServerXDSHealthWaitsForModel(t *testing.T) {
	etcd := storetest.New(t)
	cfg := testConfig(t, etcd)
	cfg.Components = []string{ComponentXDS}
	srv := start(t, cfg)
	if srv.AdminAddr() != nil {
		t.Errorf("admin listens on %v although not enabled", srv.AdminAddr())
	}
	admintest.WaitServing(t, dial(t, srv.XDSAddr().String()))
}

// TestAdminTakesTestInvokeBodies checks that the admin API takes a
// TestInvokeRoute request whose body is past gRPC's default 4 MiB limit,
// up to API Gateway's 10 MB.
func TestAdminTakesTestInvokeBodies(t *testing.T) {
	srv := start(t, testConfig(t, storetest.New(t)))
	admin := adminClient(t, srv)
	ctx := context.Background()
	api, err := admin.CreateApi(ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{Name: "big", Protocol: adminv1.Protocol_PROTOCOL_REST}})
	if err != nil {
		t.Fatal(err)
	}
	in, err := admin.CreateIntegration(ctx, &adminv1.CreateIntegrationRequest{ApiId: api.GetId(), Integration: &adminv1.Integration{
		Name: "ok", Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: 204}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	route, err := admin.CreateRoute(ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: &adminv1.Route{
		Method: "POST", Path: "/upload", IntegrationId: in.GetId(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		size int
		want codes.Code
	}{
		{6 << 20, codes.OK},
		{10_000_000, codes.OK},
		{12 << 20, codes.ResourceExhausted},
	} {
		resp, err := admin.TestInvokeRoute(ctx, &adminv1.TestInvokeRouteRequest{
			ApiId: api.GetId(), RouteId: route.GetId(), PathWithQueryString: "/upload", Body: make([]byte, tc.size),
		}, grpc.MaxCallRecvMsgSize(64<<20)) // the answer repeats the body in its steps
		if status.Code(err) != tc.want || err == nil && resp.GetStatus() != 204 {
			t.Errorf("TestInvokeRoute with a %d-byte body: %v, %v; want %v", tc.size, resp.GetStatus(), err, tc.want)
		}
	}
}
