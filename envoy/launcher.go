package envoy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// BaseIDDynamic asks Envoy to pick an unused hot-restart base ID
// (--use-dynamic-base-id).
const BaseIDDynamic = -1

// Launcher defaults, chosen for an Envoy on a developer machine or in a
// test: quick to drain, quick to stop, quick to come back.
const (
	// DefaultDrainTime is how long a listener removed over LDS drains.
	DefaultDrainTime = time.Second
	// DefaultParentShutdownTime only matters for hot restarts, which the
	// Launcher never does; Envoy wants it above the drain time.
	DefaultParentShutdownTime = 2 * time.Second
	// DefaultStopGrace is how long Envoy gets to exit after SIGTERM.
	DefaultStopGrace = 10 * time.Second
	// DefaultMinBackoff is the wait before the first restart.
	DefaultMinBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps the doubling wait between restarts.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultStableAfter is how long a run must last to reset the backoff.
	DefaultStableAfter = 30 * time.Second
	// DefaultMaxFailures is how many quick exits in a row Run tolerates.
	DefaultMaxFailures = 10
)

// validLogLevel reports whether Envoy's -l flag accepts level.
func validLogLevel(level string) bool {
	switch level {
	case "trace", "debug", "info", "warning", "warn", "error", "critical", "off":
		return true
	}
	return false
}

// LauncherOptions configure a Launcher. Zero values take the defaults.
type LauncherOptions struct {
	// Binary is the Envoy executable (see FindBinary); required.
	Binary string
	// BootstrapPath is the bootstrap file passed with -c; required.
	BootstrapPath string
	// BaseID selects Envoy's hot-restart shared memory. Zero disables hot
	// restart (--disable-hot-restart): the Launcher always restarts Envoy
	// cold, and without shared memory any number of Envoys share a machine
	// and nothing is left behind in /dev/shm (Envoy leaves its segment there
	// even on a clean exit). BaseIDDynamic passes --use-dynamic-base-id; a
	// positive value is passed as --base-id.
	BaseID int
	// LogLevel is Envoy's -l; Envoy's default (info) if empty.
	LogLevel string
	// AdminAddressPath, when set, is passed as --admin-address-path. The
	// Launcher removes the file before each start, so WaitAdminAddress
	// never returns the address of a previous Envoy.
	AdminAddressPath string
	// DrainTime (--drain-time-s) is how long listeners removed over LDS
	// drain; DefaultDrainTime if zero. Whole seconds, rounded up.
	DrainTime time.Duration
	// ParentShutdownTime is --parent-shutdown-time-s; DefaultParentShutdownTime if zero.
	ParentShutdownTime time.Duration
	// StopGrace is how long Envoy has to exit after SIGTERM before it is
	// sent SIGKILL; DefaultStopGrace if zero.
	StopGrace time.Duration
	// MinBackoff and MaxBackoff bound the wait before a restart, which
	// doubles after each failure; DefaultMinBackoff and DefaultMaxBackoff if zero.
	MinBackoff, MaxBackoff time.Duration
	// StableAfter is how long Envoy must run for an exit not to count as a
	// failure in a row; DefaultStableAfter if zero.
	StableAfter time.Duration
	// MaxFailures is how many exits in a row (each within StableAfter of
	// its start) Run tolerates before it gives up; DefaultMaxFailures if
	// zero, unlimited if negative.
	MaxFailures int
	// ExtraArgs are appended to Envoy's command line.
	ExtraArgs []string
	// Stdout and Stderr receive Envoy's output; the Archway process's own
	// if nil, since Envoy's log is what explains a crash.
	Stdout, Stderr io.Writer
	// Logger records starts, exits and restarts; slog.Default() if nil.
	Logger *slog.Logger
	// Now is the clock used to time runs; time.Now if nil.
	Now func() time.Time
}

// Launcher runs one Envoy as a child process and keeps it running.
type Launcher struct {
	opts LauncherOptions
	log  *slog.Logger

	mu  sync.Mutex
	pid int
}

// NewLauncher returns a Launcher; nothing starts until Run.
func NewLauncher(opts LauncherOptions) *Launcher {
	opts = opts.withDefaults()
	return &Launcher{opts: opts, log: opts.Logger.With("component", "envoy")}
}

