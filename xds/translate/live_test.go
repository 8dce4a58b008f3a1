package translate

import (
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
	"github.com/archway-gateway/archway/internal/testutil/testnet"
)

// echo is what the test backend answers: the request as it arrived.
type echo struct {
	Method  string      `json:"method"`
	URI     string      `json:"uri"`
	Host    string      `json:"host"`
	Headers http.Header `json:"headers"`
}

// TestEnvoyServesTranslation runs the real Envoy on a translation of
// testdata/live/gateway.yaml and sends requests through it to a backend on
// loopback, checking the API Gateway behaviour the configuration is meant
// to produce: routing precedence, method matching, path rewriting, Host
// rewriting, mocks, not-found answers, header hygiene and timeouts.
func TestEnvoyServesTranslation(t *testing.T) {
	bin := testenvoy.Binary(t)
	backend := httptest.NewServer(http.HandlerFunc(echoHandler))
	t.Cleanup(backend.Close)
	backendHost := strings.TrimPrefix(backend.URL, "http://")
	gateway := startLiveGateway(t, bin, "gateway.yaml", backendHost, testnet.ClosedAddr(t)) // no route calls Archway

	tests := map[string]struct {
		method, host, path string
		header             http.Header
		status             int
		body               string // exact response body, when not proxied
		contentType        string
		upstream           string // method and URI the backend must see
	}{
		"param substituted, query kept":    {method: "GET", host: "livehttp01.execute-api.localhost", path: "/prod/pets/42?x=1&y=a%20b", status: 200, upstream: "GET /v1/pets/42?x=1&y=a%20b"},
		"port ignored in host":             {method: "GET", host: "livehttp01.execute-api.localhost:1234", path: "/prod/pets", status: 200, upstream: "GET /v1/pets"},
		"literal beats param":              {method: "GET", host: "livehttp01.execute-api.localhost", path: "/prod/pets/mine", status: 200, body: `{"pet":"mine"}`, contentType: "application/json"},
		"explicit method beats ANY":        {method: "POST", host: "livehttp01.execute-api.localhost", path: "/prod/pets/7", status: 201, body: `{"created":true}`},
		"ANY serves other methods":         {method: "DELETE", host: "livehttp01.execute-api.localhost", path: "/prod/pets/7", status: 200, upstream: "DELETE /v1/pets/7"},
		"GET route serves HEAD":            {method: "HEAD", host: "livehttp01.execute-api.localhost", path: "/prod/pets", status: 200, upstream: "HEAD /v1/pets"},
		"greedy path":                      {method: "GET", host: "livehttp01.execute-api.localhost", path: "/prod/files/a/b/c.txt", status: 200, upstream: "GET /static/a/b/c.txt"},
		"normalized path":                  {method: "GET", host: "livehttp01.execute-api.localhost", path: "/prod//files/a/../b.txt", status: 200, upstream: "GET /static/b.txt"},
		"greedy needs a segment":           {method: "GET", host: "livehttp01.execute-api.localhost", path: "/prod/files/", status: 404, body: `{"message":"Not Found"}`},
		"escaped slash rejected":           {method: "GET", host: "livehttp01.execute-api.localhost", path: "/prod/pets/a%2Fb", status: 400},
		"path style":                       {method: "GET", host: "127.0.0.1", path: "/livehttp01/prod/pets/9", status: 200, upstream: "GET /v1/pets/9"},
		"default stage":                    {method: "GET", host: "livehttp01.execute-api.localhost", path: "/health", status: 200, body: "ok", contentType: "text/plain"},
		"HTTP API not found":               {method: "GET", host: "livehttp01.execute-api.localhost", path: "/prod/nothing", status: 404, body: `{"message":"Not Found"}`, contentType: "application/json"},
		"HTTP API wrong method":            {method: "PUT", host: "livehttp01.execute-api.localhost", path: "/prod/pets", status: 404, body: `{"message":"Not Found"}`},
		"stage does not fall through":      {method: "GET", host: "livehttp01.execute-api.localhost", path: "/prod/health", status: 404, body: `{"message":"Not Found"}`},
		"REST API not found":               {method: "GET", host: "liverest01.execute-api.localhost", path: "/prod/pong", status: 403, body: `{"message":"Missing Authentication Token"}`, contentType: "application/json"},
		"REST API GET does not serve HEAD": {method: "HEAD", host: "liverest01.execute-api.localhost", path: "/prod/ping", status: 403},
		"path style REST not found":        {method: "GET", host: "localhost", path: "/liverest01/prod/pong", status: 403, body: `{"message":"Missing Authentication Token"}`},
		"unknown host":                     {method: "GET", host: "nobody.example", path: "/prod/pets", status: 404, body: `{"message":"Not Found"}`},
		"integration timeout":              {method: "GET", host: "livehttp01.execute-api.localhost", path: "/prod/slow", status: 504},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, data := send(t, gateway, tc.method, tc.host, tc.path, "", tc.header)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d (body %q)", resp.StatusCode, tc.status, data)
			}
			if tc.body != "" && string(data) != tc.body {
				t.Errorf("body = %q, want %q", data, tc.body)
			}
			if tc.contentType != "" && resp.Header.Get("Content-Type") != tc.contentType {
				t.Errorf("content-type = %q, want %q", resp.Header.Get("Content-Type"), tc.contentType)
			}
			if tc.upstream == "" {
				return
			}
			if got := resp.Header.Get("X-Upstream"); got != tc.upstream {
				t.Errorf("backend saw %q, want %q", got, tc.upstream)
			}
			if got := resp.Header.Get("X-Upstream-Host"); got != backendHost {
				t.Errorf("backend saw Host %q, want %q", got, backendHost)
			}
		})
	}
	t.Run("headers", func(t *testing.T) { checkHeaderHygiene(t, gateway) })
}

