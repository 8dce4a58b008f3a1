package integration

import (
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/model"
)

// Response code details of Envoy's own replies, as Envoy 1.40 sends them.
const (
	detailsTimeout        = "response_timeout"
	detailsConnectFailure = "upstream_reset_before_response_started{remote_connection_failure}"
)

// serveConfig serves the processors of cfg.
func serveConfig(t *testing.T, cfg *model.Config) extprocv3.ExternalProcessorClient {
	t.Helper()
	var h configHolder
	h.p.Store(cfg)
	return serve(t, h.current, Options{Now: fixedNow})
}

// customized returns cfg with its one API's gateway responses set to rs.
func customized(cfg *model.Config, rs map[string]*model.GatewayResponse) *model.Config {
	cfg.APIs[0].GatewayResponses = rs
	return cfg
}

// TestFunctionEnvoyReplies checks what the client gets when Envoy answers
// a function route itself (the function timed out or could not be
// reached) and when the function fails, with API Gateway's defaults and
// with an API's gateway responses.
func TestFunctionEnvoyReplies(t *testing.T) {
	envoyTimeout := functionResult{504, [][2]string{{"content-type", "application/json"}}, `{"message":"Endpoint request timed out"}`}
	envoyFailure := functionResult{504, [][2]string{{"content-type", "application/json"}}, `{"message":"Network error communicating with endpoint"}`}
	default5xx := map[string]*model.GatewayResponse{"DEFAULT_5XX": {
		Headers:   map[string]string{"gatewayresponse.header.x-request-id": "context.requestId"},
		Templates: map[string]string{"application/json": `{"err": "$context.error.responseType: $context.error.message"}`},
	}}
	tests := map[string]struct {
		responses  map[string]*model.GatewayResponse
		fn         functionResult
		details    string
		status     int
		body       string
		headerName string
		header     string
	}{
		"timeout, API Gateway's answer": {
			fn: envoyTimeout, details: detailsTimeout,
			status: 504, body: `{"message":"Endpoint request timed out"}`,
			headerName: "x-amzn-errortype", header: "InternalServerErrorException",
		},
		"timeout, the API's INTEGRATION_TIMEOUT": {
			responses: map[string]*model.GatewayResponse{"INTEGRATION_TIMEOUT": {StatusCode: 503, Templates: map[string]string{
				"application/json": `{"late": "$context.error.message", "route": "$context.resourcePath", "id": "$input.params('id')"}`,
			}}},
			fn: envoyTimeout, details: detailsTimeout,
			status: 503, body: `{"late": "Endpoint request timed out", "route": "/pets/{id}", "id": "7"}`,
			headerName: "content-type", header: "application/json",
		},
		"connection failure, the API's DEFAULT_5XX": {
			responses: default5xx, fn: envoyFailure, details: detailsConnectFailure,
			status: 504, body: `{"err": "INTEGRATION_FAILURE: Network error communicating with endpoint"}`,
			headerName: "x-request-id", header: "req-1",
		},
		"malformed result, API Gateway's answer": {
			fn: functionResult{200, nil, `not json`}, status: 502, body: `{"message": "Internal server error"}`,
			headerName: "content-type", header: "application/json",
		},
		"malformed result, the API's DEFAULT_5XX keeps 502": {
			responses: default5xx, fn: functionResult{200, nil, `not json`},
			status: 502, body: `{"err": "DEFAULT_5XX: Internal server error"}`,
			headerName: "x-request-id", header: "req-1",
		},
		"the function's own 504 is a failed invocation": {
			fn: functionResult{504, nil, `gateway timeout`}, status: 502, body: `{"message": "Internal server error"}`,
			headerName: "content-type", header: "application/json",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := customized(functionConfig(t, model.ProtocolREST, model.MethodAny, ""), tc.responses)
			c := serveConfig(t, cfg)
			req := request{"GET", "/test/pets/7", [][2]string{{"x-request-id", "req-1"}, {"accept", "application/json"}}, ""}
			_, got := invokeReply(t, c, req, tc.fn, tc.details)
			if got.status != tc.status || got.body != tc.body || got.headers.Get(tc.headerName) != tc.header {
				t.Errorf("client got %d %v %s\nwant %d %s: %s, body %s", got.status, got.headers, got.body,
					tc.status, tc.headerName, tc.header, tc.body)
			}
		})
	}
}

// proxyConfig is a Config of one REST API whose stage "test" proxies
// GET /pets/{id} (route r1) to a backend.
func proxyConfig(t *testing.T) *model.Config {
	t.Helper()
	path, err := model.ParsePathTemplate("/pets/{id}")
	if err != nil {
		t.Fatal(err)
	}
	in := &model.Integration{ID: "i1", Name: "pets", HTTPProxy: &model.HTTPProxy{URI: "http://127.0.0.1:9000/pets/{id}", Timeout: model.DefaultTimeout}}
	dep, err := model.NewDeployment("d1", []*model.Route{{ID: "r1", Method: "GET", Path: path, Integration: in}}, []*model.Integration{in})
	if err != nil {
		t.Fatal(err)
	}
	return apiConfig(t, model.ProtocolREST, &model.Stage{Name: "test", Deployment: dep})
}

