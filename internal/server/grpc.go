package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// GRPCOptions configures a gRPC server built by NewGRPCServer.
type GRPCOptions struct {
	// Logger receives one debug line per failed call. Calls are logged
	// before authentication so that rejected calls show up too; metadata,
	// and with it any token, is never logged.
	Logger *slog.Logger
	// Auth, if set, requires a bearer token on every call but health checks.
	Auth *TokenAuth
	// TLS, if set, makes the server speak TLS instead of plaintext HTTP/2.
	TLS *tls.Config
	// ServerOptions are added to the server's own, for what only one
	// kind of client needs (Envoy's keepalive, for one).
	ServerOptions []grpc.ServerOption
}

// NewGRPCServer returns a gRPC server with logging, and authentication if
// configured, in front of every service. It registers a health service
// whose overall status ("") starts as SERVING; the caller registers its
// own services and may set per-service health.
func NewGRPCServer(opts GRPCOptions) (*grpc.Server, *health.Server) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	unary := []grpc.UnaryServerInterceptor{logUnary(log)}
	stream := []grpc.StreamServerInterceptor{logStream(log)}
	if opts.Auth != nil {
		unary = append(unary, opts.Auth.UnaryInterceptor())
		stream = append(stream, opts.Auth.StreamInterceptor())
	}
	sopts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	}
	if opts.TLS != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	sopts = append(sopts, opts.ServerOptions...)
	srv := grpc.NewServer(sopts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	return srv, hs
}

// ServeGRPC serves srv on lis until ctx is done, then stops it gracefully:
// it stops accepting connections and lets in-flight calls finish for at
// most grace before closing what is left. Long-lived streams (xDS, for
// one) never finish by themselves, so the bound is what ends them. A nil
// return means a clean shutdown.
func ServeGRPC(ctx context.Context, srv *grpc.Server, lis net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		srv.Stop()
		<-stopped
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		logCall(ctx, log, info.FullMethod, err)
		return resp, err
	}
}

func logStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		err := handler(srv, ss)
		logCall(ss.Context(), log, info.FullMethod, err)
		return err
	}
}

func logCall(ctx context.Context, log *slog.Logger, method string, err error) {
	if err == nil {
		return
	}
	log.DebugContext(ctx, "grpc call failed", "method", method,
		"code", status.Code(err).String(), "error", status.Convert(err).Message())
}
