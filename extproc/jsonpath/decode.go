package jsonpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/archway-gateway/archway/extproc/vtl"
)

// MaxDepth is how deeply arrays and objects may nest in a document that
// Decode reads or Encode writes. It matches encoding/json's own limit and
// keeps recursion, in this package and in the template engine, bounded.
const MaxDepth = 10000

// Decode parses one JSON text into the values this package evaluates paths
// over: nil, bool, json.Number, string, []any and *vtl.Map.
//
// Numbers stay json.Number so that $input.json gives back the number as the
// client wrote it (1.0 stays 1.0, 10 stays 10), which is what API Gateway
// does. Objects keep their key order; a repeated key keeps its first
// position and its last value. Anything after the value other than
// whitespace is an error.
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("jsonpath: decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("jsonpath: decode: data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= MaxDepth {
		return nil, fmt.Errorf("nesting deeper than %d", MaxDepth)
	}
	switch delim {
	case '[':
		return decodeArray(dec, depth+1)
	case '{':
		return decodeObject(dec, depth+1)
	}
	return nil, fmt.Errorf("unexpected %q", delim)
}

func decodeArray(dec *json.Decoder, depth int) (any, error) {
	list := []any{}
	for dec.More() {
		v, err := decodeValue(dec, depth)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	_, err := dec.Token() // the closing bracket
	return list, err
}

func decodeObject(dec *json.Decoder, depth int) (any, error) {
	m := vtl.NewMap()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key %v is not a string", tok)
		}
		v, err := decodeValue(dec, depth)
		if err != nil {
			return nil, err
		}
		m.Set(key, v)
	}
	_, err := dec.Token() // the closing brace
	return m, err
}

// Encode writes v as compact JSON: no spaces, object keys in their order.
//
// Strings are escaped as json-smart (Jayway's default JSON provider, and so
// API Gateway's) escapes them: quote, backslash and the C0 controls, plus
// U+007F–U+009F and U+2000–U+20FF as \uXXXX; "/" and other non-ASCII text
// are written as they are. json.Number is written as its text, float64 as
// Java's Double.toString would (1.0, 1.0E10), and NaN or infinities, which
// JSON cannot hold, as null. Values of other types, and anything nested
// deeper than MaxDepth (a cycle built by a template, say), are written as
// null so that the output is always valid JSON.
func Encode(v any) string {
	var b strings.Builder
	encode(&b, v, 0)
	return b.String()
}

func encode(b *strings.Builder, v any, depth int) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		b.WriteString(v.String())
	case string:
		writeString(b, v)
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case float64:
		b.WriteString(javaDouble(v))
	case []any:
		encodeList(b, v, depth)
	case *vtl.Map:
		encodeMap(b, v, depth)
	default:
		b.WriteString("null")
	}
}

func encodeList(b *strings.Builder, list []any, depth int) {
	if depth >= MaxDepth {
		b.WriteString("null")
		return
	}
	b.WriteByte('[')
	for i, e := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		encode(b, e, depth+1)
	}
	b.WriteByte(']')
}

func encodeMap(b *strings.Builder, m *vtl.Map, depth int) {
	if m == nil || depth >= MaxDepth {
		b.WriteString("null")
		return
	}
	b.WriteByte('{')
	for i, k := range m.Keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, k)
		b.WriteByte(':')
		e, _ := m.Get(k)
		encode(b, e, depth+1)
	}
	b.WriteByte('}')
}

func writeString(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r >= 0x2000 && r <= 0x20ff):
			b.WriteString(`\u`)
			b.WriteByte(hex[r>>12&0xf])
			b.WriteByte(hex[r>>8&0xf])
			b.WriteByte(hex[r>>4&0xf])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// javaDouble formats f as Java's Double.toString does, which is how a
// number that is not an integer prints in API Gateway's templates: plain
// decimals with at least one fractional digit for magnitudes in
// [1e-3, 1e7), otherwise scientific notation such as 1.0E10 or 1.5E-4.
// NaN and infinities, which JSON cannot hold, give "null".
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "null"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // e.g. -1.5e-07
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}
