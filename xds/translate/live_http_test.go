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

// standInTarget is the request target the stand-in HTTP processor sets
// for every request: the integration URI's path with a mapped path
// parameter, and only the mapped query string.
const standInTarget = "/v2/pets/7?trace=1"

// standInMapped is the body the stand-in HTTP processor sends the backend
// for a request whose body had n bytes, as a request template would.
func standInMapped(n int) string { return fmt.Sprintf(`{"mapped":true,"bytes":%d}`, n) }

// standInSelected is the stand-in HTTP processor's response body for a
// backend answer of status and n bytes, as an integration response would.
func standInSelected(status, n int) string {
	return fmt.Sprintf(`{"selected":true,"status":%d,"bytes":%d}`, status, n)
}

// httpProcessor stands in for the non-proxy HTTP processor: it sets the
// whole request target to standInTarget, the method to PUT on the route
// whose integration has that method, and the body to standInMapped; and
// it turns every backend answer into 201 with standInSelected. It records
// the routes it is asked about in log.
func httpProcessor(log *routeLog) func(extproc.RouteMetadata) extproc.Processor {
	return func(r extproc.RouteMetadata) extproc.Processor {
		log.record(r)
		return extproc.Funcs{
			Modes: extproc.Mode{RequestBody: true, ResponseBody: true},
			OnRequest: func(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
				set := []extproc.HeaderOp{
					{Name: ":path", Value: standInTarget},
					{Name: "content-type", Value: "application/json"},
				}
				if x.Route.RouteID == "adopt" {
					set = append(set, extproc.HeaderOp{Name: ":method", Value: http.MethodPut})
				}
				return &extproc.Decision{Set: set, ReplaceBody: true, Body: []byte(standInMapped(len(x.Body)))}, nil
			},
			OnResponse: func(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
				return &extproc.Decision{
					Status:      http.StatusCreated,
					Set:         []extproc.HeaderOp{{Name: "content-type", Value: "application/json"}},
					ReplaceBody: true,
					Body:        []byte(standInSelected(x.Status, len(x.ResponseBody))),
				}, nil
			},
		}
	}
}

// TestEnvoyTransformsHTTPIntegration runs the real Envoy on a translation
// of testdata/live/http.yaml with a stand-in ext_proc service and a
// stand-in backend, and checks what each side of a non-proxy HTTP route
// gets: the backend exactly the processor's path and query (not the
// client's: the route rewrites nothing and keeps no client query), its
// own Host, the processor's body, and the processor's method where the
// integration has one, else the client's; the client the processor's
// response, made from the backend's whole answer. A proxied route to the
// same backend shares the cluster and never calls ext_proc.
func TestEnvoyTransformsHTTPIntegration(t *testing.T) {
	bin := testenvoy.Binary(t)
	rec := &functionStandIn{} // records what the backend got; answers 200 JSON
	backend := httptest.NewServer(rec)
	t.Cleanup(backend.Close)
	routes := &routeLog{}
	_, servicesAddr := serveProcStandIn(t, httpProcessor(routes))
	backendHost := strings.TrimPrefix(backend.URL, "http://")
	gateway := startLiveGateway(t, bin, "http.yaml", backendHost, servicesAddr)

	tests := map[string]struct {
		method, path, body string
		route              string // the route ext_proc is asked about; empty for none
		wantMethod         string // what the backend gets
		wantURI            string
	}{
		"GET with a client query":         {method: http.MethodGet, path: "/prod/pets/42?client=1&trace=9", route: "pets", wantMethod: http.MethodGet, wantURI: standInTarget},
		"POST with a body":                {method: http.MethodPost, path: "/prod/pets/42", body: `{"name":"rex"}`, route: "pets", wantMethod: http.MethodPost, wantURI: standInTarget},
		"DELETE keeps the client's":       {method: http.MethodDelete, path: "/prod/pets/9?x=%2F", route: "pets", wantMethod: http.MethodDelete, wantURI: standInTarget},
		"body over 1 MiB":                 {method: http.MethodPut, path: "/prod/pets/big", body: strings.Repeat("x", 3<<20), route: "pets", wantMethod: http.MethodPut, wantURI: standInTarget},
		"integration method, no body":     {method: http.MethodGet, path: "/prod/adopt?client=1", route: "adopt", wantMethod: http.MethodPut, wantURI: standInTarget},
		"integration method, with a body": {method: http.MethodPost, path: "/prod/adopt", body: `{"a":1}`, route: "adopt", wantMethod: http.MethodPut, wantURI: standInTarget},
		"proxied route, same cluster":     {method: http.MethodGet, path: "/prod/proxied?q=1", wantMethod: http.MethodGet, wantURI: "/proxied?q=1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, data := send(t, gateway, tc.method, "livehttp01.execute-api.localhost", tc.path, tc.body, nil)
			seen, asked := rec.take(), routes.take()
			if len(seen) != 1 {
				t.Fatalf("the backend got %d requests, want 1 (client got %d %.200q)", len(seen), resp.StatusCode, data)
			}
			got := seen[0]
			if got.method != tc.wantMethod || got.uri != tc.wantURI || got.host != backendHost {
				t.Errorf("backend got %s %s (Host %s), want %s %s (Host %s)", got.method, got.uri, got.host, tc.wantMethod, tc.wantURI, backendHost)
			}
			if tc.route == "" {
				if len(asked) != 0 {
					t.Errorf("ext_proc was asked about %v, want not at all", asked)
				}
				return
			}
			if len(asked) != 1 || asked[0].RouteID != tc.route {
				t.Errorf("ext_proc was asked about %v, want once about %s", asked, tc.route)
			}
			if want := standInMapped(len(tc.body)); got.body != want || got.header.Get("Content-Type") != "application/json" {
				t.Errorf("backend got body %.100q (%s), want the processor's %s as application/json", got.body, got.header.Get("Content-Type"), want)
			}
			checkNoClientPath(t, got, tc.path)
			want := standInSelected(http.StatusOK, len(functionResult(0)))
			if resp.StatusCode != http.StatusCreated || string(data) != want {
				t.Errorf("client got %d %.200q, want the processor's 201 %s", resp.StatusCode, data, want)
			}
		})
	}
}
