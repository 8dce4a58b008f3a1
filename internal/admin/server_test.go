package admin

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/internal/store/storetest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// env is one AdminService served over loopback gRPC from a real etcd.
type env struct {
	adminv1.AdminServiceClient
	etcd *storetest.Etcd
	ctx  context.Context
}

// stepClock is a clock that moves one second per reading, so every write
// gets a distinct, predictable time without the test reading the wall clock.
type stepClock struct{ ticks atomic.Int64 }

func (c *stepClock) now() time.Time {
	return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(c.ticks.Add(1)) * time.Second)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, Options{Now: (&stepClock{}).now})
}

// newEnvWith is newEnv with the server's options; the logger is the
// test's.
func newEnvWith(t *testing.T, opts Options) *env {
	t.Helper()
	etcd := storetest.New(t)
	opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := grpc.NewServer()
	adminv1.RegisterAdminServiceServer(srv, NewServer(etcd.Store(), opts))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &env{AdminServiceClient: adminv1.NewAdminServiceClient(conn), etcd: etcd, ctx: t.Context()}
}

// testWriter sends log output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// revision returns etcd's current revision: equal revisions before and
// after a call prove that the call wrote nothing.
func (e *env) revision(t *testing.T) int64 {
	t.Helper()
	resp, err := e.etcd.Client.Get(e.ctx, store.Root, clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

// mustAPI creates an API with the given name.
func (e *env) mustAPI(t *testing.T, name string) *adminv1.Api {
	t.Helper()
	api, err := e.CreateApi(e.ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{Name: name}})
	if err != nil {
		t.Fatalf("CreateApi(%s): %v", name, err)
	}
	return api
}

// mustMock creates a mock integration in an API.
func (e *env) mustMock(t *testing.T, apiID, name string) *adminv1.Integration {
	t.Helper()
	i, err := e.CreateIntegration(e.ctx, &adminv1.CreateIntegrationRequest{ApiId: apiID, Integration: mockIntegration(name)})
	if err != nil {
		t.Fatalf("CreateIntegration(%s): %v", name, err)
	}
	return i
}

// mustRoute creates a route in an API.
func (e *env) mustRoute(t *testing.T, apiID, method, path, integrationID string) *adminv1.Route {
	t.Helper()
	r, err := e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: apiID, Route: &adminv1.Route{
		Method: method, Path: path, IntegrationId: integrationID,
	}})
	if err != nil {
		t.Fatalf("CreateRoute(%s %s): %v", method, path, err)
	}
	return r
}

func mockIntegration(name string) *adminv1.Integration {
	return &adminv1.Integration{Name: name, Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200}}}
}

// wantCode fails the test unless err is a status with the code.
func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if got := status.Code(err); got != code {
		t.Fatalf("error = %v, want code %v", err, code)
	}
}

// wantViolations fails the test unless err is INVALID_ARGUMENT with exactly
// the given field violations, in order.
func wantViolations(t *testing.T, err error, fields ...string) {
	t.Helper()
	wantCode(t, err, codes.InvalidArgument)
	var got []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				got = append(got, fv.GetField())
			}
		}
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("violations = %q, want %q\n(%v)", got, fields, err)
	}
}

// wantPrecondition fails the test unless err is FAILED_PRECONDITION of the
// given type.
func wantPrecondition(t *testing.T, err error, typ string) {
	t.Helper()
	wantCode(t, err, codes.FailedPrecondition)
	for _, d := range status.Convert(err).Details() {
		if pf, ok := d.(*errdetails.PreconditionFailure); ok && len(pf.GetViolations()) > 0 {
			if got := pf.GetViolations()[0].GetType(); got != typ {
				t.Fatalf("precondition type = %q, want %q (%v)", got, typ, err)
			}
			return
		}
	}
	t.Fatalf("error %v has no PreconditionFailure", err)
}

func TestNewServerDefaults(t *testing.T) {
	s := NewServer(nil, Options{})
	if s.log == nil || s.now == nil {
		t.Fatal("NewServer left the logger or clock nil")
	}
}

// wantNoWrite fails the test if anything was written since revision before;
// what names the calls that must not have written.
func (e *env) wantNoWrite(t *testing.T, before int64, what string) {
	t.Helper()
	if after := e.revision(t); after != before {
		t.Errorf("%s wrote: revision %d -> %d", what, before, after)
	}
}

// violationCases are requests, by name, that must each fail with exactly
// the given field violations, in order, and write nothing.
type violationCases map[string]struct {
	call func() error
	want []string
}

// run runs each case as a subtest against e.
func (tests violationCases) run(t *testing.T, e *env) {
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := e.revision(t)
			wantViolations(t, tc.call(), tc.want...)
			e.wantNoWrite(t, before, "invalid request")
		})
	}
}
