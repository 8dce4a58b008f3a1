package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archway-gateway/archway/internal/testutil/testnet"
)

// result is what one run of the CLI printed and returned.
type result struct {
	code     int
	out, err string
}

// testNow is the clock of in-process runs.
var testNow = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)

// runCLI runs the command tree in-process with the given environment.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, stdio{
		in:     strings.NewReader(stdin),
		out:    &out,
		err:    &errOut,
		getenv: func(k string) string { return env[k] },
		now:    func() time.Time { return testNow },
	})
	return result{code: code, out: out.String(), err: errOut.String()}
}

// TestUsageErrors checks that command lines the CLI can refuse on its own
// exit with status 2 and say why, without contacting any server: the
// address is a closed loopback port, so a connection attempt would show
// up as exit status 1.
func TestUsageErrors(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		args []string
		want string
	}{
		"unknown flag":              {args: []string{"get", "apis", "--bogus"}, want: "unknown flag: --bogus"},
		"unknown command":           {args: []string{"frobnicate"}, want: `unknown command "frobnicate"`},
		"group without a type":      {args: []string{"get"}, want: `"archwayctl get" needs a resource type`},
		"unknown resource type":     {args: []string{"delete", "widgets"}, want: `unknown resource type "widgets"`},
		"missing argument":          {args: []string{"create", "api"}, want: "accepts 1 arg(s), received 0"},
		"too many arguments":        {args: []string{"get", "apis", "a", "b"}, want: "accepts at most 1 arg(s)"},
		"missing --api":             {args: []string{"get", "routes"}, want: `required flag(s) "api" not set`},
		"bad output format":         {args: []string{"get", "apis", "-o", "xml"}, want: `unknown format "xml"; want table, json or yaml`},
		"no -o on delete":           {args: []string{"delete", "api", "x", "-o", "json"}, want: "unknown shorthand flag: 'o'"},
		"malformed tag":             {args: []string{"create", "api", "x", "--tag", "team"}, want: `--tag "team": want key=value`},
		"tag given twice":           {args: []string{"create", "api", "x", "--tag", "a=1", "--tag", "a=2"}, want: `key "a" given twice`},
		"unknown protocol":          {args: []string{"create", "api", "x", "--protocol", "grpc"}, want: `--protocol "grpc": want HTTP or REST`},
		"no integration kind":       {args: []string{"create", "integration", "--api", "a", "x"}, want: "at least one of the flags in the group [http-proxy mock-status] is required"},
		"two integration kinds":     {args: []string{"create", "integration", "--api", "a", "x", "--http-proxy", "http://h", "--mock-status", "200"}, want: "if any flags in the group [http-proxy mock-status] are set none of the others can be"},
		"proxy flag on a mock":      {args: []string{"create", "integration", "--api", "a", "x", "--mock-status", "200", "--method", "GET"}, want: "--method and --timeout need --http-proxy"},
		"mock flag on a proxy":      {args: []string{"create", "integration", "--api", "a", "x", "--http-proxy", "http://h", "--mock-body", "hi"}, want: "--mock-body and --mock-header need --mock-status"},
		"deploy without a stage":    {args: []string{"deploy", "petstore"}, want: `required flag(s) "stage" not set`},
		"rollback without a target": {args: []string{"rollback", "petstore", "--stage", "prod"}, want: `required flag(s) "to" not set`},
		"apply without a file":      {args: []string{"apply"}, want: `required flag(s) "filename" not set`},
		"zero timeout":              {args: []string{"get", "apis", "--timeout", "0s"}, want: "--timeout must be positive"},
		"half a client certificate": {args: []string{"get", "apis", "--tls-cert", "c.pem"}, want: "--tls-cert and --tls-key go together"},
		"plaintext token to a remote host": {
			args: []string{"get", "apis", "--addr", "192.0.2.1:9090", "--token-file", tokenFile},
			want: "refusing to send the token in plaintext to 192.0.2.1:9090",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"--addr", testnet.ClosedAddr(t)}, tc.args...)
			r := runCLI(t, nil, "", args...)
			if r.code != exitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", r.code, exitUsage, r.err)
			}
			if !strings.HasPrefix(r.err, "archwayctl: ") || !strings.Contains(r.err, tc.want) {
				t.Errorf("stderr = %q, want it to start with \"archwayctl: \" and contain %q", r.err, tc.want)
			}
			if r.out != "" {
				t.Errorf("stdout = %q, want nothing", r.out)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"apply", "--help"}} {
		r := runCLI(t, nil, "", args...)
		if r.code != exitOK || !strings.Contains(r.out, "Usage:") {
			t.Errorf("archwayctl %q: exit %d, stdout %q; want 0 and a usage text", args, r.code, r.out)
		}
	}
}

// TestApplyDecodeErrors checks that a file with mistakes is refused before
// any connection is made, naming the file, document, line and field.
func TestApplyDecodeErrors(t *testing.T) {
	tests := map[string]struct {
		args  []string
		stdin string
		want  string
	}{
		"unknown field": {
			args: []string{"apply", "-f", "testdata/unknown_field.yaml"},
			want: "archwayctl: testdata/unknown_field.yaml: document 1: line 5: integrations[0].httpProxy: unknown field \"url\"\n",
		},
		"several problems from stdin": {
			args:  []string{"apply", "-f", "-"},
			stdin: "name: [x]\nroutz: []\n",
			want: "archwayctl: stdin: document 1: line 1: name: want a string, got a list\n" +
				"  document 1: line 2: unknown field \"routz\"\n",
		},
		"no definitions": {
			args:  []string{"apply", "-f", "-"},
			stdin: "# nothing\n",
			want:  "archwayctl: stdin holds no API definitions\n",
		},
		"missing file": {
			args: []string{"apply", "-f", "testdata/nonexistent.yaml"},
			want: "archwayctl: open testdata/nonexistent.yaml: no such file or directory\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"--addr", testnet.ClosedAddr(t)}, tc.args...)
			r := runCLI(t, nil, tc.stdin, args...)
			if r.code != exitFailure || r.err != tc.want {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d, stderr:\n%s", r.code, r.err, exitFailure, tc.want)
			}
		})
	}
}

// TestAddrFromEnvironment checks that ARCHWAY_ADDR picks the server, and
// that the unreachable-server message names it.
func TestAddrFromEnvironment(t *testing.T) {
	addr := testnet.ClosedAddr(t)
	r := runCLI(t, map[string]string{"ARCHWAY_ADDR": addr}, "", "get", "apis")
	want := "archwayctl: cannot reach the admin API at " + addr + ": "
	if r.code != exitFailure || !strings.HasPrefix(r.err, want) {
		t.Errorf("exit %d, stderr %q; want exit 1 and a message starting %q", r.code, r.err, want)
	}
}
