package translate

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
)

// invocation is what the stand-in function received.
type invocation struct {
	method, uri, host string
	header            http.Header
	body              string
}

// functionStandIn records every request it gets and answers as a Lambda
// function behind the Runtime Interface Emulator does: 200 with the
// function's result as JSON, padded to the size the request's
// X-Result-Bytes asks for.
type functionStandIn struct {
	mu   sync.Mutex
	seen []invocation
}

func (f *functionStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.seen = append(f.seen, invocation{method: r.Method, uri: r.RequestURI, host: r.Host, header: r.Header, body: string(body)})
	f.mu.Unlock()
	n, _ := strconv.Atoi(r.Header.Get("X-Result-Bytes"))
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, functionResult(n))
}

// functionResult is the stand-in function's result with n bytes of
// padding.
func functionResult(n int) string {
	return `{"statusCode":200,"body":"` + strings.Repeat("y", n) + `"}`
}

// take returns and forgets the requests received since the last take.
func (f *functionStandIn) take() []invocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := f.seen
	f.seen = nil
	return seen
}

// standInStatus is the status of the stand-in processor's response.
const standInStatus = 202

// standInEvent is the event the stand-in processor sends for a request
// whose body had n bytes.
func standInEvent(n int) string { return fmt.Sprintf(`{"event":true,"bytes":%d}`, n) }

// standInResponse is the stand-in processor's response body for a
// function result of n bytes.
func standInResponse(n int) string { return fmt.Sprintf(`{"converted":true,"bytes":%d}`, n) }

// functionProcessor stands in for the Lambda-proxy processor: it makes
// every request a POST of a JSON event, dropping the query string (which
// the route's path rewrite keeps), and turns every function result into
// one response that tells its size. It records the routes it is asked
// about in log.
func functionProcessor(log *routeLog) func(extproc.RouteMetadata) extproc.Processor {
	return func(r extproc.RouteMetadata) extproc.Processor {
		log.record(r)
		return extproc.Funcs{
			Modes: extproc.Mode{RequestBody: true, ResponseBody: true},
			OnRequest: func(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
				path, _, _ := strings.Cut(x.Path, "?")
				return &extproc.Decision{
					Set: []extproc.HeaderOp{
						{Name: ":method", Value: http.MethodPost},
						{Name: ":path", Value: path},
						{Name: "content-type", Value: "application/json"},
					},
					ReplaceBody: true,
					Body:        []byte(standInEvent(len(x.Body))),
				}, nil
			},
			OnResponse: func(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
				if x.LocalReply != "" {
					return nil, nil // Envoy's own reply, already API Gateway's default
				}
				return &extproc.Decision{
					Status:      standInStatus,
					Set:         []extproc.HeaderOp{{Name: "content-type", Value: "application/json"}},
					ReplaceBody: true,
					Body:        []byte(standInResponse(len(x.ResponseBody))),
				}, nil
			},
		}
	}
}

