package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/archway-gateway/archway/internal/admin"
	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/internal/store/storetest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/ratelimit"
)

// binary is the archwayctl executable built for this test run, so that the
// end-to-end tests exercise exactly what users run: main, flag parsing from
// os.Args, the environment, stdout, stderr and the exit status.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "archwayctl-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	binary = filepath.Join(dir, "archwayctl")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building archwayctl:", err)
		return 1
	}
	return m.Run()
}

// serverOptions configure the admin API a test runs.
type serverOptions struct {
	// token, if set, is required as a bearer token on every call.
	token string
	// creds, if set, serve TLS; clientCreds then verify it for the test's
	// own client.
	creds, clientCreds credentials.TransportCredentials
	// store, if set, receives the server's store, for writing what other
	// components (the xDS servers) report.
	store func(*store.Store)
	// now, if set, is the server's clock; usage, if set, its counter store.
	now   func() time.Time
	usage ratelimit.Store
}

// startServer runs the real admin API over a real embedded etcd on a
// loopback port, and returns its address and a client for checking what
// the CLI did.
func startServer(t *testing.T, opts serverOptions) (string, adminv1.AdminServiceClient) {
	t.Helper()
	etcd := storetest.New(t)
	var grpcOpts []grpc.ServerOption
	if opts.token != "" {
		grpcOpts = append(grpcOpts, grpc.UnaryInterceptor(requireToken(opts.token)))
	}
	if opts.creds != nil {
		grpcOpts = append(grpcOpts, grpc.Creds(opts.creds))
	}
	srv := grpc.NewServer(grpcOpts...)
	if opts.store != nil {
		opts.store(store.New(etcd.Client))
	}
	adminv1.RegisterAdminServiceServer(srv, admin.NewServer(store.New(etcd.Client), admin.Options{
		Logger: slog.New(slog.DiscardHandler), Now: opts.now, Usage: opts.usage,
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return lis.Addr().String(), directClient(t, lis.Addr().String(), opts)
}

// directClient is the test's own view of the admin API, to check what the
// CLI did without trusting the CLI's output.
func directClient(t *testing.T, addr string, opts serverOptions) adminv1.AdminServiceClient {
	t.Helper()
	creds := opts.clientCreds
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	dialOpts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if opts.token != "" {
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(bearerToken{token: opts.token}))
	}
	cc, err := grpc.NewClient(addr, dialOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return adminv1.NewAdminServiceClient(cc)
}

// requireToken is the simplest bearer-token check: the token the server
// was started with, or UNAUTHENTICATED.
func requireToken(token string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+token {
			return nil, status.Error(codes.Unauthenticated, "missing or wrong bearer token")
		}
		return handler(ctx, req)
	}
}

// runBinary runs the built archwayctl with only the given environment.
func runBinary(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), binary, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("running archwayctl: %v", err)
	}
	return result{code: code, out: out.String(), err: errOut.String()}
}

// mustRun runs the binary against addr and fails the test unless it
// exits 0.
func mustRun(t *testing.T, addr string, args ...string) string {
	t.Helper()
	r := runBinary(t, nil, "", append([]string{"--addr", addr}, args...)...)
	if r.code != 0 {
		t.Fatalf("archwayctl %s: exit %d\n%s", strings.Join(args, " "), r.code, r.err)
	}
	return r.out
}
