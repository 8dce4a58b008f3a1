package mapping

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/archway-gateway/archway/extproc/jsonpath"
)

// Util is $util, API Gateway's helper functions for mapping templates. Each
// takes one string; called with anything else it is not found, as a Java
// method with a String parameter is not found by Velocity.
type Util struct{}

// Property resolves nothing: $util has only methods.
func (Util) Property(string) (any, bool) { return nil, false }

// Method calls one of $util's functions.
func (Util) Method(name string, args []any) (any, bool, error) {
	if len(args) != 1 {
		return nil, false, nil
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, false, nil
	}
	switch name {
	case "escapeJavaScript":
		return EscapeJavaScript(s), true, nil
	case "parseJson":
		v, err := parseJSON(s)
		return v, true, err
	case "urlEncode":
		return URLEncode(s), true, nil
	case "urlDecode":
		v, err := URLDecode(s)
		return v, true, err
	case "base64Encode":
		return base64.StdEncoding.EncodeToString([]byte(s)), true, nil
	case "base64Decode":
		v, err := Base64Decode(s)
		return v, true, err
	}
	return nil, false, nil
}

// parseJSON is $util.parseJson: stringified JSON to values a template can
// navigate, as $input.path returns them.
func parseJSON(s string) (any, error) {
	v, err := jsonpath.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("$util.parseJson: %w", err)
	}
	return templateValue(v), nil
}

// EscapeJavaScript escapes s with JavaScript string rules, as Apache
// Commons Lang's StringEscapeUtils.escapeJavaScript does for API Gateway:
// ' " \ and / are backslash-escaped, \b \f \n \r \t get their short forms,
// other control characters and every character outside ASCII become \uXXXX
// (upper-case hex, UTF-16 surrogate pairs beyond the BMP). The escaped
// single quote (\') is not valid JSON; API Gateway's guide tells template
// authors to undo it with .replaceAll("\\'", "'").
func EscapeJavaScript(s string) string {
	i := 0
	for i < len(s) && !jsEscaped(s[i]) {
		i++
	}
	if i == len(s) {
		return s // most text has nothing to escape
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		switch r {
		case '\'', '"', '\\', '/':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			switch {
			case r < 0x20 || r > 0x7f && r < 0x10000:
				writeUnicodeEscape(&b, r)
			case r >= 0x10000:
				hi, lo := utf16.EncodeRune(r)
				writeUnicodeEscape(&b, hi)
				writeUnicodeEscape(&b, lo)
			default:
				b.WriteByte(byte(r))
			}
		}
	}
	return b.String()
}

// jsEscaped reports whether EscapeJavaScript changes the byte c: a byte
// of a character outside ASCII, a control character other than DEL, or
// one of ' " \ /.
func jsEscaped(c byte) bool {
	return c < 0x20 || c > 0x7f || c == '\'' || c == '"' || c == '\\' || c == '/'
}

// writeUnicodeEscape writes the UTF-16 code unit r as \uXXXX, upper-case.
func writeUnicodeEscape(b *strings.Builder, r rune) {
	const hex = "0123456789ABCDEF"
	b.WriteString(`\u`)
	b.WriteByte(hex[r>>12&0xf])
	b.WriteByte(hex[r>>8&0xf])
	b.WriteByte(hex[r>>4&0xf])
	b.WriteByte(hex[r&0xf])
}

// URLEncode converts s to application/x-www-form-urlencoded form as Java's
// URLEncoder does with UTF-8: letters, digits and . - * _ stay, a space
// becomes +, and every other byte becomes %XX in upper-case hex.
func URLEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '-', c == '*', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}

// URLDecode decodes application/x-www-form-urlencoded text as Java's
// URLDecoder does with UTF-8: + is a space, runs of %XX are bytes read as
// UTF-8 (a malformed sequence becomes U+FFFD), and a truncated or non-hex
// escape is an error, as Java throws IllegalArgumentException.
func URLDecode(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '+':
			b.WriteByte(' ')
			i++
		case '%':
			var raw []byte
			for i < len(s) && s[i] == '%' {
				if i+2 >= len(s) {
					return "", errors.New("$util.urlDecode: incomplete trailing escape (%) pattern")
				}
				v, ok := unhex(s[i+1], s[i+2])
				if !ok {
					return "", fmt.Errorf("$util.urlDecode: illegal hex characters in escape (%%) pattern %q", s[i:i+3])
				}
				raw = append(raw, v)
				i += 3
			}
			b.WriteString(javaUTF8(raw))
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// unhex reads two hex digits as Java's Integer.parseInt(s, 16) would for
// URLDecoder: a leading + is accepted, a leading - is a negative value and
// rejected.
func unhex(a, c byte) (byte, bool) {
	d := func(x byte) (byte, bool) {
		switch {
		case x >= '0' && x <= '9':
			return x - '0', true
		case x >= 'a' && x <= 'f':
			return x - 'a' + 10, true
		case x >= 'A' && x <= 'F':
			return x - 'A' + 10, true
		}
		return 0, false
	}
	lo, ok := d(c)
	if !ok {
		return 0, false
	}
	if a == '+' {
		return lo, true
	}
	hi, ok := d(a)
	return hi<<4 | lo, ok
}

// Base64Decode is $util.base64Decode: standard base64 (padding optional,
// as Java's basic decoder allows) to text, with malformed UTF-8 replaced by
// U+FFFD as Java's String constructor does.
func Base64Decode(s string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || (strings.HasSuffix(s, "=") && len(s)%4 != 0) {
		return "", fmt.Errorf("$util.base64Decode: invalid base64 input")
	}
	return javaUTF8(raw), nil
}

// javaUTF8 converts bytes to a string the way Java decodes UTF-8: each
// malformed byte becomes U+FFFD.
func javaUTF8(raw []byte) string {
	if utf8.Valid(raw) {
		return string(raw)
	}
	var b strings.Builder
	for len(raw) > 0 {
		r, n := utf8.DecodeRune(raw)
		b.WriteRune(r) // utf8.RuneError is U+FFFD
		raw = raw[n:]
	}
	return b.String()
}
