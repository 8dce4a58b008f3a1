package translate

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
)

// procStandIn stands in for Archway's ext_proc service: every route it is
// asked about gets a processor that reads the request body and answers
// 201 with what it received, as a template mock answers. It records the
// route metadata of every stream.
type procStandIn struct {
	mu     sync.Mutex
	routes []extproc.RouteMetadata
}

// lookup is the stand-in's extproc.Options.Lookup.
func (p *procStandIn) lookup(r extproc.RouteMetadata) extproc.Processor {
	p.mu.Lock()
	p.routes = append(p.routes, r)
	p.mu.Unlock()
	return extproc.Funcs{
		Modes: extproc.Mode{RequestBody: true},
		OnRequest: func(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
			body := fmt.Sprintf(`{"route":%q,"bytes":%d}`, x.Route.RouteID, len(x.Body))
			return extproc.Respond(201, extproc.Headers{{Name: "content-type", Value: "application/json"}}, []byte(body)), nil
		},
	}
}

// take returns and forgets the routes asked about since the last take.
func (p *procStandIn) take() []extproc.RouteMetadata {
	p.mu.Lock()
	defer p.mu.Unlock()
	routes := p.routes
	p.routes = nil
	return routes
}

// TestEnvoyCallsExtProc runs the real Envoy on a translation of
// testdata/live/extproc.yaml with the services cluster pointing at a
// stand-in ext_proc service on loopback, and checks that Envoy calls it
// only for the template mock, with the route's IDs, sends it the whole
// request body, and hands the client its answer; and that, with the service gone, the route fails closed with a
// 500 instead of reaching anything else.
func TestEnvoyCallsExtProc(t *testing.T) {
	bin := testenvoy.Binary(t)
	backend := httptest.NewServer(http.HandlerFunc(echoHandler))
	t.Cleanup(backend.Close)
	p := &procStandIn{}
	srv, servicesAddr := serveProcStandIn(t, p.lookup)
	gateway := startLiveGateway(t, bin, "extproc.yaml", strings.TrimPrefix(backend.URL, "http://"), servicesAddr)
	templated := extproc.RouteMetadata{APIID: "liveproc01", Stage: "prod", RouteID: "templated", DeploymentID: "d1"}
	// Envoy buffers a body for ext_proc up to the listener's 1 MiB
	// per-connection limit on a direct-response route (see templateMock).
	large, tooLarge := strings.Repeat("x", 1<<20-1<<10), strings.Repeat("x", 1<<20+1)

	tests := map[string]struct {
		path, body string
		status     int
		wantBody   string // exact, unless empty
		called     bool
	}{
		"template mock":             {path: "/prod/templated", body: `{"a":1}`, status: 201, wantBody: `{"route":"templated","bytes":7}`, called: true},
		"template mock, empty body": {path: "/prod/templated", status: 201, wantBody: `{"route":"templated","bytes":0}`, called: true},
		"template mock, large body": {path: "/prod/templated", body: large, status: 201, wantBody: fmt.Sprintf(`{"route":"templated","bytes":%d}`, len(large)), called: true},
		"simple mock":               {path: "/prod/simple", body: `{"a":1}`, status: 200, wantBody: `{"simple":true}`},
		"proxied route":             {path: "/prod/proxied", body: `{"a":1}`, status: 200},
		"no route":                  {path: "/prod/nothing", status: 403, wantBody: `{"message":"Missing Authentication Token"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, data := post(t, gateway, "liveproc01.execute-api.localhost", tc.path, tc.body)
			if resp.StatusCode != tc.status || tc.wantBody != "" && string(data) != tc.wantBody {
				t.Errorf("%d %.100q, want %d %q", resp.StatusCode, data, tc.status, tc.wantBody)
			}
			routes := p.take()
			switch {
			case !tc.called && len(routes) != 0:
				t.Errorf("ext_proc was called for %v, want not at all", routes)
			case tc.called && (len(routes) != 1 || routes[0] != templated):
				t.Errorf("ext_proc was called for %v, want once for %v", routes, templated)
			}
		})
	}

	// Last, for Envoy may open a stream for it before refusing the body,
	// and that stream may reach the stand-in after the answer.
	if resp, data := post(t, gateway, "liveproc01.execute-api.localhost", "/prod/templated", tooLarge); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body over Envoy's buffer: %d %.100q, want 413", resp.StatusCode, data)
	}

	srv.Stop()
	resp, data := post(t, gateway, "liveproc01.execute-api.localhost", "/prod/templated", `{"a":1}`)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("ext_proc down: %d %q, want 500", resp.StatusCode, data)
	}
}

// serveProcStandIn serves an extproc.Server with lookup on a loopback port
// until the test ends or the returned server is stopped.
func serveProcStandIn(t *testing.T, lookup func(extproc.RouteMetadata) extproc.Processor) (*grpc.Server, string) {
	t.Helper()
	s := extproc.New(extproc.Options{Lookup: lookup})
	g := grpc.NewServer(s.ServerOptions()...)
	s.Register(g)
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
	return g, lis.Addr().String()
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
	opts.GatewayAddr = freeLoopbackAddr(t)
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

// post sends one POST with a JSON body through the gateway and reads the
// whole answer.
func post(t *testing.T, gateway, host, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+gateway+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/json")
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
