package integration

import (
	"strings"
	"testing"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/model"
)

// petTemplates is a mock whose request template computes the status from
// the request body, with a default response and one for 4xx statuses.
func petTemplates() *model.MockTemplates {
	return &model.MockTemplates{
		RequestTemplates: map[string]string{
			"application/json":      `{"statusCode": $input.path('$.code')}`,
			"application/x-bad":     `{"nothing": true}`,
			"application/x-string":  `{"statusCode": "200"}`,
			"application/x-relaxed": `{statusCode: 404}`,
			"application/x-broken":  `#if(`,
		},
		Responses: []model.IntegrationResponse{
			{
				StatusCode: 200,
				Headers:    map[string]string{"X-Pet": "'yes'", "X-From-Backend": "integration.response.header.x"},
				Templates: map[string]string{
					"application/json": `{"id": "$input.params('id')", "q": "$input.params('q')", "request": "$context.requestId", "stage": "$context.stage", "color": "$stageVariables.color", "ip": "$context.identity.sourceIp", "resource": "$context.resourcePath", "key": "$context.identity.apiKeyId", "keyHeader": "$input.params('x-archway-api-key-id')", "body": "$input.body"}`,
					"application/xml":  `<pet id="$input.params('id')"/>`,
				},
			},
			{
				Pattern:    `4\d{2}`,
				StatusCode: 404,
				Headers:    map[string]string{"X-Kind": "'missing'"},
				Templates:  map[string]string{"application/json": `{"message": "no pet $input.params('id')"}`},
			},
			{
				Pattern:    `5\d{2}`,
				StatusCode: 503,
				Templates: map[string]string{"text/plain": `#set($context.responseOverride.status = 502)
#set($context.responseOverride.header.Retry-After = "7")
try later`},
			},
		},
	}
}

// testConfig returns a Config of one REST API with a stage "test" serving
// the route r1, POST /pets/{id}, with a mock of templates t.
func testConfig(t *testing.T, rev int64, mt *model.MockTemplates) *model.Config {
	t.Helper()
	in := &model.Integration{ID: "i1", Name: "pets", Mock: &model.Mock{Templates: mt}}
	return configWith(t, rev, in)
}

