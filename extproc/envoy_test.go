package extproc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
	"github.com/archway-gateway/archway/internal/testutil/testnet"
)

// liveMaxBody is the Server's body limit in the live test, far under
// Envoy's buffer limit, so that the Server's own 413 answers.
const liveMaxBody = 1024

// liveProcessors are the processors of the live test's routes, by route ID
// (see testdata/envoy.yaml).
func liveProcessors() map[string]Processor {
	return map[string]Processor{
		"request-body": Funcs{
			Modes: Mode{RequestBody: true},
			OnRequest: func(_ context.Context, x *Exchange) (*Decision, error) {
				if x.Route.APIID != "a1" || x.Route.Stage != "prod" {
					return nil, errors.New("route metadata did not arrive")
				}
				body := append(append([]byte(`{"wrapped":`), x.Body...), '}')
				return &Decision{
					Set:         []HeaderOp{{Name: "x-archway-test", Value: "rewritten"}},
					ReplaceBody: true, Body: body,
				}, nil
			},
		},
		"add-body": Funcs{
			Modes: Mode{RequestBody: true},
			OnRequest: func(context.Context, *Exchange) (*Decision, error) {
				return &Decision{ReplaceBody: true, Body: []byte(`{"added":true}`)}, nil
			},
		},
		"response-body": Funcs{
			Modes: Mode{ResponseBody: true},
			OnResponse: func(_ context.Context, x *Exchange) (*Decision, error) {
				body := []byte("rewritten " + strconv.Itoa(x.Status) + " " + string(x.ResponseBody))
				return &Decision{
					Status:      201,
					Set:         []HeaderOp{{Name: "x-archway-test", Value: "response"}},
					ReplaceBody: true, Body: body,
				}, nil
			},
		},
		"response-status": Funcs{
			Modes: Mode{ResponseHeaders: true},
			OnResponse: func(context.Context, *Exchange) (*Decision, error) {
				return &Decision{Status: 202, Set: []HeaderOp{{Name: "x-archway-test", Value: "status"}}}, nil
			},
		},
		"immediate": Funcs{
			OnRequest: func(context.Context, *Exchange) (*Decision, error) {
				return Respond(400, Headers{{Name: "content-type", Value: "application/json"}, {Name: "x-amzn-errortype", Value: "BadRequestException"}},
					[]byte(`{"message": "Invalid request body"}`)), nil
			},
		},
		"too-long": Funcs{Modes: Mode{RequestBody: true}},
		"local-reply": Funcs{
			Modes:      Mode{ResponseHeaders: true},
			OnResponse: describeLocalReply,
		},
		"local-reply-exchange": Funcs{
			Modes:      Mode{RequestBody: true, ResponseBody: true},
			OnResponse: describeLocalReply,
		},
		"error": Funcs{
			OnRequest: func(context.Context, *Exchange) (*Decision, error) {
				return nil, errors.New("template failed")
			},
		},
	}
}

// describeLocalReply answers Envoy's own reply with what the Server
// told the processor about it, as 599 and a JSON body, and lets the
// backend's response through.
func describeLocalReply(_ context.Context, x *Exchange) (*Decision, error) {
	if x.LocalReply == "" {
		return nil, nil
	}
	body, err := json.Marshal(localReplySeen{
		Type: string(LocalReplyType(x.LocalReply, x.Status)), Details: x.LocalReply,
		Method: x.Method, Path: x.Path, Accept: x.Headers.Get("accept"), RequestID: x.Headers.Get("x-request-id"),
	})
	return Respond(599, Headers{{Name: "content-type", Value: "application/json"}}, body), err
}

// localReplySeen is what describeLocalReply answers.
type localReplySeen struct {
	Type, Details, Method, Path, Accept, RequestID string
}

// echo is what the live test's backend answers: what it received.
type echo struct {
	Method        string `json:"method"`
	Body          string `json:"body"`
	ContentLength int64  `json:"contentLength"`
	Test          string `json:"test"`
}

// echoBackend answers every request with an echo, except /response-body
// and /response-status, which answer "original", and /local-timeout,
// which does not answer.
func echoBackend(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/local-timeout" {
		<-r.Context().Done() // never answers within the route's timeout
		return
	}
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/response-body" || r.URL.Path == "/response-status" {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("original"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(echo{Method: r.Method, Body: string(body), ContentLength: r.ContentLength, Test: r.Header.Get("X-Archway-Test")})
}

