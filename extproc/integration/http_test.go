package integration

import (
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/internal/model"
)

// petsHTTP is a non-proxy HTTP integration in front of a pets backend:
// templates for JSON and an override-setting type, parameter mappings of
// every source, and integration responses for 2xx (the default), 4xx
// and 5xx.
func petsHTTP() *model.HTTP {
	return &model.HTTP{
		URI:     "http://backend.example:8080/v1/${stageVariables.color}/pets/{petId}",
		Method:  "PUT",
		Timeout: model.DefaultTimeout,
		RequestTemplates: map[string]string{
			"application/json": `{"name": $input.json('$.name'), "firstTag": "$input.path('$.tags[0]')", "id": "$input.params('id')", "q": "$input.params('q')", "user": "$input.params('x-user')"}`,
			"application/x-override": `#set($context.requestOverride.header.X-Static = "over")
#set($context.requestOverride.querystring.limit = "5")
#set($context.requestOverride.path.petId = "o/1")
overridden`,
		},
		RequestParameters: map[string]string{
			"integration.request.header.X-Pet-Id":     "method.request.path.id",
			"integration.request.header.x-user-name":  "method.request.header.X-User",
			"integration.request.header.x-static":     "'fixed'",
			"integration.request.header.x-request":    "context.requestId",
			"integration.request.header.x-ip":         "context.identity.sourceIp",
			"integration.request.header.x-color":      "stageVariables.color",
			"integration.request.header.x-missing":    "method.request.header.absent",
			"integration.request.querystring.search":  "method.request.querystring.q",
			"integration.request.querystring.limit":   "'10'",
			"integration.request.querystring.nothing": "method.request.querystring.absent",
			"integration.request.path.petId":          "method.request.path.id",
		},
		Responses: []model.IntegrationResponse{
			{
				StatusCode: 200,
				Headers: map[string]string{
					"X-Backend-Version": "integration.response.header.x-version",
					"X-Static":          "'s'",
					"X-Absent":          "integration.response.header.nope",
				},
				Templates: map[string]string{
					"application/json": `{"pet": $input.json('$'), "name": "$input.path('$.name')", "id": "$input.params('id')", "request": "$context.requestId"}`,
					"application/xml":  `<pet name="$input.path('$.name')"/>`,
				},
			},
			{
				Pattern:    `4\d{2}`,
				StatusCode: 404,
				Templates: map[string]string{"application/json": `#set($context.responseOverride.header.X-Reason = "$input.path('$.reason')")
{"error": "$input.path('$.message')"}`},
			},
			{Pattern: `5\d\d`, StatusCode: 502},
		},
	}
}

// serveHTTP serves a Config whose route r1 (POST /pets/{id} on stage
// "test", stage variable color=blue) has the HTTP integration h.
func serveHTTP(t *testing.T, h *model.HTTP) func(request, functionResult) (upstream, clientResponse) {
	t.Helper()
	var holder configHolder
	holder.p.Store(configWith(t, 1, &model.Integration{ID: "i1", Name: "pets", HTTP: h}))
	c := serve(t, holder.current, Options{Now: func() time.Time { return time.Unix(0, 0) }})
	return func(r request, backend functionResult) (upstream, clientResponse) {
		t.Helper()
		return invoke(t, c, r, backend)
	}
}

// okBackend is a backend's 200 with a JSON body.
func okBackend() functionResult {
	return functionResult{200, [][2]string{{"content-type", "text/plain"}, {"x-version", "v9"}, {"set-cookie", "s=1"}, {"content-length", "29"}}, `{"name": "rex", "legs": 4.50}`}
}

// clientHeaders are what a client sends besides the body's headers.
func clientHeaders(extra ...[2]string) [][2]string {
	return append([][2]string{
		{"x-user", "ann"},
		{"x-request-id", "req-1"},
		{"x-forwarded-for", "203.0.113.9"},
		{"authorization", "Bearer secret"},
		{"accept-encoding", "gzip"},
		{"user-agent", "curl/8"},
	}, extra...)
}

