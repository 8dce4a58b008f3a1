package translate

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
)

// templateProcessor stands in for Archway's ext_proc service: every route
// it is asked about gets a processor that reads the request body and
// answers 201 with what it received, as a template mock answers. It records
// the route metadata of every stream in log.
func templateProcessor(log *routeLog) func(extproc.RouteMetadata) extproc.Processor {
	return func(r extproc.RouteMetadata) extproc.Processor {
		log.record(r)
		return extproc.Funcs{
			Modes: extproc.Mode{RequestBody: true},
			OnRequest: func(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
				body := fmt.Sprintf(`{"route":%q,"bytes":%d}`, x.Route.RouteID, len(x.Body))
				return extproc.Respond(201, extproc.Headers{{Name: "content-type", Value: "application/json"}}, []byte(body)), nil
			},
		}
	}
}

// TestEnvoyCallsExtProc runs the real Envoy on a translation of
// testdata/live/extproc.yaml with the services cluster pointing at a
// stand-in ext_proc service on loopback, and checks that Envoy calls it
// only for the template mock, with the route's IDs, sends it the whole
// request body, and hands the client its answer; and that, with the
// service gone, the route fails closed with a 500 instead of reaching
// anything else.
func TestEnvoyCallsExtProc(t *testing.T) {
	bin := testenvoy.Binary(t)
	backend := httptest.NewServer(http.HandlerFunc(echoHandler))
	t.Cleanup(backend.Close)
	p := &routeLog{}
	srv, servicesAddr := serveProcStandIn(t, templateProcessor(p))
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
			resp, data := send(t, gateway, http.MethodPost, "liveproc01.execute-api.localhost", tc.path, tc.body, jsonBody)
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
	if resp, data := send(t, gateway, http.MethodPost, "liveproc01.execute-api.localhost", "/prod/templated", tooLarge, jsonBody); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body over Envoy's buffer: %d %.100q, want 413", resp.StatusCode, data)
	}

	srv.Stop()
	resp, data := send(t, gateway, http.MethodPost, "liveproc01.execute-api.localhost", "/prod/templated", `{"a":1}`, jsonBody)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("ext_proc down: %d %q, want 500", resp.StatusCode, data)
	}
}