// TestEnvoyAcceptsResponses runs the real Envoy with an ext_proc filter in
// front of a backend, and the Server behind it, and checks that Envoy
// carries out each kind of answer the Server gives.
func TestEnvoyAcceptsResponses(t *testing.T) {
	bin := testenvoy.Binary(t)
	procs := liveProcessors()
	s := New(Options{
		Lookup:  func(r RouteMetadata) Processor { return procs[r.RouteID] },
		MaxBody: liveMaxBody,
	})
	extprocAddr := serveGRPC(t, s)
	backend := httptest.NewServer(http.HandlerFunc(echoBackend))
	t.Cleanup(backend.Close)
	gateway := testnet.ClosedAddr(t)
	runEnvoy(t, bin, map[string]string{
		"GATEWAY_PORT": port(t, gateway), "EXTPROC_PORT": port(t, extprocAddr), "BACKEND_PORT": port(t, backend.Listener.Addr().String()),
		"REFUSED_PORT": port(t, testnet.ClosedAddr(t)),
	})
	waitForGateway(t, gateway)

	t.Run("request body rewritten reaches the backend", func(t *testing.T) {
		resp, body := do(t, gateway, "POST", "/request-body", `{"a":1}`)
		got := decodeEcho(t, resp, body)
		want := `{"wrapped":{"a":1}}`
		if got.Body != want || got.ContentLength != int64(len(want)) || got.Test != "rewritten" {
			t.Errorf("backend got %+v, want body %s with its length and x-archway-test", got, want)
		}
	})
	t.Run("body added to a request without one", func(t *testing.T) {
		resp, body := do(t, gateway, "GET", "/add-body", "")
		if got := decodeEcho(t, resp, body); got.Body != `{"added":true}` {
			t.Errorf("backend got %+v", got)
		}
	})
	t.Run("response body and status rewritten reach the client", func(t *testing.T) {
		resp, body := do(t, gateway, "GET", "/response-body", "")
		if resp.StatusCode != 201 || string(body) != "rewritten 200 original" || resp.Header.Get("X-Archway-Test") != "response" {
			t.Errorf("got %d %q %v", resp.StatusCode, body, resp.Header)
		}
		if resp.ContentLength != -1 && resp.ContentLength != int64(len(body)) {
			t.Errorf("content-length %d for a body of %d bytes", resp.ContentLength, len(body))
		}
	})
	t.Run("status changed in the response headers", func(t *testing.T) {
		resp, body := do(t, gateway, "GET", "/response-status", "")
		if resp.StatusCode != 202 || string(body) != "original" || resp.Header.Get("X-Archway-Test") != "status" {
			t.Errorf("got %d %q %v", resp.StatusCode, body, resp.Header)
		}
	})
	for name, c := range map[string]struct {
		method, path, body string
		status             int
		wantBody           string
		contentType        string
		errorType          string
	}{
		"immediate response reaches the client": {
			"POST", "/immediate", "{}", 400, `{"message": "Invalid request body"}`, "application/json", "BadRequestException",
		},
		"body over the limit": {
			"POST", "/too-long", strings.Repeat("x", liveMaxBody+1), 413, bodyRequestTooLong, "application/json", "",
		},
		"processor error": {
			"GET", "/error", "", 500, bodyInternalError, "application/json", errorTypeInternal,
		},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := do(t, gateway, c.method, c.path, c.body)
			if resp.StatusCode != c.status || string(body) != c.wantBody {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, c.status, c.wantBody)
			}
			if ct, et := resp.Header.Get("Content-Type"), resp.Header.Get("X-Amzn-Errortype"); ct != c.contentType || et != c.errorType {
				t.Errorf("content-type %q, x-amzn-errortype %q; want %q, %q", ct, et, c.contentType, c.errorType)
			}
		})
	}
	t.Run("envoy's own replies", func(t *testing.T) { checkLocalReplies(t, gateway) })
	t.Run("route without a processor passes unchanged", func(t *testing.T) {
		resp, body := do(t, gateway, "POST", "/unknown", "as sent")
		if got := decodeEcho(t, resp, body); got.Body != "as sent" || got.Method != "POST" {
			t.Errorf("backend got %+v", got)
		}
	})
}

