package lambda

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"
)

// decodeCase is one entry of testdata/decode_v1.yaml or decode_v2.yaml.
type decodeCase struct {
	Name      string   `yaml:"name"`
	Output    string   `yaml:"output"`
	Accept    string   `yaml:"accept"`
	Binary    []string `yaml:"binary"`
	Malformed bool     `yaml:"malformed"`
	Want      struct {
		Status     int                 `yaml:"status"`
		Headers    map[string][]string `yaml:"headers"`
		Cookies    []string            `yaml:"cookies"`
		Body       string              `yaml:"body"`
		BodyBase64 string              `yaml:"body_base64"`
	} `yaml:"want"`
}

func loadDecodeCases(tb testing.TB, file string) []decodeCase {
	tb.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	var cases []decodeCase
	if err := yaml.Unmarshal(data, &cases); err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	if len(cases) == 0 {
		tb.Fatalf("%s: no cases", file)
	}
	return cases
}

// wantResponse is the Response a non-malformed case describes.
func (c *decodeCase) wantResponse(t *testing.T) *Response {
	t.Helper()
	body := []byte(c.Want.Body)
	if c.Want.BodyBase64 != "" {
		var err error
		if body, err = base64.StdEncoding.DecodeString(c.Want.BodyBase64); err != nil {
			t.Fatalf("body_base64: %v", err)
		}
	}
	return &Response{
		StatusCode: c.Want.Status,
		Header:     http.Header(c.Want.Headers),
		Cookies:    c.Want.Cookies,
		Body:       body,
	}
}

// responseCmp compares responses treating nil and empty slices and maps as
// equal: a function cannot tell them apart on the wire.
var responseCmp = cmpopts.EquateEmpty()

