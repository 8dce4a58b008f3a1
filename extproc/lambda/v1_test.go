package lambda

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// decodeV1 reads an event the way a Go function does.
func decodeV1(t *testing.T, event []byte) events.APIGatewayProxyRequest {
	t.Helper()
	var got events.APIGatewayProxyRequest
	if err := json.Unmarshal(event, &got); err != nil {
		t.Fatalf("events.APIGatewayProxyRequest cannot read the event: %v\n%s", err, event)
	}
	return got
}

func TestEventV1AllFields(t *testing.T) {
	event, err := EventV1(sampleRequest(), Options{BinaryMediaTypes: []string{"image/png"}})
	if err != nil {
		t.Fatal(err)
	}
	want := events.APIGatewayProxyRequest{
		Resource:   "/pets/{id}",
		Path:       "/pets/42",
		HTTPMethod: "POST",
		Headers: map[string]string{
			"Content-Type": "application/json",
			"Accept":       "*/*",
			"X-Multi":      "2",
			"Cookie":       "c=3",
			"User-Agent":   "curl/8.5.0",
		},
		MultiValueHeaders: map[string][]string{
			"Content-Type": {"application/json"},
			"Accept":       {"*/*"},
			"X-Multi":      {"1", "2"},
			"Cookie":       {"a=1; b=2", "c=3"},
			"User-Agent":   {"curl/8.5.0"},
		},
		QueryStringParameters: map[string]string{
			"tag": "b c", "limit": "10", "empty": "", "flag": "", "q": "1 2",
		},
		MultiValueQueryStringParameters: map[string][]string{
			"tag": {"a", "b c"}, "limit": {"10"}, "empty": {""}, "flag": {""}, "q": {"1 2"},
		},
		PathParameters: map[string]string{"id": "42"},
		StageVariables: map[string]string{"backend": "blue"},
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         "123456789012",
			ResourceID:        "r3s0urc3",
			Stage:             "prod",
			DomainName:        "a1b2c3.execute-api.example.com",
			DomainPrefix:      "a1b2c3",
			RequestID:         "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			ExtendedRequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
			Protocol:          "HTTP/1.1",
			Identity: events.APIGatewayRequestIdentity{
				APIKey:    "s3cr3t-k3y",
				APIKeyID:  "k3y1d",
				SourceIP:  "203.0.113.7",
				UserAgent: "curl/8.5.0",
			},
			ResourcePath:     "/pets/{id}",
			Path:             "/prod/pets/42",
			HTTPMethod:       "POST",
			RequestTime:      sampleRequestTime,
			RequestTimeEpoch: sampleRequestEpoch,
			APIID:            "a1b2c3",
		},
		Body:            `{"name":"rex"}`,
		IsBase64Encoded: false,
	}
	if diff := cmp.Diff(want, decodeV1(t, event)); diff != "" {
		t.Errorf("event mismatch (-want +got):\n%s", diff)
	}

	raw := rawEvent(t, event)
	if v := raw["version"]; v != "1.0" {
		t.Errorf("version = %v, want 1.0", v)
	}
	// Archway authenticates no IAM or Cognito principals: those identity
	// fields are sent, and null, as API Gateway sends them.
	for _, k := range []string{
		"accessKey", "accountId", "caller", "cognitoAuthenticationProvider", "cognitoAuthenticationType",
		"cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId", "user", "userArn",
	} {
		if v, ok := lookup(raw, "requestContext", "identity", k); !ok || v != nil {
			t.Errorf("requestContext.identity.%s = %v (present %v), want null", k, v, ok)
		}
	}
}

