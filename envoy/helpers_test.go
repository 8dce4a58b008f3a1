package envoy_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/archway-gateway/archway/envoy"
)

// envoyBinary is the real Envoy 1.40.0 the tests run: $ARCHWAY_ENVOY_BIN,
// else what `make envoy` installs. A missing binary fails the test; these
// tests exist to prove Archway works with a real Envoy.
func envoyBinary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("ARCHWAY_ENVOY_BIN")
	if path == "" {
		path = filepath.Join(repoRoot(t), envoy.RepoBinaryPath)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("no Envoy binary at %s (%v): run make envoy", path, err)
	}
	return path
}

// repoRoot walks up from the package directory to the go.mod.
func repoRoot(t testing.TB) string {
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

// lineLogger hands whole lines of a child's output to t.Log, so Envoy's
// log shows up with the test that produced it (and only with -v or on
// failure). Callers must stop writing before the test ends.
type lineLogger struct {
	t      testing.TB
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
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
