package envoy_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
)

// TestLauncherServesRestartsAndStops runs the real Envoy against a real
// ADS server: traffic flows, an Envoy killed from outside comes back and
// serves again, and cancelling Run stops Envoy cleanly.
func TestLauncherServesRestartsAndStops(t *testing.T) {
	bin := testenvoy.Binary(t)
	for name, delta := range map[string]bool{"sotw": false, "delta": true} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			nodeID := "launcher-" + name
			dir := t.TempDir()
			bootstrapPath := filepath.Join(dir, "bootstrap.yaml")
			writeTestBootstrap(t, bootstrapPath, envoy.BootstrapOptions{
				NodeID: nodeID, XDSAddr: startADS(t, nodeID), AdminAddr: "127.0.0.1:0", Delta: delta,
			})
			adminPath := filepath.Join(dir, "admin-address")
			out := testenvoy.LogWriter(t, "envoy: ")
			l := envoy.NewLauncher(envoy.LauncherOptions{
				Binary: bin, BootstrapPath: bootstrapPath, AdminAddressPath: adminPath, LogLevel: "warning",
				MinBackoff: 10 * time.Millisecond, Stdout: out, Stderr: out, Logger: slog.New(slog.NewTextHandler(out, nil)),
			})
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- l.Run(runCtx) }()
			defer func() {
				stop()
				if err := <-done; err != nil {
					t.Errorf("Run after cancel = %v, want nil", err)
				}
			}()

			first := waitServing(ctx, t, adminPath)
			checkAdminView(ctx, t, first, nodeID)

			killed := l.PID()
			if err := killProcess(killed); err != nil {
				t.Fatalf("kill envoy %d: %v", killed, err)
			}
			waitUntil(ctx, t, "a new Envoy process", func() bool { pid := l.PID(); return pid != 0 && pid != killed })
			second := waitServing(ctx, t, adminPath)

			stop()
			select {
			case err := <-done:
				done <- err // for the deferred receive, which checks it
			case <-ctx.Done():
				t.Fatal("Run did not return after its context was cancelled")
			}
			if pid := l.PID(); pid != 0 {
				t.Errorf("PID after Run = %d, want 0", pid)
			}
			if _, err := second.Ready(ctx); err == nil {
				t.Error("Envoy's admin API still answers after Run returned")
			}
		})
	}
}

// killProcess kills pid the way the OOM killer or an operator would.
func killProcess(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func writeTestBootstrap(t *testing.T, path string, opts envoy.BootstrapOptions) {
	t.Helper()
	b, err := envoy.Bootstrap(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := envoy.WriteBootstrap(path, b); err != nil {
		t.Fatal(err)
	}
}

// waitServing waits for the current Envoy's admin address, for LIVE, and
// then sends a request through the xDS-delivered listener.
func waitServing(ctx context.Context, t *testing.T, adminPath string) envoy.AdminClient {
	t.Helper()
	addr, err := envoy.WaitAdminAddress(ctx, adminPath)
	if err != nil {
		t.Fatal(err)
	}
	admin := envoy.NewAdminClient(addr)
	if err := admin.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	port, err := admin.ListenersPort(ctx, testListenerName)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/pets", nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("request through Envoy: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != directResponseBody {
		t.Fatalf("response = %s %q, want 200 %q", resp.Status, body, directResponseBody)
	}
	return admin
}

// checkAdminView reads back, through the admin client, what Envoy runs.
func checkAdminView(ctx context.Context, t *testing.T, admin envoy.AdminClient, nodeID string) {
	t.Helper()
	stats, err := admin.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"listener_manager.lds.update_success", "cluster_manager.cds.update_success"} {
		if stats[name] == 0 {
			t.Errorf("stat %s = %d, want at least 1", name, stats[name])
		}
	}
	if _, ok := stats["listener_manager.total_listeners_active"]; !ok {
		t.Error("gauge listener_manager.total_listeners_active missing from Stats")
	}
	if _, err := admin.ListenersPort(ctx, "no-such-listener"); !errors.Is(err, envoy.ErrListenerNotFound) {
		t.Errorf("ListenersPort of an unknown listener = %v, want ErrListenerNotFound", err)
	}
	dump, err := admin.ConfigDump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sawNode, sawListener bool
	for _, c := range dump.GetConfigs() {
		msg, err := c.UnmarshalNew()
		if err != nil {
			t.Fatal(err)
		}
		switch m := msg.(type) {
		case *adminv3.BootstrapConfigDump:
			sawNode = m.GetBootstrap().GetNode().GetId() == nodeID
		case *adminv3.ListenersConfigDump:
			for _, dl := range m.GetDynamicListeners() {
				sawListener = sawListener || (dl.GetName() == testListenerName && dl.GetActiveState() != nil)
			}
		}
	}
	if !sawNode || !sawListener {
		t.Errorf("config dump: bootstrap node %q found = %v, active listener %q found = %v", nodeID, sawNode, testListenerName, sawListener)
	}
}

func waitUntil(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-ticker.C:
		}
	}
}

