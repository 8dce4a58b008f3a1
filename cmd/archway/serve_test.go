package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/archway-gateway/archway/internal/server"
	"github.com/archway-gateway/archway/internal/testutil/admintest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func TestRunRefusesExposedAdmin(t *testing.T) {
	dir := t.TempDir()
	args := []string{"serve", "--admin-addr", "0.0.0.0:0", "--data-dir", dir}
	err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard)
	if !errors.Is(err, server.ErrExposed) {
		t.Fatalf("run = %v, want ErrExposed", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "etcd")); !os.IsNotExist(err) {
		t.Errorf("etcd was started before the refusal: %v", err)
	}
}

func TestRunVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, os.Getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "archway ") || !strings.Contains(out.String(), "go1.") {
		t.Errorf("version printed %q", out.String())
	}
}

// TestServeBinary runs the real binary: it must keep its data across a
// SIGTERM and a restart, apply its files idempotently, and exit non-zero
// on a refused configuration.
func TestServeBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "archway")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	t.Run("restart", func(t *testing.T) { testRestart(t, bin) })

	t.Run("exposed admin API", func(t *testing.T) {
		cmd := exec.Command(bin, "serve", "--admin-addr", "0.0.0.0:0", "--data-dir", t.TempDir())
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("exit: %v, want status 1\n%s", err, out)
		}
		if !strings.Contains(string(out), "--admin-token-file") {
			t.Errorf("the error does not say how to fix it:\n%s", out)
		}
	})
}

func testRestart(t *testing.T, bin string) {
	args := []string{
		"--data-dir", t.TempDir(),
		"--admin-addr", "127.0.0.1:0",
		"--xds-addr", "127.0.0.1:0",
		// etcd keeps its peer URL in its data, so both runs use the same
		// ports.
		"--etcd-listen-client", "http://" + freeAddr(t),
		"--etcd-listen-peer", "http://" + freeAddr(t),
		"--log-format", "json",
		"--log-level", "debug",
		"--apply", "../../examples/petstore.yaml",
		"--envoy", "off",
	}
	ctx := context.Background()

	first := startServe(t, bin, args)
	admin := adminv1.NewAdminServiceClient(grpcDial(t, first.addrs["admin"]))
	created, err := admin.CreateApi(ctx, &adminv1.CreateApiRequest{
		Api: &adminv1.Api{Name: "restart-check", Protocol: adminv1.Protocol_PROTOCOL_HTTP},
	})
	if err != nil {
		t.Fatal(err)
	}
	petstore := admintest.Etags(t, admin, "petstore")
	if len(petstore) != 13 {
		t.Errorf("petstore has %d resources, want 13 (1 API, 5 routes, 4 integrations, 2 stages, 1 automatic deployment): %v", len(petstore), petstore)
	}
	admintest.WaitServing(t, grpcDial(t, first.addrs["xds"]))
	first.stop(t)

	second := startServe(t, bin, args)
	admin = adminv1.NewAdminServiceClient(grpcDial(t, second.addrs["admin"]))
	got, err := admin.GetApi(ctx, &adminv1.GetApiRequest{Id: created.GetId()})
	if err != nil {
		t.Fatalf("the API created before the restart: %v", err)
	}
	if got.GetName() != "restart-check" || got.GetEtag() != created.GetEtag() {
		t.Errorf("after the restart: %v, want %v", got, created)
	}
	again := admintest.Etags(t, admin, "petstore")
	if len(again) != len(petstore) {
		t.Errorf("petstore has %d resources after applying it again, had %d", len(again), len(petstore))
	}
	for name, etag := range petstore {
		if again[name] != etag {
			t.Errorf("%s: etag %q after applying again, was %q", name, again[name], etag)
		}
	}
	second.stop(t)
}

// serveProcess is a running `archway serve` whose JSON logs are read as
// they come.
type serveProcess struct {
	cmd   *exec.Cmd
	addrs map[string]string // server name to its bound address
	eof   chan struct{}     // closed when the process closed its stderr

	mu  sync.Mutex
	out bytes.Buffer
}

// startServe starts the binary and waits until the admin and xds servers
// serve.
func startServe(t *testing.T, bin string, args []string) *serveProcess {
	t.Helper()
	p := &serveProcess{cmd: exec.Command(bin, append([]string{"serve"}, args...)...), eof: make(chan struct{})}
	p.cmd.Env = cleanEnv()
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.eof
			_ = p.cmd.Wait()
		}
	})
	serving := make(chan [2]string, 2)
	go p.read(stderr, serving)
	p.addrs = make(map[string]string)
	timeout := time.NewTimer(2 * time.Minute)
	defer timeout.Stop()
	for len(p.addrs) < 2 {
		select {
		case s := <-serving:
			p.addrs[s[0]] = s[1]
		case <-p.eof:
			t.Fatalf("archway serve exited before serving:\n%s", p.output())
		case <-timeout.C:
			t.Fatalf("archway serve did not serve in time:\n%s", p.output())
		}
	}
	return p
}

func (p *serveProcess) read(r io.Reader, serving chan<- [2]string) {
	defer close(p.eof)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.out.Write(sc.Bytes())
		p.out.WriteByte('\n')
		p.mu.Unlock()
		var line struct{ Msg, Server, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
			serving <- [2]string{line.Server, line.Addr}
		}
	}
}

func (p *serveProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *serveProcess) logged(msg string) bool {
	return strings.Contains(p.output(), `"msg":"`+msg+`"`)
}

// stop sends SIGTERM and expects a clean exit.
func (p *serveProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.eof
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("archway serve after SIGTERM: %v\n%s", err, p.output())
	}
	if !p.logged("stopped") {
		t.Errorf("no clean shutdown in the logs:\n%s", p.output())
	}
}

func grpcDial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// cleanEnv is this process's environment without ARCHWAY_ settings, so
// that a developer's own settings do not leak into the test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			env = append(env, kv)
		}
	}
	return env
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lis.Close() }()
	return lis.Addr().String()
}
