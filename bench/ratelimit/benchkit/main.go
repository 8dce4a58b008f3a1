// Command benchkit is the Go half of the rate-limit benchmark in
// bench/ratelimit/run.sh. ghz needs the protobuf descriptors of the services
// it loads, and neither Archway's Envoy-facing port nor envoyproxy/ratelimit
// serves gRPC reflection; the .proto files are not in the Go module cache
// either, only the descriptors go-control-plane compiled in. benchkit writes
// those as a protoset, finds free loopback ports, and asks a service once
// for a decision so that the harness can prove a target answers the way the
// benchmark assumes before it measures it.
//
// Usage:
//
//	benchkit protoset -o FILE
//	benchkit ports N
//	benchkit rls -addr HOST:PORT -domain D -entry KEY=VALUE [-n N]
//	benchkit authz -addr HOST:PORT -api ID -stage S -route ID [-key K] [-n N]
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one benchkit subcommand: it parses its own arguments and
// writes its result to out.
type command func(ctx context.Context, args []string, out io.Writer) error

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchkit:", err)
		os.Exit(1)
	}
}

// run dispatches args[0] to its subcommand.
func run(ctx context.Context, args []string, out io.Writer) error {
	commands := map[string]command{
		"protoset": protosetCommand,
		"ports":    portsCommand,
		"rls":      rlsCommand,
		"authz":    authzCommand,
	}
	if len(args) == 0 {
		return fmt.Errorf("usage: benchkit protoset|ports|rls|authz [flags]")
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q: want protoset, ports, rls or authz", args[0])
	}
	return cmd(ctx, args[1:], out)
}
