package server

import (
	"context"
	"sync"
)

// Run serves until ctx is done or a component fails, then shuts down in
// dependency order: the Envoy it launched stops, the gRPC servers stop
// accepting and report NOT_SERVING, the xDS streams end (so that draining
// does not wait for them: they never end by themselves), in-flight calls
// drain (bounded by the shutdown grace), then the watcher stops, then the
// rate-limit store, the etcd client and the embedded etcd close. It returns nil after a shutdown
// asked for by ctx, and the first failure otherwise.
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
	}
	xdsCtx, stopXDS := context.WithCancel(context.WithoutCancel(ctx))
	defer stopXDS()
	var xdsRunning sync.WaitGroup
	if s.xdsServer != nil {
		xdsRunning.Go(func() {
			if err := s.xdsServer.Run(xdsCtx, s.watcher.Subscribe(xdsCtx)); err != nil {
				fail(err)
			}
		})
		xdsRunning.Go(func() { s.reportReady(xdsCtx) })
	}

	// Envoy stops first, while the servers still answer it.
	envoyCtx, stopEnvoy := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEnvoy()
	var launching sync.WaitGroup
	if s.launcher != nil {
		launching.Go(func() { s.runEnvoy(envoyCtx) })
	}

	var serving sync.WaitGroup
	if s.debug != nil {
		serving.Go(func() { s.debug.run(ctx, s.log) })
	}
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
	stopXDS()
	xdsRunning.Wait()
	serving.Wait()
	stopWatch()
	watching.Wait()
	if err := s.closeLimits(); err != nil {
		s.log.Warn("closing the rate-limit store", "error", err)
	}
	if err := s.etcd.Close(); err != nil {
		s.log.Warn("closing etcd client", "error", err)
	}
	s.log.Info("stopped")
	return failure
}
