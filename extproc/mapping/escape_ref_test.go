package mapping

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
)

// referenceEscapeJavaScript is EscapeJavaScript as it was first written,
// one rune at a time with fmt.
func referenceEscapeJavaScript(s string) string {
	var b strings.Builder
	for _, r := range s {
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
				fmt.Fprintf(&b, `\u%04X`, r)
			case r >= 0x10000:
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `\u%04X\u%04X`, hi, lo)
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// FuzzEscapeJavaScript checks EscapeJavaScript against the reference.
func FuzzEscapeJavaScript(f *testing.F) {
	for _, s := range []string{"", "plain", `'"\/`, "\x00\x1f\x7f\u0085é中😀", "\xff\xc3", "a\tb\nc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := EscapeJavaScript(s), referenceEscapeJavaScript(s); got != want {
			t.Fatalf("EscapeJavaScript(%q) = %s, want %s", s, got, want)
		}
	})
}
