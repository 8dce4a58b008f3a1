package lambda

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// ErrMalformed means the function's result is not a proxy response API
// Gateway would accept. The gateway then answers the client with
// 502 {"message": "Internal server error"} (AWS logs "Malformed Lambda proxy
// response"). Errors returned by DecodeV1 and DecodeV2 wrap it with the field
// at fault.
var ErrMalformed = errors.New("lambda: malformed Lambda proxy response")

// Response is the HTTP response the gateway sends the client for a
// function's result.
type Response struct {
	// StatusCode is the HTTP status, between 100 and 599.
	StatusCode int
	// Header holds the response headers. Content-Type is always set:
	// API Gateway sends application/json when the function gives none.
	Header http.Header
	// Cookies are payload 2.0's cookies; each becomes its own Set-Cookie
	// header. Always empty for 1.0, whose functions set Set-Cookie through
	// multiValueHeaders.
	Cookies []string
	// Body is the response payload, base64-decoded when it was sent encoded
	// and the format's rules say to decode it.
	Body []byte
}

// defaultContentType is what API Gateway sends when a proxy response names
// no Content-Type, and what HTTP APIs infer for a bare JSON result.
const defaultContentType = "application/json"

// keysV1 are the only keys a REST API accepts in a 1.0 result: any other key,
// even 2.0's cookies, makes the result malformed. base64Encoded is an older
// spelling of isBase64Encoded that REST APIs still honour, and prefer.
func keysV1() map[string]bool {
	return map[string]bool{
		"statusCode": true, "headers": true, "multiValueHeaders": true,
		"body": true, "isBase64Encoded": true, "base64Encoded": true,
	}
}

// DecodeV1 converts a payload format 1.0 result into the response. The
// result must be a JSON object of statusCode, headers, multiValueHeaders,
// body and isBase64Encoded; statusCode is required and every other key is
// refused. headers and multiValueHeaders are merged, a value present in
// both appearing once. A base64 body is decoded only when the first type of
// the client's Accept header is one of the API's binary media types;
// otherwise REST APIs send the base64 text itself, so DecodeV1 does too.
func DecodeV1(out []byte, accept string, o Options) (*Response, error) {
	fields, err := object("result", bytes.TrimSpace(out))
	if err != nil || fields == nil {
		return nil, malformed("result", "want a JSON object")
	}
	allowed := keysV1()
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if !allowed[k] {
			return nil, malformed(k, "not a proxy response key")
		}
	}
	resp := &Response{Header: http.Header{}}
	if resp.StatusCode, err = statusCode(fields["statusCode"]); err != nil {
		return nil, err
	}
	if err := mergeHeadersV1(resp.Header, fields); err != nil {
		return nil, err
	}
	encoded, err := base64FlagV1(fields)
	if err != nil {
		return nil, err
	}
	body, _, err := scalarString("body", fields["body"])
	if err != nil {
		return nil, err
	}
	first, _, _ := strings.Cut(accept, ",")
	decode := encoded && matchesBinary(mediaType(first), o.BinaryMediaTypes)
	if resp.Body, err = decodeBody(body, decode); err != nil {
		return nil, err
	}
	defaultHeaders(resp.Header)
	return resp, nil
}

// base64FlagV1 reads base64Encoded if present, else isBase64Encoded.
func base64FlagV1(fields map[string]json.RawMessage) (bool, error) {
	if raw, ok := fields["base64Encoded"]; ok && !isNull(raw) {
		return boolean("base64Encoded", raw)
	}
	return boolean("isBase64Encoded", fields["isBase64Encoded"])
}

// mergeHeadersV1 adds every multiValueHeaders value, then every headers
// value not already among its name's multi-value values.
func mergeHeadersV1(h http.Header, fields map[string]json.RawMessage) error {
	multi, err := object("multiValueHeaders", fields["multiValueHeaders"])
	if err != nil {
		return err
	}
	// Sorted, so that names differing only in case merge in a stable order.
	for _, name := range slices.Sorted(maps.Keys(multi)) {
		values, err := stringList("multiValueHeaders", multi[name])
		if err != nil {
			return err
		}
		for _, v := range values {
			if err := addHeader(h, "multiValueHeaders", name, v); err != nil {
				return err
			}
		}
	}
	single, err := object("headers", fields["headers"])
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(single)) {
		v, ok, err := scalarString("headers", single[name])
		if err != nil {
			return err
		}
		if ok && !hasValue(h, name, v) {
			if err := addHeader(h, "headers", name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasValue(h http.Header, name, v string) bool {
	for _, have := range h.Values(name) {
		if have == v {
			return true
		}
	}
	return false
}

// DecodeV2 converts a payload format 2.0 result into the response. A JSON
// object with a statusCode key is a structured response of statusCode,
// headers, cookies, body and isBase64Encoded; other keys, multiValueHeaders
// included, are ignored, and a base64 body is always decoded. Any other
// valid JSON — a string, a number, an array, an object without statusCode —
// is the body of a 200 application/json response: a string's value, anything
// else as the function wrote it.
func DecodeV2(out []byte) (*Response, error) {
	out = bytes.TrimSpace(out)
	if !json.Valid(out) {
		return nil, malformed("result", "not JSON")
	}
	var fields map[string]json.RawMessage
	if out[0] == '{' {
		if err := json.Unmarshal(out, &fields); err != nil {
			return nil, malformed("result", "%v", err)
		}
	}
	if _, ok := fields["statusCode"]; !ok {
		return inferV2(out)
	}
	return structuredV2(fields)
}

// inferV2 is HTTP APIs' response for a result without statusCode.
func inferV2(out []byte) (*Response, error) {
	body := out
	if out[0] == '"' {
		var s string
		if err := json.Unmarshal(out, &s); err != nil {
			return nil, malformed("result", "%v", err)
		}
		body = []byte(s)
	}
	return &Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {defaultContentType}},
		Body:       bytes.Clone(body),
	}, nil
}

func structuredV2(fields map[string]json.RawMessage) (*Response, error) {
	resp := &Response{Header: http.Header{}}
	var err error
	if resp.StatusCode, err = statusCode(fields["statusCode"]); err != nil {
		return nil, err
	}
	headers, err := object("headers", fields["headers"])
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		v, ok, err := scalarString("headers", headers[name])
		if err != nil {
			return nil, err
		}
		if ok {
			if err := addHeader(resp.Header, "headers", name, v); err != nil {
				return nil, err
			}
		}
	}
	if resp.Cookies, err = cookiesV2(fields["cookies"]); err != nil {
		return nil, err
	}
	encoded, err := boolean("isBase64Encoded", fields["isBase64Encoded"])
	if err != nil {
		return nil, err
	}
	body, _, err := scalarString("body", fields["body"])
	if err != nil {
		return nil, err
	}
	if resp.Body, err = decodeBody(body, encoded); err != nil {
		return nil, err
	}
	defaultHeaders(resp.Header)
	return resp, nil
}

// cookiesV2 reads the cookies array; each must be a valid Set-Cookie value.
func cookiesV2(raw json.RawMessage) ([]string, error) {
	cookies, err := stringList("cookies", raw)
	if err != nil {
		return nil, err
	}
	probe := http.Header{}
	for _, c := range cookies {
		if err := addHeader(probe, "cookies", "Set-Cookie", c); err != nil {
			return nil, err
		}
	}
	return cookies, nil
}

func defaultHeaders(h http.Header) {
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", defaultContentType)
	}
}
