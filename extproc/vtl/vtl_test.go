package vtl

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestParseErrorPosition(t *testing.T) {
	tests := map[string]struct {
		src        string
		line, col  int
		msgContain string
	}{
		"unclosed if": {
			src: "line1\n  #if(true)x", line: 2, col: 6, msgContain: "#if without #end",
		},
		"bad expression": {
			src: "a\nb #set($x = )", line: 2, col: 13, msgContain: "unexpected",
		},
		"inside string literal": {
			src: "#set($s = \"#if(\")", line: 1, col: 16, msgContain: "unexpected end",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("tmpl", tc.src)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want *ParseError", err)
			}
			if pe.Name != "tmpl" || pe.Line != tc.line || pe.Column != tc.col || !strings.Contains(pe.Msg, tc.msgContain) {
				t.Errorf("got %+v, want tmpl:%d:%d containing %q", *pe, tc.line, tc.col, tc.msgContain)
			}
		})
	}
}

func TestRenderConcurrently(t *testing.T) {
	tmpl, err := Parse("c", `#set($l = [])#foreach($i in [1..50])#set($x = $l.add($i))#end$name:$l.size()`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprint("g", g)
			for range 50 {
				got, err := tmpl.Render(map[string]any{"name": name}, Limits{})
				if err != nil || got != name+":50" {
					errs <- fmt.Errorf("got %q: %w", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestMap(t *testing.T) {
	m := NewMap()
	m.Set("b", 1)
	m.Set("a", 2)
	m.Set("b", 3)
	if got := strings.Join(m.Keys(), ","); got != "b,a" || m.Len() != 2 {
		t.Fatalf("keys %q len %d, want b,a 2", got, m.Len())
	}
	if v, ok := m.Get("b"); !ok || v != 3 {
		t.Errorf("Get(b) = %v, %v", v, ok)
	}
	if !m.Delete("b") || m.Delete("b") {
		t.Error("Delete should report presence once")
	}
	m.Set("b", 4)
	if got := strings.Join(m.Keys(), ","); got != "a,b" {
		t.Errorf("keys after re-adding %q, want a,b", got)
	}
	var zero Map
	zero.Set("k", "v")
	if v, _ := zero.Get("k"); v != "v" {
		t.Errorf("zero Map Get = %v", v)
	}
}

func TestMapGetExportsTemplateLists(t *testing.T) {
	m := NewMap()
	tmpl, err := Parse("m", `#set($m.l = [1, [2]])#set($x = $m.l.add(3))`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Render(map[string]any{"m": m}, Limits{}); err != nil {
		t.Fatal(err)
	}
	v, _ := m.Get("l")
	l, ok := v.([]any)
	if !ok || len(l) != 3 {
		t.Fatalf("Get(l) = %#v, want a 3-element []any", v)
	}
	if inner, ok := l[1].([]any); !ok || inner[0] != int64(2) {
		t.Errorf("nested list = %#v, want []any{2}", l[1])
	}
}

func TestRenderDoesNotKeepState(t *testing.T) {
	tmpl, err := Parse("s", `#if($seen)again#end#set($seen = true)first`)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{}
	for range 2 {
		got, err := tmpl.Render(vars, Limits{})
		if err != nil || got != "first" {
			t.Fatalf("got %q, %v; want first", got, err)
		}
	}
	if _, ok := vars["seen"]; ok {
		t.Error("#set changed the caller's vars map")
	}
}

func TestHostIntegerTypes(t *testing.T) {
	tmpl, err := Parse("i", `#set($s = $a + $b + $c)$s $f`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(map[string]any{"a": 1, "b": int32(2), "c": uint8(3), "f": float32(0.5)}, Limits{})
	if err != nil || got != "6 0.5" {
		t.Errorf("got %q, %v; want 6 0.5", got, err)
	}
}

func TestJavaDouble(t *testing.T) {
	tests := map[string]struct {
		in   float64
		want string
	}{
		"one":       {1, "1.0"},
		"half":      {0.5, "0.5"},
		"big":       {1e10, "1.0E10"},
		"bigger":    {1.2345e21, "1.2345E21"},
		"small":     {0.00012, "1.2E-4"},
		"edge low":  {0.001, "0.001"},
		"edge high": {9999999, "9999999.0"},
		"negative":  {-2.5e-7, "-2.5E-7"},
		"neg zero":  {negZero(), "-0.0"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := javaDouble(tc.in); got != tc.want {
				t.Errorf("javaDouble(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}
