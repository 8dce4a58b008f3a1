package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/archway-gateway/archway/internal/store/storetest"
)

// TestDebugServesProfiles checks that --debug-addr serves Go's profiler and
// the counters of /metrics on loopback while the server runs.
func TestDebugServesProfiles(t *testing.T) {
	cfg := testConfig(t, storetest.New(t))
	cfg.DebugAddr = "127.0.0.1:0"
	srv := start(t, cfg)
	resp, err := http.Get("http://" + srv.debug.lis.Addr().String() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("goroutine profile: %d %.200q", resp.StatusCode, body)
	}

	metrics, err := http.Get("http://" + srv.debug.lis.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = metrics.Body.Close() }()
	text, err := io.ReadAll(metrics.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# TYPE archway_ratelimit_failed_open_total counter\n",
		`archway_ratelimit_failed_open_total{service="authz"} 0` + "\n",
		`archway_ratelimit_failed_open_total{service="ratelimit"} 0` + "\n",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, text)
		}
	}
}