// mappedHeaders are the integration request headers petsHTTP's mappings
// set for a request to /pets/7 from clientHeaders.
func mappedHeaders(path string) map[string]string {
	return map[string]string{
		":path":       path,
		":method":     "PUT",
		"x-pet-id":    "7",
		"x-user-name": "ann",
		"x-static":    "fixed",
		"x-request":   "req-1",
		"x-ip":        "203.0.113.9",
		"x-color":     "blue",
	}
}

func TestHTTPRequest(t *testing.T) {
	call := serveHTTP(t, petsHTTP())
	jsonSet := mappedHeaders("/v1/blue/pets/7?limit=10&search=red%20dog")
	jsonSet["content-type"] = "application/json"
	jsonBody := `{"name": "rex", "firstTag": "good", "id": "7", "q": "red dog", "user": "ann"}`
	jsonSet["content-length"] = strconv.Itoa(len(jsonBody))
	overrideSet := mappedHeaders("/v1/blue/pets/o%2F1?search=red%20dog&limit=5")
	overrideSet["content-type"] = "application/x-override"
	overrideSet["x-static"] = "over"
	overrideSet["content-length"] = "10"
	tests := map[string]struct {
		req     request
		wantSet map[string]string
		body    string
	}{
		"template and mappings": {
			request{"POST", "/test/pets/7?q=red%20dog&other=1", clientHeaders([2]string{"content-type", "application/json; charset=utf-8"}), `{"name": "rex", "tags": ["good", "dog"]}`},
			jsonSet,
			jsonBody,
		},
		"no content type takes the JSON template": {
			request{"POST", "/test/pets/7?q=red%20dog", clientHeaders(), `{"name": "rex", "tags": ["good", "dog"]}`},
			jsonSet,
			jsonBody,
		},
		"template overrides mappings": {
			request{"POST", "/test/pets/7?q=red%20dog", clientHeaders([2]string{"content-type", "application/x-override"}), `x`},
			overrideSet,
			"overridden",
		},
		"unmatched type passes through (WHEN_NO_MATCH)": {
			request{"POST", "/api1/test/pets/7?q=red%20dog", clientHeaders([2]string{"content-type", "text/plain"}), `plain body`},
			mappedHeaders("/v1/blue/pets/7?limit=10&search=red%20dog"),
			"",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			up, _ := call(tc.req, okBackend())
			if !reflect.DeepEqual(up.set, tc.wantSet) {
				t.Errorf("set headers\n got %v\nwant %v", up.set, tc.wantSet)
			}
			if up.body != tc.body {
				t.Errorf("body %q, want %q", up.body, tc.body)
			}
			for _, h := range []string{"x-user", "authorization", "accept-encoding", "user-agent"} {
				if !slices.Contains(up.removed, h) {
					t.Errorf("the backend gets the client's %s (removed %v)", h, up.removed)
				}
			}
			for _, h := range []string{"content-type", "content-length", "x-request-id", "x-forwarded-for"} {
				if slices.Contains(up.removed, h) {
					t.Errorf("the backend loses %s (removed %v)", h, up.removed)
				}
			}
		})
	}
}

func TestHTTPPathEscaping(t *testing.T) {
	h := petsHTTP()
	h.URI = "https://backend.example/files/{petId}/{id}/raw?v=1"
	call := serveHTTP(t, h)
	up, _ := call(request{"POST", "/test/pets/a%20b%2Fc%3F", nil, `{}`}, okBackend())
	if want := "/files/a%20b%2Fc%3F/a%20b%2Fc%3F/raw?v=1&limit=10"; up.set[":path"] != want {
		t.Errorf(":path %q, want %q", up.set[":path"], want)
	}
	if up.set["x-pet-id"] != "a b/c?" {
		t.Errorf("x-pet-id %q, want the decoded path parameter", up.set["x-pet-id"])
	}
}

