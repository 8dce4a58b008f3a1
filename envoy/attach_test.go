package envoy_test

import (
	"strings"
	"testing"

	"github.com/archway-gateway/archway/envoy"
)

func TestAttachInstructions(t *testing.T) {
	tests := map[string]struct {
		path, image string
		opts        envoy.BootstrapOptions
		want        []string
		notWant     []string
	}{
		"loopback xds with defaults": {
			path: "/var/lib/archway/bootstrap.yaml",
			opts: envoy.BootstrapOptions{NodeID: "dev", XDSAddr: "127.0.0.1:18000"},
			want: []string{
				"\n  envoy -c /var/lib/archway/bootstrap.yaml\n",
				"\n  docker run --rm --network host -v /var/lib/archway/bootstrap.yaml:/etc/envoy/bootstrap.yaml:ro " +
					"envoyproxy/envoy:v1.40.0 -c /etc/envoy/bootstrap.yaml\n",
				"\n  func-e use 1.40.0 && func-e run -c /var/lib/archway/bootstrap.yaml\n",
				`xDS on 127.0.0.1:18000 for node "dev" (cluster "archway")`,
				"host.docker.internal", "curl http://127.0.0.1:9901/ready",
			},
		},
		"remote xds, custom image and admin": {
			path: "/etc/archway/b.yaml", image: "registry.local/envoy:1.40.0",
			opts: envoy.BootstrapOptions{NodeID: "edge-1", Cluster: "edge", XDSAddr: "archway.internal:18000", AdminAddr: "127.0.0.1:9902"},
			want: []string{
				"registry.local/envoy:1.40.0 -c /etc/envoy/bootstrap.yaml",
				`node "edge-1" (cluster "edge")`, "http://127.0.0.1:9902/ready",
			},
			notWant: []string{"host.docker.internal", "envoyproxy/envoy"},
		},
		"a path with spaces is quoted": {
			path: "/tmp/my dir/it's.yaml",
			opts: envoy.BootstrapOptions{NodeID: "n", XDSAddr: "localhost:18000"},
			want: []string{
				`envoy -c '/tmp/my dir/it'\''s.yaml'` + "\n",
				`-v '/tmp/my dir/it'\''s.yaml':/etc/envoy/bootstrap.yaml:ro`,
				"host.docker.internal",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := envoy.AttachInstructions(tc.path, tc.image, tc.opts)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("instructions lack %q:\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("instructions mention %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestAttachInstructionsUseAnAbsolutePath(t *testing.T) {
	got := envoy.AttachInstructions("bootstrap.yaml", "", envoy.BootstrapOptions{NodeID: "n", XDSAddr: "127.0.0.1:1"})
	if strings.Contains(got, "-c bootstrap.yaml") || strings.Contains(got, " -v bootstrap.yaml") {
		t.Errorf("relative path left in the commands; docker -v needs an absolute one:\n%s", got)
	}
}
