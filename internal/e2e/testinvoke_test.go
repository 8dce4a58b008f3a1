package e2e

import (
	"net/http"
	"testing"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// invokeCase is one request sent both through Envoy and through
// TestInvokeRoute.
type invokeCase struct {
	method, target, body string
	header               http.Header
}

// TestTestInvokeMatchesEnvoy sends the same requests through the real
// Envoy and through the admin API's TestInvokeRoute, which plays Envoy's
// part itself, to a non-proxy HTTP integration
// (testdata/http-integration.yaml) and to validated HTTP proxy routes
// (testdata/validation.yaml) in front of a backend that echoes what it
// got: the client must get the same status, headers and body either way,
// the backend's echo of its request included.
func TestTestInvokeMatchesEnvoy(t *testing.T) {
	g := startGateway(t, gatewayOptions{})
	backend := startHTTPBackend(t)
	jsonClient := http.Header{"Content-Type": {"application/json"}, "X-Owner": {"ann"}, "X-Client": {"web"}, "Authorization": {"Bearer secret"}}
	files := map[string]map[string]invokeCase{
		"testdata/http-integration.yaml": {
			"integration response 200": {method: "POST", target: "/pets/a%20b?q=red%20dog&other=1", body: `{"name": "rex", "age": 3}`, header: jsonClient},
			"selected by status 404":   {method: "POST", target: "/pets/missing", body: `{"name": "ghost"}`, header: jsonClient},
		},
		"testdata/validation.yaml": {
			"valid":              {method: "POST", target: "/pets/a%20b?owner=ann&x=1", body: `{"name": "rex", "type": "dog"}`, header: jsonClient},
			"invalid body":       {method: "POST", target: "/pets/1?owner=ann", body: `{"name": "rex", "type": "cow"}`, header: jsonClient},
			"missing parameters": {method: "GET", target: "/pets/1"},
		},
	}
	for file, cases := range files {
		api := g.applyFile(t, file, map[string]string{"BACKEND_URL": backend}).GetId()
		// A REST API's unmatched path: 403 once Envoy serves the API.
		g.waitAnswerStatus(t, at(hostStyle, api, "test", "GET", "/nothing"), http.StatusForbidden)
		routes, err := g.admin.ListRoutes(t.Context(), &adminv1.ListRoutesRequest{ApiId: api})
		if err != nil {
			t.Fatal(err)
		}
		byMethod := map[string]string{}
		for _, r := range routes.GetRoutes() {
			byMethod[r.GetMethod()] = r.GetId()
		}
		for name, tc := range cases {
			t.Run(file+"/"+name, func(t *testing.T) {
				req := at(hostStyle, api, "test", tc.method, tc.target)
				req.header = tc.header
				viaEnvoy := g.sendBody(t, req, tc.body)
				tested := g.testInvoke(t, api, byMethod[tc.method], tc)
				if int(tested.GetStatus()) != viaEnvoy.status || string(tested.GetBody()) != viaEnvoy.body {
					t.Errorf("test-invoke answered %d %s\nEnvoy answered %s", tested.GetStatus(), tested.GetBody(), describe(viaEnvoy))
				}
				got := http.Header{}
				for _, h := range tested.GetHeaders() {
					got.Add(h.GetName(), h.GetValue())
				}
				for _, h := range []string{"Content-Type", "X-Backend-Version", "X-Static", "X-Error", "X-Only", "X-Amzn-Errortype"} {
					if got.Get(h) != viaEnvoy.header.Get(h) {
						t.Errorf("%s: test-invoke %q, Envoy %q", h, got.Get(h), viaEnvoy.header.Get(h))
					}
				}
			})
		}
	}
	g.stop(t)
}

// testInvoke runs tc through TestInvokeRoute on the stage test.
func (g *gateway) testInvoke(t *testing.T, api, route string, tc invokeCase) *adminv1.TestInvokeRouteResponse {
	t.Helper()
	inv := &adminv1.TestInvokeRouteRequest{
		ApiId: api, RouteId: route, Stage: "test", Method: tc.method, PathWithQueryString: tc.target, Body: []byte(tc.body),
	}
	for k, vs := range tc.header {
		for _, v := range vs {
			inv.Headers = append(inv.Headers, &adminv1.HeaderValue{Name: k, Value: v})
		}
	}
	resp, err := g.admin.TestInvokeRoute(t.Context(), inv)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// routeID is the id of api's route method path.
func (g *gateway) routeID(t *testing.T, api, method, path string) string {
	t.Helper()
	routes, err := g.admin.ListRoutes(t.Context(), &adminv1.ListRoutesRequest{ApiId: api})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes.GetRoutes() {
		if r.GetMethod() == method && r.GetPath() == path {
			return r.GetId()
		}
	}
	t.Fatalf("api %s has no route %s %s", api, method, path)
	return ""
}