func configWith(t *testing.T, rev int64, in *model.Integration) *model.Config {
	t.Helper()
	path, err := model.ParsePathTemplate("/pets/{id}")
	if err != nil {
		t.Fatal(err)
	}
	dep, err := model.NewDeployment("d1", []*model.Route{{ID: "r1", Method: "POST", Path: path, Integration: in}}, []*model.Integration{in})
	if err != nil {
		t.Fatal(err)
	}
	stage := &model.Stage{Name: "test", Variables: map[string]string{"color": "blue"}, Deployment: dep}
	api, err := model.NewAPI("api1", "pets", model.ProtocolREST, []*model.Stage{stage})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.NewConfig(rev, []*model.API{api})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var route1 = extproc.RouteMetadata{APIID: "api1", Stage: "test", RouteID: "r1", DeploymentID: "d1"}

func TestMock(t *testing.T) {
	var h configHolder
	h.p.Store(testConfig(t, 1, petTemplates()))
	c := serve(t, h.current, Options{})
	internalError := answer{500, map[string]string{"content-type": "application/json", "x-amzn-errortype": "InternalServerErrorException"}, `{"message":"Internal server error"}`}
	tests := map[string]struct {
		req  request
		want answer
	}{
		"default response": {
			request{"POST", "/test/pets/7?q=a%20b", [][2]string{{"content-type", "application/json"}, {"x-request-id", "req-1"}, {"x-forwarded-for", "203.0.113.9"}, {"x-archway-api-key-id", "key-1"}}, `{"code": 200}`},
			answer{
				200,
				map[string]string{"content-type": "application/json", "x-pet": "yes"},
				`{"id": "7", "q": "a b", "request": "req-1", "stage": "test", "color": "blue", "ip": "203.0.113.9", "resource": "/pets/{id}", "key": "key-1", "keyHeader": "", "body": ""}`,
			},
		},
		"pattern selects 4xx": {
			request{"POST", "/api1/test/pets/8", [][2]string{{"content-type", "application/json"}}, `{"code": 404}`},
			answer{404, map[string]string{"content-type": "application/json", "x-kind": "missing"}, `{"message": "no pet 8"}`},
		},
		"pattern must match the whole status": {
			request{"POST", "/test/pets/8", [][2]string{{"content-type", "application/json"}, {"accept", "application/xml"}}, `{"code": 4040}`},
			answer{200, map[string]string{"content-type": "application/xml", "x-pet": "yes"}, `<pet id="8"/>`},
		},
		"accept selects a template": {
			request{"POST", "/test/pets/9", [][2]string{{"content-type", "application/json"}, {"accept", "application/xml"}}, `{"code": 201}`},
			answer{200, map[string]string{"content-type": "application/xml", "x-pet": "yes"}, `<pet id="9"/>`},
		},
		"accept without a template falls back to application/json": {
			request{"POST", "/test/pets/9", [][2]string{{"content-type", "application/json"}, {"accept", "text/html"}}, `{"code": 404}`},
			answer{404, map[string]string{"content-type": "application/json", "x-kind": "missing"}, `{"message": "no pet 9"}`},
		},
		"the only template, with overrides": {
			request{"POST", "/test/pets/9", [][2]string{{"content-type", "application/json"}}, `{"code": 500}`},
			answer{502, map[string]string{"content-type": "text/plain", "retry-after": "7"}, "try later"},
		},
		"content type parameters are ignored": {
			request{"POST", "/test/pets/1", [][2]string{{"content-type", "Application/JSON; charset=utf-8"}}, `{"code": 404}`},
			answer{404, map[string]string{"content-type": "application/json", "x-kind": "missing"}, `{"message": "no pet 1"}`},
		},
		"no content type means application/json": {
			request{"POST", "/test/pets/1", nil, `{"code": 404}`},
			answer{404, map[string]string{"content-type": "application/json", "x-kind": "missing"}, `{"message": "no pet 1"}`},
		},
		"WHEN_NO_MATCH passes the body through": {
			request{"POST", "/test/pets/2", [][2]string{{"content-type", "text/plain"}}, `{"statusCode": 404}`},
			answer{404, map[string]string{"content-type": "application/json", "x-kind": "missing"}, `{"message": "no pet 2"}`},
		},
		"relaxed JSON": {
			request{"POST", "/test/pets/3", [][2]string{{"content-type", "application/x-relaxed"}}, `x`},
			answer{404, map[string]string{"content-type": "application/json", "x-kind": "missing"}, `{"message": "no pet 3"}`},
		},
		"no statusCode":               {request{"POST", "/test/pets/3", [][2]string{{"content-type", "application/x-bad"}}, `x`}, internalError},
		"statusCode as a string":      {request{"POST", "/test/pets/3", [][2]string{{"content-type", "application/x-string"}}, `x`}, internalError},
		"template that did not parse": {request{"POST", "/test/pets/3", [][2]string{{"content-type", "application/x-broken"}}, `x`}, internalError},
		"passthrough of a body without a status": {
			request{"POST", "/test/pets/3", [][2]string{{"content-type", "text/plain"}}, `hello`}, internalError,
		},
		"GET without a body": {
			request{"POST", "/test/pets/3", nil, ""}, internalError, // $input.path('$.code') of {} is null
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := send(t, c, route1, tc.req)
			checkAnswer(t, got, tc.want)
		})
	}
}

func checkAnswer(t *testing.T, got, want answer) {
	t.Helper()
	if got.status != want.status || got.body != want.body {
		t.Errorf("got %d %q, want %d %q", got.status, got.body, want.status, want.body)
	}
	for k, v := range want.headers {
		if got.headers[k] != v {
			t.Errorf("header %s = %q, want %q (all: %v)", k, got.headers[k], v, got.headers)
		}
	}
	for k := range got.headers {
		if _, ok := want.headers[k]; !ok {
			t.Errorf("unexpected header %s: %q", k, got.headers[k])
		}
	}
}

func TestPassthroughBehaviors(t *testing.T) {
	unsupported := answer{415, map[string]string{"content-type": "application/json", "x-amzn-errortype": "UnsupportedMediaTypeException"}, `{"message":"Unsupported Media Type"}`}
	ok := answer{200, map[string]string{"content-type": "application/json"}, ""}
	tests := map[string]struct {
		passthrough model.Passthrough
		contentType string
		want        answer
	}{
		"WHEN_NO_MATCH, no match":         {model.PassthroughWhenNoMatch, "text/plain", ok},
		"WHEN_NO_TEMPLATES, no match":     {model.PassthroughWhenNoTemplates, "text/plain", unsupported},
		"NEVER, no match":                 {model.PassthroughNever, "text/plain", unsupported},
		"NEVER, a match":                  {model.PassthroughNever, "application/xml", ok},
		"NEVER, no content type, a match": {model.PassthroughNever, "", answer{201, map[string]string{"content-type": "application/json"}, ""}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			mt := &model.MockTemplates{
				RequestTemplates: map[string]string{"application/xml": `{"statusCode": 200}`, "application/json": `{"statusCode": 201}`},
				Passthrough:      tc.passthrough,
				Responses:        []model.IntegrationResponse{{StatusCode: 200}, {Pattern: "201", StatusCode: 201}},
			}
			var h configHolder
			h.p.Store(testConfig(t, 1, mt))
			c := serve(t, h.current, Options{})
			var headers [][2]string
			if tc.contentType != "" {
				headers = append(headers, [2]string{"content-type", tc.contentType})
			}
			got := send(t, c, route1, request{"POST", "/test/pets/1", headers, `{"statusCode": 200}`})
			checkAnswer(t, got, tc.want)
		})
	}
}

