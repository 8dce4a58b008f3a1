package envoy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrBinaryNotFound is returned (wrapped) by FindBinary when no candidate
// is an executable file; `archway serve` then prints AttachInstructions
// instead of launching Envoy.
var ErrBinaryNotFound = errors.New("no Envoy binary found")

// RepoBinaryPath is where `make envoy` installs the pinned Envoy, relative
// to the repository root.
const RepoBinaryPath = ".tools/envoy/envoy/_bin/envoy"

// FindBinary returns the Envoy executable to launch. It tries, in order:
// explicit (the --envoy-path flag), $ENVOY_BIN, $ARCHWAY_ENVOY_BIN,
// <repoRoot>/.tools/envoy/envoy/_bin/envoy (what `make envoy` installs) and
// `envoy` in each $PATH directory. An explicit path that is not executable
// is an error of its own, since the operator asked for exactly that binary;
// the other candidates are skipped when absent, and the error lists them
// all. Environment access goes through getenv so callers and tests decide
// what the environment is.
func FindBinary(explicit string, getenv func(string) string, repoRoot string) (string, error) {
	if explicit != "" {
		if err := checkExecutable(explicit); err != nil {
			return "", fmt.Errorf("envoy-path: %s: %w", explicit, err)
		}
		return explicit, nil
	}
	var tried []string
	for _, c := range binaryCandidates(getenv, repoRoot) {
		if c.path == "" {
			tried = append(tried, c.source+" (unset)")
			continue
		}
		if err := checkExecutable(c.path); err != nil {
			tried = append(tried, fmt.Sprintf("%s %s (%v)", c.source, c.path, err))
			continue
		}
		return c.path, nil
	}
	return "", fmt.Errorf("%w; tried:\n  %s\ninstall one with `make envoy` or pass --envoy-path",
		ErrBinaryNotFound, strings.Join(tried, "\n  "))
}

type candidate struct{ source, path string }

func binaryCandidates(getenv func(string) string, repoRoot string) []candidate {
	cs := []candidate{
		{"$ENVOY_BIN", getenv("ENVOY_BIN")},
		{"$ARCHWAY_ENVOY_BIN", getenv("ARCHWAY_ENVOY_BIN")},
	}
	if repoRoot != "" {
		cs = append(cs, candidate{"make envoy", filepath.Join(repoRoot, RepoBinaryPath)})
	}
	dirs := filepath.SplitList(getenv("PATH"))
	if len(dirs) == 0 {
		return append(cs, candidate{"$PATH", ""})
	}
	for _, dir := range dirs {
		if dir == "" {
			dir = "." // An empty PATH element means the working directory.
		}
		cs = append(cs, candidate{"$PATH", filepath.Join(dir, "envoy")})
	}
	return cs
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("does not exist")
	case errors.As(err, &pathErr):
		return pathErr.Err
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return errors.New("not a regular file")
	case fi.Mode().Perm()&0o111 == 0:
		return errors.New("not executable")
	}
	return nil
}
