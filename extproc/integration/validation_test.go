package integration

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/internal/model"
)

// petModel is the developer guide's request validation sample model,
// trimmed: a pet needs a name and a type, one of dog or cat.
const petModel = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "type": {"type": "string", "enum": ["dog", "cat"]}
  },
  "required": ["name", "type"]
}`

// validationConfig returns a Config of one REST API with a stage "test"
// whose routes validate requests: v1 (GET /pets/{id}, an HTTP proxy)
// requires a header, its path parameter and a query string; v2 (POST
// /pets, an HTTP proxy) checks JSON bodies against petModel; v3 (POST
// /things) has only a $default model; v4 (POST /mock/{id}, a template
// mock) requires a query string; v5 has a model that does not compile.
func validationConfig(t *testing.T) *model.Config {
	t.Helper()
	proxy := &model.Integration{ID: "i1", Name: "proxy", HTTPProxy: &model.HTTPProxy{URI: "http://127.0.0.1:9000/pets", Timeout: model.DefaultTimeout}}
	mock := &model.Integration{ID: "i2", Name: "mock", Mock: &model.Mock{Templates: &model.MockTemplates{
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`},
		Responses: []model.IntegrationResponse{{StatusCode: 201, Templates: map[string]string{
			"application/json": `{"id": "$input.params('id')", "q": "$input.params('q')"}`,
		}}},
	}}}
	body := func(models map[string]string) *model.Validation { return &model.Validation{Body: true, Models: models} }
	routes := []*model.Route{
		{ID: "v1", Method: "GET", Path: mustPath(t, "/pets/{id}"), Integration: proxy, Validation: &model.Validation{
			Parameters: true, Query: []string{"q"}, Header: []string{"x-client"}, Path: []string{"id"},
		}},
		{ID: "v2", Method: "POST", Path: mustPath(t, "/pets"), Integration: proxy, Validation: body(map[string]string{"application/json": petModel})},
		{ID: "v3", Method: "POST", Path: mustPath(t, "/things"), Integration: proxy, Validation: body(map[string]string{"$default": petModel})},
		{ID: "v4", Method: "POST", Path: mustPath(t, "/mock/{id}"), Integration: mock, Validation: &model.Validation{Parameters: true, Query: []string{"q"}}},
		{ID: "v5", Method: "POST", Path: mustPath(t, "/broken"), Integration: proxy, Validation: body(map[string]string{"application/json": `{"type": 5}`})},
	}
	dep, err := model.NewDeployment("d1", routes, []*model.Integration{proxy, mock})
	if err != nil {
		t.Fatal(err)
	}
	return apiConfig(t, model.ProtocolREST, &model.Stage{Name: "test", Deployment: dep})
}

