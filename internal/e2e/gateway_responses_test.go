package e2e

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/archway-gateway/archway/internal/testutil/testnet"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestGatewayResponses sends requests through Envoy to an API that
// customizes its gateway responses (testdata/gateway-responses.yaml) and
// checks each answer the gateway gives itself: from a request validator
// (ext_proc), from the API-key check (ext_authz), from Envoy when the
// backend is unreachable (ext_proc on Envoy's local reply) and for a path
// no route matches (ext_proc on the not-found route). test-invoke gives
// the unreachable backend's answer as Envoy does. A change to a gateway
// response applies without a deploy. A route of the API whose
// integration overrides the method reaches the backend with it.
func TestGatewayResponses(t *testing.T) {
	g := startGateway(t, gatewayOptions{})
	api := g.applyFile(t, "testdata/gateway-responses.yaml", map[string]string{
		"BACKEND_URL": startHTTPBackend(t), "DEAD_URL": "http://" + testnet.ClosedAddr(t),
	}).GetId()
	// Until the API is served, unknown hosts and paths get Envoy's 404
	// {"message":"Not Found"}; the API's own not-found answer says it is.
	eventually(t, "the API served", func() (bool, string) {
		resp := g.send(t, at(hostStyle, api, "test", "GET", "/nothing"))
		return resp.body == `{"error": "no route for GET"}`, describe(resp)
	})

	tests := map[string]struct {
		method, path, body string
		header             http.Header
		want               answer
	}{
		"missing parameter, DEFAULT_4XX's header": {
			method: "POST", path: "/pets/1", body: `{"name": "rex"}`, header: http.Header{"Content-Type": {"application/json"}},
			want: answer{
				400,
				map[string]string{"Access-Control-Allow-Origin": "*", "X-Amzn-Errortype": "BadRequestException"},
				`{"message":"Missing required request parameters: [owner]"}`,
			},
		},
		"invalid body": {
			method: "POST", path: "/pets/1?owner=ann", body: `{"age": 3}`, header: http.Header{"Content-Type": {"application/json"}},
			want: answer{
				422,
				map[string]string{"Access-Control-Allow-Origin": "", "X-Amzn-Errortype": "BadRequestException"},
				`{"error": "Invalid request body", "type": "BAD_REQUEST_BODY", "detail": "[object has missing required properties ([\"name\"])]"}`,
			},
		},
		"no API key": {
			method: "GET", path: "/pets/1",
			want: answer{
				401,
				map[string]string{"Www-Authenticate": `ApiKey realm="pets"`, "Access-Control-Allow-Origin": ""},
				`{"error": "an API key is required for GET /pets/{id}"}`,
			},
		},
		"backend unreachable": {
			method: "GET", path: "/down",
			want: answer{
				502,
				map[string]string{"Content-Type": "application/json", "X-Amzn-Errortype": "InternalServerErrorException"},
				`{"down": "Network error communicating with endpoint", "stage": "test"}`,
			},
		},
		"no such route": {
			method: "DELETE", path: "/nothing",
			want: answer{404, map[string]string{"Content-Type": "application/json"}, `{"error": "no route for DELETE"}`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for style, loc := range styles() {
				req := at(loc, api, "test", tc.method, tc.path)
				req.header = tc.header
				resp := g.sendBody(t, req, tc.body)
				if resp.status != tc.want.status || resp.body != tc.want.body {
					t.Errorf("%s: got %s\nwant %d %s", style, describe(resp), tc.want.status, tc.want.body)
				}
				for k, v := range tc.want.header {
					if got := resp.header.Get(k); got != v {
						t.Errorf("%s: %s: %q, want %q", style, k, got, v)
					}
				}
			}
		})
	}

	// test-invoke plays Envoy's part for the unreachable backend (Envoy's
	// own reply, which ext_proc renders with the API's
	// INTEGRATION_FAILURE): the client's answer either way.
	viaEnvoy := g.send(t, at(hostStyle, api, "test", "GET", "/down"))
	tested := g.testInvoke(t, api, g.routeID(t, api, "GET", "/down"), invokeCase{method: "GET", target: "/down"})
	testedHeader := http.Header{}
	for _, h := range tested.GetHeaders() {
		testedHeader.Add(h.GetName(), h.GetValue())
	}
	if int(tested.GetStatus()) != viaEnvoy.status || string(tested.GetBody()) != viaEnvoy.body ||
		testedHeader.Get("Content-Type") != viaEnvoy.header.Get("Content-Type") ||
		testedHeader.Get("X-Amzn-Errortype") != viaEnvoy.header.Get("X-Amzn-Errortype") {
		t.Errorf("test-invoke of GET /down answered %d %v %s\nEnvoy answered %s %v",
			tested.GetStatus(), testedHeader, tested.GetBody(), describe(viaEnvoy), viaEnvoy.header)
	}

	// The integration's method override: the backend gets a POST.
	for style, loc := range styles() {
		resp := g.send(t, at(loc, api, "test", "GET", "/invoke?x=1"))
		var got backendEcho
		if resp.status != http.StatusOK || json.Unmarshal([]byte(resp.body), &got) != nil ||
			got.Method != "POST" || got.Path != "/v1/invoke" || got.Query != "x=1" {
			t.Errorf("%s: GET /invoke got %s, want the backend's echo of POST /v1/invoke?x=1", style, describe(resp))
		}
	}

	// The route throttle admits one request; the next gets the API's
	// THROTTLED, with the rate-limit filter's headers.
	if resp := g.send(t, at(hostStyle, api, "test", "GET", "/limited")); resp.status != http.StatusOK {
		t.Errorf("first GET /limited: %s, want the backend's 200", describe(resp))
	}
	resp := g.send(t, at(hostStyle, api, "test", "GET", "/limited"))
	if resp.status != http.StatusTooManyRequests || resp.body != `{"slow down": "Too Many Requests"}` ||
		resp.header.Get("X-Throttled") != "yes" || resp.header.Get("X-Ratelimit-Limit") == "" ||
		resp.header.Get("X-Amzn-Errortype") != "TooManyRequestsException" {
		t.Errorf("second GET /limited: %s %v, want 429 with the API's THROTTLED and the rate-limit headers", describe(resp), resp.header)
	}

	// Put a new BAD_REQUEST_BODY: no deploy, and the next requests get it.
	if _, err := g.admin.PutGatewayResponse(t.Context(), &adminv1.PutGatewayResponseRequest{ApiId: api, GatewayResponse: &adminv1.GatewayResponse{
		ResponseType: "BAD_REQUEST_BODY", StatusCode: 400,
		ResponseTemplates: map[string]string{"application/json": `{"bad": true}`},
	}}); err != nil {
		t.Fatal(err)
	}
	invalid := at(hostStyle, api, "test", "POST", "/pets/1?owner=ann")
	invalid.header = http.Header{"Content-Type": {"application/json"}}
	eventually(t, "the new BAD_REQUEST_BODY", func() (bool, string) {
		resp := g.sendBody(t, invalid, `{}`)
		return resp.status == 400 && resp.body == `{"bad": true}`, describe(resp)
	})
	g.stop(t)
}
