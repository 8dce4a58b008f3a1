package vtl

import (
	"math"
	"strconv"
	"strings"
)

// Object is a host value with Velocity's introspection: API Gateway's $input,
// $util and $context are Objects, so templates call them as they would the
// Java objects AWS exposes.
type Object interface {
	// Property resolves $obj.name (Velocity: getName(), get("name"), isName()).
	Property(name string) (any, bool)
	// Method calls $obj.name(args...); ok is false if there is no such method.
	Method(name string, args []any) (result any, ok bool, err error)
}

// Map is an ordered map with the semantics of Java's LinkedHashMap: keys keep
// their insertion order, and setting an existing key keeps its place. JSON
// objects are Maps so that templates iterate and print them in document
// order, as API Gateway does.
type Map struct {
	keys []string
	vals map[string]any
}

// NewMap returns an empty Map.
func NewMap() *Map {
	return &Map{vals: make(map[string]any)}
}

// Get returns the value stored under key and whether the key is present.
// Lists a template stored in the map are returned as []any.
func (m *Map) Get(key string) (any, bool) {
	v, ok := m.vals[key]
	return export(v), ok
}

// Set stores v under key. A new key goes last; an existing one keeps its place.
func (m *Map) Set(key string, v any) {
	if m.vals == nil {
		m.vals = make(map[string]any)
	}
	if _, ok := m.vals[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.vals[key] = v
}

// Delete removes key and reports whether it was present.
func (m *Map) Delete(key string) bool {
	if _, ok := m.vals[key]; !ok {
		return false
	}
	delete(m.vals, key)
	for i, k := range m.keys {
		if k == key {
			m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
			break
		}
	}
	return true
}

// Keys returns the keys in insertion order; the slice is the caller's.
func (m *Map) Keys() []string {
	return append([]string(nil), m.keys...)
}

// Len returns the number of entries.
func (m *Map) Len() int { return len(m.keys) }

// get returns the raw stored value. A host []any is replaced by a list the
// first time the engine reads it, so that $m.k.add(x) is seen by later reads.
func (m *Map) get(key string) (any, bool) {
	v, ok := m.vals[key]
	if s, isSlice := v.([]any); isSlice {
		l := &list{items: s}
		m.vals[key] = l
		return l, true
	}
	return normalize(v), ok
}

// list is the engine's mutable list (Java's ArrayList): a pointer, so that
// every reference to it sees $l.add(x).
type list struct{ items []any }

// entry is one element of $map.entrySet() (Java's Map.Entry).
type entry struct {
	key string
	val any
}

// block is the value of a #define'd reference: its body, rendered each time
// the reference is used.
type block struct{ nodes []node }

// export converts engine values to the host types documented on Render:
// lists become []any.
func export(v any) any {
	switch x := v.(type) {
	case *list:
		out := make([]any, len(x.items))
		for i, it := range x.items {
			out[i] = export(it)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = export(it)
		}
		return out
	}
	return v
}

// normalize converts the host's Go values to the engine's: every integer
// type to int64, float32 to float64, []any to a list.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case []any:
		return &list{items: x}
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		return &list{items: items}
	}
	return v
}

// truthy is Velocity 1.7's #if test: false for null and false, true for
// everything else, including the empty string and zero.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	}
	return true
}

// javaDouble formats f as Java's Double.toString does: plain decimal with at
// least one fractional digit for 1e-3 <= |f| < 1e7, otherwise computerized
// scientific notation (1.0E10).
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// isNumber reports whether v is one of the engine's numbers.
func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64:
		return true
	}
	return false
}

// toFloat converts an engine number to float64.
func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// compareNumbers returns -1, 0 or 1 as Velocity's MathUtils.compare does:
// exactly for two integers, in double precision otherwise.
func compareNumbers(a, b any) int {
	ai, aInt := a.(int64)
	bi, bInt := b.(int64)
	if aInt && bInt {
		switch {
		case ai < bi:
			return -1
		case ai > bi:
			return 1
		}
		return 0
	}
	af, bf := toFloat(a), toFloat(b)
	switch {
	case af < bf:
		return -1
	case af > bf:
		return 1
	}
	return 0
}

// javaEquals is Java's Object.equals for engine values: same type and same
// content (Integer 1 does not equal Double 1.0; lists and maps compare their
// elements).
func javaEquals(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string, bool, int64, float64:
		return a == b
	case *list:
		y, ok := b.(*list)
		if !ok || len(x.items) != len(y.items) {
			return false
		}
		for i := range x.items {
			if !javaEquals(normalize(x.items[i]), normalize(y.items[i])) {
				return false
			}
		}
		return true
	case *Map:
		y, ok := b.(*Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, k := range x.keys {
			yv, ok := y.vals[k]
			if !ok || !javaEquals(normalize(x.vals[k]), normalize(yv)) {
				return false
			}
		}
		return true
	case entry:
		y, ok := b.(entry)
		return ok && x.key == y.key && javaEquals(normalize(x.val), normalize(y.val))
	}
	return a == b
}

// sameKind reports whether Velocity's == would use equals() rather than
// comparing the two values' toString(): both values are of one Java class.
func sameKind(a, b any) bool {
	switch a.(type) {
	case string:
		_, ok := b.(string)
		return ok
	case bool:
		_, ok := b.(bool)
		return ok
	case *list:
		_, ok := b.(*list)
		return ok
	case *Map:
		_, ok := b.(*Map)
		return ok
	case entry:
		_, ok := b.(entry)
		return ok
	}
	return false
}
