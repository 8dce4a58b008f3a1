package testinvoke_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/archway-gateway/archway/internal/admin"
	"github.com/archway-gateway/archway/internal/testinvoke"
	"github.com/archway-gateway/archway/internal/testutil/testnet"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// seen is what a backend received.
type seen struct {
	method, target, host string
	header               http.Header
	body                 string
}

// recorder is a real HTTP backend that records the requests it gets and
// answers each with answer.
type recorder struct {
	mu       sync.Mutex
	requests []seen
	answer   http.HandlerFunc
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.requests = append(rec.requests, seen{method: r.Method, target: r.RequestURI, host: r.Host, header: r.Header.Clone(), body: string(b)})
	rec.mu.Unlock()
	r.Body = io.NopCloser(strings.NewReader(string(b)))
	rec.answer(w, r)
}

func (rec *recorder) got() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.requests)
}

// startBackend serves answer on a loopback port and returns its recorder
// and base URL.
func startBackend(t *testing.T, answer http.HandlerFunc) (*recorder, string) {
	t.Helper()
	rec := &recorder{answer: answer}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

// echo answers with a JSON document of what it got.
func echo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Backend", "echo")
	_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "target": r.RequestURI})
}

// emulator answers as the Lambda Runtime Interface Emulator does for a
// function returning a proxy result built from the event it got.
func emulator(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/2015-03-31/functions/function/invocations" || r.Method != http.MethodPost {
		http.Error(w, "not an invocation", http.StatusNotFound)
		return
	}
	var event struct {
		Resource       string            `json:"resource"`
		Path           string            `json:"path"`
		PathParameters map[string]string `json:"pathParameters"`
		RequestContext struct {
			Stage    string `json:"stage"`
			Identity struct {
				SourceIP string `json:"sourceIp"`
			} `json:"identity"`
		} `json:"requestContext"`
	}
	if err := json.NewDecoder(r.Body).Decode(&event); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body, _ := json.Marshal(map[string]string{
		"resource": event.Resource, "path": event.Path, "id": event.PathParameters["id"],
		"stage": event.RequestContext.Stage, "sourceIp": event.RequestContext.Identity.SourceIP,
	})
	_ = json.NewEncoder(w).Encode(map[string]any{
		"statusCode": 201, "headers": map[string]string{"X-Fn": "yes", "Content-Type": "application/json"}, "body": string(body),
	})
}

// invocation is a test request of route GET /pets/{id} of a REST API
// whose integration is in.
func invocation(in *adminv1.Integration, target string) *admin.TestInvocation {
	in.Id, in.Name = "int0000001", "pets"
	return &admin.TestInvocation{
		API:         &adminv1.Api{Id: "api0000001", Name: "shop", Protocol: adminv1.Protocol_PROTOCOL_REST},
		Route:       &adminv1.Route{Id: "rte0000001", Method: "GET", Path: "/pets/{id}", IntegrationId: in.GetId()},
		Integration: in, Stage: admin.TestInvokeStageName, Method: "GET", PathWithQueryString: target,
		Headers: []*adminv1.HeaderValue{{Name: "Accept", Value: "application/json"}, {Name: "X-Client", Value: "c1"}},
	}
}

// stepNames lists the names of resp's steps.
func stepNames(resp *adminv1.TestInvokeRouteResponse) []string {
	var names []string
	for _, s := range resp.GetSteps() {
		names = append(names, s.GetName())
	}
	return names
}

// step returns resp's step of the name, failing the test without one.
func step(t *testing.T, resp *adminv1.TestInvokeRouteResponse, name string) *adminv1.TestInvokeStep {
	t.Helper()
	for _, s := range resp.GetSteps() {
		if s.GetName() == name {
			return s
		}
	}
	t.Fatalf("no step %q in %v", name, stepNames(resp))
	return nil
}

// header returns the first value of name in hs.
func header(hs []*adminv1.HeaderValue, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.GetName(), name) {
			return h.GetValue()
		}
	}
	return ""
}

