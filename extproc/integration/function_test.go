package integration

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/model"
)

// fixedNow is the clock of the function tests.
func fixedNow() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) }

// serveFunction serves a Config of one function route.
func serveFunction(t *testing.T, p model.Protocol, method, version string) (*configHolder, func(request, functionResult) (upstream, clientResponse)) {
	t.Helper()
	var h configHolder
	h.p.Store(functionConfig(t, p, method, version))
	c := serve(t, h.current, Options{Now: fixedNow})
	return &h, func(r request, fn functionResult) (upstream, clientResponse) {
		t.Helper()
		return invoke(t, c, r, fn)
	}
}

// okResult is a function's valid result in both payload formats.
func okResult() functionResult {
	return functionResult{200, [][2]string{{"content-type", "application/json"}}, `{"statusCode": 200, "body": "ok"}`}
}

// checkInvocation checks that the request became the function's
// invocation: a POST of JSON to the invoke path, without the client's
// query, its length fixed, the client's codings gone.
func checkInvocation(t *testing.T, up upstream) {
	t.Helper()
	if up.set[":method"] != "POST" || up.set[":path"] != model.DefaultInvokePath || up.set["content-type"] != "application/json" {
		t.Errorf("upstream headers %v, want :method POST, :path %s and content-type application/json", up.set, model.DefaultInvokePath)
	}
	if got, want := up.set["content-length"], strconv.Itoa(len(up.body)); got != want {
		t.Errorf("upstream content-length %q, want %q", got, want)
	}
	for _, h := range []string{"content-encoding", "accept-encoding"} {
		if !slices.Contains(up.removed, h) {
			t.Errorf("upstream keeps the client's %s (removed %v)", h, up.removed)
		}
	}
}

// TestFunctionEventV1 checks the payload format 1.0 event a REST API's
// function gets, decoded with aws-lambda-go as a Go function would.
func TestFunctionEventV1(t *testing.T) {
	_, call := serveFunction(t, model.ProtocolREST, model.MethodAny, "")
	up, _ := call(request{"POST", "/test/pets/a%20b?q=1&q=2&x=%2F", [][2]string{
		{"content-type", "application/json"},
		{"content-encoding", "identity"},
		{"user-agent", "curl/8"},
		{"x-request-id", "req-1"},
		{"x-forwarded-for", "203.0.113.9"},
		{"x-multi", "a"},
		{"x-multi", "b"},
		{"x-archway-api-key-id", "key-1"},
		{"x-envoy-external-address", "203.0.113.9"},
	}, `{"name": "rex"}`}, okResult())
	checkInvocation(t, up)
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal([]byte(up.body), &ev); err != nil {
		t.Fatalf("the event does not decode: %v\n%s", err, up.body)
	}
	rc := ev.RequestContext
	checks := map[string][2]any{
		"httpMethod":                      {ev.HTTPMethod, "POST"},
		"path":                            {ev.Path, "/pets/a%20b"},
		"resource":                        {ev.Resource, "/pets/{id}"},
		"pathParameters":                  {ev.PathParameters, map[string]string{"id": "a b"}},
		"queryStringParameters":           {ev.QueryStringParameters, map[string]string{"q": "2", "x": "/"}},
		"multiValueQueryStringParameters": {ev.MultiValueQueryStringParameters, map[string][]string{"q": {"1", "2"}, "x": {"/"}}},
		"headers[Content-Type]":           {ev.Headers["Content-Type"], "application/json"},
		"headers[X-Multi]":                {ev.Headers["X-Multi"], "b"},
		"multiValueHeaders[X-Multi]":      {ev.MultiValueHeaders["X-Multi"], []string{"a", "b"}},
		"internal headers":                {ev.Headers["X-Archway-Api-Key-Id"] + ev.Headers["X-Envoy-External-Address"], ""},
		"stageVariables":                  {ev.StageVariables, map[string]string{"color": "blue"}},
		"body":                            {ev.Body, `{"name": "rex"}`},
		"isBase64Encoded":                 {ev.IsBase64Encoded, false},
		"requestContext.path":             {rc.Path, "/test/pets/a%20b"},
		"requestContext.stage":            {rc.Stage, "test"},
		"requestContext.requestId":        {rc.RequestID, "req-1"},
		"requestContext.resourceId":       {rc.ResourceID, "r1"},
		"requestContext.resourcePath":     {rc.ResourcePath, "/pets/{id}"},
		"requestContext.httpMethod":       {rc.HTTPMethod, "POST"},
		"requestContext.apiId":            {rc.APIID, "api1"},
		"requestContext.domainName":       {rc.DomainName, "api1.example.com"},
		"requestContext.domainPrefix":     {rc.DomainPrefix, "api1"},
		"requestContext.requestTimeEpoch": {rc.RequestTimeEpoch, fixedNow().UnixMilli()},
		"requestContext.requestTime":      {rc.RequestTime, "04/Mar/2026:05:06:07 +0000"},
		"identity.sourceIp":               {rc.Identity.SourceIP, "203.0.113.9"},
		"identity.userAgent":              {rc.Identity.UserAgent, "curl/8"},
		"identity.apiKeyId":               {rc.Identity.APIKeyID, "key-1"},
	}
	for field, c := range checks {
		if !reflect.DeepEqual(c[0], c[1]) {
			t.Errorf("%s = %#v, want %#v", field, c[0], c[1])
		}
	}
}

