package lambda

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// decodeV2 reads an event the way a Go function does.
func decodeV2(t *testing.T, event []byte) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var got events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &got); err != nil {
		t.Fatalf("events.APIGatewayV2HTTPRequest cannot read the event: %v\n%s", err, event)
	}
	return got
}

func TestEventV2AllFields(t *testing.T) {
	event, err := EventV2(sampleRequest(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "POST /pets/{id}",
		RawPath:        "/prod/pets/42",
		RawQueryString: "tag=a&tag=b%20c&limit=10&empty=&flag&q=1+2",
		Cookies:        []string{"a=1", "b=2", "c=3"},
		Headers: map[string]string{
			"content-type": "application/json",
			"accept":       "*/*",
			"x-multi":      "1,2",
			"user-agent":   "curl/8.5.0",
		},
		QueryStringParameters: map[string]string{
			"tag": "a,b c", "limit": "10", "empty": "", "flag": "", "q": "1 2",
		},
		PathParameters: map[string]string{"id": "42"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     "POST /pets/{id}",
			AccountID:    "123456789012",
			Stage:        "prod",
			RequestID:    "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			APIID:        "a1b2c3",
			DomainName:   "a1b2c3.execute-api.example.com",
			DomainPrefix: "a1b2c3",
			Time:         sampleRequestTime,
			TimeEpoch:    sampleRequestEpoch,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    "POST",
				Path:      "/prod/pets/42",
				Protocol:  "HTTP/1.1",
				SourceIP:  "203.0.113.7",
				UserAgent: "curl/8.5.0",
			},
		},
		StageVariables:  map[string]string{"backend": "blue"},
		Body:            `{"name":"rex"}`,
		IsBase64Encoded: false,
	}
	if diff := cmp.Diff(want, decodeV2(t, event)); diff != "" {
		t.Errorf("event mismatch (-want +got):\n%s", diff)
	}
	raw := rawEvent(t, event)
	if _, ok := lookup(raw, "headers", "cookie"); ok {
		t.Error("the Cookie header is sent in headers as well as in cookies")
	}
}

