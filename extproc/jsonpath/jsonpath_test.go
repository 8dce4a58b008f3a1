package jsonpath

import (
	"errors"
	"os"
	"testing"
)

func loadStore(t testing.TB) any {
	t.Helper()
	data, err := os.ReadFile("testdata/store.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestEval checks Jayway's documented examples over its bookstore document,
// plus the edge cases API Gateway templates run into. want is the result
// as compact JSON.
func TestEval(t *testing.T) {
	doc := loadStore(t)
	tests := map[string]struct {
		path     string
		want     string
		definite bool
	}{
		"root":                          {path: "$.expensive", want: `10`, definite: true},
		"no dollar":                     {path: "store.bicycle.color", want: `"red"`, definite: true},
		"bracket single quote":          {path: "$['store']['bicycle']['color']", want: `"red"`, definite: true},
		"dot then bracket":              {path: "$.['store'].bicycle.color", want: `"red"`, definite: true},
		"bracket double quote":          {path: `$["store"]["bicycle"].price`, want: `19.95`, definite: true},
		"index":                         {path: "$.store.book[2].title", want: `"Moby Dick"`, definite: true},
		"negative index":                {path: "$.store.book[-1].author", want: `"J. R. R. Tolkien"`, definite: true},
		"index list":                    {path: "$.store.book[0,1].price", want: `[8.95,12.99]`},
		"slice":                         {path: "$.tags[1:3]", want: `["b","c"]`},
		"slice open end":                {path: "$.tags[3:]", want: `["d","e"]`},
		"slice open start":              {path: "$.tags[:2]", want: `["a","b"]`},
		"slice negative":                {path: "$.tags[-2:]", want: `["d","e"]`},
		"slice step":                    {path: "$.tags[0:5:2]", want: `["a","c","e"]`},
		"slice reverse":                 {path: "$.tags[::-1]", want: `["e","d","c","b","a"]`},
		"slice past end":                {path: "$.tags[3:99]", want: `["d","e"]`},
		"wildcard array":                {path: "$.store.book[*].author", want: `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		"wildcard object":               {path: "$.store.bicycle.*", want: `["red",19.95]`},
		"dot wildcard on array":         {path: "$.tags.*", want: `["a","b","c","d","e"]`},
		"deep scan":                     {path: "$..author", want: `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		"deep scan document order":      {path: "$.store..price", want: `[8.95,12.99,8.99,22.99,19.95]`},
		"deep scan index":               {path: "$..book[2].title", want: `["Moby Dick"]`},
		"deep scan wildcard":            {path: "$.flags..*", want: `[true,false,null]`},
		"filter less":                   {path: "$.store.book[?(@.price < 10)].title", want: `["Sayings of the Century","Moby Dick"]`},
		"filter root ref":               {path: "$.store.book[?(@.price <= $['expensive'])].price", want: `[8.95,8.99]`},
		"filter exists":                 {path: "$..book[?(@.isbn)].title", want: `["Moby Dick","The Lord of the Rings"]`},
		"filter not exists":             {path: "$..book[?(!@.isbn)].price", want: `[8.95,12.99]`},
		"filter string eq":              {path: "$.store.book[?(@.category == 'reference')].author", want: `["Nigel Rees"]`},
		"filter double quotes":          {path: `$.store.book[?(@.author != "Nigel Rees")].price`, want: `[12.99,8.99,22.99]`},
		"filter and":                    {path: "$.store.book[?(@.price > 9 && @.category == 'fiction')].price", want: `[12.99,22.99]`},
		"filter or":                     {path: "$.store.book[?(@.price > 20 || @.price < 9)].price", want: `[8.95,8.99,22.99]`},
		"filter parens":                 {path: "$.store.book[?(!(@.price > 9) && @.isbn)].price", want: `[8.99]`},
		"filter regex":                  {path: "$.store.book[?(@.author =~ /.*REES/i)].title", want: `["Sayings of the Century"]`},
		"filter regex full":             {path: "$.store.book[?(@.author =~ /Rees/)].title", want: `[]`},
		"filter on object":              {path: "$.store.bicycle[?(@.color == 'red')].price", want: `[19.95]`},
		"filter current node":           {path: "$.tags[?(@ > 'b')]", want: `["c","d","e"]`},
		"filter bool":                   {path: "$[?(@.on == true)].on", want: `[]`},
		"filter null":                   {path: "$.store.book[?(@.isbn == null)].price", want: `[]`},
		"filter number string":          {path: "$[?(@.expensive == '10')].expensive", want: `[10]`},
		"filter ge":                     {path: "$.store.book[?(@.price >= 22.99)].price", want: `[22.99]`},
		"multi property":                {path: "$.store.book[0]['author','price']", want: `{"author":"Nigel Rees","price":8.95}`, definite: true},
		"multi property missing":        {path: "$.store.book[0]['author','isbn']", want: `{"author":"Nigel Rees"}`, definite: true},
		"multi property non-leaf":       {path: "$['store','flags'].on", want: `[true]`},
		"missing leaf indefinite":       {path: "$.store.book[*].isbn", want: `["0-553-21311-3","0-395-19395-8"]`},
		"null value":                    {path: "$.flags.none", want: `null`, definite: true},
		"false value":                   {path: "$.flags.off", want: `false`, definite: true},
		"whole document":                {path: "$.flags", want: `{"on":true,"off":false,"none":null}`, definite: true},
		"index out of range indefinite": {path: "$.tags[7,0]", want: `["a"]`},
		"dollar only":                   {path: "$.tags[0:0]", want: `[]`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := Compile(tc.path)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.path, err)
			}
			if p.Definite() != tc.definite {
				t.Errorf("Definite() = %v, want %v", p.Definite(), tc.definite)
			}
			got, err := p.Eval(doc)
			if err != nil {
				t.Fatalf("Eval(%q): %v", tc.path, err)
			}
			if s := Encode(got); s != tc.want {
				t.Errorf("Eval(%q) = %s, want %s", tc.path, s, tc.want)
			}
		})
	}
}

