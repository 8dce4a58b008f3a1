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

// counter is one monotonically increasing value /metrics reports.
type counter struct {
	name, help string
	labels     string // Prometheus label set, such as service="authz"
	value      func() int64
}

// newDebugEndpoint binds addr, which must be a loopback address. Besides
// the profiler it serves /metrics, in Prometheus's text format, with the
// counters metrics returns when asked.
func newDebugEndpoint(addr string, metrics func() []counter) (*debugEndpoint, error) {
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
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) { writeMetrics(w, metrics()) })
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

// writeMetrics writes counters in Prometheus's text exposition format, one
// HELP and TYPE line per name, in the order given.
func writeMetrics(w http.ResponseWriter, cs []counter) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	seen := make(map[string]bool, len(cs))
	for _, c := range cs {
		if !seen[c.name] {
			seen[c.name] = true
			_, _ = fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.name, c.help, c.name)
		}
		_, _ = fmt.Fprintf(w, "%s{%s} %d\n", c.name, c.labels, c.value())
	}
}
