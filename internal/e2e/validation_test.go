package e2e

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

// validationCase is one request to a validated route and what must come
// of it: the backend's echo of the request it got, or API Gateway's 400
// with message.
type validationCase struct {
	method, path, body string
	header             http.Header
	// backend is what the backend must get; nil when the request must
	// not reach it.
	backend *backendEcho
	message string
}

// TestRequestValidation sends requests through Envoy to HTTP proxy routes
// with request validators (testdata/validation.yaml) in front of a real
// backend: a request missing a required parameter gets 400
// {"message":"Missing required request parameters: [...]"}, one whose body
// fails the model 400 {"message":"Invalid request body"}, both with
// x-amzn-ErrorType BadRequestException, and neither reaches the backend;
// a valid request reaches it unchanged (method, path, query, body).
func TestRequestValidation(t *testing.T) {
	g := startGateway(t, gatewayOptions{})
	api := g.applyFile(t, "testdata/validation.yaml", map[string]string{"BACKEND_URL": startHTTPBackend(t)}).GetId()
	g.waitAnswerStatus(t, at(hostStyle, api, "test", "GET", "/pets/1?owner=ann"), 200)

	jsonClient := http.Header{"Content-Type": {"application/json"}, "X-Client": {"web"}}
	pet := `{"name": "rex", "type": "dog"}`
	tests := map[string]validationCase{
		"valid": {
			method: "POST", path: "/pets/a%20b?owner=ann&x=1", body: pet, header: jsonClient,
			backend: &backendEcho{Method: "POST", Path: "/v1/pets/a%20b", Query: "owner=ann&x=1", Header: map[string]string{"Content-Type": "application/json"}, Body: pet},
		},
		"missing parameters": {
			method: "POST", path: "/pets/1", body: pet, header: http.Header{"Content-Type": {"application/json"}},
			message: "Missing required request parameters: [x-client, owner]",
		},
		"blank query string": {
			method: "POST", path: "/pets/1?owner=", body: pet, header: jsonClient,
			message: "Missing required request parameters: [owner]",
		},
		"invalid body": {
			method: "POST", path: "/pets/1?owner=ann", body: `{"name": "tweety", "type": "bird"}`, header: jsonClient,
			message: "Invalid request body",
		},
		"body that is not JSON": {
			method: "POST", path: "/pets/1?owner=ann", body: `{"name":`, header: jsonClient,
			message: "Invalid request body",
		},
		"content type without a model": {
			method: "POST", path: "/pets/1?owner=ann", body: "not json", header: http.Header{"Content-Type": {"text/plain"}, "X-Client": {"web"}},
			backend: &backendEcho{Method: "POST", Path: "/v1/pets/1", Query: "owner=ann", Header: map[string]string{"Content-Type": "text/plain"}, Body: "not json"},
		},
		"headers only, valid": {
			method: "GET", path: "/pets/7?owner=ann",
			backend: &backendEcho{Method: "GET", Path: "/v1/pets/7", Query: "owner=ann", Header: map[string]string{}},
		},
		"headers only, missing parameter": {
			method: "GET", path: "/pets/7?other=1",
			message: "Missing required request parameters: [owner]",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for style, loc := range styles() {
				req := at(loc, api, "test", tc.method, tc.path)
				req.header = tc.header
				checkValidation(t, style, g.sendBody(t, req, tc.body), tc)
			}
		})
	}
	g.stop(t)
}

func checkValidation(t *testing.T, style string, resp response, tc validationCase) {
	t.Helper()
	if tc.backend != nil {
		var got backendEcho
		if resp.status != http.StatusOK || json.Unmarshal([]byte(resp.body), &got) != nil {
			t.Fatalf("%s: got %s, want the backend's echo", style, describe(resp))
		}
		if !reflect.DeepEqual(got, *tc.backend) {
			t.Errorf("%s: the backend got\n%+v\nwant\n%+v", style, got, *tc.backend)
		}
		return
	}
	var body map[string]any
	if resp.status != http.StatusBadRequest || json.Unmarshal([]byte(resp.body), &body) != nil ||
		!reflect.DeepEqual(body, map[string]any{"message": tc.message}) {
		t.Fatalf("%s: got %s, want 400 {\"message\": %q}", style, describe(resp), tc.message)
	}
	checkHeaders(t, resp, map[string]string{"Content-Type": "application/json", "X-Amzn-Errortype": "BadRequestException", "X-Version": ""})
}
