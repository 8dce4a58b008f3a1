package lambda

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/http/httpguts"
)

// A function result comes from code Archway does not control, so the
// decoders must turn any bytes into either a sendable response or
// ErrMalformed: no panic, no hang, and never a response larger than the
// result it came from.

func FuzzDecodeV1(f *testing.F) {
	for _, c := range loadDecodeCases(f, "testdata/decode_v1.yaml") {
		f.Add([]byte(c.Output), c.Accept, len(c.Binary) > 0)
	}
	f.Fuzz(func(t *testing.T, out []byte, accept string, binary bool) {
		o := Options{}
		if binary {
			o.BinaryMediaTypes = []string{"image/*", "application/octet-stream"}
		}
		resp, err := DecodeV1(out, accept, o)
		checkDecoded(t, out, resp, err)
		if err == nil {
			again, _ := DecodeV1(out, accept, o)
			if diff := cmp.Diff(resp, again); diff != "" {
				t.Fatalf("DecodeV1 is not deterministic:\n%s", diff)
			}
		}
	})
}

func FuzzDecodeV2(f *testing.F) {
	for _, c := range loadDecodeCases(f, "testdata/decode_v2.yaml") {
		f.Add([]byte(c.Output))
	}
	seed, err := json.Marshal(events.APIGatewayV2HTTPResponse{
		StatusCode: 200, Headers: map[string]string{"a": "b"}, Cookies: []string{"c=d"}, Body: "e",
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, out []byte) {
		resp, err := DecodeV2(out)
		checkDecoded(t, out, resp, err)
		if err == nil {
			again, _ := DecodeV2(out)
			if diff := cmp.Diff(resp, again); diff != "" {
				t.Fatalf("DecodeV2 is not deterministic:\n%s", diff)
			}
		}
	})
}

// checkDecoded asserts what holds for every decoded result.
func checkDecoded(t *testing.T, out []byte, resp *Response, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrMalformed) || resp != nil {
			t.Fatalf("got (%v, %v), want (nil, ErrMalformed)", resp, err)
		}
		return
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		t.Fatalf("status %d is not an HTTP status", resp.StatusCode)
	}
	if resp.Header.Get("Content-Type") == "" {
		t.Fatal("no Content-Type")
	}
	size := len(resp.Body)
	for name, values := range resp.Header {
		for _, v := range values {
			if !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(v) {
				t.Fatalf("header %q: %q cannot be sent", name, v)
			}
			size += len(name) + len(v)
		}
	}
	for _, c := range resp.Cookies {
		if !httpguts.ValidHeaderFieldValue(c) {
			t.Fatalf("cookie %q cannot be sent", c)
		}
		size += len(c)
	}
	// Everything but the default Content-Type comes from the result, and a
	// JSON string only grows where invalid UTF-8 becomes U+FFFD: three bytes
	// for one.
	if limit := 3*len(out) + len("Content-Type") + len(defaultContentType); size > limit {
		t.Fatalf("response of %d bytes from a %d-byte result", size, len(out))
	}
}

// FuzzEvents checks that whatever the client sends, both events are JSON
// that aws-lambda-go's event types read.
func FuzzEvents(f *testing.F) {
	f.Add("GET", "a=1&a=2&b=%20", "text/plain", "x=1; y=2", []byte("hello"))
	f.Add("POST", "%zz&=&&", "image/png", "", []byte{0, 0xff})
	f.Add("PUT", "q=caf%C3%A9+x", "application/json; charset=utf-8", "a", []byte(`{"a":"\u2028"}`))
	f.Fuzz(func(t *testing.T, method, rawQuery, contentType, cookie string, body []byte) {
		if method == "" {
			method = "GET"
		}
		r := &Request{
			Method: method, Path: "/", RawQuery: rawQuery, Body: body,
			Header: http.Header{"Content-Type": {contentType}, "Cookie": {cookie}},
		}
		v1, err := EventV1(r, Options{BinaryMediaTypes: []string{"image/*"}})
		if err != nil {
			t.Fatal(err)
		}
		var e1 events.APIGatewayProxyRequest
		if err := json.Unmarshal(v1, &e1); err != nil || e1.HTTPMethod != method && utf8.ValidString(method) {
			t.Fatalf("1.0 event unreadable (%v) or wrong method %q:\n%s", err, e1.HTTPMethod, v1)
		}
		v2, err := EventV2(r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var e2 events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(v2, &e2); err != nil || e2.RawQueryString != rawQuery && utf8.ValidString(rawQuery) {
			t.Fatalf("2.0 event unreadable (%v) or rawQueryString %q changed:\n%s", err, e2.RawQueryString, v2)
		}
	})
}
