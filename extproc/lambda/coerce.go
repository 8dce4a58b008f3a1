package lambda

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// API Gateway reads a function result with a lenient JSON binder: a number or
// a boolean is accepted where a string is expected, a decimal string where a
// status code is expected, "true" or "false" where a boolean is expected, and
// null anywhere means absent. An object or an array where a scalar is
// expected (such as a body that was not stringified) makes the result
// malformed. The helpers below apply those rules to one field each.

// malformed wraps ErrMalformed with the field at fault, for logs.
func malformed(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, field, fmt.Sprintf(format, args...))
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// scalarString reads a string, number or boolean as text. ok is false for
// null.
func scalarString(field string, raw json.RawMessage) (s string, ok bool, err error) {
	if isNull(raw) {
		return "", false, nil
	}
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, malformed(field, "%v", err)
		}
		return s, true, nil
	case '{', '[':
		return "", false, malformed(field, "want a string, got %s", kind(raw))
	default: // a number, true or false: its JSON text.
		return string(raw), true, nil
	}
}

// statusCode reads an HTTP status code given as a JSON integer or a decimal
// string. API Gateway answers 502 for a status it cannot send.
func statusCode(raw json.RawMessage) (int, error) {
	if isNull(raw) {
		return 0, malformed("statusCode", "missing")
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, malformed("statusCode", "%v", err)
		}
	}
	code, err := strconv.Atoi(text)
	if err != nil {
		return 0, malformed("statusCode", "not an integer: %.32q", text)
	}
	if code < 100 || code > 599 {
		return 0, malformed("statusCode", "%d is not an HTTP status", code)
	}
	return code, nil
}

// boolean reads true, false, "true" or "false"; null is false.
func boolean(field string, raw json.RawMessage) (bool, error) {
	if isNull(raw) {
		return false, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return false, malformed(field, "%v", err)
		}
		text = strings.ToLower(text)
	}
	switch text {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, malformed(field, "want a boolean, got %s", kind(raw))
}

// object reads a JSON object or null into its raw members.
func object(field string, raw json.RawMessage) (map[string]json.RawMessage, error) {
	if isNull(raw) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, malformed(field, "want an object, got %s", kind(raw))
	}
	return m, nil
}

// array reads a JSON array or null into its raw elements.
func array(field string, raw json.RawMessage) ([]json.RawMessage, error) {
	if isNull(raw) {
		return nil, nil
	}
	var a []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &a) != nil {
		return nil, malformed(field, "want an array, got %s", kind(raw))
	}
	return a, nil
}

// stringList reads an array of scalars, skipping nulls.
func stringList(field string, raw json.RawMessage) ([]string, error) {
	elems, err := array(field, raw)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range elems {
		s, ok, err := scalarString(field, e)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// addHeader adds one response header after checking that HTTP can carry it.
// API Gateway does not document what it does with a name or value that is
// not valid HTTP; Archway refuses the result rather than forward it.
func addHeader(h http.Header, field, name, value string) error {
	if !httpguts.ValidHeaderFieldName(name) {
		return malformed(field, "invalid header name %.64q", name)
	}
	if !httpguts.ValidHeaderFieldValue(value) {
		return malformed(field, "invalid value for header %s", name)
	}
	h.Add(name, value)
	return nil
}

// decodeBody returns the body bytes, decoding base64 when asked to. Like
// API Gateway's decoder it accepts the standard alphabet with or without
// padding.
func decodeBody(body string, decode bool) ([]byte, error) {
	if !decode {
		return []byte(body), nil
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(body, "="))
	if err != nil {
		return nil, malformed("body", "isBase64Encoded but %v", err)
	}
	return b, nil
}

// kind names the JSON type of a value for error messages.
func kind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}