// TestProxyEnvoyReplies checks a proxied route of an API that customizes
// Envoy's replies: Envoy opens the stream at the response, with the
// request in its attributes; its own replies get the API's gateway
// response, the backend's responses pass unchanged.
func TestProxyEnvoyReplies(t *testing.T) {
	responses := map[string]*model.GatewayResponse{"INTEGRATION_FAILURE": {
		StatusCode: 502,
		Headers:    map[string]string{"gatewayresponse.header.x-request-id": "context.requestId"},
		Templates: map[string]string{
			"application/json": `{"down": "$context.error.message", "method": "$context.httpMethod", "path": "$context.path"}`,
			"text/plain":       `down`,
		},
	}}
	plain := NewLookup(func() *model.Config { return proxyConfig(t) }, Options{})
	if p := plain(route1); p != nil {
		t.Fatalf("a proxied route of an API without gateway responses got processor %T", p)
	}
	cfg := customized(proxyConfig(t), responses)
	if m := NewLookup(func() *model.Config { return cfg }, Options{})(route1).Mode(); m != (extproc.Mode{SkipRequest: true, ResponseHeaders: true}) {
		t.Fatalf("processor mode %+v, want the response headers only", m)
	}
	c := serveConfig(t, cfg)
	reqAttrs := [][2]string{
		{extproc.AttrMethod, "GET"},
		{extproc.AttrPath, "/v1/pets/7?x=1"},
		{extproc.AttrHost, "api1.example.com"},
		{extproc.AttrRequestID, "req-9"},
		{"request.headers['accept']", "application/json"},
	}
	tests := map[string]struct {
		fn      functionResult
		details string
		status  int
		body    string
		id      string
	}{
		"Envoy's connection failure": {
			fn:      functionResult{504, [][2]string{{"content-type", "application/json"}}, ""},
			details: detailsConnectFailure, status: 502, id: "req-9",
			body: `{"down": "Network error communicating with endpoint", "method": "GET", "path": ""}`,
		},
		"Envoy's timeout keeps API Gateway's answer": {
			fn:      functionResult{504, [][2]string{{"content-type", "application/json"}}, ""},
			details: detailsTimeout, status: 504,
			body: `{"message":"Endpoint request timed out"}`,
		},
		"the backend's 503 passes": {
			fn:     functionResult{503, [][2]string{{"content-type", "text/plain"}}, ""},
			status: 503, body: "",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := respondOnly(t, c, route1, tc.fn, tc.details, reqAttrs...)
			if got.status != tc.status || got.body != tc.body || got.headers.Get("x-request-id") != tc.id {
				t.Errorf("client got %d %v %s; want %d %s (x-request-id %q)", got.status, got.headers, got.body, tc.status, tc.body, tc.id)
			}
		})
	}
}

// respondOnly is the stream Envoy opens at the response on a route whose
// mode skips the request: the response headers alone, with the filter's
// attributes.
func respondOnly(t *testing.T, c extprocv3.ExternalProcessorClient, md extproc.RouteMetadata, fn functionResult, details string, attrs ...[2]string) clientResponse {
	t.Helper()
	return respond(t, openStream(t, c, md), fn, details, attrs...)
}

// TestNotFoundReplies checks the answer to requests no route of an API
// matches when the API customizes it: rendered for the request, on a
// stage or on none.
func TestNotFoundReplies(t *testing.T) {
	cfg := customized(proxyConfig(t), map[string]*model.GatewayResponse{"MISSING_AUTHENTICATION_TOKEN": {
		StatusCode: 404,
		Templates:  map[string]string{"application/json": `{"message": "no $context.httpMethod $context.path", "stage": "$context.stage"}`},
	}})
	c := serveConfig(t, cfg)
	tests := map[string]struct {
		stage, path, body string
	}{
		"a stage's":  {"test", "/test/nothing", `{"message": "no GET /test/nothing", "stage": "test"}`},
		"no stage's": {"", "/other/thing", `{"message": "no GET /other/thing", "stage": ""}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			md := extproc.RouteMetadata{APIID: "api1", Stage: tc.stage, RouteID: model.NotFoundRouteID}
			got := send(t, c, md, request{method: "GET", path: tc.path})
			if got.status != 404 || got.body != tc.body || got.headers["x-amzn-errortype"] != "MissingAuthenticationTokenException" {
				t.Errorf("got %+v, want 404 %s", got, tc.body)
			}
		})
	}
	plain := NewLookup(func() *model.Config { return proxyConfig(t) }, Options{})
	if p := plain(extproc.RouteMetadata{APIID: "api1", Stage: "test", RouteID: model.NotFoundRouteID}); p != nil {
		t.Errorf("an API without gateway responses got not-found processor %T", p)
	}
}

// TestThrottledReplies checks a throttled proxy route of an API that
// customizes THROTTLED only: its responses reach the processor (and the
// route without a throttle has none), and the rate-limit filter's 429
// becomes the API's THROTTLED with the filter's rate-limit headers kept.
func TestThrottledReplies(t *testing.T) {
	cfg := customized(proxyConfig(t), map[string]*model.GatewayResponse{"THROTTLED": {
		Templates: map[string]string{"application/json": `{"slow": "$context.error.message"}`},
	}})
	if p := NewLookup(func() *model.Config { return cfg }, Options{})(route1); p != nil {
		t.Fatalf("a route without a throttle got processor %T", p)
	}
	cfg = customized(proxyConfig(t), cfg.APIs[0].GatewayResponses)
	cfg.APIs[0].Stages[0].Throttle = &model.Throttle{Rate: 1, Burst: 1}
	c := serveConfig(t, cfg)
	limited := functionResult{429, [][2]string{
		{"content-type", "application/json"}, {"x-ratelimit-limit", "1"}, {"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1"},
	}, ""}
	got := respondOnly(t, c, route1, limited, "request_rate_limited", [2]string{extproc.AttrMethod, "GET"})
	if got.status != 429 || got.body != `{"slow": "Too Many Requests"}` ||
		got.headers.Get("x-ratelimit-limit") != "1" || got.headers.Get("x-ratelimit-reset") != "1" ||
		got.headers.Get("x-amzn-errortype") != "TooManyRequestsException" {
		t.Errorf("client got %d %v %s; want the API's THROTTLED with the rate-limit headers", got.status, got.headers, got.body)
	}
}