// checkLocalReplies checks that the Server tells processors which
// responses Envoy made itself, and what the request was on a stream Envoy
// opened at the response, and that a Reply decided on Envoy's own reply
// reaches the client.
func checkLocalReplies(t *testing.T, gateway string) {
	for name, c := range map[string]struct {
		method, path, body string
		want               localReplySeen // zero: the backend's response passes
	}{
		"route timeout": {method: "GET", path: "/local-timeout?q=1", want: localReplySeen{
			Type: "INTEGRATION_TIMEOUT", Details: "response_timeout", Method: "GET", Path: "/local-timeout?q=1", Accept: "application/json",
		}},
		"connection refused": {method: "POST", path: "/local-refused", body: "{}", want: localReplySeen{
			Type:    "INTEGRATION_FAILURE",
			Details: "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}",
			Method:  "POST", Path: "/local-refused", Accept: "application/json",
		}},
		"body over envoy's buffer limit": {method: "POST", path: "/local-too-long", body: strings.Repeat("x", 2<<20), want: localReplySeen{
			Type: "REQUEST_TOO_LARGE", Details: "request_payload_too_large", Method: "POST", Path: "/local-too-long", Accept: "application/json",
		}},
		"backend's response": {method: "GET", path: "/local-ok"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, body := doAccept(t, gateway, c.method, c.path, c.body, "application/json")
			if c.want == (localReplySeen{}) {
				decodeEcho(t, resp, body)
				return
			}
			var got localReplySeen
			if resp.StatusCode != 599 || json.Unmarshal(body, &got) != nil {
				t.Fatalf("got %d %.200s, want the processor's 599", resp.StatusCode, body)
			}
			if got.RequestID == "" {
				t.Error("the processor got no x-request-id")
			}
			got.RequestID = ""
			if got != c.want {
				t.Errorf("processor saw %+v, want %+v", got, c.want)
			}
			if et := resp.Header.Get("X-Amzn-Errortype"); et != "" {
				t.Errorf("x-amzn-errortype %q left from Envoy's reply", et)
			}
		})
	}
}

// serveGRPC serves s on a loopback port until the test ends and returns
// the address.
func serveGRPC(t testing.TB, s *Server) string {
	t.Helper()
	g := grpc.NewServer(s.ServerOptions()...)
	s.Register(g)
	return serveOn(t, g)
}

// serveOn serves g on a loopback port until the test ends and returns the
// address.
func serveOn(t testing.TB, g *grpc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

// runEnvoy runs Envoy on testdata/envoy.yaml, with the ports of vars put
// in, until the test ends.
func runEnvoy(t *testing.T, bin string, vars map[string]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "envoy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(data)
	for k, v := range vars {
		cfg = strings.ReplaceAll(cfg, k, v)
	}
	path := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-c", path, "--disable-hot-restart", "--concurrency", "1",
		"--base-id-path", filepath.Join(t.TempDir(), "base-id"), "--use-dynamic-base-id", "--log-level", "warn")
	logs := testenvoy.LogWriter(t, "envoy: ")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
}

// port returns the port of addr.
func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitForGateway polls until Envoy's listener answers, for at most a
// minute: Envoy takes a moment to start, longer on a loaded machine.
func waitForGateway(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := client().Get("http://" + addr + "/")
		if err == nil {
			_ = resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Envoy does not answer on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do sends one request through the gateway and reads the whole answer.
func do(t *testing.T, gateway, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	return doAccept(t, gateway, method, path, body, "")
}

// doAccept is do with an Accept header, unless accept is empty.
func doAccept(t *testing.T, gateway, method, path, body, accept string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequest(method, "http://"+gateway+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
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

// decodeEcho reads the backend's echo from a 200 answer.
func decodeEcho(t *testing.T, resp *http.Response, body []byte) echo {
	t.Helper()
	var e echo
	if resp.StatusCode != 200 {
		t.Fatalf("got %d %s, want the backend's 200", resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("backend answer %s: %v", body, err)
	}
	return e
}

// client talks to the gateway directly, whatever proxy the environment
// names.
func client() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 30 * time.Second}
}