func (o LauncherOptions) withDefaults() LauncherOptions {
	setDuration(&o.DrainTime, DefaultDrainTime)
	setDuration(&o.ParentShutdownTime, DefaultParentShutdownTime)
	setDuration(&o.StopGrace, DefaultStopGrace)
	setDuration(&o.MinBackoff, DefaultMinBackoff)
	setDuration(&o.MaxBackoff, DefaultMaxBackoff)
	setDuration(&o.StableAfter, DefaultStableAfter)
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.MaxFailures == 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func (o LauncherOptions) check() error {
	var errs []error
	if o.Binary == "" {
		errs = append(errs, errors.New("envoy-path: required"))
	}
	if o.BootstrapPath == "" {
		errs = append(errs, errors.New("bootstrap path: required"))
	}
	if o.LogLevel != "" && !validLogLevel(o.LogLevel) {
		errs = append(errs, fmt.Errorf("envoy log level %q: want trace, debug, info, warning, error, critical or off", o.LogLevel))
	}
	if o.BaseID < BaseIDDynamic {
		errs = append(errs, fmt.Errorf("envoy base id %d: want 0 (no hot restart), BaseIDDynamic or a positive id", o.BaseID))
	}
	return errors.Join(errs...)
}

// Args returns Envoy's command line (without the binary).
func (l *Launcher) Args() []string {
	o := l.opts
	args := []string{"-c", o.BootstrapPath}
	switch {
	case o.BaseID == BaseIDDynamic:
		args = append(args, "--use-dynamic-base-id")
	case o.BaseID > 0:
		args = append(args, "--base-id", strconv.Itoa(o.BaseID))
	default:
		args = append(args, "--disable-hot-restart")
	}
	args = append(args,
		"--drain-time-s", seconds(o.DrainTime),
		"--parent-shutdown-time-s", seconds(o.ParentShutdownTime))
	if o.LogLevel != "" {
		args = append(args, "-l", o.LogLevel)
	}
	if o.AdminAddressPath != "" {
		args = append(args, "--admin-address-path", o.AdminAddressPath)
	}
	return append(args, o.ExtraArgs...)
}

// seconds renders d as whole seconds, rounded up, for Envoy's *-s flags.
func seconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// PID is the process ID of the running Envoy, or 0 between runs.
func (l *Launcher) PID() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pid
}

func (l *Launcher) setPID(pid int) {
	l.mu.Lock()
	l.pid = pid
	l.mu.Unlock()
}

// Run starts Envoy and restarts it whenever it exits, waiting a backoff
// that doubles from MinBackoff to MaxBackoff and resets once Envoy has
// stayed up for StableAfter. When ctx is done it sends Envoy SIGTERM, then
// SIGKILL after StopGrace, and returns nil once Envoy has exited cleanly.
// It returns an error if the options are invalid, Envoy cannot be started,
// Envoy fails MaxFailures times in a row, or Envoy had to be killed.
func (l *Launcher) Run(ctx context.Context) error {
	if err := l.opts.check(); err != nil {
		return err
	}
	backoff, failures := l.opts.MinBackoff, 0
	for {
		started := l.opts.Now()
		state, err := l.runOnce(ctx)
		if ctx.Err() != nil {
			l.log.Info("envoy stopped", "status", state.String())
			return stopResult(state) // Also when ctx ended just before a start.
		}
		if err != nil {
			return err
		}
		ran := l.opts.Now().Sub(started)
		if ran >= l.opts.StableAfter {
			backoff, failures = l.opts.MinBackoff, 0
		}
		failures++
		if l.opts.MaxFailures > 0 && failures > l.opts.MaxFailures {
			return fmt.Errorf("envoy exited %d times in a row, last after %v: %s", failures, ran.Round(time.Millisecond), state)
		}
		l.log.Warn("envoy exited; restarting", "status", state.String(), "ran", ran.Round(time.Millisecond),
			"restart_in", backoff, "failures_in_a_row", failures)
		if !sleepCtx(ctx, backoff) {
			return nil
		}
		backoff = min(2*backoff, l.opts.MaxBackoff)
	}
}

// runOnce runs Envoy until it exits. Only a failure to start is an error;
// however Envoy ended is in the returned state.
func (l *Launcher) runOnce(ctx context.Context) (*os.ProcessState, error) {
	if p := l.opts.AdminAddressPath; p != "" {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("admin address path: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, l.opts.Binary, l.Args()...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = l.opts.StopGrace
	cmd.Stdout, cmd.Stderr = l.opts.Stdout, l.opts.Stderr
	cmd.SysProcAttr = childSysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start envoy: %w", err)
	}
	l.setPID(cmd.Process.Pid)
	defer l.setPID(0)
	l.log.Info("envoy started", "pid", cmd.Process.Pid, "binary", l.opts.Binary, "args", cmd.Args[1:])
	// Wait's error repeats what ProcessState says, or reports a stuck
	// output pipe after WaitDelay, which is no reason to stop supervising.
	_ = cmd.Wait()
	return cmd.ProcessState, nil
}

// stopResult is Run's result once Envoy exited after ctx was done: a
// SIGKILL means it ignored SIGTERM for the whole grace period.
func stopResult(state *os.ProcessState) error {
	if state == nil {
		return nil
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return errors.New("envoy did not exit after SIGTERM and was killed")
	}
	return nil
}

// sleepCtx waits for d and reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