func TestURIPath(t *testing.T) {
	tests := map[string]struct {
		uri    string
		params map[string]string
		want   string
	}{
		"no path":         {"http://h:1", nil, "/"},
		"query only":      {"http://h?x=1", nil, "/?x=1"},
		"fragment":        {"http://h/a#f", nil, "/a"},
		"stage variable":  {"http://h/${stageVariables.color}/x", nil, "/blue/x"},
		"param escaped":   {"http://h/{id}", map[string]string{"id": "a/b c"}, "/a%2Fb%20c"},
		"greedy param":    {"http://h/f/{path+}", map[string]string{"path": "a b/c"}, "/f/a%20b/c"},
		"unclosed brace":  {"http://h/{id", nil, "/{id"},
		"stray dollar":    {"http://h/$x/$", nil, "/$x/$"},
		"unmapped param":  {"http://h/a/{nope}/b", nil, "/a//b"},
		"empty reference": {"http://h/{}", nil, "/{}"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := &httpProcessor{
				h:  &compiledHTTP{path: parseURIPath(uriPath(tc.uri))},
				rr: routeRequest{stage: &model.Stage{Variables: map[string]string{"color": "blue"}}},
			}
			var ir integrationRequest
			for _, k := range slices.Sorted(maps.Keys(tc.params)) {
				ir.path = append(ir.path, mapping.Param{Name: k, Value: tc.params[k]})
			}
			if got := p.upstreamPath(&mapping.Request{}, ir); got != tc.want {
				t.Errorf("path %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHTTPPassthrough(t *testing.T) {
	templates := map[string]string{"application/json": `{"t": 1}`}
	tests := map[string]struct {
		passthrough model.Passthrough
		templates   map[string]string
		contentType string
		want415     bool
	}{
		"when_no_match, no template for the type": {model.PassthroughWhenNoMatch, templates, "text/plain", false},
		"when_no_templates, none at all":          {model.PassthroughWhenNoTemplates, nil, "text/plain", false},
		"when_no_templates, another type's":       {model.PassthroughWhenNoTemplates, templates, "text/plain", true},
		"never, no template for the type":         {model.PassthroughNever, templates, "text/plain", true},
		"never, none at all":                      {model.PassthroughNever, nil, "application/json", true},
		"never, a template for the type":          {model.PassthroughNever, templates, "application/json", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := petsHTTP()
			h.Passthrough, h.RequestTemplates = tc.passthrough, tc.templates
			var holder configHolder
			holder.p.Store(configWith(t, 1, &model.Integration{ID: "i1", Name: "pets", HTTP: h}))
			c := serve(t, holder.current, Options{})
			req := request{"POST", "/test/pets/7", [][2]string{{"content-type", tc.contentType}}, "payload"}
			if tc.want415 {
				got := send(t, c, route1, req)
				want := answer{415, map[string]string{"content-type": "application/json", "x-amzn-errortype": "UnsupportedMediaTypeException"}, `{"message":"Unsupported Media Type"}`}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %+v, want %+v", got, want)
				}
				return
			}
			up, _ := invoke(t, c, req, okBackend())
			wantBody := ""
			if tc.templates[tc.contentType] != "" {
				wantBody = tc.templates[tc.contentType]
			}
			if up.body != wantBody || up.set[":path"] == "" {
				t.Errorf("upstream %+v, want body %q and a :path", up, wantBody)
			}
		})
	}
}

func TestHTTPResponse(t *testing.T) {
	call := serveHTTP(t, petsHTTP())
	// $input.json gives the backend's JSON compacted, its numbers as sent.
	okBody := `{"pet": {"name":"rex","legs":4.50}, "name": "rex", "id": "7", "request": "req-1"}`
	noBody := `{"pet": {}, "name": "", "id": "7", "request": "req-1"}`
	tests := map[string]struct {
		accept  string
		backend functionResult
		want    clientResponse
	}{
		"default response renders the backend's JSON": {
			"",
			okBackend(),
			clientResponse{status: 200, headers: http.Header{
				"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(okBody))},
				"X-Backend-Version": {"v9"}, "X-Static": {"s"},
			}, body: okBody},
		},
		"template by accept": {
			"application/xml",
			okBackend(),
			clientResponse{status: 200, headers: http.Header{
				"Content-Type": {"application/xml"}, "Content-Length": {"17"},
				"X-Backend-Version": {"v9"}, "X-Static": {"s"},
			}, body: `<pet name="rex"/>`},
		},
		"unmatched status takes the default": {
			"",
			functionResult{302, [][2]string{{"location", "/x"}}, `{"name": "rex", "legs": 4.50}`},
			clientResponse{status: 200, headers: http.Header{
				"Content-Type": {"application/json"}, "X-Static": {"s"},
			}, body: okBody},
		},
		"pattern selects 4xx": {
			"",
			functionResult{404, [][2]string{{"content-type", "application/json"}, {"content-length", "42"}}, `{"message": "no such pet", "reason": "gone"}`},
			clientResponse{status: 404, headers: http.Header{
				"Content-Type": {"application/json"}, "Content-Length": {"24"}, "X-Reason": {"gone"},
			}, body: `{"error": "no such pet"}`},
		},
		"no template passes the body": {
			"",
			functionResult{503, [][2]string{{"content-type", "text/plain"}, {"retry-after", "5"}, {"date", "today"}}, "down"},
			clientResponse{status: 502, headers: http.Header{"Content-Type": {"application/json"}, "Date": {"today"}}, body: "down"},
		},
		"backend without a body": {
			"",
			functionResult{204, nil, ""},
			clientResponse{status: 200, headers: http.Header{
				"Content-Type": {"application/json"}, "X-Static": {"s"}, "Content-Length": {strconv.Itoa(len(noBody))},
			}, body: noBody},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			headers := [][2]string{{"content-type", "application/json"}, {"x-request-id", "req-1"}, {"accept", tc.accept}}
			_, got := call(request{"POST", "/test/pets/7", headers, `{"name": "rex"}`}, tc.backend)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("response\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestHTTPResponseSelection(t *testing.T) {
	internalError := clientResponse{status: 500, headers: http.Header{
		"Content-Type": {"application/json"}, "X-Amzn-Errortype": {"InternalServerErrorException"},
	}, body: `{"message":"Internal server error"}`, immediate: true}
	backend := functionResult{404, [][2]string{{"content-type", "text/plain"}, {"x-kept", "1"}}, "missing"}
	tests := map[string]struct {
		responses []model.IntegrationResponse
		want      clientResponse
	}{
		"no match and no default is a configuration error": {
			[]model.IntegrationResponse{{Pattern: `2\d{2}`, StatusCode: 200}},
			internalError,
		},
		"a pattern matches the whole status only": {
			[]model.IntegrationResponse{{Pattern: `4`, StatusCode: 200}, {Pattern: `40`, StatusCode: 201}},
			internalError,
		},
		"the first match wins over the default": {
			[]model.IntegrationResponse{{StatusCode: 200}, {Pattern: `4..`, StatusCode: 410}, {Pattern: `404`, StatusCode: 411}},
			clientResponse{status: 410, headers: http.Header{"Content-Type": {"application/json"}}, body: "missing"},
		},
		"no integration responses pass the backend's answer": {
			nil,
			clientResponse{status: 404, headers: http.Header{"Content-Type": {"text/plain"}, "X-Kept": {"1"}}, body: "missing"},
		},
		"a template that does not parse is a 500": {
			[]model.IntegrationResponse{{StatusCode: 200, Templates: map[string]string{"application/json": "#if("}}},
			internalError,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := petsHTTP()
			h.Responses = tc.responses
			call := serveHTTP(t, h)
			_, got := call(request{"GET", "/test/pets/7", nil, ""}, backend)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("response\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestHTTPRequestWithoutBody checks a GET: the template's output becomes
// the body with CONTINUE_AND_REPLACE in answer to the request headers.
func TestHTTPRequestWithoutBody(t *testing.T) {
	call := serveHTTP(t, petsHTTP())
	up, _ := call(request{"GET", "/test/pets/7", nil, ""}, okBackend())
	if !up.replaced || up.body != `{"name": "", "firstTag": "", "id": "7", "q": "", "user": ""}` {
		t.Errorf("upstream %+v, want the template's output in place of no body", up)
	}
	if up.set["content-length"] != strconv.Itoa(len(up.body)) {
		t.Errorf("content-length %q for a body of %d bytes", up.set["content-length"], len(up.body))
	}
}