// TestLauncherGivesUpOnACrashLoop gives the real Envoy a bootstrap path
// that does not exist: every start fails at once, and Run must stop
// retrying after MaxFailures restarts instead of spinning forever.
func TestLauncherGivesUpOnACrashLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	out := testenvoy.LogWriter(t, "envoy: ")
	l := envoy.NewLauncher(envoy.LauncherOptions{
		Binary: testenvoy.Binary(t), BootstrapPath: filepath.Join(t.TempDir(), "missing.yaml"),
		MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, MaxFailures: 2, LogLevel: "error",
		Stdout: out, Stderr: out, Logger: slog.New(slog.NewTextHandler(out, nil)),
	})
	err := l.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "exited 3 times in a row") {
		t.Fatalf("Run = %v, want it to give up after 3 exits in a row", err)
	}
}

// TestLauncherKillsWhatIgnoresSIGTERM stands in for a hung Envoy with a
// process that ignores SIGTERM: Run must SIGKILL it after StopGrace and
// say so.
func TestLauncherKillsWhatIgnoresSIGTERM(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	script := filepath.Join(dir, "stubborn")
	writeFile(t, script, "#!/bin/sh\ntrap '' TERM\necho ignoring > '"+ready+"'\nexec sleep 60\n", 0o755)
	l := envoy.NewLauncher(envoy.LauncherOptions{
		Binary: script, BootstrapPath: "unused.yaml", StopGrace: 100 * time.Millisecond,
		Stdout: io.Discard, Stderr: io.Discard, Logger: slog.New(slog.DiscardHandler),
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(runCtx) }()
	waitUntil(ctx, t, "the process to ignore SIGTERM", func() bool { _, err := os.Stat(ready); return err == nil })
	stop()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("Run = %v, want an error saying the process was killed", err)
		}
	case <-ctx.Done():
		t.Fatal("Run did not return after StopGrace")
	}
}

func TestLauncherRejectsBadOptions(t *testing.T) {
	tests := map[string]struct {
		opts envoy.LauncherOptions
		want string
	}{
		"no binary":      {envoy.LauncherOptions{BootstrapPath: "b.yaml"}, "envoy-path: required"},
		"no bootstrap":   {envoy.LauncherOptions{Binary: "/bin/true"}, "bootstrap path: required"},
		"bad log level":  {envoy.LauncherOptions{Binary: "/bin/true", BootstrapPath: "b.yaml", LogLevel: "loud"}, `log level "loud"`},
		"bad base id":    {envoy.LauncherOptions{Binary: "/bin/true", BootstrapPath: "b.yaml", BaseID: -2}, "base id -2"},
		"missing binary": {envoy.LauncherOptions{Binary: "/nonexistent/envoy", BootstrapPath: "b.yaml"}, "start envoy"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.opts.Logger = slog.New(slog.DiscardHandler)
			err := envoy.NewLauncher(tc.opts).Run(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestLauncherArgs(t *testing.T) {
	base := envoy.LauncherOptions{Binary: "envoy", BootstrapPath: "/b.yaml"}
	tests := map[string]struct {
		change func(*envoy.LauncherOptions)
		want   []string
	}{
		"defaults": {
			change: func(*envoy.LauncherOptions) {},
			want:   []string{"-c", "/b.yaml", "--disable-hot-restart", "--drain-time-s", "1", "--parent-shutdown-time-s", "2"},
		},
		"dynamic base id, rounded-up drain times, log level and extras": {
			change: func(o *envoy.LauncherOptions) {
				o.BaseID, o.DrainTime, o.ParentShutdownTime = envoy.BaseIDDynamic, 1500*time.Millisecond, 5*time.Second
				o.LogLevel, o.AdminAddressPath, o.ExtraArgs = "debug", "/run/admin", []string{"--concurrency", "2"}
			},
			want: []string{
				"-c", "/b.yaml", "--use-dynamic-base-id", "--drain-time-s", "2", "--parent-shutdown-time-s", "5",
				"-l", "debug", "--admin-address-path", "/run/admin", "--concurrency", "2",
			},
		},
		"fixed base id": {
			change: func(o *envoy.LauncherOptions) { o.BaseID = 7 },
			want:   []string{"-c", "/b.yaml", "--base-id", "7", "--drain-time-s", "1", "--parent-shutdown-time-s", "2"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			opts := base
			tc.change(&opts)
			if got := envoy.NewLauncher(opts).Args(); !slices.Equal(got, tc.want) {
				t.Errorf("Args = %q, want %q", got, tc.want)
			}
		})
	}
}
