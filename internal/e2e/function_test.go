package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/archway-gateway/archway/internal/model"
)

// functionEcho is what the test function answers: what it found in the
// proxy event, and how it was invoked.
type functionEcho struct {
	// Invocation is the method and request target of the invocation.
	Invocation     string              `json:"invocation"`
	Version        string              `json:"version"`
	Method         string              `json:"method"`
	Path           string              `json:"path"`
	Query          map[string][]string `json:"query"`
	Header         string              `json:"header"`
	Body           string              `json:"body"`
	PathParameters map[string]string   `json:"pathParameters"`
	Stage          string              `json:"stage"`
	Color          string              `json:"color"`
}

// startFunction starts a function as the Lambda Runtime Interface
// Emulator serves one: it takes POST invocations at the default invoke
// path, decodes the event with aws-lambda-go's types, as a Go function
// does, and answers a result built with aws-lambda-go's response types
// that echoes the event. A request with ?fail=crash makes it answer 500,
// and ?fail=malformed a result API Gateway refuses.
func startFunction(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != model.DefaultInvokePath {
			http.Error(w, "not an invocation: "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		event, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var version struct{ Version string }
		if err := json.Unmarshal(event, &version); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var result any
		if version.Version == "2.0" {
			result, err = resultV2(r, event)
		} else {
			result, err = resultV1(r, event)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Rie-Only", "1")
		_ = json.NewEncoder(w).Encode(result)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// errCrash is the test function's failure on request.
type errCrash struct{}

func (errCrash) Error() string { return "crashed on request" }

// resultV1 answers a payload format 1.0 event.
func resultV1(r *http.Request, event []byte) (any, error) {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	switch ev.QueryStringParameters["fail"] {
	case "crash":
		return nil, errCrash{}
	case "malformed":
		return map[string]any{"statusCode": 200, "cookies": []string{"a=1"}}, nil
	}
	body, err := json.Marshal(functionEcho{
		Invocation: r.Method + " " + r.RequestURI, Version: "1.0",
		Method: ev.HTTPMethod, Path: ev.Path, Query: ev.MultiValueQueryStringParameters,
		Header: ev.Headers["X-Test"], Body: ev.Body, PathParameters: ev.PathParameters,
		Stage: ev.RequestContext.Stage, Color: ev.StageVariables["color"],
	})
	return events.APIGatewayProxyResponse{
		StatusCode:        201,
		Headers:           map[string]string{"Content-Type": "application/json", "X-Echo": ev.Headers["X-Test"]},
		MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}, "X-Multi": {"x", "y"}},
		Body:              string(body),
	}, err
}

// resultV2 answers a payload format 2.0 event.
func resultV2(r *http.Request, event []byte) (any, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	switch ev.QueryStringParameters["fail"] {
	case "crash":
		return nil, errCrash{}
	case "malformed":
		return map[string]any{"statusCode": "not a status"}, nil
	}
	var query map[string][]string
	for k, v := range ev.QueryStringParameters {
		if query == nil {
			query = map[string][]string{}
		}
		query[k] = strings.Split(v, ",")
	}
	body, err := json.Marshal(functionEcho{
		Invocation: r.Method + " " + r.RequestURI, Version: "2.0",
		Method: ev.RequestContext.HTTP.Method, Path: ev.RawPath, Query: query,
		Header: ev.Headers["x-test"], Body: ev.Body, PathParameters: ev.PathParameters,
		Stage: ev.RequestContext.Stage, Color: ev.StageVariables["color"],
	})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 202,
		Headers:    map[string]string{"content-type": "application/json", "x-echo": ev.Headers["x-test"]},
		Cookies:    []string{"c=1; Path=/", "d=2"},
		Body:       string(body),
	}, err
}

// sendBody sends req with body through Envoy.
func (g *gateway) sendBody(t *testing.T, req request, body string) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), requestTimeout)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, req.method, "http://"+g.addr+req.target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		r.Body = http.NoBody
	}
	r.Host = req.host
	for k, vs := range req.header {
		r.Header[k] = vs
	}
	g.sent.Add(1)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s (Host %q): %v", req.method, req.target, req.host, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// functionCase is one request to a function route and what the client
// must get.
type functionCase struct {
	method, path, body string
	status             int
	// headers must have exactly these values, in order.
	headers map[string][]string
	// echo is what the function must have found in the event; nil for a
	// failure, whose body is failBody.
	echo     *functionEcho
	failBody string
}

