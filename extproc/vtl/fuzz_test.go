package vtl

import (
	"errors"
	"testing"
)

// fuzzLimits keep each fuzz input cheap; a template must fail with ErrLimit
// rather than run past them.
var fuzzLimits = Limits{MaxSteps: 20_000, MaxOutputBytes: 64 << 10, MaxDepth: 10}

// seedConformance adds every conformance template to the corpus.
func seedConformance(f *testing.F) {
	for _, c := range loadConformance(f) {
		f.Add(c.Template)
	}
}

func FuzzParse(f *testing.F) {
	seedConformance(f)
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Parse("fuzz", src)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %v is not a *ParseError", err)
			}
			if pe.Line < 1 || pe.Column < 1 {
				t.Fatalf("bad position in %v", pe)
			}
			return
		}
		if tmpl == nil {
			t.Fatal("nil template without error")
		}
	})
}

func FuzzRender(f *testing.F) {
	seedConformance(f)
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Parse("fuzz", src)
		if err != nil {
			return
		}
		vars := map[string]any{
			"s": "Hello, World", "n": int64(3), "f": 2.5, "b": true,
			"l": []any{"a", int64(1), nil}, "m": fuzzMap(), "o": testObject{props: fuzzMap()},
		}
		out, err := tmpl.Render(vars, fuzzLimits)
		if err != nil {
			return
		}
		if len(out) > fuzzLimits.MaxOutputBytes {
			t.Fatalf("output of %d bytes exceeds the limit", len(out))
		}
	})
}

func fuzzMap() *Map {
	m := NewMap()
	m.Set("k", "v")
	m.Set("n", int64(1))
	m.Set("l", []any{int64(1), int64(2)})
	return m
}