// TestFunctionEventWithoutBody checks a request without a body, on the
// path-style address: the event is added with CONTINUE_AND_REPLACE in
// answer to the headers, and its body is null.
func TestFunctionEventWithoutBody(t *testing.T) {
	_, call := serveFunction(t, model.ProtocolREST, model.MethodAny, "")
	up, got := call(request{"GET", "/api1/test/pets/8", nil, ""}, okResult())
	checkInvocation(t, up)
	if !up.replaced {
		t.Error("a body added to a request without one must use CONTINUE_AND_REPLACE")
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(up.body), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["body"] != nil || raw["httpMethod"] != "GET" || raw["path"] != "/pets/8" {
		t.Errorf("event body %v, httpMethod %v, path %v; want null, GET, /pets/8", raw["body"], raw["httpMethod"], raw["path"])
	}
	if got.status != 200 || got.body != "ok" {
		t.Errorf("client got %d %q, want 200 ok", got.status, got.body)
	}
}

// TestFunctionEventV2 checks the payload format 2.0 event an HTTP API's
// function gets.
func TestFunctionEventV2(t *testing.T) {
	_, call := serveFunction(t, model.ProtocolHTTP, "GET", "")
	up, _ := call(request{"GET", "/test/pets/7?a=1&a=2", [][2]string{
		{"cookie", "s=1; t=2"},
		{"x-multi", "a"},
		{"x-multi", "b"},
		{"x-request-id", "req-2"},
		{"x-forwarded-for", "198.51.100.4"},
		{"x-archway-usage-plan-id", "p1"},
	}, ""}, okResult())
	checkInvocation(t, up)
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal([]byte(up.body), &ev); err != nil {
		t.Fatalf("the event does not decode: %v\n%s", err, up.body)
	}
	rc := ev.RequestContext
	checks := map[string][2]any{
		"version":                    {ev.Version, "2.0"},
		"routeKey":                   {ev.RouteKey, "GET /pets/{id}"},
		"rawPath":                    {ev.RawPath, "/test/pets/7"},
		"rawQueryString":             {ev.RawQueryString, "a=1&a=2"},
		"cookies":                    {ev.Cookies, []string{"s=1", "t=2"}},
		"headers[x-multi]":           {ev.Headers["x-multi"], "a,b"},
		"internal headers":           {ev.Headers["x-archway-usage-plan-id"], ""},
		"queryStringParameters":      {ev.QueryStringParameters, map[string]string{"a": "1,2"}},
		"pathParameters":             {ev.PathParameters, map[string]string{"id": "7"}},
		"stageVariables":             {ev.StageVariables, map[string]string{"color": "blue"}},
		"body":                       {ev.Body, ""},
		"requestContext.routeKey":    {rc.RouteKey, "GET /pets/{id}"},
		"requestContext.stage":       {rc.Stage, "test"},
		"requestContext.requestId":   {rc.RequestID, "req-2"},
		"requestContext.apiId":       {rc.APIID, "api1"},
		"requestContext.timeEpoch":   {rc.TimeEpoch, fixedNow().UnixMilli()},
		"requestContext.http.method": {rc.HTTP.Method, "GET"},
		"requestContext.http.path":   {rc.HTTP.Path, "/test/pets/7"},
		"requestContext.http.ip":     {rc.HTTP.SourceIP, "198.51.100.4"},
	}
	for field, c := range checks {
		if !reflect.DeepEqual(c[0], c[1]) {
			t.Errorf("%s = %#v, want %#v", field, c[0], c[1])
		}
	}
}

// TestFunctionPayloadVersion checks that the function's own payload
// format version wins over the API's default.
func TestFunctionPayloadVersion(t *testing.T) {
	tests := map[string]struct {
		protocol model.Protocol
		version  string
		want     string
	}{
		"REST default":     {model.ProtocolREST, "", "1.0"},
		"HTTP default":     {model.ProtocolHTTP, "", "2.0"},
		"REST with 2.0":    {model.ProtocolREST, "2.0", "2.0"},
		"HTTP API, 1.0":    {model.ProtocolHTTP, "1.0", "1.0"},
		"explicit default": {model.ProtocolREST, "1.0", "1.0"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, call := serveFunction(t, tc.protocol, "GET", tc.version)
			up, _ := call(request{"GET", "/test/pets/1", nil, ""}, okResult())
			var ev struct{ Version string }
			if err := json.Unmarshal([]byte(up.body), &ev); err != nil || ev.Version != tc.want {
				t.Errorf("event version %q (%v), want %q", ev.Version, err, tc.want)
			}
		})
	}
}