// TestEventV2Absent checks that absent data is left out, as HTTP APIs do,
// except headers, which is always an object.
func TestEventV2Absent(t *testing.T) {
	event, err := EventV2(&Request{Method: "GET", Path: "/", Time: time.Unix(0, 0)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw := rawEvent(t, event)
	for _, k := range []string{"cookies", "queryStringParameters", "pathParameters", "stageVariables", "body"} {
		if v, ok := raw[k]; ok {
			t.Errorf("%s = %v, want it absent", k, v)
		}
	}
	if _, ok := lookup(raw, "requestContext", "authorizer"); ok {
		t.Error("requestContext.authorizer is present for a route without an authorizer")
	}
	if h, ok := raw["headers"].(map[string]any); !ok || len(h) != 0 {
		t.Errorf("headers = %v, want {}", raw["headers"])
	}
	if v, ok := raw["isBase64Encoded"]; !ok || v != false {
		t.Errorf("isBase64Encoded = %v (present %v), want false", v, ok)
	}
	got := decodeV2(t, event)
	if got.RouteKey != "$default" || got.RequestContext.RouteKey != "$default" || got.RequestContext.Stage != "$default" {
		t.Errorf("routeKey, requestContext.routeKey, stage = %q, %q, %q; want $default for all",
			got.RouteKey, got.RequestContext.RouteKey, got.RequestContext.Stage)
	}
	if got.RawPath != "/" || got.RequestContext.HTTP.Path != "/" || got.RequestContext.HTTP.Protocol != "HTTP/1.1" {
		t.Errorf("rawPath, http.path, http.protocol = %q, %q, %q; want \"/\", \"/\", \"HTTP/1.1\"",
			got.RawPath, got.RequestContext.HTTP.Path, got.RequestContext.HTTP.Protocol)
	}
	if got.RequestContext.Time != "01/Jan/1970:00:00:00 +0000" || got.RequestContext.TimeEpoch != 0 {
		t.Errorf("time, timeEpoch = %q, %d; want the Unix epoch", got.RequestContext.Time, got.RequestContext.TimeEpoch)
	}
}

func TestEventV2Body(t *testing.T) {
	tests := map[string]struct {
		header     http.Header
		body       string
		wantBody   string
		wantBase64 bool
	}{
		"JSON":                    {http.Header{"Content-Type": {"application/json"}}, `{"a":1}`, `{"a":1}`, false},
		"JSON with charset":       {http.Header{"Content-Type": {"application/json; charset=utf-8"}}, `{}`, `{}`, false},
		"XML":                     {http.Header{"Content-Type": {"application/xml"}}, "<a/>", "<a/>", false},
		"JavaScript":              {http.Header{"Content-Type": {"application/javascript"}}, "x()", "x()", false},
		"any text type":           {http.Header{"Content-Type": {"text/csv"}}, "a,b", "a,b", false},
		"case-insensitive type":   {http.Header{"Content-Type": {"Text/Plain"}}, "hi", "hi", false},
		"identity encoding":       {http.Header{"Content-Type": {"text/plain"}, "Content-Encoding": {"identity"}}, "hi", "hi", false},
		"form post":               {http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "a=1", "YT0x", true},
		"no content type":         {http.Header{}, "hi", "aGk=", true},
		"octet stream":            {http.Header{"Content-Type": {"application/octet-stream"}}, "\x00\x01", "AAE=", true},
		"JSON suffix type":        {http.Header{"Content-Type": {"application/problem+json"}}, "{}", "e30=", true},
		"compressed text":         {http.Header{"Content-Type": {"text/plain"}, "Content-Encoding": {"gzip"}}, "\x1f\x8b", "H4s=", true},
		"empty body is left out":  {http.Header{"Content-Type": {"image/png"}}, "", "", false},
		"invalid UTF-8 in binary": {http.Header{"Content-Type": {"image/png"}}, "\xff\xfe", base64.StdEncoding.EncodeToString([]byte("\xff\xfe")), true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := &Request{Method: "POST", Path: "/", Header: tc.header, Body: []byte(tc.body)}
			// Binary media types are a REST API setting: 2.0 ignores them.
			event, err := EventV2(r, Options{BinaryMediaTypes: []string{"*/*"}})
			if err != nil {
				t.Fatal(err)
			}
			got := decodeV2(t, event)
			if got.Body != tc.wantBody || got.IsBase64Encoded != tc.wantBase64 {
				t.Errorf("body, isBase64Encoded = %q, %v; want %q, %v", got.Body, got.IsBase64Encoded, tc.wantBody, tc.wantBase64)
			}
		})
	}
}

func TestEventV2Authorizer(t *testing.T) {
	tests := map[string]struct {
		in   *Authorizer
		want *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
	}{
		"none":  {in: nil, want: nil},
		"empty": {in: &Authorizer{}, want: nil},
		"lambda authorizer": {
			in: &Authorizer{PrincipalID: "user-1", Context: map[string]any{"tenant": "t1", "tier": 2, "admin": true}},
			want: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				Lambda: map[string]any{"tenant": "t1", "tier": float64(2), "admin": true},
			},
		},
		"JWT authorizer": {
			in: &Authorizer{Claims: map[string]string{"sub": "abc", "scope": "pets/read"}, Scopes: []string{"pets/read"}},
			want: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
					Claims: map[string]string{"sub": "abc", "scope": "pets/read"},
					Scopes: []string{"pets/read"},
				},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := sampleRequest()
			r.Authorizer = tc.in
			event, err := EventV2(r, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, decodeV2(t, event).RequestContext.Authorizer); diff != "" {
				t.Errorf("authorizer mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEventV2HeadersAndCookies(t *testing.T) {
	tests := map[string]struct {
		header      http.Header
		wantHeaders map[string]string
		wantCookies []string
	}{
		"names lower-cased, case variants merged": {
			header:      http.Header{"X-Lower": {"1"}, "x-lower": {"2"}, "ACCEPT": {"a", "b"}},
			wantHeaders: map[string]string{"x-lower": "1,2", "accept": "a,b"},
		},
		"cookies split and trimmed": {
			header:      http.Header{"Cookie": {" a=1;b=2 ; ", "c=3"}, "Host": {"example.com"}},
			wantHeaders: map[string]string{"host": "example.com"},
			wantCookies: []string{"a=1", "b=2", "c=3"},
		},
		"empty cookie header": {
			header:      http.Header{"Cookie": {""}},
			wantHeaders: map[string]string{},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			event, err := EventV2(&Request{Method: "GET", Path: "/", Header: tc.header}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := decodeV2(t, event)
			if diff := cmp.Diff(tc.wantHeaders, got.Headers); diff != "" {
				t.Errorf("headers mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCookies, got.Cookies); diff != "" {
				t.Errorf("cookies mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEventRoundTrip checks that a function written with aws-lambda-go reads
// the body the client sent, whichever encoding the event chose. Only invalid
// UTF-8 sent as text is lossy, as it is on AWS.
func TestEventRoundTrip(t *testing.T) {
	bodies := map[string][]byte{
		"text":   []byte("plain text, café"),
		"binary": {0, 1, 2, 0xff, 0xfe},
		"json":   []byte(`{"a":[1,2,{"b":null}]}`),
	}
	for name, body := range bodies {
		for _, contentType := range []string{"text/plain", "image/png", ""} {
			r := &Request{Method: "PUT", Path: "/x", Header: http.Header{}, Body: body}
			if contentType != "" {
				r.Header.Set("Content-Type", contentType)
			}
			v1, err := EventV1(r, Options{BinaryMediaTypes: []string{"image/png"}})
			if err != nil {
				t.Fatal(err)
			}
			e1 := decodeV1(t, v1)
			v2, err := EventV2(r, Options{})
			if err != nil {
				t.Fatal(err)
			}
			e2 := decodeV2(t, v2)
			for version, e := range map[string]struct {
				body    string
				encoded bool
			}{"1.0": {e1.Body, e1.IsBase64Encoded}, "2.0": {e2.Body, e2.IsBase64Encoded}} {
				if !e.encoded && !utf8.Valid(body) {
					continue
				}
				if got := eventBody(t, e.body, e.encoded); !bytes.Equal(got, body) {
					t.Errorf("%s %s as %q: function reads %q, want %q", version, name, contentType, got, body)
				}
			}
		}
	}
}

func eventBody(t *testing.T, body string, encoded bool) []byte {
	t.Helper()
	if !encoded {
		return []byte(body)
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		t.Fatalf("isBase64Encoded but %v", err)
	}
	return b
}