func mustPath(t *testing.T, s string) model.PathTemplate {
	t.Helper()
	p, err := model.ParsePathTemplate(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// outcome is how Envoy's stream for one request ended: an immediate
// response, or the request going on (changed if the answer mutated it).
type outcome struct {
	answer  *answer
	mutated bool
}

// validateExchange sends r as Envoy does for a route of the given mode:
// the request headers, then the buffered body only if the route buffers
// it and the request has one. It returns the immediate response, or that
// the request went on.
func validateExchange(t *testing.T, c extprocv3.ExternalProcessorClient, route string, r request, mode extproc.Mode) outcome {
	t.Helper()
	md := extproc.RouteMetadata{APIID: "api1", Stage: "test", RouteID: route, DeploymentID: "d1"}
	return validateExchangeAt(t, c, md, r, mode)
}

// validateExchangeAt is validateExchange for the route md names.
func validateExchangeAt(t *testing.T, c extprocv3.ExternalProcessorClient, md extproc.RouteMetadata, r request, mode extproc.Mode) outcome {
	t.Helper()
	var kv []string
	for _, h := range md.GRPCInitialMetadata() {
		kv = append(kv, h.GetKey(), h.GetValue())
	}
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(t.Context(), kv...))
	defer cancel()
	st, err := c.Process(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hs := []*corev3.HeaderValue{
		{Key: ":method", RawValue: []byte(r.method)},
		{Key: ":path", RawValue: []byte(r.path)},
		{Key: ":authority", RawValue: []byte("api1.example.com:10000")},
	}
	for _, h := range r.headers {
		hs = append(hs, &corev3.HeaderValue{Key: h[0], RawValue: []byte(h[1])})
	}
	msgs := []*extprocv3.ProcessingRequest{{Request: &extprocv3.ProcessingRequest_RequestHeaders{
		RequestHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{Headers: hs}, EndOfStream: r.body == ""},
	}}}
	if mode.RequestBody && r.body != "" {
		msgs = append(msgs, &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
			RequestBody: &extprocv3.HttpBody{Body: []byte(r.body), EndOfStream: true},
		}})
	}
	var resp *extprocv3.ProcessingResponse
	for _, m := range msgs {
		if err := st.Send(m); err != nil {
			t.Fatal(err)
		}
		if resp, err = st.Recv(); err != nil {
			t.Fatal(err)
		}
		if ir := resp.GetImmediateResponse(); ir != nil {
			a := answer{status: int(ir.GetStatus().GetCode()), headers: map[string]string{}, body: string(ir.GetBody())}
			for _, h := range ir.GetHeaders().GetSetHeaders() {
				a.headers[h.GetHeader().GetKey()] = string(h.GetHeader().GetRawValue())
			}
			return outcome{answer: &a}
		}
	}
	common := resp.GetRequestBody().GetResponse()
	if resp.GetRequestHeaders() != nil {
		common = resp.GetRequestHeaders().GetResponse()
	} else if resp.GetRequestBody() == nil {
		t.Fatalf("the request got %v, want a continue answer", resp)
	}
	return outcome{mutated: common.GetHeaderMutation() != nil || common.GetBodyMutation() != nil}
}

// serveLookup serves l's processors over real gRPC, for tests that need
// a lookup NewLookup does not make (other gateway responses).
func serveLookup(t *testing.T, l *lookup) extprocv3.ExternalProcessorClient {
	t.Helper()
	return dial(t, listen(t, l.processor))
}

