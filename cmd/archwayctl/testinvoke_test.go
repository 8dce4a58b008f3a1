package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"github.com/archway-gateway/archway/internal/admin"
	"github.com/archway-gateway/archway/internal/store/storetest"
	"github.com/archway-gateway/archway/internal/testinvoke"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// startInvokeServer runs the real admin API with the real test invoker
// over an embedded etcd, and a real backend that echoes what it got; it
// defines the API shop with the route GET /pets/{id} to that backend and
// the route POST /echo to the same, and returns the admin API's address
// and the first route.
func startInvokeServer(t *testing.T) (string, *adminv1.Route) {
	t.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"target": r.RequestURI, "client": r.Header.Get("X-Client"), "body": string(b)})
	}))
	t.Cleanup(backend.Close)
	etcd := storetest.New(t)
	srv := grpc.NewServer()
	adminv1.RegisterAdminServiceServer(srv, admin.NewServer(etcd.Store(), admin.Options{TestInvoker: testinvoke.New(testinvoke.Options{})}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	addr := lis.Addr().String()
	mustRun(t, addr, "create", "api", "shop", "--protocol", "rest")
	mustRun(t, addr, "create", "integration", "--api", "shop", "backend", "--http-proxy", backend.URL+"/v1/pets/{id}")
	mustRun(t, addr, "create", "integration", "--api", "shop", "echo", "--http-proxy", backend.URL+"/echo")
	mustRun(t, addr, "create", "route", "--api", "shop", "GET", "/pets/{id}", "--integration", "backend")
	mustRun(t, addr, "create", "route", "--api", "shop", "POST", "/echo", "--integration", "echo")
	api := apiNamed(t, directClient(t, addr, serverOptions{}), "shop")
	routes, err := listRoutes(t.Context(), directClient(t, addr, serverOptions{}), api.GetId())
	check(t, err)
	for _, r := range routes {
		if r.GetMethod() == "GET" {
			return addr, r
		}
	}
	t.Fatal("no GET route")
	return "", nil
}

func TestTestInvokeCommand(t *testing.T) {
	addr, route := startInvokeServer(t)
	tests := map[string]struct {
		args  []string
		stdin string
		want  []string
	}{
		"route by method and path": {
			args: []string{"shop", "GET /pets/{id}", "--path", "/pets/7?x=1", "-H", "X-Client: c1"},
			want: []string{
				"=== method request\nGET /pets/7?x=1\n# route GET /pets/{id} (integration backend, HTTP proxy); stage test-invoke-stage; path parameters id=7\nX-Client: c1\n\n",
				"=== endpoint request\nGET http://", "/v1/pets/7?x=1\n# timeout 29s\nhost: 127.0.0.1:",
				"=== endpoint response\nstatus 200\n",
				"=== method response\nstatus 200\n# the endpoint's response, unchanged\n(the response below)\n\n=== response",
				"=== response: status 200, latency ",
				`{"body":"","client":"c1","target":"/v1/pets/7?x=1"}`,
			},
		},
		"two-word route, body from stdin, stage variable": {
			args:  []string{"shop", "POST", "/echo", "--body-file", "-", "--stage-variable", "a=b"},
			stdin: "hello",
			want:  []string{"=== method request\nPOST /echo\n", "; stage variables a=b\n", `"body":"hello"`, `"target":"/echo"`},
		},
		"route by id": {
			args: []string{"shop", route.GetId(), "--path", "/pets/8", "--body", "x"},
			want: []string{"GET /pets/8\n", `"target":"/v1/pets/8"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, nil, tc.stdin, append([]string{"--addr", addr, "test-invoke"}, tc.args...)...)
			if r.code != exitOK {
				t.Fatalf("exit %d, stderr %s", r.code, r.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.out, w) {
					t.Errorf("output lacks %q:\n%s", w, r.out)
				}
			}
		})
	}
}

func TestTestInvokeJSON(t *testing.T) {
	addr, _ := startInvokeServer(t)
	out := mustRun(t, addr, "test-invoke", "shop", "GET /pets/{id}", "--path", "/pets/9", "-o", "json")
	var resp struct {
		Status int `json:"status"`
		Steps  []struct {
			Name string `json:"name"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if resp.Status != 200 || len(resp.Steps) != 4 || resp.Steps[2].Name != "endpoint response" {
		t.Errorf("response %+v", resp)
	}
}

func TestTestInvokeErrors(t *testing.T) {
	addr, _ := startInvokeServer(t)
	tests := map[string]struct {
		args []string
		code int
		want string
	}{
		"header without a colon": {
			args: []string{"shop", "GET /pets/{id}", "--path", "/pets/1", "-H", "X-Client"},
			code: exitUsage, want: `archwayctl: --header "X-Client": want "Name: value"`,
		},
		"body and body file": {
			args: []string{"shop", "GET /pets/{id}", "--path", "/pets/1", "--body", "a", "--body-file", "f"},
			code: exitUsage, want: "[body body-file] were all set",
		},
		"malformed stage variable": {
			args: []string{"shop", "GET /pets/{id}", "--path", "/pets/1", "--stage-variable", "a"},
			code: exitUsage, want: `--stage-variable "a": want key=value`,
		},
		"no path for a route with parameters": {
			args: []string{"shop", "GET /pets/{id}"},
			code: exitUsage, want: "--path is required: route GET /pets/{id} has path parameters",
		},
		"path of another route": {
			args: []string{"shop", "GET /pets/{id}", "--path", "/cats/1"},
			code: exitFailure, want: "  --path: path \"/cats/1\" does not match the route's path /pets/{id}\n",
		},
		"bad header name": {
			args: []string{"shop", "GET /pets/{id}", "--path", "/pets/1", "-H", "X Y: 1"},
			code: exitFailure, want: "  --header[0].name: must be an HTTP field name",
		},
		"unknown route": {
			args: []string{"shop", "PUT /pets/{id}", "--path", "/pets/1"},
			code: exitFailure, want: `archwayctl: route "PUT /pets/{id}" not found in api shop`,
		},
		"unknown stage": {
			args: []string{"shop", "GET /pets/{id}", "--path", "/pets/1", "--stage", "prod"},
			code: exitFailure, want: "stage prod not found",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := runBinary(t, nil, "", append([]string{"--addr", addr, "test-invoke"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.err, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.err, tc.code, tc.want)
			}
			if r.out != "" {
				t.Errorf("stdout %q, want nothing", r.out)
			}
		})
	}
}

// TestPrintTestInvoke prints steps: a body that is not text is described,
// and the method response is printed once, as the response, only when it
// is the response.
func TestPrintTestInvoke(t *testing.T) {
	final := &adminv1.TestInvokeStep{Name: "method response", Status: 200, Body: []byte("done")}
	tests := map[string]struct {
		resp *adminv1.TestInvokeRouteResponse
		want string
	}{
		"binary body, final method response": {
			resp: &adminv1.TestInvokeRouteResponse{
				Status: 200, Body: []byte("done"), LatencyMs: 3,
				Steps: []*adminv1.TestInvokeStep{
					{Name: "endpoint response", Status: 200, Body: []byte{0xff, 0x00, 0x01}, Detail: "one\ntwo"},
					final,
				},
			},
			want: "=== endpoint response\nstatus 200\n# one\n# two\n\n(3 bytes of binary data)\n\n" +
				"=== method response\nstatus 200\n(the response below)\n\n" +
				"=== response: status 200, latency 3 ms\n\ndone\n\n",
		},
		"method response that is not the response": {
			resp: &adminv1.TestInvokeRouteResponse{
				Status: 500, Body: []byte("failed"),
				Steps: []*adminv1.TestInvokeStep{final},
			},
			want: "=== method response\nstatus 200\n\ndone\n\n=== response: status 500, latency 0 ms\n\nfailed\n\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			if err := printTestInvoke(&b, tc.resp); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("printed\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}