func runDecodeCases(t *testing.T, file string, decode func(c *decodeCase) (*Response, error)) {
	for _, c := range loadDecodeCases(t, file) {
		t.Run(c.Name, func(t *testing.T) {
			got, err := decode(&c)
			if c.Malformed {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("got (%+v, %v), want ErrMalformed", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if diff := cmp.Diff(c.wantResponse(t), got, responseCmp); diff != "" {
				t.Errorf("response mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeV1Cases(t *testing.T) {
	runDecodeCases(t, "testdata/decode_v1.yaml", func(c *decodeCase) (*Response, error) {
		return DecodeV1([]byte(c.Output), c.Accept, Options{BinaryMediaTypes: c.Binary})
	})
}

func TestDecodeV2Cases(t *testing.T) {
	runDecodeCases(t, "testdata/decode_v2.yaml", func(c *decodeCase) (*Response, error) {
		return DecodeV2([]byte(c.Output))
	})
}

// TestDecodeV1Events checks that results built with aws-lambda-go's
// APIGatewayProxyResponse, as Go functions build them, come back intact.
func TestDecodeV1Events(t *testing.T) {
	tests := map[string]struct {
		in     events.APIGatewayProxyResponse
		accept string
		binary []string
		want   *Response
	}{
		"zero value except status": {
			in:   events.APIGatewayProxyResponse{StatusCode: 200},
			want: &Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte{}},
		},
		"headers, multi-value headers and body": {
			in: events.APIGatewayProxyResponse{
				StatusCode:        302,
				Headers:           map[string]string{"Location": "/next", "Content-Type": "text/html; charset=utf-8"},
				MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}, "Location": {"/next"}},
				Body:              "<a href=\"/next\">moved</a>",
			},
			want: &Response{
				StatusCode: 302,
				Header: http.Header{
					"Location":     {"/next"},
					"Content-Type": {"text/html; charset=utf-8"},
					"Set-Cookie":   {"a=1", "b=2"},
				},
				Body: []byte("<a href=\"/next\">moved</a>"),
			},
		},
		"binary body for a matching Accept": {
			in: events.APIGatewayProxyResponse{
				StatusCode:      200,
				Headers:         map[string]string{"Content-Type": "application/octet-stream"},
				Body:            base64.StdEncoding.EncodeToString([]byte{0, 0xff, 0x10}),
				IsBase64Encoded: true,
			},
			accept: "application/octet-stream",
			binary: []string{"application/octet-stream"},
			want: &Response{
				StatusCode: 200,
				Header:     http.Header{"Content-Type": {"application/octet-stream"}},
				Body:       []byte{0, 0xff, 0x10},
			},
		},
		"binary body for a browser's Accept stays base64": {
			in: events.APIGatewayProxyResponse{
				StatusCode:      200,
				Body:            "AP8Q",
				IsBase64Encoded: true,
			},
			accept: "text/html,application/xhtml+xml,*/*;q=0.8",
			binary: []string{"application/octet-stream"},
			want:   &Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte("AP8Q")},
		},
		"client error": {
			in:   events.APIGatewayProxyResponse{StatusCode: 400, Body: `{"error":"missing name"}`},
			want: &Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"error":"missing name"}`)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeV1(out, tc.accept, Options{BinaryMediaTypes: tc.binary})
			if err != nil {
				t.Fatalf("DecodeV1(%s): %v", out, err)
			}
			if diff := cmp.Diff(tc.want, got, responseCmp); diff != "" {
				t.Errorf("response mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeV2Events checks that results built with aws-lambda-go's
// APIGatewayV2HTTPResponse come back intact. That type always writes a
// multiValueHeaders key, which HTTP APIs ignore.
func TestDecodeV2Events(t *testing.T) {
	tests := map[string]struct {
		in   events.APIGatewayV2HTTPResponse
		want *Response
	}{
		"zero value except status": {
			in:   events.APIGatewayV2HTTPResponse{StatusCode: 204},
			want: &Response{StatusCode: 204, Header: http.Header{"Content-Type": {"application/json"}}},
		},
		"headers, cookies and body": {
			in: events.APIGatewayV2HTTPResponse{
				StatusCode: 200,
				Headers:    map[string]string{"content-type": "text/plain", "x-trace": "a,b"},
				Cookies:    []string{"session=1; Secure; HttpOnly", "theme=dark"},
				Body:       "hello",
			},
			want: &Response{
				StatusCode: 200,
				Header:     http.Header{"Content-Type": {"text/plain"}, "X-Trace": {"a,b"}},
				Cookies:    []string{"session=1; Secure; HttpOnly", "theme=dark"},
				Body:       []byte("hello"),
			},
		},
		"multiValueHeaders ignored": {
			in: events.APIGatewayV2HTTPResponse{
				StatusCode:        200,
				MultiValueHeaders: map[string][]string{"X-Multi": {"1", "2"}},
				Body:              "x",
			},
			want: &Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte("x")},
		},
		"base64 body": {
			in: events.APIGatewayV2HTTPResponse{
				StatusCode:      200,
				Headers:         map[string]string{"Content-Type": "image/gif"},
				Body:            base64.StdEncoding.EncodeToString([]byte("GIF89a\x01\x00")),
				IsBase64Encoded: true,
			},
			want: &Response{StatusCode: 200, Header: http.Header{"Content-Type": {"image/gif"}}, Body: []byte("GIF89a\x01\x00")},
		},
		"server error": {
			in:   events.APIGatewayV2HTTPResponse{StatusCode: 500, Body: `{"message":"boom"}`},
			want: &Response{StatusCode: 500, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"message":"boom"}`)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeV2(out)
			if err != nil {
				t.Fatalf("DecodeV2(%s): %v", out, err)
			}
			if diff := cmp.Diff(tc.want, got, responseCmp); diff != "" {
				t.Errorf("response mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeErrorNamesField checks that a malformed result says which field
// is at fault, so that operators can fix the function from the log line.
func TestDecodeErrorNamesField(t *testing.T) {
	_, err := DecodeV1([]byte(`{"statusCode": 200, "body": {"a": 1}}`), "", Options{})
	if err == nil || !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v, want ErrMalformed", err)
	}
	if want := "lambda: malformed Lambda proxy response: body: want a string, got an object"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}
