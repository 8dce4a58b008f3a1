package jsonpath

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

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
// whitespace is an error. What it accepts, and the strings it makes
// (invalid UTF-8 and unpaired surrogates become U+FFFD), are
// encoding/json's.
func Decode(data []byte) (any, error) {
	d := decoder{data: data, text: string(data)}
	v, err := d.value(0)
	if err == nil {
		d.skipSpace()
		if d.pos < len(d.data) {
			err = errors.New("data after the JSON value")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("jsonpath: decode: %w", err)
	}
	return v, nil
}

// decoder reads one JSON text. It is a recursive descent over the bytes,
// several times faster than encoding/json's Decoder.Token, which Decode
// needs no more of: Decode builds its own values to keep key order.
type decoder struct {
	data []byte
	// text is data as a string, copied once: the strings and numbers
	// read are slices of it rather than an allocation each.
	text string
	pos  int
	// scratch holds the members of the objects being read, and items the
	// elements of the arrays being read, reused so that each object and
	// array is allocated at its final size.
	scratch []entry
	items   []any
}

// entry is one member of an object being read.
type entry struct {
	key string
	val any
}

// skipSpace skips JSON's four whitespace characters.
func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// syntaxError describes an unexpected byte, or the end of the input.
func (d *decoder) syntaxError(what string) error {
	if d.pos >= len(d.data) {
		return io.ErrUnexpectedEOF
	}
	return fmt.Errorf("invalid character %q %s at offset %d", d.data[d.pos], what, d.pos)
}

// value reads one value; depth is how many arrays and objects enclose it.
func (d *decoder) value(depth int) (any, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, io.ErrUnexpectedEOF
	}
	switch c := d.data[d.pos]; {
	case c == '{' || c == '[':
		if depth >= MaxDepth {
			return nil, fmt.Errorf("nesting deeper than %d", MaxDepth)
		}
		d.pos++
		if c == '{' {
			return d.object(depth + 1)
		}
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.syntaxError("looking for beginning of value")
}

// literal reads the literal word.
func (d *decoder) literal(word string) error {
	if len(d.data)-d.pos >= len(word) && string(d.data[d.pos:d.pos+len(word)]) == word {
		d.pos += len(word)
		return nil
	}
	for i := range len(word) {
		if d.pos >= len(d.data) || d.data[d.pos] != word[i] {
			return d.syntaxError("in literal " + word)
		}
		d.pos++
	}
	return nil
}

// array reads the rest of an array, after its '['. Its elements wait in
// d.items until the array ends, so that the list is made once at its
// size.
func (d *decoder) array(depth int) (any, error) {
	base := len(d.items)
	defer func() {
		clear(d.items[base:])
		d.items = d.items[:base]
	}()
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return []any{}, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.items = append(d.items, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, io.ErrUnexpectedEOF
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return slices.Clone(d.items[base:]), nil
		default:
			return nil, d.syntaxError("after array element")
		}
	}
}

// object reads the rest of an object, after its '{'. Its members wait in
// d.scratch until the object ends, so that the Map is made once at its
// size.
func (d *decoder) object(depth int) (any, error) {
	base := len(d.scratch)
	defer func() {
		clear(d.scratch[base:])
		d.scratch = d.scratch[:base]
	}()
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return vtl.NewMap(), nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.syntaxError("looking for beginning of object key string")
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.syntaxError("after object key")
		}
		d.pos++
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.scratch = append(d.scratch, entry{key: key, val: v})
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, io.ErrUnexpectedEOF
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			members := d.scratch[base:]
			m := vtl.NewMapCap(len(members))
			for _, e := range members {
				m.Set(e.key, e.val)
			}
			return m, nil
		default:
			return nil, d.syntaxError("after object key:value pair")
		}
	}
}

// number reads a number as JSON's grammar has it and keeps its text.
func (d *decoder) number() (any, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case d.digits() == 0:
		return nil, d.syntaxError("in numeric literal")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if d.digits() == 0 {
			return nil, d.syntaxError("after decimal point in numeric literal")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if d.digits() == 0 {
			return nil, d.syntaxError("in exponent of numeric literal")
		}
	}
	return json.Number(d.text[start:d.pos]), nil
}

// digits skips decimal digits and returns how many there were.
func (d *decoder) digits() int {
	start := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos - start
}

