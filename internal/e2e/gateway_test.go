package e2e

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/testutil/admintest"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Bounds of the waits around the gateway process. They only cap how long a
// broken gateway can hold a test up; a working one is far quicker.
const (
	// startTimeout bounds start-up: etcd, the admin and xDS servers, and
	// Envoy reaching LIVE with its first configuration.
	startTimeout = time.Minute
	// stopTimeout bounds a graceful shutdown after SIGTERM.
	stopTimeout = 30 * time.Second
	// waitDelay bounds how long the test waits for the output pipes after
	// the process exits: an Envoy left running would hold them open.
	waitDelay = 10 * time.Second
)

// envoyNodeID is the node id of the Envoy the gateway runs, as the fleet
// lists it.
const envoyNodeID = "archway-e2e"

// gatewayOptions are what a test may change about the gateway it runs.
type gatewayOptions struct {
	// apply are definition files for --apply.
	apply []string
	// delta runs Envoy with incremental xDS.
	delta bool
	// args are more `archway serve` flags.
	args []string
}

// gateway is one `archway serve` process with its own embedded etcd and its
// own Envoy, every port on the loopback interface.
type gateway struct {
	// addr is where Envoy serves the APIs.
	addr string
	// envoy is Envoy's admin API.
	envoy envoy.AdminClient
	// admin is the gateway's admin API.
	admin adminv1.AdminServiceClient
	// logs is what the process logged.
	logs *processLog
	// delta is set if Envoy uses incremental xDS.
	delta bool
	// etcdURL is the client URL of the gateway's embedded etcd, through
	// which another gateway may share its state.
	etcdURL string
	// sent counts the requests tests sent through Envoy.
	sent atomic.Int64

	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has exited
	waitErr error         // set before exited is closed
	stopped bool
}

// startGateway runs `archway serve` with free loopback ports, waits until
// its admin API is SERVING and its Envoy is LIVE, and stops it when the test
// ends unless the test stopped it already.
func startGateway(t *testing.T, opts gatewayOptions) *gateway {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	g := &gateway{
		addr:    freeAddr(t),
		envoy:   envoy.NewAdminClient(freeAddr(t)),
		logs:    newProcessLog(testenvoy.LogWriter(t, "archway: ")),
		delta:   opts.delta,
		etcdURL: "http://" + freeAddr(t),
		exited:  make(chan struct{}),
	}
	args := []string{
		"serve",
		"--data-dir", t.TempDir(),
		"--admin-addr", "127.0.0.1:0",
		"--xds-addr", "127.0.0.1:0",
		"--gateway-addr", g.addr,
		"--etcd-listen-client", g.etcdURL,
		"--etcd-listen-peer", "http://" + freeAddr(t),
		"--envoy", "auto",
		"--envoy-path", testenvoy.Binary(t),
		"--envoy-admin-addr", g.envoy.Addr,
		"--envoy-node-id", envoyNodeID,
		"--path-style",
		"--log-format", "json",
		"--log-level", "info",
	}
	if opts.delta {
		args = append(args, "--envoy-delta")
	}
	for _, f := range opts.apply {
		args = append(args, "--apply", f)
	}
	args = append(args, opts.args...)
	g.cmd = exec.Command(archwayBinary, args...)
	g.cmd.Stdout, g.cmd.Stderr = g.logs, g.logs
	g.cmd.WaitDelay = waitDelay
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		g.waitErr = g.cmd.Wait()
		close(g.exited)
	}()
	t.Cleanup(func() { g.cleanup(t) })

	adminAddr := g.waitLogged(ctx, t, func(l *processLog) string { return l.serving["admin"] })
	g.waitLogged(ctx, t, func(l *processLog) string { return l.serving["xds"] })
	conn, err := grpc.NewClient(adminAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	admintest.WaitServing(t, conn)
	g.admin = adminv1.NewAdminServiceClient(conn)
	if err := g.envoy.WaitReady(ctx); err != nil {
		t.Fatalf("%v; archway exited: %v", err, g.hasExited())
	}
	return g
}

// waitLogged polls the log until get returns something, failing the test
// if the process exits or ctx ends first.
func (g *gateway) waitLogged(ctx context.Context, t *testing.T, get func(*processLog) string) string {
	t.Helper()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		if v := g.logs.read(get); v != "" {
			return v
		}
		select {
		case <-g.exited:
			t.Fatalf("archway exited during start-up: %v", g.waitErr)
		case <-ctx.Done():
			t.Fatalf("archway did not log what the test waits for: %v", ctx.Err())
		case <-ticker.C:
		}
	}
}

// hasExited reports whether the gateway process has exited.
func (g *gateway) hasExited() bool {
	select {
	case <-g.exited:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, as a service manager would, and requires a clean
// exit: status 0, and the Envoy the gateway launched gone with it.
func (g *gateway) stop(t *testing.T) {
	t.Helper()
	g.stopped = true
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-g.exited:
	case <-time.After(stopTimeout):
		_ = g.cmd.Process.Kill()
		<-g.exited
		t.Fatalf("archway did not exit within %v of SIGTERM", stopTimeout)
	}
	if g.waitErr != nil {
		t.Errorf("archway exited with %v after SIGTERM, want status 0", g.waitErr)
	}
	// archway stops its Envoy and waits for it before it exits.
	pid, err := strconv.Atoi(g.logs.read(func(l *processLog) string { return l.envoyPID }))
	if err != nil {
		t.Fatal("archway never logged the pid of the Envoy it started")
	}
	if running(pid) {
		t.Errorf("Envoy (pid %d) still runs after archway exited", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// cleanup kills whatever a failed test left running: the gateway, and the
// Envoy it launched, which outlives a gateway killed with SIGKILL.
func (g *gateway) cleanup(t *testing.T) {
	if g.stopped {
		return
	}
	_ = g.cmd.Process.Kill()
	<-g.exited
	pid, err := strconv.Atoi(g.logs.read(func(l *processLog) string { return l.envoyPID }))
	if err == nil && running(pid) {
		t.Logf("killing Envoy (pid %d), which archway left behind", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// running reports whether the process pid exists and is not a zombie
// waiting for a parent that does not reap it.
func running(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) && !isZombie(pid)
}

// isZombie reports whether pid has exited but not been reaped, from the
// state field of /proc/<pid>/stat (Linux).
func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The command name in parentheses may hold spaces; the state follows
	// the last ')'.
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			return i+2 < len(b) && b[i+2] == 'Z'
		}
	}
	return false
}

// freeAddr returns a loopback address with a port nothing listens on now.
// The port is released before the gateway binds it, so another process
// could take it in between; the kernel hands out ephemeral ports in an
// order that makes that rare.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}