func TestValidation(t *testing.T) {
	cfg := validationConfig(t)
	c := serve(t, func() *model.Config { return cfg }, Options{})
	jsonCT := [2]string{"content-type", "application/json"}
	client := [2]string{"x-client", "web"}
	tests := map[string]struct {
		route string
		req   request
		// status is the immediate response's, 0 when the request goes on;
		// message is its body's "message".
		status  int
		message string
		errType string
	}{
		"all parameters": {route: "v1", req: request{method: "GET", path: "/test/pets/7?q=1", headers: [][2]string{client}}},
		"missing every parameter, AWS's order": {
			route: "v1", req: request{method: "GET", path: "/test/pets/%20"},
			status: 400, message: "Missing required request parameters: [x-client, id, q]", errType: "BadRequestException",
		},
		"blank query string and header": {
			route: "v1", req: request{method: "GET", path: "/test/pets/7?q=%20", headers: [][2]string{{"x-client", " "}}},
			status: 400, message: "Missing required request parameters: [x-client, q]", errType: "BadRequestException",
		},
		"header name in another case": {
			route: "v1", req: request{method: "GET", path: "/test/pets/7?q=1", headers: [][2]string{{"X-Client", "web"}}},
		},
		"query string without a value": {
			route: "v1", req: request{method: "GET", path: "/test/pets/7?q", headers: [][2]string{client}},
			status: 400, message: "Missing required request parameters: [q]", errType: "BadRequestException",
		},
		"path-style prefix": {route: "v1", req: request{method: "GET", path: "/api1/test/pets/7?q=1", headers: [][2]string{client}}},
		"valid body": {
			route: "v2", req: request{method: "POST", path: "/test/pets", headers: [][2]string{jsonCT}, body: `{"name": "rex", "type": "dog"}`},
		},
		"invalid body": {
			route: "v2", req: request{method: "POST", path: "/test/pets", headers: [][2]string{jsonCT}, body: `{"name": "rex", "type": "bird"}`},
			status: 400, message: "Invalid request body", errType: "BadRequestException",
		},
		"body that is not JSON": {
			route: "v2", req: request{method: "POST", path: "/test/pets", headers: [][2]string{jsonCT}, body: `name=rex`},
			status: 400, message: "Invalid request body", errType: "BadRequestException",
		},
		"no body": {
			route: "v2", req: request{method: "POST", path: "/test/pets", headers: [][2]string{jsonCT}},
			status: 400, message: "Invalid request body", errType: "BadRequestException",
		},
		"no content type is JSON": {
			route: "v2", req: request{method: "POST", path: "/test/pets", body: `{"name": "rex"}`},
			status: 400, message: "Invalid request body", errType: "BadRequestException",
		},
		"media type with parameters": {
			route: "v2", req: request{method: "POST", path: "/test/pets", headers: [][2]string{{"content-type", "Application/JSON; charset=utf-8"}}, body: `[]`},
			status: 400, message: "Invalid request body", errType: "BadRequestException",
		},
		"content type without a model is not validated": {
			route: "v2", req: request{method: "POST", path: "/test/pets", headers: [][2]string{{"content-type", "text/plain"}}, body: `not json`},
		},
		"$default model for any content type": {
			route: "v3", req: request{method: "POST", path: "/test/things", headers: [][2]string{{"content-type", "text/plain"}}, body: `{"name": "rex"}`},
			status: 400, message: "Invalid request body", errType: "BadRequestException",
		},
		"$default model, valid": {
			route: "v3", req: request{method: "POST", path: "/test/things", headers: [][2]string{{"content-type", "application/xml"}}, body: `{"name": "tom", "type": "cat"}`},
		},
		"mock route, missing parameter": {
			route: "v4", req: request{method: "POST", path: "/test/mock/7", headers: [][2]string{jsonCT}, body: `{}`},
			status: 400, message: "Missing required request parameters: [q]", errType: "BadRequestException",
		},
		"model that does not compile fails closed": {
			route: "v5", req: request{method: "POST", path: "/test/broken", headers: [][2]string{jsonCT}, body: `{}`},
			status: 500, message: "Internal server error",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			md := extproc.RouteMetadata{APIID: "api1", Stage: "test", RouteID: tc.route, DeploymentID: "d1"}
			p := NewLookup(func() *model.Config { return cfg }, Options{})(md)
			if p == nil {
				t.Fatal("no processor for a route with validation")
			}
			got := validateExchange(t, c, tc.route, tc.req, p.Mode())
			if tc.status == 0 {
				if got.answer != nil || got.mutated {
					t.Fatalf("got %+v, want the request to go on unchanged", got)
				}
				return
			}
			checkRefusal(t, got, tc.status, tc.message, tc.errType)
		})
	}
}

// checkRefusal checks that the exchange ended with an immediate response
// of status whose JSON body is {"message": message}, with the
// x-amzn-errortype errType (none when empty).
func checkRefusal(t *testing.T, got outcome, status int, message, errType string) {
	t.Helper()
	if got.answer == nil {
		t.Fatalf("the request went on, want %d %q", status, message)
	}
	var body struct {
		Message string `json:"message"`
	}
	if got.answer.status != status || json.Unmarshal([]byte(got.answer.body), &body) != nil || body.Message != message {
		t.Fatalf("got %d %s, want %d {\"message\": %q}", got.answer.status, got.answer.body, status, message)
	}
	if ct := got.answer.headers["content-type"]; ct != "application/json" {
		t.Errorf("content-type %q, want application/json", ct)
	}
	if errType != "" && got.answer.headers["x-amzn-errortype"] != errType {
		t.Errorf("x-amzn-errortype %q, want %q", got.answer.headers["x-amzn-errortype"], errType)
	}
}

