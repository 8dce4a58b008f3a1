package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Exit codes. Scripts tell a mistyped command line, which retrying cannot
// fix, from a failure of the server or the network, which it might.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// stdio is what the CLI reads and writes: the process's streams,
// environment and clock in main, buffers, a fixed environment and a fixed
// clock in tests.
type stdio struct {
	in     io.Reader
	out    io.Writer
	err    io.Writer
	getenv func(string) string
	// now tells the date, for defaults such as usage's last seven days.
	now func() time.Time
}

// cli holds the state of one invocation: the global flags and the
// connection to the admin API, opened by the first command that needs it.
type cli struct {
	stdio
	conn connFlags
	// started is set once a command's own code runs: every error before
	// that point came from parsing the command line.
	started bool
	cc      *grpc.ClientConn
}

// usageError is a mistake on the command line, found by a command's own
// checks rather than by cobra, such as a malformed k=v flag.
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// run executes one command line and returns the process exit code. Every
// error is printed to stderr as "archwayctl: ...".
func run(ctx context.Context, args []string, io stdio) int {
	c := &cli{stdio: io}
	defer c.close()
	root := c.rootCommand()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var ue usageError
	if !c.started || errors.As(err, &ue) {
		_, _ = fmt.Fprintf(c.err, "archwayctl: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
		return exitUsage
	}
	_, _ = fmt.Fprint(c.err, describeError(err, c.conn))
	return exitFailure
}

// rootCommand builds the whole command tree.
func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "archwayctl",
		Short: "Manage the APIs of an Archway gateway",
		Long: "archwayctl manages the APIs, routes, integrations, stages and deployments of an\n" +
			"Archway gateway, and the API keys and usage plans that meter them, through its\n" +
			"admin API.",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetIn(c.in)
	root.SetOut(c.out)
	root.SetErr(c.err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	c.conn.register(root.PersistentFlags(), c.getenv)
	root.AddCommand(
		c.getCommand(),
		c.createCommand(),
		c.updateCommand(),
		c.deleteCommand(),
		c.deployCommand(),
		c.rollbackCommand(),
		c.applyCommand(),
		c.keysCommand(),
		c.plansCommand(),
		c.usageCommand(),
		c.testInvokeCommand(),
		c.gatewayResponsesCommand(),
	)
	return root
}

// action adapts a command's code to cobra, marking that the command line
// was parsed and handing it the context of the invocation.
func (c *cli) action(fn func(ctx context.Context, cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c.started = true
		return fn(cmd.Context(), cmd, args)
	}
}

// group returns a command that only holds subcommands, one per resource
// type. Run on its own or with an unknown subcommand it is a usage error,
// not a help page with exit status 0, so that a script with a typo fails.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	return groupOf("resource type", use, short, subs...)
}

// commandGroup is a group of the commands on one kind of resource, such as
// keys create and keys delete.
func commandGroup(use, short string, subs ...*cobra.Command) *cobra.Command {
	return groupOf("command", use, short, subs...)
}

// groupOf is group, naming its subcommands noun in its errors.
func groupOf(noun, use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var names []string
			for _, s := range cmd.Commands() {
				names = append(names, s.Name())
			}
			if len(args) > 0 {
				return usagef("unknown %s %q for %q; want one of %s", noun, args[0], cmd.CommandPath(), strings.Join(names, ", "))
			}
			return usagef("%q needs a %s: one of %s", cmd.CommandPath(), noun, strings.Join(names, ", "))
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// client returns the admin API client, connecting on first use.
func (c *cli) client() (adminv1.AdminServiceClient, error) {
	if c.cc == nil {
		cc, err := c.conn.dial()
		if err != nil {
			return nil, err
		}
		c.cc = cc
	}
	return adminv1.NewAdminServiceClient(c.cc), nil
}

func (c *cli) close() {
	if c.cc != nil {
		_ = c.cc.Close()
	}
}
