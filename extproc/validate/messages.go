package validate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// Bounds on $context.error.validationErrorString. AWS has none, but a body
// of a million wrong array elements must not produce a million messages.
// Instance values quoted in a message are clipped to maxQuotedBytes so that
// one huge string cannot crowd out the message around it.
const (
	maxMessages    = 100
	maxDetailBytes = 8 << 10
	maxQuotedBytes = 512
)

// finding is one keyword failure, positioned as the Java validator AWS uses
// would meet it.
type finding struct {
	err     *jsonschema.ValidationError
	path    []step // instance location
	keyword string // the keyword name that validator reports it under
}

// step is one level of an instance location. Objects are walked in sorted
// key order and arrays in index order, so both kinds are kept.
type step struct {
	key     string
	index   int
	isIndex bool
}

// describe renders a failed validation as AWS's validationErrorString: the
// validator's messages as a Java list, "[first, second]".
//
// The Java validator walks the instance depth first: at each value it runs
// the schema's keywords in keyword-name order, then visits object members
// in sorted name order and array elements in order. Once any error has been
// reported it no longer descends into children, though it finishes the
// keywords of the value at hand and of the remaining siblings on its way
// back up. The library this package uses reports every error, so the
// findings are sorted into that walk and filtered by that rule.
func (m *Models) describe(verr *jsonschema.ValidationError, instance any) string {
	var fs []finding
	m.collect(verr, instance, &fs)
	if len(fs) == 0 {
		return "[]"
	}
	slices.SortStableFunc(fs, func(a, b finding) int {
		if c := comparePaths(a.path, b.path); c != 0 {
			return c
		}
		return strings.Compare(a.keyword, b.keyword)
	})

	first := fs[0].path
	var b strings.Builder
	b.WriteByte('[')
	n := 0
	for _, f := range fs {
		if n > 0 && !reachedAfterFailure(f.path, first) {
			continue
		}
		if n == maxMessages || b.Len() >= maxDetailBytes {
			break
		}
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.message(f, instance))
		n++
	}
	return truncate(b.String(), maxDetailBytes-1) + "]"
}

// collect flattens the error tree into keyword failures. Wrappers (the
// root, groups of sibling errors, $ref) are transparent; combinators
// (allOf, anyOf, oneOf, not) are single failures, because the Java
// validator reports them with one message and keeps their causes apart.
func (m *Models) collect(e *jsonschema.ValidationError, instance any, out *[]finding) {
	switch e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference:
		for _, c := range e.Causes {
			m.collect(c, instance, out)
		}
		return
	case *kind.Type:
		m.collectEnum(e, instance, out)
	}
	*out = append(*out, finding{err: e, path: locate(instance, e.InstanceLocation), keyword: keywordOf(e.ErrorKind)})
}

// collectEnum adds the enum failure the library skips once type has
// failed: the Java validator runs both, and schemas pairing type with enum
// are common in API Gateway models.
func (m *Models) collectEnum(e *jsonschema.ValidationError, instance any, out *[]finding) {
	enum, ok := m.lookup(e.SchemaURL, "enum")
	members, isList := enum.([]any)
	if !ok || !isList {
		return
	}
	path := locate(instance, e.InstanceLocation)
	v, _ := valueAt(instance, path)
	if slices.ContainsFunc(members, func(member any) bool { return jsonEqual(member, v) }) {
		return
	}
	synthetic := &jsonschema.ValidationError{
		SchemaURL:        e.SchemaURL,
		InstanceLocation: e.InstanceLocation,
		ErrorKind:        &kind.Enum{Got: v, Want: members},
	}
	*out = append(*out, finding{err: synthetic, path: path, keyword: "enum"})
}

// keywordOf names the draft 4 keyword a failure belongs to.
func keywordOf(k jsonschema.ErrorKind) string {
	switch k.(type) {
	case *kind.Not:
		return "not"
	case *kind.ExclusiveMinimum:
		return "minimum" // draft 4's exclusiveMinimum is a flag of minimum
	case *kind.ExclusiveMaximum:
		return "maximum"
	case *kind.Dependency:
		return "dependencies"
	}
	if p := k.KeywordPath(); len(p) > 0 {
		return p[0]
	}
	return ""
}

