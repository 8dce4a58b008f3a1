// Command archway is the Archway API gateway's server: `archway serve`
// runs the control plane (store, admin API, and the gRPC services Envoy
// uses) in one process.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// defaultGCPercent is the garbage collector's target when GOGC is not
// set. The services Envoy calls inline keep a small live heap (a few MB)
// and allocate per request, so Go's default of 100 collects every few
// dozen requests; each collection shows in the tail latency of the
// requests it overlaps. At 400 the ext_proc round trip's p99 fell from
// about 1 ms to under 400 µs (docs/benchmarks.md) for a few MB more
// memory. GOGC, when set, wins.
const defaultGCPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal starts a graceful shutdown, a second one
	// kills the process as usual.
	context.AfterFunc(ctx, stop)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "archway:", err)
		os.Exit(1)
	}
}

// run is the whole command line program, with its environment passed in
// so that tests can run it in process.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	root := &cobra.Command{
		Use:           "archway",
		Short:         "Archway is a self-hosted API gateway: a control plane for Envoy",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServeCommand(env, stderr), newBootstrapCommand(stdout), newVersionCommand(stdout))
	return root.ExecuteContext(ctx)
}