// TestEvalNotFound checks that a definite path, or an indefinite path with
// a missing property in its definite prefix, fails as Jayway's
// PathNotFoundException does, while indefinite paths skip what is missing.
func TestEvalNotFound(t *testing.T) {
	doc := loadStore(t)
	tests := map[string]struct {
		path string
		want error
	}{
		"missing leaf":               {path: "$.nothing", want: ErrNotFound},
		"missing parent":             {path: "$.nothing.deeper", want: ErrNotFound},
		"property of array":          {path: "$.tags.name", want: ErrNotFound},
		"property of string":         {path: "$.store.bicycle.color.name", want: ErrNotFound},
		"index out of range":         {path: "$.tags[9]", want: ErrNotFound},
		"index of object":            {path: "$.store[0]", want: ErrNotFound},
		"missing before indefinite":  {path: "$.nothing[*]", want: ErrNotFound},
		"index before indefinite":    {path: "$.tags[9][*]", want: nil},
		"missing inside indefinite":  {path: "$.store.book[*].nothing.deeper", want: nil},
		"missing in filter is false": {path: "$.store.book[?(@.nothing > 1)]", want: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := Compile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Eval(doc)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Eval(%q) = %v, %v; want error %v", tc.path, got, err, tc.want)
			}
			if tc.want == nil {
				if list, ok := got.([]any); !ok || len(list) != 0 {
					t.Errorf("Eval(%q) = %s, want []", tc.path, Encode(got))
				}
			}
		})
	}
}

// TestDeepScanOrder checks Jayway's walk: a deep scan applies its token to
// a node before descending into the node's children.
func TestDeepScanOrder(t *testing.T) {
	tests := map[string]struct{ doc, path, want string }{
		"parent before child":  {doc: `{"a":{"name":"deep"},"name":"top"}`, path: "$..name", want: `["top","deep"]`},
		"wildcard level first": {doc: `{"a":{"x":1},"b":2}`, path: "$..*", want: `[{"x":1},2,1]`},
		"multi name needs all": {doc: `{"a":1,"b":2,"c":{"a":3}}`, path: "$..['a','b']", want: `[{"a":1,"b":2}]`},
		"filter in scan":       {doc: `{"x":{"k":1},"y":[{"k":2},{"j":3}]}`, path: "$..[?(@.k)]", want: `[{"k":1},{"k":2}]`},
		"index scan":           {doc: `[[1,2],[3,[4,5]]]`, path: "$..[1]", want: `[[3,[4,5]],2,[4,5],5]`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			doc, err := Decode([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			p, err := Compile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Eval(doc)
			if err != nil {
				t.Fatal(err)
			}
			if s := Encode(got); s != tc.want {
				t.Errorf("Eval(%q) = %s, want %s", tc.path, s, tc.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := map[string]string{
		"empty":              "",
		"trailing dot":       "$.a.",
		"unclosed bracket":   "$['a'",
		"unterminated quote": "$['a]",
		"bad bracket":        "$[a]",
		"zero step":          "$[1:2:0]",
		"filter no parens":   "$[?@.a]",
		"filter unclosed":    "$[?(@.a == 1]",
		"filter literal":     "$[?(1)]",
		"bad regex":          "$[?(@.a =~ /(/)]",
		"java regex":         "$[?(@.a =~ /(?<=a)b/)]",
		"function":           "$.tags.length()",
		"space in name":      "$.a b",
		"deep nesting":       "$[?(" + repeat("(", 100) + "@.a" + repeat(")", 100) + ")]",
		"bad escape":         `$['\q']`,
		"bad number":         "$[?(@.a == 1.2.3)]",
	}
	for name, path := range tests {
		t.Run(name, func(t *testing.T) {
			if p, err := Compile(path); err == nil {
				t.Errorf("Compile(%q) = %+v, want an error", path, p)
			}
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestEvalLimits(t *testing.T) {
	// A chain of 3000 nested lists: "$..*" selects 3000 nodes, scanning
	// each again costs about 4.5 million steps, and a third scan would cost
	// billions; the limit stops it.
	var chain any = []any{}
	for range 3000 {
		chain = []any{chain}
	}
	p, err := Compile("$..*..*..*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Eval(chain); !errors.Is(err, ErrLimit) {
		t.Fatalf("Eval = %v, want ErrLimit", err)
	}
}
