package mapping

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/archway-gateway/archway/extproc/vtl"
)

func render(t *testing.T, src string, vars map[string]any) string {
	t.Helper()
	tmpl, err := vtl.Parse("test", src)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tmpl.Render(vars, vtl.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReadOverrides(t *testing.T) {
	tests := map[string]struct {
		template string
		want     Overrides
	}{
		"nothing set": {template: "{}", want: Overrides{}},
		"status and header": {
			template: "#set($context.responseOverride.status = 400)" +
				"#set($context.responseOverride.header.X-Reason = 'bad')",
			want: Overrides{Status: 400, ResponseHeader: []Param{{"X-Reason", "bad"}}},
		},
		"status as a string": {
			template: "#set($context.responseOverride.status = '503')",
			want:     Overrides{Status: 503},
		},
		"status out of range": {
			template: "#set($context.responseOverride.status = 42)",
			want:     Overrides{},
		},
		"request overrides": {
			template: `#set($context.requestOverride.header.oHeader = "1header")` +
				`#set($context.requestOverride.header.multivalue = ["1header", "2header"])` +
				`#set($context.requestOverride.path.proxy = "proxy")` +
				`#set($context.requestOverride.querystring.n = 5)`,
			want: Overrides{
				RequestHeader: []Param{{"oHeader", "1header"}, {"multivalue", "1header"}, {"multivalue", "2header"}},
				RequestPath:   []Param{{"proxy", "proxy"}},
				RequestQuery:  []Param{{"n", "5"}},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			vars := Vars(&Request{})
			render(t, tc.template, vars)
			if diff := cmp.Diff(tc.want, ReadOverrides(vars)); diff != "" {
				t.Errorf("ReadOverrides (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadOverridesWithoutContext(t *testing.T) {
	if got := ReadOverrides(map[string]any{}); !cmp.Equal(got, Overrides{}) {
		t.Errorf("ReadOverrides(empty) = %+v", got)
	}
}

// TestVarsAreFresh checks that what one rendering changes is not seen by
// the next request's variables.
func TestVarsAreFresh(t *testing.T) {
	r := &Request{StageVariables: map[string]string{"a": "1"}, Query: []Param{{"q", "x"}}}
	first := Vars(r)
	render(t, "#set($ok = $stageVariables.put('a', 'changed'))#set($ok = $input.params().querystring.put('q', 'y'))", first)
	if got := render(t, "$stageVariables.a $input.params('q')", first); got != "changed y" {
		t.Fatalf("first rendering's own changes not visible: %q", got)
	}
	if got := render(t, "$stageVariables.a $input.params('q')", Vars(r)); got != "1 x" {
		t.Errorf("a new Vars sees another rendering's changes: %q", got)
	}
}

func TestContextTypes(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	vars := Vars(&Request{Time: at, Method: "POST"})
	ctx := vars["context"].(*vtl.Map)
	epoch, _ := ctx.Get("requestTimeEpoch")
	if epoch != at.UnixMilli() {
		t.Errorf("requestTimeEpoch = %#v, want int64 %d", epoch, at.UnixMilli())
	}
	if _, ok := ctx.Get("requestTime"); !ok {
		t.Error("requestTime missing")
	}
	if _, ok := Vars(&Request{})["context"].(*vtl.Map).Get("requestTime"); ok {
		t.Error("requestTime set for a zero time")
	}
	if got := render(t, "#if($context.requestTimeEpoch > 0)number#end", vars); got != "number" {
		t.Errorf("requestTimeEpoch does not compare as a number: %q", got)
	}
}

func TestInputMethodArguments(t *testing.T) {
	in := newInput(&Request{Body: []byte(`{"a":1}`)})
	tests := map[string]struct {
		name string
		args []any
	}{
		"json without a path": {name: "json"},
		"path with a number":  {name: "path", args: []any{int64(1)}},
		"params of null":      {name: "params", args: []any{nil}},
		"unknown":             {name: "keys", args: []any{"$"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if v, ok, err := in.Method(tc.name, tc.args); ok || err != nil {
				t.Errorf("Method(%s, %v) = %v, %v, %v; want not found", tc.name, tc.args, v, ok, err)
			}
		})
	}
	if _, ok := in.Property("json"); ok {
		t.Error("Property(json) found")
	}
}

func TestPathCacheIsBounded(t *testing.T) {
	in := newInput(&Request{Body: []byte(`{"a":1}`)})
	for i := range maxCachedPaths * 2 {
		if _, err := in.json("$.a" + string(rune('a'+i%26)) + string(rune('0'+i/26))); err != nil {
			t.Fatal(err)
		}
	}
	if len(in.paths) > maxCachedPaths {
		t.Errorf("cache holds %d paths, more than %d", len(in.paths), maxCachedPaths)
	}
}