// TestEnvoyInvokesFunction runs the real Envoy on a translation of
// testdata/live/function.yaml with a stand-in ext_proc service and a
// stand-in function, and checks what each side of a Lambda-proxy route
// gets: the function a POST of the processor's event to the invoke path,
// with its own Host and without the client's query string, whatever the
// client's method, path and body (up to 10 MB, past the listener's 1 MiB);
// the client the processor's response, made from the whole result (a
// Lambda result may be 6 MB). A body over 10 MB never reaches the
// function. A proxied route to the same backend shares the
// cluster and never calls ext_proc.
func TestEnvoyInvokesFunction(t *testing.T) {
	bin := testenvoy.Binary(t)
	fn := &functionStandIn{}
	backend := httptest.NewServer(fn)
	t.Cleanup(backend.Close)
	routes := &routeLog{}
	_, servicesAddr := serveProcStandIn(t, functionProcessor(routes))
	fnHost := strings.TrimPrefix(backend.URL, "http://")
	gateway := startLiveGateway(t, bin, "function.yaml", fnHost, servicesAddr)

	tests := map[string]struct {
		method, path, body string
		resultBytes        int    // padding of the function's result
		route              string // the route ext_proc is asked about; empty for none
		wantURI            string // what the function sees
	}{
		"POST with a body and a query": {method: http.MethodPost, path: "/prod/items/42?x=1&y=%2F", body: `{"a":1}`, route: "items", wantURI: "/invoke"},
		"GET without a body":           {method: http.MethodGet, path: "/prod/items/42?q=1", route: "items", wantURI: "/invoke"},
		"DELETE":                       {method: http.MethodDelete, path: "/prod/items/7", route: "items", wantURI: "/invoke"},
		"PATCH with a body":            {method: http.MethodPatch, path: "/prod/items/7", body: "a", route: "items", wantURI: "/invoke"},
		"stage root, exact match":      {method: http.MethodGet, path: "/prod/?a=b", route: "root", wantURI: "/invoke"},
		"body over 1 MiB":              {method: http.MethodPut, path: "/prod/items/big", body: strings.Repeat("x", 3<<20), route: "items", wantURI: "/invoke"},
		"body of 10 MB":                {method: http.MethodPost, path: "/prod/items/big", body: strings.Repeat("x", maxRequestBody), route: "items", wantURI: "/invoke"},
		"result of 6 MB":               {method: http.MethodGet, path: "/prod/items/big", resultBytes: 6 << 20, route: "items", wantURI: "/invoke"},
		"proxied route, same cluster":  {method: http.MethodGet, path: "/prod/proxied?q=1", wantURI: "/proxied?q=1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := http.Header{"X-Result-Bytes": {strconv.Itoa(tc.resultBytes)}}
			resp, data := send(t, gateway, tc.method, "livefn0001.execute-api.localhost", tc.path, tc.body, h)
			seen, asked := fn.take(), routes.take()
			if len(seen) != 1 {
				t.Fatalf("the function got %d requests, want 1 (client got %d %.200q)", len(seen), resp.StatusCode, data)
			}
			if tc.route == "" {
				checkProxied(t, seen[0], asked, tc.wantURI, tc.method)
				return
			}
			if len(asked) != 1 || asked[0].RouteID != tc.route {
				t.Errorf("ext_proc was asked about %v, want once about %s", asked, tc.route)
			}
			checkInvocation(t, seen[0], fnHost, tc.wantURI, standInEvent(len(tc.body)))
			checkNoClientPath(t, seen[0], tc.path)
			want := standInResponse(len(functionResult(tc.resultBytes)))
			if resp.StatusCode != standInStatus || string(data) != want {
				t.Errorf("client got %d %.200q, want the processor's %d %s", resp.StatusCode, data, standInStatus, want)
			}
		})
	}

	// Last, for Envoy opens a stream for it before refusing the body. Envoy
	// answers 413, which its local reply mapper makes API Gateway's, and
	// the reply then passes ext_proc's response phase, where the processor
	// sees it as Envoy's own (Exchange.LocalReply) and leaves it.
	resp, data := send(t, gateway, http.MethodPost, "livefn0001.execute-api.localhost", "/prod/items/big", strings.Repeat("x", maxRequestBody+1), nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || string(data) != `{"message":"Request Too Long"}` {
		t.Errorf("body over 10 MB: %d %.100q, want API Gateway's 413", resp.StatusCode, data)
	}
	if seen := fn.take(); len(seen) != 0 {
		t.Errorf("body over 10 MB reached the function %d times", len(seen))
	}
}

// checkInvocation checks that the function got a POST of event to uri,
// with its own Host.
func checkInvocation(t *testing.T, got invocation, host, uri, event string) {
	t.Helper()
	if got.method != http.MethodPost || got.uri != uri || got.host != host {
		t.Errorf("function got %s %s (Host %s), want POST %s (Host %s)", got.method, got.uri, got.host, uri, host)
	}
	if got.body != event || got.header.Get("Content-Type") != "application/json" {
		t.Errorf("function got body %.100q (%s), want the event %s as application/json", got.body, got.header.Get("Content-Type"), event)
	}
}

// checkProxied checks a request the proxied route sent: as the client
// sent it, without ext_proc.
func checkProxied(t *testing.T, got invocation, asked []extproc.RouteMetadata, wantURI, method string) {
	t.Helper()
	if len(asked) != 0 {
		t.Errorf("ext_proc was asked about %v, want not at all", asked)
	}
	if got.method != method || got.uri != wantURI {
		t.Errorf("backend got %s %s, want %s %s", got.method, got.uri, method, wantURI)
	}
}

// checkNoClientPath checks that no header the function got carries the
// client's path (Envoy's x-envoy-original-path, were it not suppressed).
func checkNoClientPath(t *testing.T, got invocation, clientPath string) {
	t.Helper()
	path, _, _ := strings.Cut(clientPath, "?")
	for name, values := range got.header {
		for _, v := range values {
			if strings.Contains(v, path) {
				t.Errorf("function got header %s: %s, which carries the client's path", name, v)
			}
		}
	}
}