func newInvoker() *testinvoke.Invoker {
	return testinvoke.New(testinvoke.Options{Now: func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) }})
}

var (
	proxySteps    = []string{"method request", "endpoint request", "endpoint response", "method response"}
	validateSteps = []string{"method request", "request validation", "method response"}
)

func TestInvokeHTTPProxy(t *testing.T) {
	rec, url := startBackend(t, echo)
	in := &adminv1.Integration{Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{
		Uri: url + "/v1/${stageVariables.version}/pets/{id}",
	}}}
	inv := invocation(in, "/pets/a%20b?x=1&y=2")
	inv.StageVariables = map[string]string{"version": "2"}
	resp, err := newInvoker().TestInvoke(t.Context(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if got := stepNames(resp); !slices.Equal(got, proxySteps) {
		t.Fatalf("steps %v, want %v", got, proxySteps)
	}
	got := rec.got()
	if len(got) != 1 || got[0].target != "/v1/2/pets/a%20b?x=1&y=2" || got[0].method != "GET" || got[0].header.Get("X-Client") != "c1" ||
		got[0].header.Get("X-Request-Id") == "" || got[0].host != strings.TrimPrefix(url, "http://") {
		t.Fatalf("backend got %+v, want GET /v1/2/pets/a%%20b?x=1&y=2 with the client's header and a request id", got)
	}
	if er := step(t, resp, "endpoint request"); er.GetUrl() != url+"/v1/2/pets/a%20b?x=1&y=2" || er.GetMethod() != "GET" {
		t.Errorf("endpoint request %v", er)
	}
	if resp.GetStatus() != 200 || header(resp.GetHeaders(), "x-backend") != "echo" ||
		!strings.Contains(string(resp.GetBody()), `"target":"/v1/2/pets/a%20b?x=1\u0026y=2"`) {
		t.Errorf("response %d %v %s", resp.GetStatus(), resp.GetHeaders(), resp.GetBody())
	}
	if d := step(t, resp, "method request").GetDetail(); !strings.Contains(d, "path parameters id=a%20b") || !strings.Contains(d, "version=2") {
		t.Errorf("method request detail %q, want the path parameters and stage variables", d)
	}
}

func TestInvokeFunction(t *testing.T) {
	_, url := startBackend(t, emulator)
	in := &adminv1.Integration{Kind: &adminv1.Integration_Function{Function: &adminv1.FunctionIntegration{Uri: url}}}
	resp, err := newInvoker().TestInvoke(t.Context(), invocation(in, "/pets/7?limit=2"))
	if err != nil {
		t.Fatal(err)
	}
	if got := stepNames(resp); !slices.Equal(got, proxySteps) {
		t.Fatalf("steps %v, want %v", got, proxySteps)
	}
	er := step(t, resp, "endpoint request")
	if er.GetMethod() != "POST" || er.GetUrl() != url+"/2015-03-31/functions/function/invocations" ||
		!strings.Contains(string(er.GetBody()), `"resource":"/pets/{id}"`) {
		t.Errorf("endpoint request %s %s %s, want the proxy event POSTed to the invoke path", er.GetMethod(), er.GetUrl(), er.GetBody())
	}
	if ep := step(t, resp, "endpoint response"); ep.GetStatus() != 200 || !strings.Contains(string(ep.GetBody()), `"statusCode":201`) {
		t.Errorf("endpoint response %d %s, want the function's result", ep.GetStatus(), ep.GetBody())
	}
	var body map[string]string
	if err := json.Unmarshal(resp.GetBody(), &body); err != nil {
		t.Fatalf("body %s: %v", resp.GetBody(), err)
	}
	want := map[string]string{"resource": "/pets/{id}", "path": "/pets/7", "id": "7", "stage": "test-invoke-stage", "sourceIp": "test-invoke-source-ip"}
	if resp.GetStatus() != 201 || header(resp.GetHeaders(), "x-fn") != "yes" || !mapsEqual(body, want) {
		t.Errorf("response %d %v %v, want 201 x-fn: yes %v", resp.GetStatus(), resp.GetHeaders(), body, want)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestInvokeHTTPIntegration(t *testing.T) {
	rec, url := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Version", "v9")
		if r.URL.Query().Get("q") == "missing" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":"no such pet"}`)
			return
		}
		_, _ = io.WriteString(w, `{"pet":{"name":"Rex"}}`)
	})
	in := &adminv1.Integration{Kind: &adminv1.Integration_Http{Http: &adminv1.HttpIntegration{
		Uri: url + "/store/{petId}", Method: "POST", Timeout: durationpb.New(5 * time.Second),
		RequestTemplates: map[string]string{"application/json": `{"id": "$input.params('id')", "stage": "$context.stage"}`},
		RequestParameters: map[string]string{
			"integration.request.path.petId":     "method.request.path.id",
			"integration.request.querystring.q":  "method.request.querystring.x",
			"integration.request.header.X-Trace": "'static-trace'",
		},
		IntegrationResponses: []*adminv1.IntegrationResponse{
			{
				StatusCode: 200, ResponseHeaders: map[string]string{"X-Version": "integration.response.header.X-Version"},
				ResponseTemplates: map[string]string{"application/json": `{"name": "$input.path('$.pet.name')"}`},
			},
			{SelectionPattern: `4\d{2}`, StatusCode: 404, ResponseTemplates: map[string]string{"application/json": `{"message": "gone"}`}},
		},
	}}}
	tests := map[string]struct {
		target, wantBackend, wantBody string
		wantStatus                    int
	}{
		"default response":   {target: "/pets/7?x=found", wantBackend: "/store/7?q=found", wantStatus: 200, wantBody: `{"name": "Rex"}`},
		"selected by status": {target: "/pets/8?x=missing", wantBackend: "/store/8?q=missing", wantStatus: 404, wantBody: `{"message": "gone"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := len(rec.got())
			resp, err := newInvoker().TestInvoke(t.Context(), invocation(in, tc.target))
			if err != nil {
				t.Fatal(err)
			}
			if got := stepNames(resp); !slices.Equal(got, proxySteps) {
				t.Fatalf("steps %v, want %v", got, proxySteps)
			}
			got := rec.got()[before:]
			want := `{"id": "` + strings.TrimPrefix(pathOf(tc.wantBackend), "/store/") + `", "stage": "test-invoke-stage"}`
			if len(got) != 1 || got[0].method != "POST" || got[0].target != tc.wantBackend || got[0].body != want ||
				got[0].header.Get("X-Trace") != "static-trace" || got[0].header.Get("X-Client") != "" {
				t.Fatalf("backend got %+v, want POST %s with body %s, X-Trace and no unmapped header", got, tc.wantBackend, want)
			}
			if er := step(t, resp, "endpoint request"); string(er.GetBody()) != want || er.GetUrl() != url+tc.wantBackend {
				t.Errorf("endpoint request %s %s, want the template's output to %s", er.GetUrl(), er.GetBody(), tc.wantBackend)
			}
			if ep := step(t, resp, "endpoint response"); ep.GetStatus() != int32(tc.wantStatus) {
				t.Errorf("endpoint response status %d", ep.GetStatus())
			}
			if resp.GetStatus() != int32(tc.wantStatus) || string(resp.GetBody()) != tc.wantBody {
				t.Errorf("method response %d %s, want %d %s", resp.GetStatus(), resp.GetBody(), tc.wantStatus, tc.wantBody)
			}
			if tc.wantStatus == 200 && header(resp.GetHeaders(), "x-version") != "v9" {
				t.Errorf("method response headers %v, want x-version mapped from the backend", resp.GetHeaders())
			}
			if mr := step(t, resp, "method response"); string(mr.GetBody()) != tc.wantBody || mr.GetStatus() != resp.GetStatus() {
				t.Errorf("method response step %v, want the response", mr)
			}
		})
	}
}

func pathOf(target string) string {
	p, _, _ := strings.Cut(target, "?")
	return p
}

func TestInvokeTemplateMock(t *testing.T) {
	in := &adminv1.Integration{Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{
		RequestTemplates: map[string]string{"application/json": `{"statusCode": #if($input.params('id') == "0")404#{else}200#end}`},
		IntegrationResponses: []*adminv1.IntegrationResponse{
			{
				StatusCode: 200, ResponseHeaders: map[string]string{"X-Mock": "'yes'"},
				ResponseTemplates: map[string]string{"application/json": `{"id": "$input.params('id')", "stage": "$context.stage"}`},
			},
			{SelectionPattern: "404", StatusCode: 404, ResponseTemplates: map[string]string{"application/json": `{"message": "none"}`}},
		},
	}}}
	tests := map[string]struct {
		target, body string
		status       int32
	}{
		"found":   {target: "/pets/7", status: 200, body: `{"id": "7", "stage": "test-invoke-stage"}`},
		"missing": {target: "/pets/0", status: 404, body: `{"message": "none"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, err := newInvoker().TestInvoke(t.Context(), invocation(in, tc.target))
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"method request", "method response"}
			if got := stepNames(resp); !slices.Equal(got, want) {
				t.Fatalf("steps %v, want %v", got, want)
			}
			if resp.GetStatus() != tc.status || string(resp.GetBody()) != tc.body {
				t.Errorf("response %d %s, want %d %s", resp.GetStatus(), resp.GetBody(), tc.status, tc.body)
			}
		})
	}
}

func TestInvokeSimpleMock(t *testing.T) {
	in := &adminv1.Integration{Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{
		StatusCode: 202, Headers: map[string]string{"X-Mock": "static"}, Body: "accepted",
	}}}
	resp, err := newInvoker().TestInvoke(t.Context(), invocation(in, "/pets/1"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"method request", "endpoint response", "method response"}
	if got := stepNames(resp); !slices.Equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	if resp.GetStatus() != 202 || string(resp.GetBody()) != "accepted" || header(resp.GetHeaders(), "x-mock") != "static" ||
		header(resp.GetHeaders(), "content-type") != "application/json" {
		t.Errorf("response %d %v %s", resp.GetStatus(), resp.GetHeaders(), resp.GetBody())
	}
}

func TestInvokeValidation(t *testing.T) {
	rec, url := startBackend(t, echo)
	in := &adminv1.Integration{Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{Uri: url + "/pets/{id}"}}}
	validation := &adminv1.RequestValidation{
		ValidateParameters: true, ValidateBody: true,
		RequiredParameters: []string{"method.request.querystring.owner"},
		BodyModels: map[string]string{"application/json": `{"type": "object", "required": ["name"],
			"properties": {"name": {"type": "string"}}}`},
	}
	tests := map[string]struct {
		target, body string
		wantSteps    []string
		wantStatus   int32
		wantDetail   string
		calls        int
	}{
		"missing parameter": {
			target: "/pets/1", body: `{"name": "Rex"}`, wantSteps: validateSteps, wantStatus: 400,
			wantDetail: `kind=BAD_REQUEST_PARAMETERS message="Missing required request parameters: [owner]"`,
		},
		"invalid body": {
			target: "/pets/1?owner=me", body: `{"name": 7}`, wantSteps: validateSteps, wantStatus: 400,
			wantDetail: `kind=BAD_REQUEST_BODY message="Invalid request body" validation_error="[instance type (integer)`,
		},
		"valid": {
			target: "/pets/1?owner=me", body: `{"name": "Rex"}`, wantStatus: 200, calls: 1,
			wantSteps: []string{"method request", "request validation", "endpoint request", "endpoint response", "method response"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := len(rec.got())
			inv := invocation(in, tc.target)
			inv.Method, inv.Route.Method = "POST", "POST"
			inv.Route.RequestValidation = validation
			inv.Headers = append(inv.Headers, &adminv1.HeaderValue{Name: "Content-Type", Value: "application/json"})
			inv.Body = []byte(tc.body)
			resp, err := newInvoker().TestInvoke(t.Context(), inv)
			if err != nil {
				t.Fatal(err)
			}
			if got := stepNames(resp); !slices.Equal(got, tc.wantSteps) {
				t.Fatalf("steps %v, want %v", got, tc.wantSteps)
			}
			if resp.GetStatus() != tc.wantStatus {
				t.Errorf("status %d %s, want %d", resp.GetStatus(), resp.GetBody(), tc.wantStatus)
			}
			v := step(t, resp, "request validation")
			if tc.wantDetail != "" && (v.GetStatus() != 400 || !strings.Contains(v.GetDetail(), tc.wantDetail)) {
				t.Errorf("request validation step %v, want 400 and %q", v, tc.wantDetail)
			}
			if calls := len(rec.got()) - before; calls != tc.calls {
				t.Errorf("backend called %d times, want %d", calls, tc.calls)
			}
			if tc.calls == 1 && rec.got()[before].body != tc.body {
				t.Errorf("backend got body %q, want the client's %q", rec.got()[before].body, tc.body)
			}
		})
	}
}

