package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// backendEcho is what the test backend of a non-proxy HTTP integration
// answers: the request it got.
type backendEcho struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Query  string            `json:"query"`
	Header map[string]string `json:"header"`
	Body   string            `json:"body"`
}

// echoedHeaders are the request headers the test backend reports: the
// mapped ones, and ones the client sent that must not reach it.
func echoedHeaders() []string {
	return []string{"Content-Type", "X-Pet-Owner", "X-Static", "X-Color", "X-Owner", "Authorization"}
}

// startHTTPBackend starts a backend that echoes the request it got as
// JSON, with an X-Version header the integration response maps and an
// X-Only header it must not pass; a pet named "missing" is a 404.
func startHTTPBackend(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Version", "v9")
		w.Header().Set("X-Only", "backend")
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message": "no pet missing"}`))
			return
		}
		e := backendEcho{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: map[string]string{}, Body: string(body)}
		for _, h := range echoedHeaders() {
			if v := r.Header.Get(h); v != "" {
				e.Header[h] = v
			}
		}
		_ = json.NewEncoder(w).Encode(e)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestHTTPIntegration sends requests through Envoy to a non-proxy HTTP
// integration (testdata/http-integration.yaml) in front of a real
// backend: the backend gets the integration's method, the URI's path with
// the mapped path parameter, only the mapped query string and headers,
// and the request template's output; the client gets the status, mapped
// headers and rendered body of the integration response the backend's
// status selects.
func TestHTTPIntegration(t *testing.T) {
	g := startGateway(t, gatewayOptions{})
	api := g.applyFile(t, "testdata/http-integration.yaml", map[string]string{"BACKEND_URL": startHTTPBackend(t)}).GetId()
	g.waitAnswerStatus(t, at(hostStyle, api, "test", "POST", "/pets/1"), 200)

	client := http.Header{
		"Content-Type":  {"application/json"},
		"X-Owner":       {"ann"},
		"Authorization": {"Bearer secret"},
	}
	t.Run("200", func(t *testing.T) {
		req := at(hostStyle, api, "test", "POST", "/pets/a%20b?q=red%20dog&other=1")
		req.header = client
		resp := g.sendBody(t, req, `{"name": "rex", "age": 3}`)
		checkHeaders(t, resp, map[string]string{
			"Content-Type": "application/json", "X-Backend-Version": "v9", "X-Static": "yes", "X-Only": "",
		})
		var got struct {
			Backend backendEcho `json:"backend"`
			ID      string      `json:"id"`
		}
		if resp.status != http.StatusOK || json.Unmarshal([]byte(resp.body), &got) != nil {
			t.Fatalf("got %s, want 200 with the rendered echo", describe(resp))
		}
		want := backendEcho{
			Method: "PUT", Path: "/v1/v2/pets/a%20b", Query: "search=red%20dog",
			Header: map[string]string{"Content-Type": "application/json", "X-Pet-Owner": "ann", "X-Static": "fixed", "X-Color": "blue"},
			Body:   `{"name": "rex", "id": "a b", "stage": "test"}`,
		}
		if !reflect.DeepEqual(got.Backend, want) || got.ID != "a b" {
			t.Errorf("the backend got\n%+v (id %q)\nwant\n%+v (id \"a b\")", got.Backend, got.ID, want)
		}
	})
	t.Run("404", func(t *testing.T) {
		req := at(pathStyle, api, "test", "POST", "/pets/missing")
		req.header = client
		resp := g.sendBody(t, req, `{"name": "ghost"}`)
		if resp.status != http.StatusNotFound || resp.body != `{"error": "no pet missing"}` {
			t.Errorf("got %s, want 404 {\"error\": \"no pet missing\"}", describe(resp))
		}
		checkHeaders(t, resp, map[string]string{"Content-Type": "application/json", "X-Error": "not-found", "X-Static": "", "X-Version": ""})
	})
	g.stop(t)
}

// checkHeaders checks that resp has each header of want with exactly that
// value, or, for an empty value, not at all.
func checkHeaders(t *testing.T, resp response, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got := resp.header.Values(k)
		if v == "" && len(got) != 0 || v != "" && (len(got) != 1 || got[0] != v) {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
}
