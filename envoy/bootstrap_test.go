package envoy_test

import (
	"bytes"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// bootstrapCases are rendered to testdata/bootstrap/<name>.yaml and
// checked by a real Envoy in validate mode.
var bootstrapCases = map[string]envoy.BootstrapOptions{
	"sotw-ip": {NodeID: "node-1", XDSAddr: "127.0.0.1:18000"},
	"delta-ip": {
		NodeID: "node-1", XDSAddr: "10.0.0.7:18000", Delta: true,
	},
	"sotw-hostname": {
		NodeID: "edge-a", Cluster: "edge", XDSAddr: "archway.internal:18000",
		AdminAddr: "0.0.0.0:9902",
	},
	"delta-hostname-tuned": {
		NodeID: "edge-b", XDSAddr: "localhost:18000", Delta: true,
		AdminAddr: "[::1]:0", XDSConnectTimeout: 250 * time.Millisecond,
		MaxDownstreamConnections: 1000, MaxHeapBytes: 1 << 30,
		Runtime: map[string]any{"overload.premature_reset_total_stream_count": 500},
	},
}

func TestBootstrapGolden(t *testing.T) {
	dir := filepath.Join("testdata", "bootstrap")
	for name, opts := range bootstrapCases {
		t.Run(name, func(t *testing.T) {
			b, err := envoy.Bootstrap(opts)
			if err != nil {
				t.Fatalf("Bootstrap: %v", err)
			}
			if err := b.ValidateAll(); err != nil {
				t.Fatalf("ValidateAll: %v", err)
			}
			got, err := envoy.RenderYAML(b)
			if err != nil {
				t.Fatalf("RenderYAML: %v", err)
			}
			golden := filepath.Join(dir, name+".yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./envoy -run TestBootstrapGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendered bootstrap differs from %s (rerun with -update if intended):\n%s", golden, got)
			}
		})
	}
	if *update {
		removeOrphans(t, dir)
	}
}

// removeOrphans deletes golden files no case produces any more.
func removeOrphans(t *testing.T, dir string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := bootstrapCases[strings.TrimSuffix(filepath.Base(f), ".yaml")]; !ok {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestEnvoyValidatesBootstrap has the real Envoy load every golden
// bootstrap in --mode validate, which parses the file, checks every typed
// config and initialises the static cluster without serving.
func TestEnvoyValidatesBootstrap(t *testing.T) {
	bin := testenvoy.Binary(t)
	for name, opts := range bootstrapCases {
		t.Run(name, func(t *testing.T) {
			b, err := envoy.Bootstrap(opts)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "bootstrap.yaml")
			if err := envoy.WriteBootstrap(path, b); err != nil {
				t.Fatal(err)
			}
			out, err := exec.CommandContext(t.Context(), bin, "--mode", "validate", "-c", path).CombinedOutput()
			if err != nil {
				t.Fatalf("envoy --mode validate: %v\n%s", err, out)
			}
			if !bytes.Contains(out, []byte("OK")) {
				t.Errorf("envoy --mode validate did not report OK:\n%s", out)
			}
		})
	}
}

func TestBootstrapShape(t *testing.T) {
	tests := map[string]struct {
		opts        envoy.BootstrapOptions
		apiType     corev3.ApiConfigSource_ApiType
		clusterType clusterv3.Cluster_DiscoveryType
		admin       string
		nodeCluster string
	}{
		"sotw over an IP literal": {
			opts:    envoy.BootstrapOptions{NodeID: "n", XDSAddr: "127.0.0.1:18000"},
			apiType: corev3.ApiConfigSource_GRPC, clusterType: clusterv3.Cluster_STATIC,
			admin: "127.0.0.1:9901", nodeCluster: envoy.DefaultNodeCluster,
		},
		"delta over a host name": {
			opts:    envoy.BootstrapOptions{NodeID: "n", Cluster: "c", XDSAddr: "xds.example:443", AdminAddr: "127.0.0.2:9000", Delta: true},
			apiType: corev3.ApiConfigSource_DELTA_GRPC, clusterType: clusterv3.Cluster_STRICT_DNS,
			admin: "127.0.0.2:9000", nodeCluster: "c",
		},
		"IPv6 literal is static": {
			opts:    envoy.BootstrapOptions{NodeID: "n", XDSAddr: "[::1]:18000"},
			apiType: corev3.ApiConfigSource_GRPC, clusterType: clusterv3.Cluster_STATIC,
			admin: "127.0.0.1:9901", nodeCluster: envoy.DefaultNodeCluster,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := envoy.Bootstrap(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := b.GetDynamicResources().GetAdsConfig().GetApiType(); got != tc.apiType {
				t.Errorf("ads api_type = %v, want %v", got, tc.apiType)
			}
			clusters := b.GetStaticResources().GetClusters()
			if len(clusters) != 1 || clusters[0].GetType() != tc.clusterType {
				t.Fatalf("static clusters = %v, want one %v cluster", clusters, tc.clusterType)
			}
			sa := b.GetAdmin().GetAddress().GetSocketAddress()
			if got := net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue()))); got != tc.admin {
				t.Errorf("admin address = %s, want %s", got, tc.admin)
			}
			if b.GetNode().GetId() != tc.opts.NodeID || b.GetNode().GetCluster() != tc.nodeCluster {
				t.Errorf("node = %v, want id %q cluster %q", b.GetNode(), tc.opts.NodeID, tc.nodeCluster)
			}
			if len(b.GetStaticResources().GetListeners()) != 0 {
				t.Error("bootstrap has static listeners; listeners belong to the translator")
			}
		})
	}
}

