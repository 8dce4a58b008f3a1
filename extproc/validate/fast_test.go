package validate

import (
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// differential checks the fast path against the general one on one body:
// a body the scanner accepts decodes to the same value through
// encoding/json, and every certain verdict of the plan is the library's.
func differential(t testing.TB, s *Schema, body []byte) {
	t.Helper()
	body = trimBOM(body)
	tp, scanned := scanTape(body)
	decoded, err := parseBody(body)
	if !scanned {
		return
	}
	if err != nil {
		t.Fatalf("scanner accepts %q, encoding/json refuses it: %v", body, err)
	}
	if got := tp.value(0); !reflect.DeepEqual(got, decoded) {
		t.Fatalf("body %q: tape gives %#v, encoding/json %#v", body, got, decoded)
	}
	if s.fast == nil || tp.duplicates {
		return
	}
	v := s.fast.root.check(&tp, 0)
	if v == unsure {
		return
	}
	if libValid := s.schema.Validate(decoded) == nil; libValid != (v == valid) {
		t.Fatalf("body %q: fast path says valid=%v, library %v", body, v == valid, libValid)
	}
}

// fuzzSchemas compiles the models the fast path is fuzzed against: the
// fuzz model, the benchmark's and every conformance case's.
func fuzzSchemas(t testing.TB) []*Schema {
	t.Helper()
	m, err := Compile(map[string]string{"Body": fuzzModels, "Id": `{"type": "integer"}`, "Order": benchModel, "More": moreModel})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := m.Schema("Body")
	order, _ := m.Schema("Order")
	more, _ := m.Schema("More")
	out := []*Schema{body, order, more}
	cases := loadCases(t)
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		_, _, schemas, _ := cases[name].build(t)
		for _, ct := range slices.Sorted(maps.Keys(schemas)) {
			out = append(out, schemas[ct])
		}
	}
	return out
}

// moreModel has the keywords the fuzz model lacks: formats,
// patternProperties, a schema for additionalProperties and items, a
// fractional multipleOf, uniqueItems at the top.
const moreModel = `{
  "type": ["object", "array"],
  "uniqueItems": true,
  "items": {"anyOf": [{"type": "number", "multipleOf": 0.5, "exclusiveMinimum": true, "minimum": -1.5}, {"format": "ipv4"}]},
  "properties": {"e": {"format": "email"}, "d": {"format": "date-time"}, "i": {"type": "integer", "maximum": 1e3}},
  "patternProperties": {"^p": {"type": "integer", "multipleOf": 7}},
  "additionalProperties": {"type": "string", "maxLength": 3},
  "dependencies": {"e": {"required": ["d"]}},
  "maxProperties": 20
}`

func FuzzFastPath(f *testing.F) {
	schemas := fuzzSchemas(f)
	for _, c := range loadCases(f) {
		f.Add([]byte(c.Request.Body), uint8(0))
	}
	for _, body := range fastBodies {
		f.Add([]byte(body), uint8(1))
	}
	f.Add(benchBody(), uint8(1))
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		differential(t, schemas[int(which)%len(schemas)], body)
	})
}

// fastBodies are bodies at the edges of the scanner and the number rules.
var fastBodies = []string{
	`{"name":"x","n":3,"tags":["ab"],"pair":[true],"o":{"k":1},"c":2,"id":1}`,
	`{"name":5,"n":1.5,"tags":["AB","AB",1],"pair":[1,2],"o":{},"c":"s","id":"x","a":1,"zz":0}`,
	`{"name":"x","n":3.0,"id":1e0,"c":-0}`,
	`{"name":"x","n":99.0000000000000000001,"id":12e-1}`,
	`{"name":"x","n":6e1,"id":120e-1}`,
	`{"name":"x","n":1e-400,"id":0.0e5}`,
	`{"name":"x","n":1E+2}`,
	`{"name":"x","tags":["a","a"]}`,
	`{"name":"x","tags":[1,1.0]}`,
	`{"name":"x","name":"yy"}`,
	`{"name":"\u0078"}`,
	`{"name":"x\ud800"}`,
	"{\"name\":\"\xff\"}",
	`{"name":"x\/\"\\\b\f\n\r\t\u00e9"}`,
	"\xEF\xBB\xBF{\"name\":\"x\"}",
	` {"name":"x"} `,
	`{"name":"x"} x`,
	`{"name":"x",}`,
	`[1,]`,
	`01`,
	`-`,
	`1.`,
	`1e`,
	`.5`,
	`tru`,
	`nul`,
	`"a` + "\t" + `"`,
	`"\x"`,
	`"\u12"`,
	``,
	`   `,
	`{"a":1,"b":[],"c":{}}`,
	`{"e":"a@b.c","d":"2024-01-01T00:00:00Z","i":1000,"p1":14,"zz":"abc"}`,
	`{"e":"a@b.c","i":1e3,"p1":14.0,"zz":"abcd"}`,
	`{"d":5,"i":999.5,"p":-7}`,
	`[0.5,-1,"1.2.3.4",{},[],1.5,0.50]`,
	`[-1.5,"x",3]`,
	`[{"a":1},{"a":1}]`,
	bigObject(20, false),
	bigObject(20, true),
}

// bigObject is an order with n extra members, one of them repeating
// orderId when dup is set: large enough for the key sets.
func bigObject(n int, dup bool) string {
	var b strings.Builder
	b.WriteString(`{"orderId":"A-1","customer":{"id":1,"email":"e"},"lines":[{"sku":"ABC-0001","quantity":1,"price":0}]`)
	for i := range n {
		fmt.Fprintf(&b, `,"x%d":%d`, i, i)
	}
	if dup {
		b.WriteString(`,"orderId":"lower-case"`)
	}
	b.WriteString("}")
	return b.String()
}