// str reads a string, from its opening quote. A string without escapes
// or bytes outside ASCII is a slice of the text.
func (d *decoder) str() (string, error) {
	d.pos++ // the opening quote
	start := d.pos
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; {
		case c == '"':
			s := d.text[start:d.pos]
			d.pos++
			return s, nil
		case c == '\\' || c >= utf8.RuneSelf:
			return d.strSlow(start)
		case c < 0x20:
			return "", d.syntaxError("in string literal")
		default:
			d.pos++
		}
	}
	return "", io.ErrUnexpectedEOF
}

// strSlow reads the rest of a string that has escapes or non-ASCII text,
// whose first start bytes are plain.
func (d *decoder) strSlow(start int) (string, error) {
	b := make([]byte, 0, d.pos-start+16)
	b = append(b, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(b), nil
		case c == '\\':
			var err error
			if b, err = d.escape(b); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", d.syntaxError("in string literal")
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			b = utf8.AppendRune(b, r) // an invalid byte becomes U+FFFD
			d.pos += size
		}
	}
	return "", io.ErrUnexpectedEOF
}

// escape appends the character of the escape sequence at d.pos to b. An
// escaped surrogate pair is one character; a lone surrogate is U+FFFD.
func (d *decoder) escape(b []byte) ([]byte, error) {
	d.pos++ // the backslash
	if d.pos >= len(d.data) {
		return nil, io.ErrUnexpectedEOF
	}
	c := d.data[d.pos]
	d.pos++
	switch c {
	case '"', '\\', '/':
		return append(b, c), nil
	case 'b':
		return append(b, '\b'), nil
	case 'f':
		return append(b, '\f'), nil
	case 'n':
		return append(b, '\n'), nil
	case 'r':
		return append(b, '\r'), nil
	case 't':
		return append(b, '\t'), nil
	case 'u':
		r, err := d.hex4()
		if err != nil {
			return nil, err
		}
		if utf16.IsSurrogate(r) {
			if pair, ok := d.pairWith(r); ok {
				return utf8.AppendRune(b, pair), nil
			}
			r = utf8.RuneError
		}
		return utf8.AppendRune(b, r), nil
	}
	d.pos--
	return nil, d.syntaxError("in string escape code")
}

// pairWith reads the \\uXXXX after the surrogate hi when the two make a
// pair, and returns the pair's character; otherwise it reads nothing.
func (d *decoder) pairWith(hi rune) (rune, bool) {
	if len(d.data)-d.pos < 6 || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
		return 0, false
	}
	save := d.pos
	d.pos += 2
	lo, err := d.hex4()
	if err == nil {
		if pair := utf16.DecodeRune(hi, lo); pair != utf8.RuneError {
			return pair, true
		}
	}
	d.pos = save
	return 0, false
}

// hex4 reads the four hex digits of a \u escape.
func (d *decoder) hex4() (rune, error) {
	var r rune
	for range 4 {
		if d.pos >= len(d.data) {
			return 0, io.ErrUnexpectedEOF
		}
		c := d.data[d.pos]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, d.syntaxError("in \\u hexadecimal character escape")
		}
		r = r<<4 | rune(c)
		d.pos++
	}
	return r, nil
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

// encode writes v at nesting depth depth.
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

// encodeList writes an array, or null past MaxDepth.
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

// encodeMap writes an object with its keys in order, or null past
// MaxDepth.
func encodeMap(b *strings.Builder, m *vtl.Map, depth int) {
	if m == nil || depth >= MaxDepth {
		b.WriteString("null")
		return
	}
	b.WriteByte('{')
	first := true
	for k, e := range m.All() {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(b, k)
		b.WriteByte(':')
		encode(b, e, depth+1)
	}
	b.WriteByte('}')
}

// writeString writes s as a JSON string. Runs of characters that need no
// escape are copied at once; invalid UTF-8 is written as U+FFFD.
func writeString(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('"')
	plain := 0 // start of the run not yet written
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError && r > 0x9f && (r < 0x2000 || r > 0x20ff) {
				i += size
				continue
			}
		}
		b.WriteString(s[plain:i])
		i += size
		plain = i
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
		default: // invalid UTF-8
			b.WriteRune(utf8.RuneError)
		}
	}
	b.WriteString(s[plain:])
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