func TestInvokeEndpointFailures(t *testing.T) {
	_, slow := startBackend(t, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	closed := "http://" + testnet.ClosedAddr(t)
	tests := map[string]struct {
		in                       *adminv1.Integration
		endpointStatus, wantCode int32
		wantBody                 string
		customized               bool
	}{
		"proxy timeout": {
			in: &adminv1.Integration{Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{
				Uri: slow + "/", Timeout: durationpb.New(50 * time.Millisecond),
			}}},
			endpointStatus: 504, wantCode: 504, wantBody: `{"message":"Endpoint request timed out"}`,
		},
		"proxy unreachable": {
			in:             &adminv1.Integration{Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{Uri: closed + "/"}}},
			endpointStatus: 504, wantCode: 504, wantBody: `{"message":"Network error communicating with endpoint"}`,
		},
		"proxy unreachable, the API's own INTEGRATION_FAILURE": {
			in:             &adminv1.Integration{Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{Uri: closed + "/"}}},
			customized:     true,
			endpointStatus: 504, wantCode: 502, wantBody: `{"failed": "Network error communicating with endpoint"}`,
		},
		"function unreachable, the API's own INTEGRATION_FAILURE": {
			in:             &adminv1.Integration{Kind: &adminv1.Integration_Function{Function: &adminv1.FunctionIntegration{Uri: closed}}},
			customized:     true,
			endpointStatus: 504, wantCode: 502, wantBody: `{"failed": "Network error communicating with endpoint"}`,
		},
		"function unreachable": {
			in:             &adminv1.Integration{Kind: &adminv1.Integration_Function{Function: &adminv1.FunctionIntegration{Uri: closed}}},
			endpointStatus: 504, wantCode: 504, wantBody: `{"message":"Network error communicating with endpoint"}`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			inv := invocation(tc.in, "/pets/1")
			if tc.customized {
				inv.API.GatewayResponses = []*adminv1.GatewayResponse{{
					ResponseType: "INTEGRATION_FAILURE", StatusCode: 502,
					ResponseTemplates: map[string]string{"application/json": `{"failed": "$context.error.message"}`},
				}}
			}
			resp, err := newInvoker().TestInvoke(t.Context(), inv)
			if err != nil {
				t.Fatal(err)
			}
			if ep := step(t, resp, "endpoint response"); ep.GetStatus() != tc.endpointStatus || !strings.Contains(ep.GetDetail(), "Envoy's reply") {
				t.Errorf("endpoint response %v, want Envoy's %d", ep, tc.endpointStatus)
			}
			if resp.GetStatus() != tc.wantCode || !strings.Contains(string(resp.GetBody()), tc.wantBody) {
				t.Errorf("response %d %s, want %d %s", resp.GetStatus(), resp.GetBody(), tc.wantCode, tc.wantBody)
			}
		})
	}
}

