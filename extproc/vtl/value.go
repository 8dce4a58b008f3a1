package vtl

import (
	"iter"
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
//
// Most Maps are small (a JSON object's handful of fields, $context), so the
// entries are a slice searched in order; an index by key is built only
// once a Map grows past indexFrom entries. The zero Map is empty and ready
// to use.
type Map struct {
	entries []entry
	// index maps keys to their position in entries; nil while the Map has
	// at most indexFrom entries.
	index map[string]int
}

// indexFrom is the size past which a Map indexes its keys: below it, a
// linear search over the keys is faster than hashing.
const indexFrom = 32

// NewMap returns an empty Map.
func NewMap() *Map {
	return &Map{}
}

// NewMapCap returns an empty Map with room for n entries, for a caller
// that knows how many it will set. A small Map is allocated together with
// its entries, in one block.
func NewMapCap(n int) *Map {
	switch {
	case n <= 0:
		return &Map{}
	case n <= 2:
		b := &mapBlock2{}
		b.m.entries = b.e[:0]
		return &b.m
	case n <= 4:
		b := &mapBlock4{}
		b.m.entries = b.e[:0]
		return &b.m
	case n <= 8:
		b := &mapBlock8{}
		b.m.entries = b.e[:0]
		return &b.m
	}
	return &Map{entries: make([]entry, 0, n)}
}

// mapBlock2, mapBlock4 and mapBlock8 are a Map and the array that holds
// its first entries, allocated together; the Map's entries move out of
// the array only if it grows past it.
type (
	mapBlock2 struct {
		m Map
		e [2]entry
	}
	mapBlock4 struct {
		m Map
		e [4]entry
	}
	mapBlock8 struct {
		m Map
		e [8]entry
	}
)

// find returns the position of key in m.entries, or -1.
func (m *Map) find(key string) int {
	if m.index != nil {
		if i, ok := m.index[key]; ok {
			return i
		}
		return -1
	}
	for i := range m.entries {
		if m.entries[i].key == key {
			return i
		}
	}
	return -1
}

// Get returns the value stored under key and whether the key is present.
// Lists a template stored in the map are returned as []any.
func (m *Map) Get(key string) (any, bool) {
	if i := m.find(key); i >= 0 {
		return export(m.entries[i].val), true
	}
	return nil, false
}

// Peek returns the value stored under key, as Get does but without
// copying: a list is returned as a []any that shares the Map's storage.
// The caller must treat it as read-only.
func (m *Map) Peek(key string) (any, bool) {
	if i := m.find(key); i >= 0 {
		return peek(m.entries[i].val), true
	}
	return nil, false
}

// All iterates over the entries in insertion order, each value as Peek
// returns it: read-only, shared with the Map. The Map must not change
// during the iteration.
func (m *Map) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for i := range m.entries {
			if !yield(m.entries[i].key, peek(m.entries[i].val)) {
				return
			}
		}
	}
}

// peek gives a stored value to the host without copying it.
func peek(v any) any {
	if l, ok := v.(*list); ok {
		return l.items
	}
	return v
}

// Set stores v under key. A new key goes last; an existing one keeps its place.
func (m *Map) Set(key string, v any) {
	if i := m.find(key); i >= 0 {
		m.entries[i].val = v
		return
	}
	m.entries = append(m.entries, entry{key: key, val: v})
	switch {
	case m.index != nil:
		m.index[key] = len(m.entries) - 1
	case len(m.entries) > indexFrom:
		m.reindex()
	}
}

// reindex rebuilds the index from the entries.
func (m *Map) reindex() {
	m.index = make(map[string]int, len(m.entries))
	for i := range m.entries {
		m.index[m.entries[i].key] = i
	}
}

// Delete removes key and reports whether it was present.
func (m *Map) Delete(key string) bool {
	i := m.find(key)
	if i < 0 {
		return false
	}
	m.entries = append(m.entries[:i:i], m.entries[i+1:]...)
	if m.index != nil {
		m.reindex()
	}
	return true
}

// clear removes every entry.
func (m *Map) clear() {
	m.entries, m.index = nil, nil
}

// Keys returns the keys in insertion order; the slice is the caller's.
func (m *Map) Keys() []string {
	if len(m.entries) == 0 {
		return nil
	}
	keys := make([]string, len(m.entries))
	for i := range m.entries {
		keys[i] = m.entries[i].key
	}
	return keys
}

// Len returns the number of entries.
func (m *Map) Len() int { return len(m.entries) }

// get returns the raw stored value. A host []any is replaced by a list the
// first time the engine reads it, so that $m.k.add(x) is seen by later reads.
func (m *Map) get(key string) (any, bool) {
	i := m.find(key)
	if i < 0 {
		return nil, false
	}
	v := m.entries[i].val
	if s, isSlice := v.([]any); isSlice {
		l := &list{items: s}
		m.entries[i].val = l
		return l, true
	}
	return normalize(v), true
}

// list is the engine's mutable list (Java's ArrayList): a pointer, so that
// every reference to it sees $l.add(x).
type list struct{ items []any }

// entry is one entry of a Map, and an element of $map.entrySet() (Java's
// Map.Entry).
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
		for i := range x.entries {
			j := y.find(x.entries[i].key)
			if j < 0 || !javaEquals(normalize(x.entries[i].val), normalize(y.entries[j].val)) {
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