// checkHeaderHygiene checks what the backend and the client see besides
// the request line: no forged internal headers, no Envoy internals, a
// fresh request ID, the client in X-Forwarded-For.
func checkHeaderHygiene(t *testing.T, gateway string) {
	h := http.Header{
		"X-Archway-Api-Id": {"forged"},
		"X-ARCHWAY-Stage":  {"forged"},
		"X-Request-Id":     {"client-chosen"},
	}
	resp, data := send(t, gateway, "GET", "livehttp01.execute-api.localhost", "/prod/pets/1", "", h)
	var e echo
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("backend answer %q: %v", data, err)
	}
	for name := range e.Headers {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-archway-") || strings.HasPrefix(lower, "x-envoy-") && lower != "x-envoy-external-address" {
			t.Errorf("backend saw %s: %q", name, e.Headers[name])
		}
	}
	if id := e.Headers.Get("X-Request-Id"); id == "" || id == "client-chosen" {
		t.Errorf("backend saw x-request-id %q, want one Envoy generated", id)
	}
	if xff := e.Headers.Get("X-Forwarded-For"); xff == "" {
		t.Error("backend saw no X-Forwarded-For")
	}
	for name := range resp.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-envoy-") {
			t.Errorf("client saw %s", name)
		}
	}
}

// echoHandler answers with the request as it arrived, in the body and, for
// HEAD, in headers. /slow never answers before the client gives up.
func echoHandler(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/slow" {
		<-r.Context().Done()
		return
	}
	w.Header().Set("X-Upstream", r.Method+" "+r.RequestURI)
	w.Header().Set("X-Upstream-Host", r.Host)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(echo{Method: r.Method, URI: r.RequestURI, Host: r.Host, Headers: r.Header})
}

// startLiveGateway translates testdata/live/<fixture> with BACKEND
// replaced, runs Envoy on it with its services at servicesAddr until the
// test ends, and returns the gateway's address once it answers.
func startLiveGateway(t *testing.T, bin, fixture, backend, servicesAddr string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "live", fixture))
	if err != nil {
		t.Fatal(err)
	}
	cfg, opts, err := parseFixture([]byte(strings.ReplaceAll(string(data), "BACKEND", backend)))
	if err != nil {
		t.Fatal(err)
	}
	opts.GatewayAddr = testnet.ClosedAddr(t)
	res, err := Translate(cfg, opts)
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("Translate: %v %v", err, res.Problems)
	}
	b, err := staticBootstrap(&res, servicesAddr)
	if err != nil {
		t.Fatal(err)
	}
	runEnvoy(t, bin, b)
	waitForGateway(t, opts.GatewayAddr)
	return opts.GatewayAddr
}

// runEnvoy runs Envoy on bootstrap b until the test ends.
func runEnvoy(t *testing.T, bin string, b *bootstrapv3.Bootstrap) {
	t.Helper()
	j, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap.json")
	if err := os.WriteFile(path, j, 0o644); err != nil {
		t.Fatal(err)
	}
	testenvoy.Run(t, bin, path)
}

// serveGRPC serves g on a loopback port until the test ends or g is
// stopped, and returns the address.
func serveGRPC(t *testing.T, g *grpc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = g.Serve(lis)
	}()
	t.Cleanup(func() {
		g.Stop()
		<-done
	})
	return lis.Addr().String()
}

// waitForGateway waits until Envoy's listener on addr answers.
func waitForGateway(t *testing.T, addr string) {
	t.Helper()
	waitUntil(t, "Envoy to answer on "+addr, func() bool {
		resp, err := client().Get("http://" + addr + "/")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return true
	})
}

// waitUntil polls cond for at most a minute: Envoy takes a moment to start
// and to apply an update, longer on a loaded machine.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// jsonBody is the header of a request whose body is JSON.
var jsonBody = http.Header{"Content-Type": {"application/json"}}

// send sends one request with body (none if empty) and headers h through
// the gateway and reads the whole answer. A body is text/plain unless h
// says otherwise.
func send(t *testing.T, gateway, method, host, path, body string, h http.Header) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+gateway+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	maps.Copy(req.Header, h)
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "text/plain")
	}
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// client talks to the gateway directly, whatever proxy the environment
// names.
func client() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 30 * time.Second}
}

// routeLog records the routes a stand-in ext_proc service is asked about.
type routeLog struct {
	mu     sync.Mutex
	routes []extproc.RouteMetadata
}

// record notes that the service was asked about r.
func (l *routeLog) record(r extproc.RouteMetadata) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.routes = append(l.routes, r)
}

// take returns and forgets the routes asked about since the last take.
func (l *routeLog) take() []extproc.RouteMetadata {
	l.mu.Lock()
	defer l.mu.Unlock()
	routes := l.routes
	l.routes = nil
	return routes
}

// serveProcStandIn serves an extproc.Server with lookup on a loopback port
// until the test ends or the returned server is stopped.
func serveProcStandIn(t *testing.T, lookup func(extproc.RouteMetadata) extproc.Processor) (*grpc.Server, string) {
	t.Helper()
	s := extproc.New(extproc.Options{Lookup: lookup})
	g := grpc.NewServer(s.ServerOptions()...)
	s.Register(g)
	return g, serveGRPC(t, g)
}