func TestInvokeUnservableRoute(t *testing.T) {
	tests := map[string]*adminv1.Integration{
		"undefined stage variable": {Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{
			Uri: "http://${stageVariables.host}/pets",
		}}},
		"unknown path parameter": {Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{
			Uri: "http://127.0.0.1:1/pets/{petId}",
		}}},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := newInvoker().TestInvoke(t.Context(), invocation(in, "/pets/1"))
			if status.Code(err) != codes.FailedPrecondition {
				t.Errorf("error %v, want FAILED_PRECONDITION", err)
			}
		})
	}
}

// TestInvokeResponseOverLimit answers with a body over the invoker's
// MaxBody: a processor that buffers the response (a non-proxy HTTP
// integration) gets none, and the client API Gateway's 500, as from the
// ext_proc Server; a proxied response, which no processor reads, is shown
// cut at the limit.
func TestInvokeResponseOverLimit(t *testing.T) {
	const limit = 16
	_, url := startBackend(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"pet": {"name": "a name longer than the limit"}}`)
	})
	tests := map[string]struct {
		in         *adminv1.Integration
		wantStatus int32
		wantBody   string
	}{
		"response buffered by the processor": {
			in: &adminv1.Integration{Kind: &adminv1.Integration_Http{Http: &adminv1.HttpIntegration{
				Uri: url + "/pets", Method: "GET",
				IntegrationResponses: []*adminv1.IntegrationResponse{{StatusCode: 200}},
			}}},
			wantStatus: 500, wantBody: `{"message":"Internal server error"}`,
		},
		"proxied response": {
			in:         &adminv1.Integration{Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{Uri: url + "/pets"}}},
			wantStatus: 200, wantBody: `{"pet": {"name":`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			iv := testinvoke.New(testinvoke.Options{MaxBody: limit})
			resp, err := iv.TestInvoke(t.Context(), invocation(tc.in, "/pets/1"))
			if err != nil {
				t.Fatal(err)
			}
			if ep := step(t, resp, "endpoint response"); len(ep.GetBody()) != limit || !strings.Contains(ep.GetDetail(), "cut at 16 bytes") {
				t.Errorf("endpoint response %q (%s), want the body cut at %d bytes", ep.GetBody(), ep.GetDetail(), limit)
			}
			if resp.GetStatus() != tc.wantStatus || string(resp.GetBody()) != tc.wantBody {
				t.Errorf("response %d %s, want %d %s", resp.GetStatus(), resp.GetBody(), tc.wantStatus, tc.wantBody)
			}
		})
	}
}

// TestInvokeProcessorFailure runs a template mock whose request template
// gives no statusCode: the processor fails, the client gets API Gateway's
// 500, the step says why, and the invoker's logger gets one error line
// naming the route and phase, without the query string.
func TestInvokeProcessorFailure(t *testing.T) {
	var logs strings.Builder
	iv := testinvoke.New(testinvoke.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	in := &adminv1.Integration{Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{
		RequestTemplates:     map[string]string{"application/json": `{"noStatus": true}`},
		IntegrationResponses: []*adminv1.IntegrationResponse{{StatusCode: 200}},
	}}}
	resp, err := iv.TestInvoke(t.Context(), invocation(in, "/pets/1?secret=s3"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetStatus() != 500 || string(resp.GetBody()) != `{"message":"Internal server error"}` {
		t.Errorf("response %d %s, want API Gateway's 500", resp.GetStatus(), resp.GetBody())
	}
	if d := step(t, resp, "integration request").GetDetail(); !strings.Contains(d, "failed in Archway's ext_proc service") {
		t.Errorf("integration request detail %q, want the failure", d)
	}
	var line struct {
		Level, Msg, Path, Phase string
		RouteID                 string `json:"route_id"`
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &line) != nil || line.Level != "ERROR" ||
		line.RouteID != "rte0000001" || line.Phase != "integration request" || line.Path != "/pets/1" ||
		strings.Contains(lines[0], "s3") {
		t.Errorf("log %q, want one error line naming route rte0000001, its phase and path, not the query", logs.String())
	}
}