// locate turns an instance location into steps, telling array indexes from
// object keys by looking at the instance itself.
func locate(instance any, loc []string) []step {
	path := make([]step, len(loc))
	v := instance
	for i, tok := range loc {
		path[i] = step{key: tok}
		if arr, ok := v.([]any); ok {
			if n, ok := index(tok); ok && n < len(arr) {
				path[i] = step{key: tok, index: n, isIndex: true}
			}
		}
		v, _ = child(v, tok)
	}
	return path
}

// comparePaths orders locations as a depth-first walk visits them.
func comparePaths(a, b []step) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].isIndex && b[i].isIndex {
			if c := cmp.Compare(a[i].index, b[i].index); c != 0 {
				return c
			}
			continue
		}
		if c := strings.Compare(a[i].key, b[i].key); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// reachedAfterFailure reports whether the Java validator still runs the
// keywords at path once the first error was reported at first: those of
// first itself, and of the later siblings of first and of its ancestors.
func reachedAfterFailure(path, first []step) bool {
	if len(path) == len(first) && comparePaths(path, first) == 0 {
		return true
	}
	if len(path) == 0 || len(path)-1 >= len(first) {
		return false
	}
	return comparePaths(path[:len(path)-1], first[:len(path)-1]) == 0
}

// message renders one failure in the Java validator's words.
func (m *Models) message(f finding, instance any) string {
	v, _ := valueAt(instance, f.path)
	switch k := f.err.ErrorKind.(type) {
	case *kind.Required:
		return "object has missing required properties (" + jsonText(stringsToAny(k.Missing)) + ")"
	case *kind.Type:
		return fmt.Sprintf("instance type (%s) does not match any allowed primitive type (allowed: %s)",
			typeName(v), jsonText(stringsToAny(allowedTypes(k.Want))))
	case *kind.Enum:
		want := m.schemaValue(f, "enum", k.Want)
		return fmt.Sprintf("instance value (%s) not found in enum (possible values: %s)", clip(jsonText(v)), jsonText(want))
	case *kind.Minimum:
		return fmt.Sprintf("numeric instance is lower than the required minimum (minimum: %s, found: %s)",
			m.bound(f, "minimum", k.Want), clip(jsonText(v)))
	case *kind.ExclusiveMinimum:
		return "numeric instance is not strictly greater than the required minimum " + m.bound(f, "minimum", k.Want)
	case *kind.Maximum:
		return fmt.Sprintf("numeric instance is greater than the required maximum (maximum: %s, found: %s)",
			m.bound(f, "maximum", k.Want), clip(jsonText(v)))
	case *kind.ExclusiveMaximum:
		return "numeric instance is not strictly lower than the required maximum " + m.bound(f, "maximum", k.Want)
	case *kind.MultipleOf:
		return fmt.Sprintf("remainder of division is not zero (%s / %s)", clip(jsonText(v)), m.bound(f, "multipleOf", k.Want))
	case *kind.MinLength:
		return fmt.Sprintf("string \"%s\" is too short (length: %d, required minimum: %d)", rawString(v), k.Got, k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("string \"%s\" is too long (length: %d, maximum allowed: %d)", rawString(v), k.Got, k.Want)
	case *kind.Pattern:
		return fmt.Sprintf("ECMA 262 regex \"%s\" does not match input string \"%s\"", k.Want, clip(k.Got))
	}
	return m.structureMessage(f, v)
}

// structureMessage renders failures of the object, array and combinator
// keywords.
func (m *Models) structureMessage(f finding, v any) string {
	switch k := f.err.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		unwanted := slices.Sorted(slices.Values(k.Properties))
		return "object instance has properties which are not allowed by the schema: " + jsonText(stringsToAny(unwanted))
	case *kind.MinProperties:
		return fmt.Sprintf("object has too few properties (found %d but schema requires at least %d)", k.Got, k.Want)
	case *kind.MaxProperties:
		return fmt.Sprintf("object has too many properties (found %d but schema requires at most %d)", k.Got, k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("array is too short: must have at least %d elements but instance has %d elements", k.Want, k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("array is too long: must have at most %d elements but instance has %d elements", k.Want, k.Got)
	case *kind.UniqueItems:
		return "array must not contain duplicate elements"
	case *kind.AdditionalItems:
		n := length(v)
		return fmt.Sprintf("schema only allows %d elements in array but instance has %d elements", n-k.Count, n)
	case *kind.Dependency:
		requires := m.schemaValue(f, "dependencies", nil)
		requires, _ = child(requires, k.Prop)
		return fmt.Sprintf("property \"%s\" of object has missing property dependencies (schema requires %s; missing: %s)",
			k.Prop, jsonText(requires), jsonText(stringsToAny(k.Missing)))
	case *kind.AnyOf:
		return fmt.Sprintf("instance failed to match at least one required schema among %d", m.count(f, "anyOf"))
	case *kind.AllOf:
		total := m.count(f, "allOf")
		return fmt.Sprintf("instance failed to match all required schemas (matched only %d out of %d)",
			total-len(f.err.Causes), total)
	case *kind.OneOf:
		return fmt.Sprintf("instance failed to match exactly one schema (matched %d out of %d)",
			len(k.Subschemas), m.count(f, "oneOf"))
	case *kind.Not:
		return "instance matched a schema which it should not have"
	}
	return "instance failed to match the schema"
}

// schemaValue returns the keyword's value as the model wrote it, or
// fallback when it cannot be found.
func (m *Models) schemaValue(f finding, keyword string, fallback any) any {
	if v, ok := m.lookup(f.err.SchemaURL, keyword); ok {
		return v
	}
	return fallback
}

// bound renders a numeric keyword as written in the model.
func (m *Models) bound(f finding, keyword string, fallback *big.Rat) string {
	if n, ok := m.schemaValue(f, keyword, nil).(json.Number); ok {
		return n.String()
	}
	return ratText(fallback)
}

// count returns the number of subschemas of a combinator keyword.
func (m *Models) count(f finding, keyword string) int {
	return length(m.schemaValue(f, keyword, nil))
}

// valueAt returns the instance value at path.
func valueAt(instance any, path []step) (any, bool) {
	v := instance
	for _, s := range path {
		var ok bool
		if v, ok = child(v, s.key); !ok {
			return nil, false
		}
	}
	return v, true
}

// typeName names a value's type as Jackson and the Java validator do: a
// number written with a fraction or an exponent is a "number", even 1.0.
func typeName(v any) string {
	switch n := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		if strings.ContainsAny(n.String(), ".eE") {
			return "number"
		}
		return "integer"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// allowedTypes lists a type keyword's types as the Java validator does:
// sorted, with "integer" implied by "number".
func allowedTypes(want []string) []string {
	out := slices.Clone(want)
	if slices.Contains(out, "number") && !slices.Contains(out, "integer") {
		out = append(out, "integer")
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ratText renders a bound the model did not let us quote.
func ratText(r *big.Rat) string {
	if r == nil {
		return "null"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	for prec := 1; prec < 40; prec++ {
		s := r.FloatString(prec)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
			return s
		}
	}
	return r.FloatString(40)
}

// rawString returns a string value, or its JSON text if it is not a
// string, clipped.
func rawString(v any) string {
	if s, ok := v.(string); ok {
		return clip(s)
	}
	return clip(jsonText(v))
}

// clip shortens a quoted instance value longer than maxQuotedBytes.
func clip(s string) string {
	if len(s) <= maxQuotedBytes {
		return s
	}
	return truncate(s, maxQuotedBytes) + "..."
}

// length is the number of elements of an array value, zero otherwise.
func length(v any) int {
	arr, _ := v.([]any)
	return len(arr)
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
