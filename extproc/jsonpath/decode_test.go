package jsonpath

import (
	"errors"
	"strings"
	"testing"

	"github.com/archway-gateway/archway/extproc/vtl"
)

func TestDecodeEncodeRoundTrip(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"key order kept":     {in: `{"z":1,"a":2,"m":3}`, want: `{"z":1,"a":2,"m":3}`},
		"number text kept":   {in: `[1.0, 1, 1.50, -0, 1e2, 12345678901234567890]`, want: `[1.0,1,1.50,-0,1e2,12345678901234567890]`},
		"duplicate key":      {in: `{"a":1,"b":2,"a":3}`, want: `{"a":3,"b":2}`},
		"whitespace dropped": {in: " { \"a\" : [ true , false , null ] } \n", want: `{"a":[true,false,null]}`},
		"escapes":            {in: `"q\" b\\ s/ \u00e9 \n\t\b\f\r \u0001"`, want: `"q\" b\\ s/ é \n\t\b\f\r \u0001"`},
		"json-smart ranges":  {in: `"\u007f\u0085\u2028\u20ac\u2100"`, want: `"\u007F\u0085\u2028\u20AC` + "\u2100" + `"`},
		"empty containers":   {in: `{"a":{},"b":[]}`, want: `{"a":{},"b":[]}`},
		"scalar document":    {in: `"just a string"`, want: `"just a string"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v, err := Decode([]byte(tc.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := Encode(v); got != tc.want {
				t.Errorf("Encode(Decode(%s)) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := map[string]string{
		"empty":          "",
		"trailing data":  `{"a":1} x`,
		"two values":     `1 2`,
		"unclosed":       `{"a":[1,2}`,
		"bare word":      `hello`,
		"too deep":       strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
		"trailing comma": `[1,]`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if v, err := Decode([]byte(in)); err == nil {
				t.Errorf("Decode(%.40q) = %v, want an error", in, v)
			}
		})
	}
}

func TestEncodeGoValues(t *testing.T) {
	m := vtl.NewMap()
	m.Set("i", int64(3))
	m.Set("n", 7)
	m.Set("f", 1.0)
	m.Set("big", 1e10)
	m.Set("small", 0.0001)
	m.Set("neg", -2.5)
	m.Set("unknown", struct{}{})
	want := `{"i":3,"n":7,"f":1.0,"big":1.0E10,"small":1.0E-4,"neg":-2.5,"unknown":null}`
	if got := Encode(m); got != want {
		t.Errorf("Encode = %s, want %s", got, want)
	}
}

func TestEncodeCycle(t *testing.T) {
	list := []any{nil}
	list[0] = list // a cycle, as a template could build one
	got := Encode(list)
	if !strings.HasSuffix(got, "null"+strings.Repeat("]", MaxDepth)) {
		t.Errorf("Encode of a cycle does not end in null: ...%s", got[len(got)-20:])
	}
}

func TestDecodeDepthLimitIsExact(t *testing.T) {
	in := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Decode([]byte(in)); err != nil {
		t.Errorf("Decode at exactly MaxDepth: %v", err)
	}
	_, err := Decode([]byte("[" + in + "]"))
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Decode past MaxDepth = %v, want a depth error", err)
	}
}