// TestFunction sends requests through Envoy to Lambda proxy routes
// (testdata/function-rest.yaml, payload format 1.0, and
// testdata/function-http.yaml, 2.0) backed by a real HTTP function: the
// function gets POST invocations at its invoke path, without the client's
// query, and the client gets the function's result as its response, or API
// Gateway's answer when the function fails.
func TestFunction(t *testing.T) {
	g := startGateway(t, gatewayOptions{})
	vars := map[string]string{"FUNCTION_URL": startFunction(t)}
	rest := g.applyFile(t, "testdata/function-rest.yaml", vars).GetId()
	httpAPI := g.applyFile(t, "testdata/function-http.yaml", vars).GetId()
	g.waitAnswerStatus(t, at(hostStyle, rest, "test", "GET", "/pets/1"), 201)
	g.waitAnswerStatus(t, at(hostStyle, httpAPI, "test", "GET", "/pets/1"), 202)

	invocation := "POST " + model.DefaultInvokePath
	restOK := map[string][]string{
		"Content-Type": {"application/json"}, "X-Echo": {"hello"},
		"Set-Cookie": {"a=1", "b=2"}, "X-Multi": {"x", "y"}, "X-Rie-Only": nil,
	}
	httpOK := map[string][]string{
		"Content-Type": {"application/json"}, "X-Echo": {"hello"},
		"Set-Cookie": {"c=1; Path=/", "d=2"}, "X-Rie-Only": nil,
	}
	restFail := `{"message": "Internal server error"}`
	httpFail := `{"message":"Internal Server Error"}`
	tests := map[string]map[string]functionCase{
		rest: {
			"POST with a body and a query": {"POST", "/pets/7?q=1&q=2", `{"name":"rex"}`, 201, restOK, &functionEcho{
				Invocation: invocation, Version: "1.0", Method: "POST", Path: "/pets/7",
				Query: map[string][]string{"q": {"1", "2"}}, Header: "hello", Body: `{"name":"rex"}`,
				PathParameters: map[string]string{"id": "7"}, Stage: "test", Color: "blue",
			}, ""},
			"GET": {"GET", "/pets/a%20b", "", 201, restOK, &functionEcho{
				Invocation: invocation, Version: "1.0", Method: "GET", Path: "/pets/a%20b",
				Header: "hello", PathParameters: map[string]string{"id": "a b"}, Stage: "test", Color: "blue",
			}, ""},
			"malformed result": {"GET", "/pets/1?fail=malformed", "", 502, nil, nil, restFail},
			"function crash":   {"GET", "/pets/1?fail=crash", "", 502, nil, nil, restFail},
		},
		httpAPI: {
			"GET with a query": {"GET", "/pets/7?a=1&a=2", "", 202, httpOK, &functionEcho{
				Invocation: invocation, Version: "2.0", Method: "GET", Path: "/test/pets/7",
				Query: map[string][]string{"a": {"1", "2"}}, Header: "hello",
				PathParameters: map[string]string{"id": "7"}, Stage: "test", Color: "green",
			}, ""},
			"POST with a body": {"POST", "/pets/8", `{"name":"rex"}`, 202, httpOK, &functionEcho{
				Invocation: invocation, Version: "2.0", Method: "POST", Path: "/test/pets/8",
				Header: "hello", Body: `{"name":"rex"}`,
				PathParameters: map[string]string{"id": "8"}, Stage: "test", Color: "green",
			}, ""},
			"malformed result": {"GET", "/pets/1?fail=malformed", "", 500, nil, nil, httpFail},
			"function crash":   {"GET", "/pets/1?fail=crash", "", 500, nil, nil, httpFail},
		},
	}
	for api, cases := range tests {
		for name, tc := range cases {
			t.Run(api+"/"+name, func(t *testing.T) {
				req := at(hostStyle, api, "test", tc.method, tc.path)
				req.header = http.Header{"X-Test": {"hello"}, "Content-Type": {"application/json"}}
				checkFunctionResponse(t, g.sendBody(t, req, tc.body), tc)
			})
		}
	}
	t.Run("path-style", func(t *testing.T) {
		req := at(pathStyle, rest, "test", "GET", "/pets/9")
		req.header = http.Header{"X-Test": {"hello"}}
		checkFunctionResponse(t, g.sendBody(t, req, ""), functionCase{status: 201, headers: restOK, echo: &functionEcho{
			Invocation: invocation, Version: "1.0", Method: "GET", Path: "/pets/9",
			Header: "hello", PathParameters: map[string]string{"id": "9"}, Stage: "test", Color: "blue",
		}})
	})
	g.stop(t)
}

// checkFunctionResponse compares what the client got with tc.
func checkFunctionResponse(t *testing.T, resp response, tc functionCase) {
	t.Helper()
	if resp.status != tc.status {
		t.Fatalf("status %d, want %d: %s", resp.status, tc.status, describe(resp))
	}
	for name, want := range tc.headers {
		if got := resp.header.Values(name); !slices.Equal(got, want) {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if tc.echo == nil {
		if resp.body != tc.failBody || resp.header.Get("Content-Type") != "application/json" {
			t.Errorf("failure %q (%s), want %q (application/json)", resp.body, resp.header.Get("Content-Type"), tc.failBody)
		}
		return
	}
	var got functionEcho
	if err := json.Unmarshal([]byte(resp.body), &got); err != nil {
		t.Fatalf("body %q is not the function's echo: %v", resp.body, err)
	}
	if !reflect.DeepEqual(got, *tc.echo) {
		t.Errorf("the function found\n%+v\nwant\n%+v", got, *tc.echo)
	}
}
