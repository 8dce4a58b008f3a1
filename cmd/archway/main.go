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
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
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
