package e2e

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
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

// TestNamedModels sends bodies through Envoy to HTTP proxy routes that
// check them against an API's named models (testdata/models.yaml), which
// refer to each other by AWS's model URL and by name: a body that fails a
// model, however deep the reference, gets 400 {"message":"Invalid request
// body"} and does not reach the backend. A change of the models reaches
// the auto-deploying stage with the automatic deployment, and the other
// stage only when deployed to it.
func TestNamedModels(t *testing.T) {
	g := startGateway(t, gatewayOptions{})
	api := g.applyFile(t, "testdata/models.yaml", map[string]string{"BACKEND_URL": startHTTPBackend(t)})
	g.deploy(t, api.GetId(), "manual")
	jsonClient := http.Header{"Content-Type": {"application/json"}}
	xmlClient := http.Header{"Content-Type": {"application/xml"}}
	rex := `{"name": "rex", "owner": {"address": "1 Main St"}}`
	g.waitAnswerStatus(t, withHeader(at(hostStyle, api.GetId(), "test", "PUT", "/pets/1"), jsonClient), http.StatusBadRequest)
	tests := map[string]validationCase{
		"valid, through the URL reference": {
			method: "PUT", path: "/pets/7", body: rex, header: jsonClient,
			backend: &backendEcho{Method: "PUT", Path: "/v1/pets/7", Header: map[string]string{"Content-Type": "application/json"}, Body: rex},
		},
		"invalid in the referenced model's definition": {
			method: "PUT", path: "/pets/7", body: `{"name": "rex", "owner": {"address": "x"}}`, header: jsonClient,
			message: "Invalid request body",
		},
		"referenced model's member missing": {
			method: "PUT", path: "/pets/7", body: `{"name": "rex", "owner": {}}`, header: jsonClient,
			message: "Invalid request body",
		},
		"valid, through the relative reference": {
			method: "POST", path: "/pets/7/litter", body: "[" + rex + "]", header: xmlClient,
			backend: &backendEcho{Method: "POST", Path: "/v1/pets/7", Header: map[string]string{"Content-Type": "application/xml"}, Body: "[" + rex + "]"},
		},
		"invalid two references deep": {
			method: "POST", path: "/pets/7/litter", body: `[{"name": "rex", "owner": {"address": 7}}]`, header: jsonClient,
			message: "Invalid request body",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for style, loc := range styles() {
				req := at(loc, api.GetId(), "test", tc.method, tc.path)
				req.header = tc.header
				checkValidation(t, style, g.sendBody(t, req, tc.body), tc)
			}
		})
	}

	// Owners now need an address of 20 characters: rex's fails on the
	// auto-deploying stage, and passes on the manual one until deployed.
	models := api.GetModels()
	for _, m := range models {
		if m.GetName() == "Owner" {
			m.Schema = strings.Replace(m.GetSchema(), `"minLength": 3`, `"minLength": 20`, 1)
		}
	}
	if _, err := g.admin.UpdateApi(t.Context(), &adminv1.UpdateApiRequest{
		Api: &adminv1.Api{Id: api.GetId(), Models: models}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"models"}},
	}); err != nil {
		t.Fatal(err)
	}
	put := func(stage string) request {
		return withHeader(at(hostStyle, api.GetId(), stage, "PUT", "/pets/7"), jsonClient)
	}
	eventually(t, "the changed Owner to reach stage test", func() (bool, string) {
		resp := g.sendBody(t, put("test"), rex)
		return resp.status == http.StatusBadRequest, describe(resp)
	})
	if resp := g.sendBody(t, put("manual"), rex); resp.status != http.StatusOK {
		t.Errorf("stage manual before its deploy: got %s, want the backend's 200", describe(resp))
	}
	g.deploy(t, api.GetId(), "manual")
	eventually(t, "the changed Owner to reach stage manual", func() (bool, string) {
		resp := g.sendBody(t, put("manual"), rex)
		return resp.status == http.StatusBadRequest, describe(resp)
	})
	g.stop(t)
}

// withHeader returns req with the header h.
func withHeader(req request, h http.Header) request {
	req.header = h
	return req
}
