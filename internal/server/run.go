package server

import (
	"context"
	"sync"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Run serves until ctx is done or a component fails, then shuts down in
// dependency order: the Envoy it launched stops, the gRPC servers stop
// accepting and drain (bounded by the shutdown grace), then the watcher stops, then the etcd client and
// the embedded etcd close. It returns nil after a shutdown asked for by
// ctx, and the first failure otherwise.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once    sync.Once
		failure error
	)
	fail := func(err error) {
		once.Do(func() { failure = err })
		cancel()
	}

	// The watcher outlives the servers: in-flight calls may still need the
	// model while they drain.
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWatch()
	var watching sync.WaitGroup
	if s.watcher != nil {
		watching.Go(func() {
			if err := s.watcher.Run(watchCtx); err != nil && watchCtx.Err() == nil {
				fail(err)
			}
		})
		watching.Go(func() { s.followConfigs(watchCtx) })
	}

	// Envoy stops first, while the servers still answer it.
	envoyCtx, stopEnvoy := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEnvoy()
	var launching sync.WaitGroup
	if s.launcher != nil {
		launching.Go(func() { s.runEnvoy(envoyCtx) })
	}

	var serving sync.WaitGroup
	for _, e := range s.endpoints() {
		s.log.Info("serving", "server", e.name, "addr", e.lis.Addr().String())
		serving.Go(func() {
			if err := ServeGRPC(ctx, e.srv, e.lis, s.grace); err != nil {
				fail(err)
			}
		})
	}

	<-ctx.Done()
	s.log.Info("shutting down")
	stopEnvoy()
	launching.Wait()
	for _, e := range s.endpoints() {
		e.health.Shutdown() // tell health checkers first, while draining
	}
	serving.Wait()
	stopWatch()
	watching.Wait()
	if err := s.etcd.Close(); err != nil {
		s.log.Warn("closing etcd client", "error", err)
	}
	s.log.Info("stopped")
	return failure
}

// followConfigs reports the Envoy-facing server healthy once the watcher
// has published the first model. (The watcher itself logs every published
// revision at debug level.)
func (s *Server) followConfigs(ctx context.Context) {
	if _, ok := <-s.watcher.Subscribe(ctx); ok {
		s.xds.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	}
}
