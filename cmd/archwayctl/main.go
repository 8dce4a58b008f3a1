// Command archwayctl manages an Archway gateway through its admin API:
// APIs, routes, integrations, stages and deployments, one at a time or
// declaratively from a file with apply, and API keys, usage plans and
// their usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{
		in: os.Stdin, out: os.Stdout, err: os.Stderr, getenv: os.Getenv, now: time.Now,
	})
	stop()
	os.Exit(code)
}
