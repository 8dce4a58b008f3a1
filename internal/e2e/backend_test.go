package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// echo is what a backend received, as it answers it: the request line and
// headers exactly as Envoy forwarded them.
type echo struct {
	// Backend names the backend that answered.
	Backend string `json:"backend"`
	Method  string `json:"method"`
	// Path and RawQuery are the request target as sent, before any
	// decoding.
	Path     string `json:"path"`
	RawQuery string `json:"rawQuery"`
	Host     string `json:"host"`
	// Headers are keyed by lower-case name.
	Headers map[string][]string `json:"headers"`
}

// Response headers that carry the echo for HEAD requests, whose responses
// have no body.
const (
	headerEchoBackend = "X-Echo-Backend"
	headerEchoMethod  = "X-Echo-Method"
	headerEchoPath    = "X-Echo-Path"
)

// backend is a real HTTP server on the loopback interface that answers
// every request with its echo.
type backend struct {
	name string
	// addr is the backend's IP:port, as integration URIs name it.
	addr string
}

// startBackend starts a backend called name, stopped when the test ends.
func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, query, _ := strings.Cut(r.RequestURI, "?")
		e := echo{
			Backend:  name,
			Method:   r.Method,
			Path:     path,
			RawQuery: query,
			Host:     r.Host,
			Headers:  make(map[string][]string, len(r.Header)),
		}
		for k, v := range r.Header {
			e.Headers[strings.ToLower(k)] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(headerEchoBackend, name)
		w.Header().Set(headerEchoMethod, r.Method)
		w.Header().Set(headerEchoPath, path)
		_ = json.NewEncoder(w).Encode(e)
	}))
	t.Cleanup(srv.Close)
	return &backend{name: name, addr: srv.Listener.Addr().String()}
}