// marshalResult encodes a result built with aws-lambda-go's types.
func marshalResult(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// want is the response a client should get.
type want struct {
	status  int
	headers http.Header
	body    string
	// absent are headers of the function's HTTP response the client
	// must not get.
	absent []string
}

// TestFunctionResponse checks that function results, built with
// aws-lambda-go's response types, become the client's response, and that
// failures get API Gateway's answers.
func TestFunctionResponse(t *testing.T) {
	fnHeaders := [][2]string{{"content-type", "text/plain"}, {"x-rie", "1"}, {"date", "Wed, 04 Mar 2026 05:06:07 GMT"}}
	rest502 := want{502, http.Header{"Content-Type": {"application/json"}}, `{"message": "Internal server error"}`, nil}
	http500 := want{500, http.Header{"Content-Type": {"application/json"}}, `{"message":"Internal Server Error"}`, nil}
	tests := map[string]struct {
		protocol model.Protocol
		accept   string
		fn       functionResult
		want     want
	}{
		"1.0 result": {model.ProtocolREST, "", functionResult{200, fnHeaders, marshalResult(t, events.APIGatewayProxyResponse{
			StatusCode:        201,
			Headers:           map[string]string{"X-One": "a", "Content-Type": "text/html"},
			MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}},
			Body:              "<p>hi</p>",
		})}, want{201, http.Header{
			"Content-Type": {"text/html"}, "X-One": {"a"}, "Set-Cookie": {"a=1", "b=2"},
			"Date": {"Wed, 04 Mar 2026 05:06:07 GMT"},
		}, "<p>hi</p>", []string{"X-Rie"}}},
		"1.0 default content type": {model.ProtocolREST, "", functionResult{200, fnHeaders, marshalResult(t, events.APIGatewayProxyResponse{
			StatusCode: 404, Body: `{"message": "no pet"}`,
		})}, want{404, http.Header{"Content-Type": {"application/json"}}, `{"message": "no pet"}`, []string{"X-Rie"}}},
		"1.0 base64 without binary media types": {model.ProtocolREST, "image/png", functionResult{200, nil, marshalResult(t, events.APIGatewayProxyResponse{
			StatusCode: 200, Body: base64.StdEncoding.EncodeToString([]byte("png")), IsBase64Encoded: true,
		})}, want{200, http.Header{"Content-Type": {"application/json"}}, "cG5n", nil}},
		"2.0 result": {model.ProtocolHTTP, "", functionResult{200, fnHeaders, marshalResult(t, events.APIGatewayV2HTTPResponse{
			StatusCode:      202,
			Headers:         map[string]string{"content-type": "application/octet-stream", "x-two": "b"},
			Cookies:         []string{"c=1; Path=/", "d=2"},
			Body:            base64.StdEncoding.EncodeToString([]byte{0, 1, 2}),
			IsBase64Encoded: true,
		})}, want{202, http.Header{
			"Content-Type": {"application/octet-stream"}, "X-Two": {"b"}, "Set-Cookie": {"c=1; Path=/", "d=2"},
		}, "\x00\x01\x02", []string{"X-Rie"}}},
		"2.0 bare JSON": {
			model.ProtocolHTTP, "",
			functionResult{200, fnHeaders, `{"hello": "world"}`},
			want{200, http.Header{"Content-Type": {"application/json"}}, `{"hello": "world"}`, []string{"X-Rie"}},
		},
		"2.0 bare string": {
			model.ProtocolHTTP, "",
			functionResult{200, nil, `"hi"`},
			want{200, http.Header{"Content-Type": {"application/json"}}, "hi", nil},
		},
		"1.0 with 2.0's cookies":   {model.ProtocolREST, "", functionResult{200, nil, `{"statusCode": 200, "cookies": ["a=1"]}`}, rest502},
		"1.0 statusCode no number": {model.ProtocolREST, "", functionResult{200, nil, `{"statusCode": "ok"}`}, rest502},
		"1.0 not JSON":             {model.ProtocolREST, "", functionResult{200, nil, `hello`}, rest502},
		"1.0 empty result":         {model.ProtocolREST, "", functionResult{200, nil, ""}, rest502},
		"1.0 informational":        {model.ProtocolREST, "", functionResult{200, nil, `{"statusCode": 101}`}, rest502},
		"2.0 not JSON":             {model.ProtocolHTTP, "", functionResult{200, nil, `{"statusCode": 200`}, http500},
		"REST, function 500":       {model.ProtocolREST, "", functionResult{500, nil, `{"statusCode": 200}`}, rest502},
		"HTTP, function 500":       {model.ProtocolHTTP, "", functionResult{500, nil, `{"statusCode": 200}`}, http500},
		"function unreachable":     {model.ProtocolREST, "", functionResult{503, [][2]string{{"content-type", "text/plain"}}, "no healthy upstream"}, rest502},
		"Lambda's function error":  {model.ProtocolREST, "", functionResult{200, [][2]string{{"x-amz-function-error", "Unhandled"}}, `{"errorMessage": "boom", "errorType": "Error"}`}, rest502},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, call := serveFunction(t, tc.protocol, "GET", "")
			var headers [][2]string
			if tc.accept != "" {
				headers = append(headers, [2]string{"accept", tc.accept})
			}
			_, got := call(request{"GET", "/test/pets/1", headers, ""}, tc.fn)
			checkClient(t, got, tc.want)
		})
	}
}

