package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBootstrapCommand(t *testing.T) {
	noEnv := func(string) string { return "" }
	out := filepath.Join(t.TempDir(), "bootstrap.yaml")
	tests := map[string]struct {
		args    []string
		want    []string // in the bootstrap
		wantErr string
	}{
		"standard output": {
			args: []string{"bootstrap", "--node-id", "edge-1", "--xds-addr", "10.1.2.3:18000"},
			want: []string{"id: edge-1", "cluster: archway", "address: 10.1.2.3", "port_value: 18000", "api_type: GRPC", "cluster_name: archway_xds"},
		},
		"delta to a file": {
			args: []string{"bootstrap", "--node-id", "edge-2", "--xds-addr", "xds.internal:18000", "--delta", "-o", out},
			want: []string{"id: edge-2", "api_type: DELTA_GRPC", "address: xds.internal", "type: STRICT_DNS"},
		},
		"node id is required": {args: []string{"bootstrap"}, wantErr: `"node-id"`},
		"bad xds address":     {args: []string{"bootstrap", "--node-id", "n", "--xds-addr", "nowhere"}, wantErr: "xds-addr"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, noEnv, &stdout, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := stdout.String()
			if slices.Contains(tc.args, "-o") {
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if stdout.Len() != 0 {
					t.Errorf("wrote to standard output as well: %q", got)
				}
				got = string(b)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("bootstrap lacks %q:\n%s", w, got)
				}
			}
		})
	}
}