func TestBootstrapRejectsBadOptions(t *testing.T) {
	tests := map[string]struct {
		opts envoy.BootstrapOptions
		want []string
	}{
		"nothing set":          {envoy.BootstrapOptions{}, []string{"node-id: required", "xds-addr: required"}},
		"xds without port":     {envoy.BootstrapOptions{NodeID: "n", XDSAddr: "127.0.0.1"}, []string{"xds-addr:"}},
		"xds port zero":        {envoy.BootstrapOptions{NodeID: "n", XDSAddr: "127.0.0.1:0"}, []string{"xds-addr:", "1-65535"}},
		"xds port too big":     {envoy.BootstrapOptions{NodeID: "n", XDSAddr: "127.0.0.1:70000"}, []string{"xds-addr:", "1-65535"}},
		"xds without host":     {envoy.BootstrapOptions{NodeID: "n", XDSAddr: ":18000"}, []string{"xds-addr:", "no host"}},
		"admin host name":      {envoy.BootstrapOptions{NodeID: "n", XDSAddr: "127.0.0.1:1", AdminAddr: "localhost:9901"}, []string{"admin-addr:", "not an IP address"}},
		"negative connections": {envoy.BootstrapOptions{NodeID: "n", XDSAddr: "127.0.0.1:1", MaxDownstreamConnections: -1}, []string{"max-downstream-connections:"}},
		"tiny connect timeout": {envoy.BootstrapOptions{NodeID: "n", XDSAddr: "127.0.0.1:1", XDSConnectTimeout: time.Microsecond}, []string{"xds-connect-timeout:"}},
		"runtime not a value":  {envoy.BootstrapOptions{NodeID: "n", XDSAddr: "127.0.0.1:1", Runtime: map[string]any{"k": struct{}{}}}, []string{"runtime:"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := envoy.Bootstrap(tc.opts)
			if err == nil {
				t.Fatalf("Bootstrap(%+v) = %v, want an error", tc.opts, b)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestRenderYAMLRoundTrips parses the rendered YAML back the way Envoy
// does (YAML → JSON → proto) and expects the very same bootstrap.
func TestRenderYAMLRoundTrips(t *testing.T) {
	for name, opts := range bootstrapCases {
		t.Run(name, func(t *testing.T) {
			b, err := envoy.Bootstrap(opts)
			if err != nil {
				t.Fatal(err)
			}
			y, err := envoy.RenderYAML(b)
			if err != nil {
				t.Fatal(err)
			}
			js, err := yaml.YAMLToJSON(y)
			if err != nil {
				t.Fatal(err)
			}
			back := &bootstrapv3.Bootstrap{}
			if err := protojson.Unmarshal(js, back); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(b, back) {
				t.Errorf("round trip changed the bootstrap:\n got %v\nwant %v", back, b)
			}
		})
	}
}

func TestWriteBootstrapReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bootstrap.yaml")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := envoy.Bootstrap(envoy.BootstrapOptions{NodeID: "n", XDSAddr: "127.0.0.1:18000"})
	if err != nil {
		t.Fatal(err)
	}
	if err := envoy.WriteBootstrap(path, b); err != nil {
		t.Fatal(err)
	}
	want, err := envoy.RenderYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("file holds\n%s\nwant\n%s", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644 so that Envoy in a container (another uid) can read it", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the bootstrap (no temporary files left)", len(entries))
	}
	if err := envoy.WriteBootstrap(filepath.Join(dir, "missing", "b.yaml"), b); err == nil {
		t.Error("WriteBootstrap into a missing directory succeeded")
	}
}
