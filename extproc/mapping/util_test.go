package mapping

import "testing"

func TestEscapeJavaScript(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":          {in: "hello world 123", want: "hello world 123"},
		"quotes":         {in: `'single' "double"`, want: `\'single\' \"double\"`},
		"backslash":      {in: `a\b`, want: `a\\b`},
		"slash":          {in: "</script>", want: `<\/script>`},
		"short controls": {in: "\b\f\n\r\t", want: `\b\f\n\r\t`},
		"other controls": {in: "\x00\x01\x1f", want: `\u0000\u0001\u001F`},
		"delete kept":    {in: "\x7f", want: "\x7f"},
		"latin-1":        {in: "\u0080é\u00ff", want: `\u0080\u00E9\u00FF`},
		"bmp":            {in: "中€\uffff", want: `\u4E2D\u20AC\uFFFF`},
		"astral":         {in: "😀", want: `\uD83D\uDE00`},
		"empty":          {in: "", want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := EscapeJavaScript(tc.in); got != tc.want {
				t.Errorf("EscapeJavaScript(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestURLEncodeDecode(t *testing.T) {
	tests := map[string]struct{ plain, encoded string }{
		"unreserved":   {plain: "azAZ09.-*_", encoded: "azAZ09.-*_"},
		"space":        {plain: "a b", encoded: "a+b"},
		"reserved":     {plain: "~!'()&=+/?#", encoded: "%7E%21%27%28%29%26%3D%2B%2F%3F%23"},
		"utf-8":        {plain: "é😀", encoded: "%C3%A9%F0%9F%98%80"},
		"empty":        {plain: "", encoded: ""},
		"percent sign": {plain: "100%", encoded: "100%25"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := URLEncode(tc.plain); got != tc.encoded {
				t.Errorf("URLEncode(%q) = %q, want %q", tc.plain, got, tc.encoded)
			}
			got, err := URLDecode(tc.encoded)
			if err != nil || got != tc.plain {
				t.Errorf("URLDecode(%q) = %q, %v; want %q", tc.encoded, got, err, tc.plain)
			}
		})
	}
}

func TestURLDecodeJavaEdges(t *testing.T) {
	tests := map[string]struct {
		in, want string
		wantErr  bool
	}{
		"lower-case hex":    {in: "%c3%a9", want: "é"},
		"plus sign in hex":  {in: "%+1", want: "\x01"},
		"minus sign in hex": {in: "%-1", wantErr: true},
		"non-hex":           {in: "%g0", wantErr: true},
		"trailing percent":  {in: "abc%", wantErr: true},
		"one digit":         {in: "abc%4", wantErr: true},
		"malformed utf-8":   {in: "a%C3b", want: "a\uFFFDb"},
		"lone continuation": {in: "%80%80", want: "\uFFFD\uFFFD"},
		"raw text passes":   {in: "a/b?c", want: "a/b?c"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := URLDecode(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("URLDecode(%q) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestBase64Decode(t *testing.T) {
	tests := map[string]struct {
		in, want string
		wantErr  bool
	}{
		"padded":        {in: "aGk=", want: "hi"},
		"unpadded":      {in: "aGk", want: "hi"},
		"double pad":    {in: "YQ==", want: "a"},
		"short padding": {in: "YQ=", wantErr: true},
		"bad character": {in: "a$b=", wantErr: true},
		"url alphabet":  {in: "-_-_", wantErr: true},
		"binary":        {in: "/w==", want: "\uFFFD"},
		"empty":         {in: "", want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Base64Decode(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("Base64Decode(%q) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestUtilMethodArguments(t *testing.T) {
	tests := map[string]struct {
		name string
		args []any
	}{
		"no argument":    {name: "urlEncode"},
		"two arguments":  {name: "urlEncode", args: []any{"a", "b"}},
		"not a string":   {name: "escapeJavaScript", args: []any{int64(1)}},
		"null":           {name: "base64Encode", args: []any{nil}},
		"unknown":        {name: "toJson", args: []any{"x"}},
		"case sensitive": {name: "URLEncode", args: []any{"x"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if v, ok, err := (Util{}).Method(tc.name, tc.args); ok || err != nil {
				t.Errorf("Method(%s, %v) = %v, %v, %v; want not found", tc.name, tc.args, v, ok, err)
			}
		})
	}
	if v, ok, err := (Util{}).Method("urlEncode", []any{"a b"}); !ok || err != nil || v != "a+b" {
		t.Errorf("urlEncode = %v, %v, %v", v, ok, err)
	}
}
