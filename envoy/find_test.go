package envoy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archway-gateway/archway/envoy"
)

func TestFindBinaryOrder(t *testing.T) {
	root := t.TempDir()
	exe := func(rel string) string {
		p := filepath.Join(root, rel)
		writeFile(t, p, "#!/bin/sh\n", 0o755)
		return p
	}
	explicit := exe("flag/envoy")
	envBin := exe("env/envoy")
	archwayBin := exe("archway-env/envoy")
	repo := filepath.Join(root, "repo")
	repoBin := exe(filepath.Join("repo", envoy.RepoBinaryPath))
	pathBin := exe("path2/envoy")
	writeFile(t, filepath.Join(root, "path1", "envoy"), "not executable", 0o644)
	missing := filepath.Join(root, "missing", "envoy")
	path := filepath.Join(root, "path1") + string(os.PathListSeparator) + filepath.Join(root, "path2")

	tests := map[string]struct {
		explicit string
		env      map[string]string
		repoRoot string
		want     string
		wantErr  []string
	}{
		"flag wins over everything": {
			explicit: explicit, env: map[string]string{"ENVOY_BIN": envBin, "ARCHWAY_ENVOY_BIN": archwayBin, "PATH": path},
			repoRoot: repo, want: explicit,
		},
		"ENVOY_BIN before ARCHWAY_ENVOY_BIN": {
			env: map[string]string{"ENVOY_BIN": envBin, "ARCHWAY_ENVOY_BIN": archwayBin, "PATH": path}, repoRoot: repo, want: envBin,
		},
		"ARCHWAY_ENVOY_BIN before the repository": {
			env: map[string]string{"ARCHWAY_ENVOY_BIN": archwayBin, "PATH": path}, repoRoot: repo, want: archwayBin,
		},
		"a set but missing ENVOY_BIN is skipped": {
			env: map[string]string{"ENVOY_BIN": missing, "ARCHWAY_ENVOY_BIN": archwayBin}, repoRoot: repo, want: archwayBin,
		},
		"make envoy install before PATH": {
			env: map[string]string{"PATH": path}, repoRoot: repo, want: repoBin,
		},
		"PATH skips a non-executable envoy": {
			env: map[string]string{"PATH": path}, want: pathBin,
		},
		"a missing flag path is an error, not a fallback": {
			explicit: missing, env: map[string]string{"ENVOY_BIN": envBin},
			wantErr: []string{"envoy-path", missing, "does not exist"},
		},
		"a flag path that is a directory is an error": {
			explicit: root, wantErr: []string{"envoy-path", "not a regular file"},
		},
		"nothing found lists what was tried": {
			env:      map[string]string{"ENVOY_BIN": missing, "PATH": filepath.Join(root, "path1")},
			repoRoot: filepath.Join(root, "empty-repo"),
			wantErr: []string{
				envoy.ErrBinaryNotFound.Error(), "$ENVOY_BIN " + missing, "$ARCHWAY_ENVOY_BIN (unset)",
				"make envoy " + filepath.Join(root, "empty-repo", envoy.RepoBinaryPath),
				"$PATH " + filepath.Join(root, "path1", "envoy") + " (not executable)", "make envoy",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			got, err := envoy.FindBinary(tc.explicit, getenv, tc.repoRoot)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("FindBinary = %q, want an error", got)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("FindBinary: %v", err)
			}
			if got != tc.want {
				t.Errorf("FindBinary = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFindBinaryNotFoundIsRecognisable(t *testing.T) {
	_, err := envoy.FindBinary("", func(string) string { return "" }, "")
	if !errors.Is(err, envoy.ErrBinaryNotFound) {
		t.Fatalf("FindBinary with nothing to find = %v, want ErrBinaryNotFound", err)
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}
