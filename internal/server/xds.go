package server

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/xds"
	"github.com/archway-gateway/archway/xds/translate"
)

// Keepalive of the Envoy-facing server.
const (
	// xdsPingMinTime is the shortest PING interval a client may use. Envoy
	// PINGs its xDS connection every 30s (envoy.XDSKeepaliveInterval);
	// grpc-go's default policy allows one PING per 5 minutes and answers
	// more with GOAWAY "too_many_pings", which would drop every Envoy.
	xdsPingMinTime = 10 * time.Second
	// xdsMaxConnectionAge makes every Envoy reconnect now and then, so that
	// Envoys spread over control-plane instances added since they
	// connected; an ADS stream otherwise pins an Envoy to one instance for
	// good. grpc-go jitters the age by ±10%, so a fleet that connected at
	// once does not reconnect at once.
	xdsMaxConnectionAge = 30 * time.Minute
	// xdsMaxConnectionAgeGrace is how long the streams of an aged
	// connection may go on before it is closed; Envoy has reconnected by
	// then, since the GOAWAY told it to.
	xdsMaxConnectionAgeGrace = 2 * time.Minute
	// xdsPingTime and xdsPingTimeout detect an Envoy that vanished without
	// closing its connection, so its streams and fleet record go.
	xdsPingTime    = time.Minute
	xdsPingTimeout = 20 * time.Second
	// xdsMaxConcurrentStreams bounds the streams of one connection.
	// grpc-go advertises no limit by default; an explicit one keeps a
	// single client from opening streams without end, and is far above
	// what an Envoy opens (one ADS stream, and, as services join the
	// server, a stream per in-flight call, for which Envoy opens more
	// connections once it reaches the limit).
	xdsMaxConcurrentStreams = 10000
)

// xdsStreamWorkersPerCPU sizes the pool of goroutines that serve the
// Envoy-facing server's streams. Envoy's ext_authz and rate-limit filters
// make one short call per request, and grpc-go otherwise starts a goroutine
// for each: its stack grows from the minimum through every call, and that
// copying alone took a sixth of the server's CPU under load. Pooled workers
// keep their grown stacks. A long-lived ADS stream holds a worker for as
// long as its Envoy is connected, and when every worker is busy grpc-go
// starts a goroutine as before, so the pool is a few per CPU.
const xdsStreamWorkersPerCPU = 8

// xdsServerOptions are the gRPC server options of the Envoy-facing server,
// including the message size ext_proc needs to take a whole buffered body
// of API Gateway's 10 MB limit (gRPC-Go refuses messages over 4 MiB); serve
// leaves the ext_proc server's body limit at that default.
func xdsServerOptions() []grpc.ServerOption {
	return append(extproc.ServerOptions(extproc.DefaultMaxBody),
		grpc.NumStreamWorkers(uint32(xdsStreamWorkersPerCPU*runtime.GOMAXPROCS(0))),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: xdsPingMinTime, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionAge:      xdsMaxConnectionAge,
			MaxConnectionAgeGrace: xdsMaxConnectionAgeGrace,
			Time:                  xdsPingTime,
			Timeout:               xdsPingTimeout,
		}),
		grpc.MaxConcurrentStreams(xdsMaxConcurrentStreams),
	)
}

// checkXDS checks the xds component's settings before anything is bound:
// the translation options, and that the CA file for HTTPS backends exists.
// Envoy rejects every cluster whose CA file is missing, so a missing file
// would otherwise show up only later, as Envoy rejecting configurations.
func checkXDS(cfg Config) error {
	if _, err := translate.NewTranslator(cfg.Translate); err != nil {
		return err
	}
	ca := cfg.Translate.CAFile
	if ca == "" {
		ca = translate.DefaultCAFile
	}
	if _, err := os.Stat(ca); err != nil {
		return fmt.Errorf("upstream CA file: %w (Envoy rejects HTTPS clusters whose CA file is missing; set --upstream-ca-file)", err)
	}
	return nil
}

// newXDS makes the xDS server and registers it on the xds endpoint. The
// instance id defaults to the host name and the bound address, which tell
// the instances sharing one etcd apart.
func (s *Server) newXDS(cfg Config, st *store.Store) error {
	id := cfg.XDSInstanceID
	if id == "" {
		host, _ := os.Hostname()
		id = host + "/" + s.xds.lis.Addr().String()
	}
	srv, err := xds.NewServer(xds.Options{
		Logger:     cfg.Logger.With("component", "xds"),
		Translate:  cfg.Translate,
		InstanceID: id,
		Store:      st,
		Now:        cfg.Now,
	})
	if err != nil {
		return err
	}
	srv.Register(s.xds.srv)
	s.xdsServer = srv
	return nil
}

// reportReady reports the Envoy-facing server healthy once the first
// snapshot is set, so that no Envoy is sent to a server that would leave
// it waiting for a configuration.
func (s *Server) reportReady(ctx context.Context) {
	select {
	case <-s.xdsServer.Ready():
		s.xds.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	case <-ctx.Done():
	}
}
