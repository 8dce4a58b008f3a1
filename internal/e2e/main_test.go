package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// archwayBinary is the archway binary TestMain built for this test run. It
// is written once, before any test runs, and only read afterwards.
var archwayBinary string

// TestMain builds the real archway binary once, so that every test runs the
// program users run rather than the server package in-process.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "archway-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	archwayBinary = filepath.Join(dir, "archway")
	build := exec.Command("go", "build", "-o", archwayBinary, "github.com/archway-gateway/archway/cmd/archway")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building archway:", err)
		return 1
	}
	return m.Run()
}
