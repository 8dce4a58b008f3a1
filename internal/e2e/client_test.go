package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/archway-gateway/archway/xds/translate"
)

// Bounds of the waits for the gateway to act on a change. They only cap
// how long a test waits for something that may never happen; the tests
// assert what happens, never how soon.
const (
	// pollInterval paces every poll.
	pollInterval = 50 * time.Millisecond
	// convergeTimeout bounds the wait for a change to reach Envoy.
	convergeTimeout = 30 * time.Second
	// requestTimeout bounds one request through Envoy.
	requestTimeout = 10 * time.Second
)

// request is one HTTP request through the gateway.
type request struct {
	method string
	// host is the Host header; empty means the gateway's IP:port.
	host string
	// target is the path and query.
	target string
	header http.Header
}

// response is what came back through the gateway.
type response struct {
	status int
	header http.Header
	body   string
}

// echo decodes the body as a backend's echo, failing the test if it is not
// one: the request did not reach a backend.
func (r response) echo(t *testing.T) echo {
	t.Helper()
	var e echo
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Backend == "" {
		t.Fatalf("response %d %q is not a backend's echo", r.status, r.body)
	}
	return e
}

// do sends req to Envoy's listener, whatever host it names, and counts it.
func (g *gateway) do(ctx context.Context, client *http.Client, req request) (response, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	method := req.method
	if method == "" {
		method = http.MethodGet
	}
	r, err := http.NewRequestWithContext(ctx, method, "http://"+g.addr+req.target, nil)
	if err != nil {
		return response{}, err
	}
	r.Host = req.host
	for k, vs := range req.header {
		r.Header[k] = vs
	}
	g.sent.Add(1)
	resp, err := client.Do(r)
	if err != nil {
		return response{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}, nil
}

// send is do with the default client, failing the test on a transport
// error: Envoy answers every request, if only with an error status.
func (g *gateway) send(t *testing.T, req request) response {
	t.Helper()
	resp, err := g.do(t.Context(), http.DefaultClient, req)
	if err != nil {
		t.Fatalf("%s %s (Host %q): %v", req.method, req.target, req.host, err)
	}
	return resp
}

// locator says where a request for path in one stage of an API goes: the
// Host header and the request target.
type locator func(apiID, stage, path string) (host, target string)

// hostStyle addresses an API by its own host, {apiId}.{baseDomain}, with
// the stage as the first path segment, as Amazon API Gateway does. The
// $default stage has no segment.
func hostStyle(apiID, stage, path string) (string, string) {
	host := apiID + "." + translate.DefaultBaseDomain
	if stage == "$default" {
		return host, path
	}
	return host, "/" + stage + path
}

// pathStyle addresses an API as /{apiId}/{stage}/... on any host.
func pathStyle(apiID, stage, path string) (string, string) {
	if stage == "$default" {
		return "", "/" + apiID + path
	}
	return "", "/" + apiID + "/" + stage + path
}

// styles are both ways of addressing an API, for tests that check both.
func styles() map[string]locator {
	return map[string]locator{"host-style": hostStyle, "path-style": pathStyle}
}

// at returns a request for path in one stage of an API.
func at(loc locator, apiID, stage, method, path string) request {
	host, target := loc(apiID, stage, path)
	return request{method: method, host: host, target: target}
}

// eventually polls cond until it holds, failing the test with cond's last
// observation if it does not within convergeTimeout.
func eventually(t *testing.T, what string, cond func() (ok bool, last string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), convergeTimeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		ok, last := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; last saw: %s", what, ctx.Err(), last)
		case <-ticker.C:
		}
	}
}

// waitAnswer waits until a backend called wantBackend answers req.
func (g *gateway) waitAnswer(t *testing.T, req request, wantBackend string) {
	t.Helper()
	eventually(t, req.target+" to reach "+wantBackend, func() (bool, string) {
		resp, err := g.do(t.Context(), http.DefaultClient, req)
		if err != nil {
			return false, err.Error()
		}
		return resp.header.Get(headerEchoBackend) == wantBackend, describe(resp)
	})
}

// describe sums a response up for a failure message.
func describe(r response) string {
	return fmt.Sprintf("%d %q", r.status, r.body)
}

// waitAnswerStatus waits until Envoy answers req with status.
func (g *gateway) waitAnswerStatus(t *testing.T, req request, status int) {
	t.Helper()
	eventually(t, req.target+" to be answered", func() (bool, string) {
		resp, err := g.do(t.Context(), http.DefaultClient, req)
		if err != nil {
			return false, err.Error()
		}
		return resp.status == status, describe(resp)
	})
}

// answer is a response the gateway gives by itself, without a backend.
type answer struct {
	status int
	// header holds the headers that must be there with exactly these
	// values.
	header map[string]string
	// body is the whole body; HEAD responses have none.
	body string
}

// notFound is an HTTP API's answer to a request no route matches.
func notFound() answer {
	return answer{404, map[string]string{"Content-Type": "application/json"}, `{"message":"Not Found"}`}
}

// missingToken is a REST API's answer to a request no route matches, which
// does not reveal whether a resource exists.
func missingToken() answer {
	return answer{403, map[string]string{
		"Content-Type":     "application/json",
		"X-Amzn-Errortype": "MissingAuthenticationTokenException",
	}, `{"message":"Missing Authentication Token"}`}
}

// expect checks that Envoy answers req by itself with want. An answer
// other than 201 must have no Location header, which Envoy would add to a
// direct response unless told not to.
func (g *gateway) expect(t *testing.T, req request, want answer) {
	t.Helper()
	resp := g.send(t, req)
	if resp.status != want.status || resp.body != want.body {
		t.Errorf("%s %s (Host %q) = %d %q, want %d %q", req.method, req.target, req.host, resp.status, resp.body, want.status, want.body)
	}
	for k, v := range want.header {
		if got := resp.header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s %s: %s: %q, want %q", req.method, req.target, k, got, v)
		}
	}
	if l := resp.header.Values("Location"); want.status != http.StatusCreated && len(l) != 0 {
		t.Errorf("%s %s: Location: %q, want none", req.method, req.target, l)
	}
}

// expectEcho checks that the backend called wantBackend answers req, having
// received it at wantPath.
func (g *gateway) expectEcho(t *testing.T, req request, wantBackend, wantPath string) {
	t.Helper()
	resp := g.send(t, req)
	if resp.status != http.StatusOK {
		t.Errorf("%s %s (Host %q) = %s, want 200 from backend %s", req.method, req.target, req.host, describe(resp), wantBackend)
		return
	}
	if e := resp.echo(t); e.Backend != wantBackend || e.Path != wantPath {
		t.Errorf("%s %s (Host %q) reached backend %s at %s, want backend %s at %s", req.method, req.target, req.host, e.Backend, e.Path, wantBackend, wantPath)
	}
}
