// Package testenvoy finds the real Envoy the tests run, runs it, and
// routes its output into the test log.
package testenvoy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/archway-gateway/archway/envoy"
)

// Binary is the real Envoy the tests run: $ARCHWAY_ENVOY_BIN, else what
// `make envoy` installs. A missing binary fails the test rather than
// skipping it: these tests exist to prove Archway works with a real Envoy.
func Binary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("ARCHWAY_ENVOY_BIN")
	if path == "" {
		path = filepath.Join(RepoRoot(t), envoy.RepoBinaryPath)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("no Envoy binary at %s (%v): run `make envoy` to install it, or set ARCHWAY_ENVOY_BIN", path, err)
	}
	return path
}

// Run runs Envoy bin on the bootstrap at configPath until the test ends,
// with its output in the test log. It runs one worker thread and no hot
// restart, so that Envoys of tests running at once share nothing.
func Run(t testing.TB, bin, configPath string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-c", configPath, "--disable-hot-restart", "--concurrency", "1", "--log-level", "warn")
	logs := LogWriter(t, "envoy: ")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // waits for the output too, so nothing logs after the test
	})
}

// RepoRoot walks up from the test's directory to the go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// LogWriter hands whole lines written to it to t.Log, prefixed, so a
// child process's output shows up with the test that produced it (and only
// with -v or on failure). Writers must stop before the test ends.
func LogWriter(t testing.TB, prefix string) *LineLogger {
	return &LineLogger{t: t, prefix: prefix}
}

// LineLogger is the io.Writer LogWriter returns.
type LineLogger struct {
	t      testing.TB
	prefix string
	mu     sync.Mutex
	buf    []byte
}

// Write logs every complete line of p and keeps the rest for later.
func (w *LineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Log(w.prefix + string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}
