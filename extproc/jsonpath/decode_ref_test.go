package jsonpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/archway-gateway/archway/extproc/vtl"
)

// referenceDecode is Decode as it was first written, over encoding/json's
// tokenizer: the reference the hand-written decoder must agree with.
func referenceDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := referenceValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// referenceValue reads one value with dec.Token.
func referenceValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
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
		list := []any{}
		for dec.More() {
			v, err := referenceValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token()
		return list, err
	case '{':
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
			v, err := referenceValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			m.Set(key, v)
		}
		_, err := dec.Token()
		return m, err
	}
	return nil, fmt.Errorf("unexpected %q", delim)
}

// sameDecoding fails t unless Decode and referenceDecode agree on data:
// both refuse it, or both give the same value.
func sameDecoding(t *testing.T, data []byte) {
	t.Helper()
	got, err := Decode(data)
	want, refErr := referenceDecode(data)
	if (err != nil) != (refErr != nil) {
		t.Fatalf("Decode(%q): error %v, encoding/json's %v", data, err, refErr)
	}
	if err == nil && (!reflect.DeepEqual(plain(got), plain(want)) || Encode(got) != Encode(want)) {
		t.Fatalf("Decode(%q) = %s, encoding/json gives %s", data, Encode(got), Encode(want))
	}
}

// plain turns Maps into slices of key, value pairs so that DeepEqual
// compares them without their internal layout.
func plain(v any) any {
	switch v := v.(type) {
	case *vtl.Map:
		var out []any
		for k, e := range v.All() {
			out = append(out, k, plain(e))
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// decodeSeeds are documents that reach every branch of the decoder.
func decodeSeeds() []string {
	return []string{
		``, ` `, `null`, `true`, `false`, `nul`, `tru`, `trUe`, `0`, `-0`, `-`, `01`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-7`, `-12.5e10`,
		`""`, `"a`, `"\"`, `"\u00e9\u00E9"`, `"\uD83D\uDE00"`, `"\uD83D"`, `"\uDE00\uD83D"`, `"\uD83D\u0041"`, `"\uD83Dx"`,
		`"\uD83D\uZZZZ"`, `"\u12"`, `"\x"`, "\"tab\there\"", "\"\xff\xfe\"", "\"caf\xc3\xa9\"", "\"\xed\xa0\x80\"", `"/\/"`,
		`[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`, `[1,2`, `{}`, `{ }`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{a:1}`, `{"a":1 "b":2}`,
		`{"a":1,"a":2,"b":[{"c":null}]}`, `{"a":1} x`, `1 2`, `[1]2`, ` {"k" : [ true , false , null ] } `, "\ufeff{}",
	}
}

// TestDecodeMatchesEncodingJSON checks Decode against encoding/json on
// the seeds and the bookstore.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, s := range decodeSeeds() {
		sameDecoding(t, []byte(s))
	}
	for _, name := range []string{"testdata/store.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sameDecoding(t, data)
	}
}

// FuzzDecode checks that Decode agrees with encoding/json on every input.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameDecoding(t, data) })
}

// referenceWriteString is writeString as it was first written, one rune
// at a time.
func referenceWriteString(b *strings.Builder, s string) {
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

// FuzzWriteString checks that writeString agrees with the reference.
func FuzzWriteString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\`, "\x00\x1f\x7f\u0085\u00a0\u2028\u20ff\u2100", "\xff\xc3", "\uFFFD", "caf\u00e9 😀", "\b\f\n\r\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want strings.Builder
		writeString(&got, s)
		referenceWriteString(&want, s)
		if got.String() != want.String() {
			t.Fatalf("writeString(%q) = %s, want %s", s, got.String(), want.String())
		}
	})
}
