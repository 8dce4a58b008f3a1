package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// forwarded is what a backend should have received.
type forwarded struct {
	backend string // "a" or "b"
	method  string
	path    string
	query   string
}

// TestRouting sends requests through Envoy, by both host-style and
// path-style addressing, and checks which backend each reached and exactly
// what it received: the precedence of static, {param} and {greedy+} paths,
// explicit methods before ANY, HEAD served by GET routes, path parameters
// and stage variables filled into the integration URI, the Host rewritten
// to the backend's, the query string kept, and x-archway-* headers stripped.
func TestRouting(t *testing.T) {
	a, b := startBackend(t, "a"), startBackend(t, "b")
	g := startGateway(t, gatewayOptions{})
	api := g.applyFile(t, "testdata/routing.yaml", backends(a, b)).GetId()
	addrOf := map[string]string{"a": a.addr, "b": b.addr}

	tests := map[string]struct {
		stage, method, path string
		want                forwarded
	}{
		"static path":                 {"blue", "GET", "/items", forwarded{"a", "GET", "/catalog", ""}},
		"static beats param":          {"blue", "GET", "/items/special", forwarded{"a", "GET", "/special-item", ""}},
		"param into the URI":          {"blue", "GET", "/items/42", forwarded{"a", "GET", "/catalog/42", ""}},
		"query string kept":           {"blue", "GET", "/items/42?b=2&a=1&a=3&sp=x%20y", forwarded{"a", "GET", "/catalog/42", "b=2&a=1&a=3&sp=x%20y"}},
		"ANY for other methods":       {"blue", "DELETE", "/items/42", forwarded{"b", "DELETE", "/any/42", ""}},
		"ANY for POST":                {"blue", "POST", "/items/42", forwarded{"b", "POST", "/any/42", ""}},
		"HEAD served by GET":          {"blue", "HEAD", "/items/42", forwarded{"a", "HEAD", "/catalog/42", ""}},
		"param is one segment":        {"blue", "GET", "/items/42/parts", forwarded{"b", "GET", "/items/42/parts", ""}},
		"greedy takes the rest":       {"blue", "GET", "/files/a/b/c.txt?v=1", forwarded{"a", "GET", "/storage/a/b/c.txt", "v=1"}},
		"greedy of one segment":       {"blue", "GET", "/files/readme", forwarded{"a", "GET", "/storage/readme", ""}},
		"greedy needs a segment":      {"blue", "GET", "/files", forwarded{"b", "GET", "/files", ""}},
		"method falls through":        {"blue", "PUT", "/files/a", forwarded{"b", "PUT", "/files/a", ""}},
		"params reordered":            {"blue", "GET", "/users/7/orders/99", forwarded{"a", "GET", "/orders/99/of/7", ""}},
		"catch-all":                   {"blue", "PATCH", "/no/such/route?q=1", forwarded{"b", "PATCH", "/no/such/route", "q=1"}},
		"stage variables of blue":     {"blue", "GET", "/env", forwarded{"a", "GET", "/blue/env", ""}},
		"stage variables of green":    {"green", "GET", "/env", forwarded{"b", "GET", "/green/env", ""}},
		"stage variables of $default": {"$default", "GET", "/env", forwarded{"a", "GET", "/default/env", ""}},
		"$default serves routes":      {"$default", "GET", "/items/7", forwarded{"a", "GET", "/catalog/7", ""}},
		"unknown stage is $default's": {"$default", "GET", "/nostage/items", forwarded{"b", "GET", "/nostage/items", ""}},
	}
	for _, stage := range []string{"$default", "blue", "green"} {
		g.waitAnswer(t, at(hostStyle, api, stage, "GET", "/items"), "a")
	}
	for style, loc := range styles() {
		for name, tc := range tests {
			t.Run(style+"/"+name, func(t *testing.T) {
				req := at(loc, api, tc.stage, tc.method, tc.path)
				req.header = http.Header{
					"X-Archway-Api-Id": {"forged"},
					"x-archway-stage":  {"forged"},
					"X-Client":         {"kept"},
				}
				resp := g.send(t, req)
				if resp.status != http.StatusOK {
					t.Fatalf("%s %s (Host %q) = %s, want 200", req.method, req.target, req.host, describe(resp))
				}
				if tc.method == "HEAD" {
					checkHead(t, resp, tc.want)
					return
				}
				checkForwarded(t, resp.echo(t), tc.want, addrOf[tc.want.backend])
			})
		}
		// A greedy parameter stands for one or more segments, so
		// ANY /{proxy+} does not match the stage's root, with or without
		// a trailing slash.
		t.Run(style+"/stage root is no route's", func(t *testing.T) {
			for _, path := range []string{"", "/"} {
				g.expect(t, at(loc, api, "blue", "GET", path), notFound())
			}
		})
	}
	g.checkEnvoy(t, clusterOf(t, a.addr), clusterOf(t, b.addr))
	g.stop(t)
}

// checkForwarded compares what a backend received with what it should have.
func checkForwarded(t *testing.T, got echo, want forwarded, wantHost string) {
	t.Helper()
	if got.Backend != want.backend || got.Method != want.method || got.Path != want.path || got.RawQuery != want.query {
		t.Errorf("backend %s received %s %s ?%q; want backend %s, %s %s ?%q",
			got.Backend, got.Method, got.Path, got.RawQuery, want.backend, want.method, want.path, want.query)
	}
	if got.Host != wantHost {
		t.Errorf("backend received Host %q, want its own address %q", got.Host, wantHost)
	}
	for name := range got.Headers {
		if strings.HasPrefix(name, "x-archway-") {
			t.Errorf("backend received internal header %s: %q", name, got.Headers[name])
		}
	}
	if v := got.Headers["x-client"]; !slices.Equal(v, []string{"kept"}) {
		t.Errorf("backend received X-Client %q, want [kept]", v)
	}
}

// checkHead checks the echo of a HEAD request, which comes in headers.
func checkHead(t *testing.T, resp response, want forwarded) {
	t.Helper()
	got := forwarded{resp.header.Get(headerEchoBackend), resp.header.Get(headerEchoMethod), resp.header.Get(headerEchoPath), ""}
	if got != want {
		t.Errorf("HEAD reached %+v, want %+v", got, want)
	}
	if resp.body != "" {
		t.Errorf("HEAD response has a body: %q", resp.body)
	}
}
