package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/archway-gateway/archway/internal/store/storetest"
)

// TestDebugServesProfiles checks that --debug-addr serves Go's profiler on
// loopback while the server runs.
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
}
