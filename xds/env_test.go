package xds_test

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/admin"
	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/internal/store/storetest"
	"github.com/archway-gateway/archway/internal/watcher"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/xds"
	"github.com/archway-gateway/archway/xds/translate"
)

// testEnvoyVersion is the build the test clients announce.
var testEnvoyVersion = &typev3.SemanticVersion{MajorNumber: 1, MinorNumber: 40, Patch: 0}

// env is the whole control plane in one test: a real etcd, the admin API
// and the xDS server on one loopback gRPC server, and the watcher between
// them. Tests drive it through the admin API, as users do, and look at
// what ADS clients receive, as Envoy would.
type env struct {
	ctx   context.Context
	admin adminv1.AdminServiceClient
	xds   *xds.Server
	addr  string
	logs  *logCounter
	store *store.Store
	// stop stops the control plane before the test ends; etcd goes on.
	stop func()
}

// newEnv starts the control plane, with a watcher holdoff short enough
// for tests; it stops when the test ends.
func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvHoldoff(t, 5*time.Millisecond, 50*time.Millisecond, slog.LevelInfo)
}

// newEnvHoldoff starts the control plane with the given watcher debounce
// and log level, serving APIs path-style too, in one route configuration.
func newEnvHoldoff(t testing.TB, holdoff, maxDelay time.Duration, level slog.Level) *env {
	t.Helper()
	return newEnvTranslate(t, holdoff, maxDelay, level, translate.Options{GatewayAddr: "127.0.0.1:10080", PathStyle: true})
}

// newEnvTranslate starts the control plane with the given watcher
// debounce, log level and translation options.
func newEnvTranslate(t testing.TB, holdoff, maxDelay time.Duration, level slog.Level, opts translate.Options) *env {
	t.Helper()
	return newEnvXDS(t, holdoff, maxDelay, level, xds.Options{Translate: opts})
}

// newEnvXDS starts the control plane with the given watcher debounce, log
// level and xDS options; the logger, instance, store and fleet settings
// are the test's.
func newEnvXDS(t testing.TB, holdoff, maxDelay time.Duration, level slog.Level, opts xds.Options) *env {
	t.Helper()
	etcd := storetest.New(t)
	st := etcd.Store()
	logs := newLogCounter(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: level}))
	log := slog.New(logs)
	w := watcher.New(st, watcher.Options{Logger: log.With("component", "watcher"), Holdoff: holdoff, MaxDelay: maxDelay})
	opts.Logger = log.With("component", "xds")
	opts.InstanceID = "test-host/xds"
	opts.Store = st
	opts.FleetFlushInterval = 10 * time.Millisecond
	// A short TTL makes etcd's client renew the lease every second, and
	// so notice a lost lease within a second.
	opts.FleetTTL = 3 * time.Second
	x, err := xds.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	adminv1.RegisterAdminServiceServer(g, admin.NewServer(st, admin.Options{Logger: log.With("component", "admin")}))
	x.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = g.Serve(lis) })
	wg.Go(func() { _ = w.Run(ctx) })
	wg.Go(func() { _ = x.Run(ctx, w.Subscribe(ctx)) })
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			g.Stop()
			wg.Wait()
		})
	}
	t.Cleanup(stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &env{
		ctx: context.Background(), admin: adminv1.NewAdminServiceClient(conn), xds: x,
		addr: lis.Addr().String(), logs: logs, store: st, stop: stop,
	}
}

func (e *env) api(t testing.TB, name string) *adminv1.Api {
	t.Helper()
	api, err := e.admin.CreateApi(e.ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{Name: name, Protocol: adminv1.Protocol_PROTOCOL_HTTP}})
	if err != nil {
		t.Fatalf("CreateApi(%s): %v", name, err)
	}
	return api
}

func (e *env) integration(t testing.TB, apiID string, in *adminv1.Integration) *adminv1.Integration {
	t.Helper()
	out, err := e.admin.CreateIntegration(e.ctx, &adminv1.CreateIntegrationRequest{ApiId: apiID, Integration: in})
	if err != nil {
		t.Fatalf("CreateIntegration(%s): %v", in.GetName(), err)
	}
	return out
}

func mock(name string, status int32) *adminv1.Integration {
	return &adminv1.Integration{Name: name, Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: status}}}
}

func proxy(name, uri string) *adminv1.Integration {
	return &adminv1.Integration{Name: name, Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{Uri: uri}}}
}

func (e *env) route(t testing.TB, apiID, method, path, integrationID string) *adminv1.Route {
	t.Helper()
	r, err := e.admin.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: apiID, Route: &adminv1.Route{
		Method: method, Path: path, IntegrationId: integrationID,
	}})
	if err != nil {
		t.Fatalf("CreateRoute(%s %s): %v", method, path, err)
	}
	return r
}

// stage creates a stage that serves only what is deployed to it.
func (e *env) stage(t testing.TB, apiID, name string, vars map[string]string) {
	t.Helper()
	_, err := e.admin.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: apiID, Stage: &adminv1.Stage{Name: name, Variables: vars}})
	if err != nil {
		t.Fatalf("CreateStage(%s): %v", name, err)
	}
}

func (e *env) deploy(t testing.TB, apiID, stage string) *adminv1.Deployment {
	t.Helper()
	resp, err := e.admin.Deploy(e.ctx, &adminv1.DeployRequest{ApiId: apiID, StageName: stage})
	if err != nil {
		t.Fatalf("Deploy(%s): %v", stage, err)
	}
	return resp.GetDeployment()
}

