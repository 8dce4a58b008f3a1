package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// debugEndpoint serves Go's profiler, net/http/pprof, for operators
// measuring where the control plane spends its time. Profiles and goroutine
// dumps tell much about the process and cost CPU to take, so it listens on
// loopback only.
type debugEndpoint struct {
	srv *http.Server
	lis net.Listener
}

// newDebugEndpoint binds addr, which must be a loopback address.
func newDebugEndpoint(addr string) (*debugEndpoint, error) {
	if !IsLoopback(addr) {
		return nil, fmt.Errorf("debug server: %q is not a loopback address; profiles are for this machine only", addr)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug server: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return &debugEndpoint{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, lis: lis}, nil
}

// run serves until ctx is done. A profile in progress is cut short: the
// server is going away.
func (d *debugEndpoint) run(ctx context.Context, log *slog.Logger) {
	log.Info("serving", "server", "debug", "addr", d.lis.Addr().String())
	go func() {
		<-ctx.Done()
		_ = d.srv.Close()
	}()
	if err := d.srv.Serve(d.lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("debug server failed", "err", err)
	}
}