// TestNoDefaultResponse checks API Gateway's configuration error: a status
// no pattern matches, without a default response, is a 500.
func TestNoDefaultResponse(t *testing.T) {
	mt := &model.MockTemplates{
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`},
		Responses:        []model.IntegrationResponse{{Pattern: "4\\d{2}", StatusCode: 400}},
	}
	var h configHolder
	h.p.Store(testConfig(t, 1, mt))
	got := send(t, serve(t, h.current, Options{}), route1, request{"POST", "/test/pets/1", nil, `{}`})
	if got.status != 500 || !strings.Contains(got.body, "Internal server error") {
		t.Errorf("got %d %q, want API Gateway's 500", got.status, got.body)
	}
}

// TestConfigSwap checks that a new configuration takes effect for the
// next request, and that integrations it shares with the previous one are
// not compiled again.
func TestConfigSwap(t *testing.T) {
	mt := func(body string) *model.MockTemplates {
		return &model.MockTemplates{
			RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`},
			Responses:        []model.IntegrationResponse{{StatusCode: 200, Templates: map[string]string{"application/json": body}}},
		}
	}
	var h configHolder
	h.p.Store(testConfig(t, 1, mt("v1")))
	c := serve(t, h.current, Options{})
	if got := send(t, c, route1, request{"POST", "/test/pets/1", nil, "{}"}); got.body != "v1" {
		t.Fatalf("before the swap: %q", got.body)
	}
	h.p.Store(testConfig(t, 2, mt("v2")))
	if got := send(t, c, route1, request{"POST", "/test/pets/1", nil, "{}"}); got.body != "v2" {
		t.Fatalf("after the swap: %q", got.body)
	}
}

// TestCompiledOnce checks that templates are compiled once per
// configuration change: every lookup of one Config shares one processor
// and one compiled mock, a later Config that shares the integration reuses it, and a new
// integration is compiled anew.
func TestCompiledOnce(t *testing.T) {
	in := &model.Integration{ID: "i1", Name: "pets", Mock: &model.Mock{Templates: petTemplates()}}
	var h configHolder
	h.p.Store(configWith(t, 1, in))
	lookup := NewLookup(h.current, Options{})
	compiled := func() *compiledMock {
		t.Helper()
		p, ok := lookup(route1).(*mockProcessor)
		if !ok {
			t.Fatalf("lookup(%v) is not a mock processor", route1)
		}
		return p.m
	}
	if lookup(route1) != lookup(route1) {
		t.Error("two lookups of one route in the same Config made two processors")
	}
	first := compiled()
	if again := compiled(); again != first {
		t.Error("a second lookup of the same Config compiled the templates again")
	}
	h.p.Store(configWith(t, 2, in))
	if shared := compiled(); shared != first {
		t.Error("a new Config sharing the integration compiled its templates again")
	}
	h.p.Store(testConfig(t, 3, petTemplates()))
	if fresh := compiled(); fresh == first {
		t.Error("a new integration reused another's compiled templates")
	}
}

func TestLookupUnknown(t *testing.T) {
	var h configHolder
	simple := &model.Integration{ID: "i1", Mock: &model.Mock{StatusCode: 200}}
	h.p.Store(configWith(t, 1, simple))
	lookup := NewLookup(h.current, Options{})
	tests := map[string]extproc.RouteMetadata{
		"simple mock":   route1,
		"unknown API":   {APIID: "nope", Stage: "test", RouteID: "r1"},
		"unknown stage": {APIID: "api1", Stage: "prod", RouteID: "r1"},
		"unknown route": {APIID: "api1", Stage: "test", RouteID: "r9"},
	}
	for name, md := range tests {
		t.Run(name, func(t *testing.T) {
			if p := lookup(md); p != nil {
				t.Errorf("lookup(%v) = %T, want nil", md, p)
			}
		})
	}
	h.p.Store(nil)
	if p := lookup(route1); p != nil {
		t.Errorf("lookup without a Config = %T, want nil", p)
	}
}