// TestEventV1Absent checks that absent data is null, not empty and not
// missing: functions test event.queryStringParameters === null.
func TestEventV1Absent(t *testing.T) {
	event, err := EventV1(&Request{
		Method: "GET", Path: "/", ResourcePath: "/", Stage: "dev",
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw := rawEvent(t, event)
	for _, path := range [][]string{
		{"headers"},
		{"multiValueHeaders"},
		{"queryStringParameters"},
		{"multiValueQueryStringParameters"},
		{"pathParameters"},
		{"stageVariables"},
		{"body"},
		{"requestContext", "resourceId"},
		{"requestContext", "identity", "apiKey"},
		{"requestContext", "identity", "apiKeyId"},
	} {
		if v, ok := lookup(raw, path...); !ok || v != nil {
			t.Errorf("%v = %v (present %v), want null", path, v, ok)
		}
	}
	if v, ok := raw["isBase64Encoded"]; !ok || v != false {
		t.Errorf("isBase64Encoded = %v (present %v), want false", v, ok)
	}
	if _, ok := lookup(raw, "requestContext", "authorizer"); ok {
		t.Error("requestContext.authorizer is present for a route without an authorizer")
	}
	got := decodeV1(t, event).RequestContext
	if got.Path != "/" || got.Protocol != "HTTP/1.1" || got.RequestTime != "02/Jan/2026:03:04:05 +0000" {
		t.Errorf("requestContext path, protocol, requestTime = %q, %q, %q; want \"/\", \"HTTP/1.1\", \"02/Jan/2026:03:04:05 +0000\"",
			got.Path, got.Protocol, got.RequestTime)
	}
}

func TestEventV1Body(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00")
	tests := map[string]struct {
		contentType string
		body        []byte
		binary      []string
		wantBody    string
		wantBase64  bool
	}{
		"JSON is text":                   {"application/json", []byte(`{"a":1}`), []string{"image/png"}, `{"a":1}`, false},
		"binary type is base64":          {"image/png", png, []string{"image/png"}, base64.StdEncoding.EncodeToString(png), true},
		"binary type with parameters":    {"image/png; x=y", png, []string{"image/png"}, base64.StdEncoding.EncodeToString(png), true},
		"wildcard binary type":           {"image/png", png, []string{"image/*"}, base64.StdEncoding.EncodeToString(png), true},
		"everything binary":              {"text/plain", []byte("hi"), []string{"*/*"}, "aGk=", true},
		"no content type, all binary":    {"", []byte("hi"), []string{"*/*"}, "aGk=", true},
		"no binary types means text":     {"image/png", []byte("hi"), nil, "hi", false},
		"form post is text by default":   {"application/x-www-form-urlencoded", []byte("a=1&b=2"), nil, "a=1&b=2", false},
		"unicode text passes unescaped":  {"text/html", []byte("<p>café</p>"), nil, "<p>café</p>", false},
		"binary type, text content type": {"text/csv", []byte("a,b"), []string{"image/png"}, "a,b", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := &Request{Method: "POST", Path: "/", Header: http.Header{}, Body: tc.body}
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			event, err := EventV1(r, Options{BinaryMediaTypes: tc.binary})
			if err != nil {
				t.Fatal(err)
			}
			got := decodeV1(t, event)
			if got.Body != tc.wantBody || got.IsBase64Encoded != tc.wantBase64 {
				t.Errorf("body, isBase64Encoded = %q, %v; want %q, %v", got.Body, got.IsBase64Encoded, tc.wantBody, tc.wantBase64)
			}
		})
	}
}

func TestEventV1Authorizer(t *testing.T) {
	tests := map[string]struct {
		in   *Authorizer
		want map[string]any
	}{
		"none": {in: nil, want: nil},
		"lambda authorizer": {
			in: &Authorizer{PrincipalID: "user-1", Context: map[string]any{"tenant": "t1", "tier": 2, "admin": true}},
			want: map[string]any{
				"principalId": "user-1", "tenant": "t1", "tier": float64(2), "admin": true,
			},
		},
		"token claims": {
			in: &Authorizer{Claims: map[string]string{"sub": "abc", "email": "a@example.com"}, Scopes: []string{"pets/read"}},
			want: map[string]any{
				"claims": map[string]any{"sub": "abc", "email": "a@example.com"},
				"scopes": []any{"pets/read"},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := sampleRequest()
			r.Authorizer = tc.in
			event, err := EventV1(r, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, decodeV1(t, event).RequestContext.Authorizer); diff != "" {
				t.Errorf("authorizer mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEventV1HeaderNames checks that header names reach the function in
// canonical form whatever their spelling in the request, with values of
// names that differ only in case merged.
func TestEventV1HeaderNames(t *testing.T) {
	r := &Request{Method: "GET", Path: "/", Header: http.Header{
		"x-lower": {"1"}, "X-LOWER": {"2"}, "content-type": {"text/plain"},
	}}
	event, err := EventV1(r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := decodeV1(t, event)
	wantMulti := map[string][]string{"X-Lower": {"2", "1"}, "Content-Type": {"text/plain"}}
	if diff := cmp.Diff(wantMulti, got.MultiValueHeaders); diff != "" {
		t.Errorf("multiValueHeaders mismatch (-want +got):\n%s", diff)
	}
	wantSingle := map[string]string{"X-Lower": "1", "Content-Type": "text/plain"}
	if diff := cmp.Diff(wantSingle, got.Headers); diff != "" {
		t.Errorf("headers mismatch (-want +got):\n%s", diff)
	}
}