func TestFastPathMatchesLibrary(t *testing.T) {
	schemas := fuzzSchemas(t)
	bodies := slices.Clone(fastBodies)
	for _, c := range loadCases(t) {
		bodies = append(bodies, c.Request.Body)
	}
	bodies = append(bodies, string(benchBody()), strings.Repeat("[", 300)+strings.Repeat("]", 300))
	for i, s := range schemas {
		for _, body := range bodies {
			differential(t, s, []byte(body))
		}
		if s.fast == nil {
			t.Errorf("schema %d (%s) has no fast plan", i, s.Name())
		}
	}
}

func TestFastPathConfirmsValidBodies(t *testing.T) {
	m, err := Compile(map[string]string{
		"Body": fuzzModels, "Id": `{"type": "integer"}`, "Order": benchModel,
		"Enum": `{"enum": [1, "a", null, true]}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		model string
		body  string
	}{
		"order":            {"Order", string(benchBody())},
		"every keyword":    {"Body", `{"name":"x","n":3,"tags":["ab"],"pair":[true],"o":{"k":1},"c":0.5,"id":1}`},
		"integer as 1.0":   {"Body", `{"name":"x","id":1.0}`},
		"bound at integer": {"Body", `{"name":"x","n":0}`},
		"null type":        {"Body", `{"name":"yy","n":null,"a":1,"b":2}`},
		"escaped string":   {"Body", `{"name":"\u0078"}`},
		"large object":     {"Order", bigObject(40, false)},
		"enum number":      {"Enum", `1.0`},
		"enum literal":     {"Enum", `true`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, _ := m.Schema(tc.model)
			tp, ok := scanTape([]byte(tc.body))
			if !ok || s.fast == nil {
				t.Fatalf("scanned %v, plan %v", ok, s.fast != nil)
			}
			if v := s.fast.root.check(&tp, 0); v != valid {
				t.Fatalf("verdict %d, want valid", v)
			}
		})
	}
}

func TestFastPlanUnsupported(t *testing.T) {
	tests := map[string]map[string]string{
		"ref cycle":      {"A": `{"$ref": "#"}`},
		"allOf cycle":    {"A": `{"definitions": {"x": {"allOf": [{"$ref": "#/definitions/x"}]}}, "$ref": "#/definitions/x"}`},
		"draft 2020 ref": {"A": `{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}`},
		"const":          {"A": `{"$schema": "http://json-schema.org/draft-07/schema#", "const": 1}`},
		"cross-model":    {"A": `{"$ref": "B"}`, "B": `{"$ref": "A"}`},
	}
	for name, models := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := Compile(models)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := m.Schema("A")
			if s.fast != nil {
				t.Fatal("got a fast plan")
			}
		})
	}
}

func TestFastPlanRecursiveModel(t *testing.T) {
	m, err := Compile(map[string]string{"Tree": `{"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#"}}}}`})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.Schema("Tree")
	if s.fast == nil {
		t.Fatal("a model recursing through its members has no fast plan")
	}
	tests := map[string]struct {
		body string
		want bool
	}{
		"nested": {`{"kids":[{"kids":[{}]},{}]}`, true},
		"bad":    {`{"kids":[{"kids":[1]}]}`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := s.Check([]byte(tc.body)) == nil; got != tc.want {
				t.Fatalf("valid=%v, want %v", got, tc.want)
			}
			differential(t, s, []byte(tc.body))
		})
	}
}

func TestIsIntegerText(t *testing.T) {
	tests := []string{"0", "-0", "12", "1.0", "1.5", "-0.0", "1e2", "1E+2", "12e-1", "120e-1", "1.50e1", "1.55e1", "0.001e3", "0.0015e3", "5e-1", "0e-5", "100e-2", "1e-400", "123456789012345678901234567890"}
	for _, text := range tests {
		t.Run(text, func(t *testing.T) {
			got, ok := isIntegerText(text)
			r, _ := new(big.Rat).SetString(text)
			if !ok || got != r.IsInt() {
				t.Fatalf("isIntegerText=%v,%v, big.Rat says %v", got, ok, r.IsInt())
			}
		})
	}
	if _, ok := isIntegerText("1e1000"); ok {
		t.Fatal("a four-digit exponent is left to the library")
	}
}

func TestBoundCompare(t *testing.T) {
	bounds := []string{"0", "1", "-1", "0.1", "1000", "9007199254740993", "1e300", "0.3"}
	numbers := []string{"0", "-0", "1", "1.0", "0.99999999999999999999", "1.00000000000000000001", "0.1", "0.10", "9007199254740992", "9007199254740993", "9007199254740994", "1e300", "1e400", "-1e400", "1e-400", "0.3", "0.30000000000000001", "999999999999999", "1000"}
	for _, bs := range bounds {
		br, _ := new(big.Rat).SetString(bs)
		b := newBound(br, nil)
		for _, ns := range numbers {
			nr, _ := new(big.Rat).SetString(ns)
			got, ok := b.compare(ns)
			if !ok || got != nr.Cmp(br) {
				t.Errorf("compare(%s, %s) = %d,%v, want %d", ns, bs, got, ok, nr.Cmp(br))
			}
			eq := numbersEqual(ns, bs)
			if eq == unsure || (eq == valid) != (nr.Cmp(br) == 0) {
				t.Errorf("numbersEqual(%s, %s) = %d", ns, bs, eq)
			}
		}
	}
}