func (e *env) setMockStatus(t testing.TB, apiID, integrationID string, status int32) {
	t.Helper()
	_, err := e.admin.UpdateIntegration(e.ctx, &adminv1.UpdateIntegrationRequest{
		Integration: &adminv1.Integration{
			ApiId: apiID, Id: integrationID,
			Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: status}},
		},
		UpdateMask: fieldMask("mock"),
	})
	if err != nil {
		t.Fatalf("UpdateIntegration: %v", err)
	}
}

// setProxyURI points an HTTP proxy integration at uri.
func (e *env) setProxyURI(t testing.TB, apiID, integrationID, uri string) {
	t.Helper()
	_, err := e.admin.UpdateIntegration(e.ctx, &adminv1.UpdateIntegrationRequest{
		Integration: &adminv1.Integration{
			ApiId: apiID, Id: integrationID,
			Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{Uri: uri}},
		},
		UpdateMask: fieldMask("http_proxy"),
	})
	if err != nil {
		t.Fatalf("UpdateIntegration: %v", err)
	}
}

// logCounter counts log records by message, so a test can check that
// something was logged, and how often, while the text goes to the test log.
// It also keeps the version of every snapshot served, in order.
type logCounter struct {
	slog.Handler
	*logCounts
}

type logCounts struct {
	mu        sync.Mutex
	counts    map[string]int
	snapshots []string
}

func newLogCounter(h slog.Handler) *logCounter {
	return &logCounter{Handler: h, logCounts: &logCounts{counts: make(map[string]int)}}
}

// Handle counts r and logs it.
func (l *logCounter) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	l.counts[r.Message]++
	if r.Message == "serving snapshot" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "version" {
				l.snapshots = append(l.snapshots, a.Value.String())
			}
			return true
		})
	}
	l.mu.Unlock()
	return l.Handler.Handle(ctx, r)
}

// WithAttrs keeps counting into the same counts.
func (l *logCounter) WithAttrs(as []slog.Attr) slog.Handler {
	return &logCounter{Handler: l.Handler.WithAttrs(as), logCounts: l.logCounts}
}

// WithGroup keeps counting into the same counts.
func (l *logCounter) WithGroup(name string) slog.Handler {
	return &logCounter{Handler: l.Handler.WithGroup(name), logCounts: l.logCounts}
}

func (l *logCounts) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[msg]
}

// served returns the versions of the snapshots served so far, in order.
// The server logs a snapshot just after setting it, so a client may have
// it a moment before it is here.
func (l *logCounts) served() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.snapshots)
}

// The conditions tests wait for, on what a client accepted. Route names
// are "{apiId}/{stage}/{routeId}" (see xds/translate).

// gateway returns the client's accepted route configuration of the
// gateway's listener, or nil.
func gateway(c *adsClient) *routev3.RouteConfiguration {
	return c.routeConfig(envoy.HTTPRouteConfigName)
}

// apiHost returns the virtual host of an API, or nil.
func apiHost(rc *routev3.RouteConfiguration, apiID string) *routev3.VirtualHost {
	for _, vh := range rc.GetVirtualHosts() {
		if vh.GetName() == "api_"+apiID {
			return vh
		}
	}
	return nil
}

// stageRoutes returns the ids of the routes a stage of an API serves,
// and the Envoy routes by id.
func stageRoutes(rc *routev3.RouteConfiguration, apiID, stage string) map[string]*routev3.Route {
	out := make(map[string]*routev3.Route)
	prefix := apiID + "/" + stage + "/"
	for _, r := range apiHost(rc, apiID).GetRoutes() {
		if id, ok := strings.CutPrefix(r.GetName(), prefix); ok && id != "not_found" {
			out[id] = r
		}
	}
	return out
}

// serves holds once the client has the gateway's routes.
func serves(c *adsClient) bool { return gateway(c) != nil }

// servesRoutes holds when a stage serves exactly the given routes.
func servesRoutes(apiID, stage string, ids ...string) func(*adsClient) bool {
	return func(c *adsClient) bool {
		got := keys(stageRoutes(gateway(c), apiID, stage))
		return strings.Join(got, ",") == strings.Join(sorted(ids), ",")
	}
}

// mockAnswers holds when a stage's route answers with status itself.
func mockAnswers(apiID, stage, routeID string, status uint32) func(*adsClient) bool {
	return func(c *adsClient) bool {
		r := stageRoutes(gateway(c), apiID, stage)[routeID]
		return r.GetDirectResponse().GetStatus() == status
	}
}

// hasAPI holds when the API has a virtual host, or (want false) has none.
func hasAPI(apiID string, want bool) func(*adsClient) bool {
	return func(c *adsClient) bool { return gateway(c) != nil && (apiHost(gateway(c), apiID) != nil) == want }
}

// acceptedCurrent holds when the client accepted the route configuration
// of the version the server serves. Every change to what is deployed
// changes the routes, so over delta too, where unchanged types are not
// sent again, the routes carry the latest version; all but the snapshot
// that drops clusters no route uses any more, a grace after a change that
// stopped using them (see rollout_test.go).
func acceptedCurrent(x *xds.Server) func(*adsClient) bool {
	return func(c *adsClient) bool {
		v := x.Version()
		return v != "" && c.version(resource.RouteType) == v
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func fieldMask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

// poll checks cond until it holds, for what only the admin API shows: the
// store has no change notification for tests to wait on.
func poll(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
