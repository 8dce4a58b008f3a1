package lambda

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// Values of sampleRequest that tests compare against literally.
const (
	sampleRequestTime  = "04/Mar/2026:18:15:17 +0000" // Time converted to UTC
	sampleRequestEpoch = 1772648117135                // Time in Unix milliseconds
)

// sampleRequest is a request with every field set, some headers and query
// parameters repeated, received in a non-UTC zone.
func sampleRequest() *Request {
	return &Request{
		Method:   "POST",
		Path:     "/pets/42",
		RawPath:  "/prod/pets/42",
		RawQuery: "tag=a&tag=b%20c&limit=10&empty=&flag&q=1+2",
		Header: http.Header{
			"Content-Type": {"application/json"},
			"Accept":       {"*/*"},
			"X-Multi":      {"1", "2"},
			"Cookie":       {"a=1; b=2", "c=3"},
			"User-Agent":   {"curl/8.5.0"},
		},
		Body:           []byte(`{"name":"rex"}`),
		RouteKey:       "POST /pets/{id}",
		ResourcePath:   "/pets/{id}",
		ResourceID:     "r3s0urc3",
		PathParameters: map[string]string{"id": "42"},
		Stage:          "prod",
		StageVariables: map[string]string{"backend": "blue"},
		RequestID:      "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
		Time:           time.Date(2026, 3, 4, 19, 15, 17, 135e6, time.FixedZone("CET", 3600)),
		SourceIP:       "203.0.113.7",
		DomainName:     "a1b2c3.execute-api.example.com",
		APIID:          "a1b2c3",
		AccountID:      "123456789012",
		APIKey:         "s3cr3t-k3y",
		APIKeyID:       "k3y1d",
	}
}

// rawEvent decodes an event into generic JSON, to check what typed structs
// cannot see: null versus absent versus empty, and extra keys.
func rawEvent(t *testing.T, event []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(event, &m); err != nil {
		t.Fatalf("event is not JSON: %v\n%s", err, event)
	}
	return m
}

// lookup follows a dotted path of object keys.
func lookup(m map[string]any, keys ...string) (any, bool) {
	var v any = m
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func TestParseQuery(t *testing.T) {
	tests := map[string]struct {
		raw  string
		want []queryParam
	}{
		"empty":              {raw: "", want: nil},
		"one":                {raw: "a=1", want: []queryParam{{"a", "1"}}},
		"repeated in order":  {raw: "a=2&a=1", want: []queryParam{{"a", "2"}, {"a", "1"}}},
		"no value":           {raw: "flag", want: []queryParam{{"flag", ""}}},
		"empty value":        {raw: "a=", want: []queryParam{{"a", ""}}},
		"escapes and plus":   {raw: "q=a%26b+c&n%3D=x", want: []queryParam{{"q", "a&b c"}, {"n=", "x"}}},
		"bad escape kept":    {raw: "a=%zz&b=%", want: []queryParam{{"a", "%zz"}, {"b", "%"}}},
		"empty pairs":        {raw: "&&a=1&", want: []queryParam{{"a", "1"}}},
		"only first = split": {raw: "a=b=c", want: []queryParam{{"a", "b=c"}}},
		"semicolon is data":  {raw: "a=1;b=2", want: []queryParam{{"a", "1;b=2"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := parseQuery(tc.raw)
			if len(got) != len(tc.want) {
				t.Fatalf("parseQuery(%q) = %v, want %v", tc.raw, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("parseQuery(%q)[%d] = %v, want %v", tc.raw, i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestMatchesBinary(t *testing.T) {
	tests := map[string]struct {
		contentType string
		patterns    []string
		want        bool
	}{
		"exact":                {"image/png", []string{"image/png"}, true},
		"parameters ignored":   {"image/png; q=1", []string{"image/png"}, true},
		"case ignored":         {"Image/PNG", []string{"image/png"}, true},
		"type wildcard":        {"image/webp", []string{"image/*"}, true},
		"type wildcard misses": {"text/plain", []string{"image/*"}, false},
		"any":                  {"text/plain", []string{"*/*"}, true},
		"any without type":     {"", []string{"*/*"}, true},
		"no type":              {"", []string{"image/png"}, false},
		"no patterns":          {"image/png", nil, false},
		"other type":           {"application/json", []string{"image/png", "application/pdf"}, false},
		"prefix is not a type": {"imagex/png", []string{"image/*"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := matchesBinary(mediaType(tc.contentType), tc.patterns); got != tc.want {
				t.Errorf("matchesBinary(%q, %q) = %v, want %v", tc.contentType, tc.patterns, got, tc.want)
			}
		})
	}
}

func TestEventRejectsRequestWithoutMethod(t *testing.T) {
	builders := map[string]func(*Request, Options) ([]byte, error){"1.0": EventV1, "2.0": EventV2}
	for version, build := range builders {
		for name, r := range map[string]*Request{"nil": nil, "no method": {Path: "/"}} {
			t.Run(version+"/"+name, func(t *testing.T) {
				if out, err := build(r, Options{}); err == nil {
					t.Errorf("got event %s, want an error", out)
				}
			})
		}
	}
}

func TestEventRejectsUnencodableAuthorizerContext(t *testing.T) {
	r := sampleRequest()
	r.Authorizer = &Authorizer{Context: map[string]any{"bad": func() {}}}
	if _, err := EventV1(r, Options{}); err == nil {
		t.Error("EventV1: want an error for a context value JSON cannot encode")
	}
	if _, err := EventV2(r, Options{}); err == nil {
		t.Error("EventV2: want an error for a context value JSON cannot encode")
	}
}

// TestEventUserAgentAndProtocol checks that explicit values win over the
// User-Agent header and the HTTP/1.1 default, in both formats.
func TestEventUserAgentAndProtocol(t *testing.T) {
	r := sampleRequest()
	r.UserAgent = "agent/2"
	r.Protocol = "HTTP/2.0"
	v1, err := EventV1(r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c1 := decodeV1(t, v1).RequestContext
	if c1.Identity.UserAgent != "agent/2" || c1.Protocol != "HTTP/2.0" {
		t.Errorf("1.0 userAgent, protocol = %q, %q; want agent/2, HTTP/2.0", c1.Identity.UserAgent, c1.Protocol)
	}
	v2, err := EventV2(r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h2 := decodeV2(t, v2).RequestContext.HTTP
	if h2.UserAgent != "agent/2" || h2.Protocol != "HTTP/2.0" {
		t.Errorf("2.0 userAgent, protocol = %q, %q; want agent/2, HTTP/2.0", h2.UserAgent, h2.Protocol)
	}
}