// checkClient compares the client's response with w: status, body, every
// header of w (all values, in order), and that no absent header is left.
func checkClient(t *testing.T, got clientResponse, w want) {
	t.Helper()
	if got.status != w.status || got.body != w.body {
		t.Errorf("client got %d %q, want %d %q", got.status, got.body, w.status, w.body)
	}
	for name, values := range w.headers {
		if g := got.headers.Values(name); !slices.Equal(g, values) {
			t.Errorf("header %s = %q, want %q", name, g, values)
		}
	}
	for _, name := range w.absent {
		if got.headers.Get(name) != "" {
			t.Errorf("header %s of the function's HTTP response reached the client", name)
		}
	}
	if got.headers.Get("Content-Length") != "" && got.headers.Get("Content-Length") != strconv.Itoa(len(got.body)) {
		t.Errorf("content-length %s for a body of %d bytes", got.headers.Get("Content-Length"), len(got.body))
	}
}

// TestFunctionContentLength checks that a function response with a
// content-length gets the new body's.
func TestFunctionContentLength(t *testing.T) {
	_, call := serveFunction(t, model.ProtocolREST, "GET", "")
	result := `{"statusCode": 200, "body": "four"}`
	_, got := call(request{"GET", "/test/pets/1", nil, ""}, functionResult{200, [][2]string{{"content-length", strconv.Itoa(len(result))}}, result})
	if got.body != "four" || got.headers.Get("Content-Length") != "4" {
		t.Errorf("client got body %q with content-length %q, want four with 4", got.body, got.headers.Get("Content-Length"))
	}
}

// TestLookupFunction checks that a function route gets the function
// processor, which asks Envoy for both bodies, buffered.
func TestLookupFunction(t *testing.T) {
	var h configHolder
	h.p.Store(functionConfig(t, model.ProtocolREST, "GET", ""))
	p := NewLookup(h.current, Options{})(route1)
	if _, ok := p.(*functionProcessor); !ok {
		t.Fatalf("lookup(%v) = %T, want the function processor", route1, p)
	}
	want := extproc.Mode{RequestBody: true, ResponseHeaders: true, ResponseBody: true}
	if got := p.Mode(); got != want {
		t.Errorf("Mode() = %+v, want %+v", got, want)
	}
}
