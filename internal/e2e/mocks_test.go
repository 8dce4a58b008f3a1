package e2e

import (
	"path/filepath"
	"testing"

	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
)

// TestMocksAndNotFound runs the gateway with the examples applied at
// start-up, as `make run` does, and checks the answers Envoy gives by
// itself: the mock integrations of examples/mocks.yaml (status, headers and
// body), and API Gateway's not-found answers for REST and HTTP APIs, for
// unknown stages and for hosts and paths that name no API.
func TestMocksAndNotFound(t *testing.T) {
	examples := filepath.Join(testenvoy.RepoRoot(t), "examples")
	g := startGateway(t, gatewayOptions{apply: []string{
		filepath.Join(examples, "mocks.yaml"),
		filepath.Join(examples, "petstore.yaml"),
	}})
	mocks, pets := g.apiNamed(t, "mocks").GetId(), g.apiNamed(t, "petstore").GetId()

	tests := map[string]struct {
		api, stage, method, path string
		want                     answer
	}{
		"mock": {mocks, "test", "GET", "/hello", answer{
			200,
			map[string]string{"Content-Type": "application/json"},
			`{"message":"hello from the gateway"}`,
		}},
		"mock with a location": {mocks, "test", "POST", "/orders", answer{
			201,
			map[string]string{"Content-Type": "application/json", "Location": "/orders/42"},
			`{"id":42,"status":"accepted"}`,
		}},
		"template mock": {mocks, "test", "GET", "/weather?city=paris", answer{
			200, map[string]string{"Content-Type": "application/json"}, `{"forecast": "sunny", "stage": "test"}`,
		}},
		"template mock, selected by pattern": {mocks, "test", "GET", "/weather", answer{
			400, map[string]string{"Content-Type": "application/json", "X-Hint": "add ?city=..."}, `{"message": "city is required"}`,
		}},
		"mock of an ANY route": {mocks, "test", "DELETE", "/teapot", answer{
			418,
			map[string]string{"Content-Type": "text/plain"},
			"I'm a teapot\n",
		}},
		"mock of an HTTP API":        {pets, "dev", "GET", "/health", answer{200, map[string]string{"Content-Type": "application/json"}, `{"status":"ok"}`}},
		"REST: no route":             {mocks, "test", "GET", "/nowhere", missingToken()},
		"REST: wrong method":         {mocks, "test", "GET", "/orders", missingToken()},
		"REST: GET does not do HEAD": {mocks, "test", "HEAD", "/hello", answer{403, missingToken().header, ""}},
		"REST: unknown stage":        {mocks, "prod", "GET", "/hello", missingToken()},
		"HTTP: stage root":           {pets, "dev", "GET", "", notFound()},
		"HTTP: undeployed stage":     {pets, "prod", "GET", "/health", notFound()},
		"HTTP: unknown stage":        {pets, "qa", "GET", "/health", notFound()},
		"unknown API":                {"nosuchapi0", "dev", "GET", "/health", notFound()},
	}
	g.waitAnswerStatus(t, at(hostStyle, mocks, "test", "GET", "/hello"), 200)
	g.waitAnswerStatus(t, at(hostStyle, pets, "dev", "GET", "/health"), 200)
	for style, loc := range styles() {
		for name, tc := range tests {
			t.Run(style+"/"+name, func(t *testing.T) {
				g.expect(t, at(loc, tc.api, tc.stage, tc.method, tc.path), tc.want)
			})
		}
	}
	g.checkEnvoy(t, clusterOf(t, "127.0.0.1:8081"))
	g.stop(t)
}
