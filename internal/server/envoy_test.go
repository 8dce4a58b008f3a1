package server

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/store/storetest"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
)

// TestServeLaunchesEnvoy runs the real Envoy beside the xds component: its
// bootstrap points at the bound xDS address, its admin API answers, and it
// is gone once the server has stopped.
func TestServeLaunchesEnvoy(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, storetest.New(t))
	cfg.Envoy = EnvoyConfig{
		Mode:             EnvoyAuto,
		Binary:           testenvoy.Binary(t),
		BootstrapPath:    filepath.Join(dir, "bootstrap.yaml"),
		AdminAddressPath: filepath.Join(dir, "admin-address"),
		Bootstrap:        envoy.BootstrapOptions{NodeID: "test-node", AdminAddr: "127.0.0.1:0"},
		Output:           testenvoy.LogWriter(t, "envoy: "),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	boot, err := os.ReadFile(cfg.Envoy.BootstrapPath)
	if err != nil {
		t.Fatal(err)
	}
	_, xdsPort, _ := strings.Cut(srv.XDSAddr().String(), ":")
	if !strings.Contains(string(boot), "port_value: "+xdsPort) {
		t.Errorf("bootstrap does not point at the xDS port %s:\n%s", xdsPort, boot)
	}
	addr, err := envoy.WaitAdminAddress(ctx, cfg.Envoy.AdminAddressPath)
	if err != nil {
		t.Fatal(err)
	}
	// Until the ADS server answers, Envoy is not ready, but its admin API
	// works and counts the xDS stream's attempts.
	stats, err := envoy.NewAdminClient(addr).Stats(ctx)
	if err != nil {
		t.Fatalf("envoy admin API at %s: %v", addr, err)
	}
	if _, ok := stats["server.state"]; !ok {
		t.Errorf("envoy stats lack server.state: %d stats", len(stats))
	}
	pid := srv.launcher.PID()
	if pid <= 0 {
		t.Fatalf("launcher PID = %d while envoy answers", pid)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("envoy (pid %d) still runs after the server stopped", pid)
	}
}

// TestServeWithoutEnvoyBinary prints how to attach an Envoy instead.
func TestServeWithoutEnvoyBinary(t *testing.T) {
	dir := t.TempDir()
	var notices bytes.Buffer
	cfg := testConfig(t, storetest.New(t))
	cfg.Notices = &notices
	cfg.Envoy = EnvoyConfig{
		Mode:          EnvoyAuto,
		Getenv:        func(string) string { return "" },
		RepoRoot:      dir,
		BootstrapPath: filepath.Join(dir, "envoy", "bootstrap.yaml"),
		Bootstrap:     envoy.BootstrapOptions{NodeID: "test-node"},
	}
	srv := start(t, cfg)
	if srv.launcher != nil {
		t.Fatal("a launcher was made without an Envoy binary")
	}
	for _, want := range []string{"envoy -c " + cfg.Envoy.BootstrapPath, "docker run", "func-e run"} {
		if !strings.Contains(notices.String(), want) {
			t.Errorf("attach instructions lack %q:\n%s", want, notices.String())
		}
	}
	if _, err := os.Stat(cfg.Envoy.BootstrapPath); err != nil {
		t.Errorf("bootstrap not written: %v", err)
	}
}