// TestValidationDelegates checks that a request that passes validation on
// a template mock route gets the mock's own answer, with the path
// parameter and query string the mock reads.
func TestValidationDelegates(t *testing.T) {
	cfg := validationConfig(t)
	c := serve(t, func() *model.Config { return cfg }, Options{})
	got := send(t, c, extproc.RouteMetadata{APIID: "api1", Stage: "test", RouteID: "v4", DeploymentID: "d1"}, request{
		method: "POST", path: "/test/mock/7?q=blue", headers: [][2]string{{"content-type", "application/json"}}, body: `{}`,
	})
	if got.status != 201 || got.body != `{"id": "7", "q": "blue"}` {
		t.Errorf("got %d %s, want the mock's 201 {\"id\": \"7\", \"q\": \"blue\"}", got.status, got.body)
	}
}

// TestValidationModes checks each route's mode: the integration's for
// the mock, the request alone for proxies, its body only when a model
// checks it; and that routes without active validation and without a
// processing integration get no processor.
func TestValidationModes(t *testing.T) {
	cfg := validationConfig(t)
	lookup := NewLookup(func() *model.Config { return cfg }, Options{})
	tests := map[string]extproc.Mode{
		"v1": {},
		"v2": {RequestBody: true},
		"v3": {RequestBody: true},
		"v4": {RequestBody: true},
	}
	for route, want := range tests {
		t.Run(route, func(t *testing.T) {
			p := lookup(extproc.RouteMetadata{APIID: "api1", Stage: "test", RouteID: route})
			if p == nil || p.Mode() != want {
				t.Fatalf("processor %v, want mode %+v", p, want)
			}
		})
	}

	inactive := validationConfig(t)
	for _, r := range inactive.API("api1").Stage("test").Deployment.Routes {
		r.Validation = &model.Validation{Parameters: false, Body: true, Query: []string{"q"}}
	}
	p := NewLookup(func() *model.Config { return inactive }, Options{})(extproc.RouteMetadata{APIID: "api1", Stage: "test", RouteID: "v1"})
	if p != nil {
		t.Errorf("a proxy route whose validator checks nothing got processor %v", p)
	}
}

// TestValidationErrorString renders the validator's detail through an
// API's BAD_REQUEST_BODY and BAD_REQUEST_PARAMETERS templates, as
// $context.error.validationErrorString, with the response type.
func TestValidationErrorString(t *testing.T) {
	tmpl := map[string]string{"application/json": `{"type": "$context.error.responseType", "detail": "$util.escapeJavaScript($context.error.validationErrorString)"}`}
	cfg := validationConfig(t)
	for _, api := range cfg.APIs {
		api.GatewayResponses = map[string]*model.GatewayResponse{
			string(gatewayresponse.BadRequestBody):       {StatusCode: 422, Templates: tmpl},
			string(gatewayresponse.BadRequestParameters): {Templates: tmpl},
		}
	}
	opts := Options{Logger: slog.New(slog.DiscardHandler), Now: time.Now, GatewayResponses: gatewayresponse.NewSets(nil)}
	c := serveLookup(t, &lookup{cfg: func() *model.Config { return cfg }, opts: opts, status: newRelaxedStatus()})
	tests := map[string]struct {
		route  string
		req    request
		status int
		want   string
	}{
		"body": {
			route: "v2", req: request{method: "POST", path: "/test/pets", headers: [][2]string{{"content-type", "application/json"}}, body: `{"name": "rex", "type": "bird"}`},
			status: 422,
			want:   `{"type": "BAD_REQUEST_BODY", "detail": "[instance value (\"bird\") not found in enum (possible values: [\"dog\",\"cat\"])]"}`,
		},
		"parameters": {
			route: "v1", req: request{method: "GET", path: "/test/pets/7"},
			status: 400,
			want:   `{"type": "BAD_REQUEST_PARAMETERS", "detail": "Missing required request parameters: [x-client, q]"}`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := validateExchange(t, c, tc.route, tc.req, extproc.Mode{RequestBody: true})
			if got.answer == nil || got.answer.status != tc.status || got.answer.body != tc.want {
				t.Errorf("got %+v, want %d %s", got.answer, tc.status, tc.want)
			}
		})
	}
}
