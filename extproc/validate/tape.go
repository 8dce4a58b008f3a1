package validate

import (
	"encoding/json"
	"unicode/utf8"
)

// A tape is a request body scanned once into a flat list of values, the
// form the fast validator (fast.go) walks without building maps, slices or
// boxed values. Objects and arrays are followed by their contents: an
// array's elements in order, an object's members as a key node then the
// member's value. Every node records where its subtree ends, so a walk can
// skip a value in one step.
//
// The scanner is conservative: it accepts only bodies that encoding/json
// (which jsonschema.UnmarshalJSON uses) accepts too, and decodes strings as
// encoding/json does. A body it does not accept, for whatever reason, goes
// to the general path, which decides with encoding/json itself.
type tape struct {
	nodes []tnode
	// duplicates is set when an object repeats a member name. Decoding
	// keeps the last value only, so the fast validator, which would see
	// both, stands aside.
	duplicates bool
	// hugeExponent is set when a number's exponent has more than
	// maxExponentDigits digits (see Schema.Check).
	hugeExponent bool
}

// tkind is the JSON type of a tape node.
type tkind uint8

// The kinds of tape nodes.
const (
	tNull tkind = iota + 1
	tFalse
	tTrue
	tNumber
	tString
	tArray
	tObject
)

// tnode is one value on a tape, or an object member's key.
type tnode struct {
	// text is a number as written or a string decoded.
	text string
	// end is the index just past the node's subtree.
	end int32
	// n is the number of elements of an array or members of an object.
	n    int32
	kind tkind
}

// maxTapeDepth bounds nesting on the fast path. encoding/json allows
// 10,000 levels; deeper bodies than this go to the general path.
const maxTapeDepth = 256

// maxInitialNodes caps the tape reserved up front (a guess of one node per
// 8 bytes of body); a bigger body grows it as it goes.
const maxInitialNodes = 4096

// maxQuadraticKeys is the size up to which an object's keys are checked for
// repeats pairwise; larger objects use a set.
const maxQuadraticKeys = 16

// scanner reads one body onto a tape.
type scanner struct {
	src   string
	pos   int
	nodes []tnode
	dups  bool
	huge  bool
}

// scanTape scans a body, BOM already removed, as one JSON value with
// optional surrounding whitespace. ok is false when the scanner does not
// vouch for the body; that includes every body encoding/json refuses.
func scanTape(body []byte) (t tape, ok bool) {
	s := scanner{src: string(body), nodes: make([]tnode, 0, min(len(body)/8+4, maxInitialNodes))}
	s.skipSpace()
	if !s.value(0) {
		return tape{}, false
	}
	s.skipSpace()
	if s.pos != len(s.src) {
		return tape{}, false
	}
	return tape{nodes: s.nodes, duplicates: s.dups, hugeExponent: s.huge}, true
}

// skipSpace skips JSON whitespace.
func (s *scanner) skipSpace() {
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans one value at s.pos onto the tape.
func (s *scanner) value(depth int) bool {
	if s.pos >= len(s.src) {
		return false
	}
	switch c := s.src[s.pos]; {
	case c == '{':
		return depth < maxTapeDepth && s.object(depth+1)
	case c == '[':
		return depth < maxTapeDepth && s.array(depth+1)
	case c == '"':
		return s.str()
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true", tTrue)
	case c == 'f':
		return s.literal("false", tFalse)
	case c == 'n':
		return s.literal("null", tNull)
	}
	return false
}

// literal scans true, false or null.
func (s *scanner) literal(word string, k tkind) bool {
	if len(s.src)-s.pos < len(word) || s.src[s.pos:s.pos+len(word)] != word {
		return false
	}
	s.pos += len(word)
	s.nodes = append(s.nodes, tnode{kind: k, end: int32(len(s.nodes) + 1)})
	return true
}

// array scans an array; s.pos is at '['.
func (s *scanner) array(depth int) bool {
	at := len(s.nodes)
	s.nodes = append(s.nodes, tnode{kind: tArray})
	s.pos++
	s.skipSpace()
	n := int32(0)
	if s.pos < len(s.src) && s.src[s.pos] == ']' {
		s.pos++
	} else {
		for {
			if !s.value(depth) {
				return false
			}
			n++
			s.skipSpace()
			if s.pos >= len(s.src) {
				return false
			}
			c := s.src[s.pos]
			s.pos++
			if c == ']' {
				break
			}
			if c != ',' {
				return false
			}
			s.skipSpace()
		}
	}
	s.nodes[at].n = n
	s.nodes[at].end = int32(len(s.nodes))
	return true
}

// object scans an object; s.pos is at '{'.
func (s *scanner) object(depth int) bool {
	at := len(s.nodes)
	s.nodes = append(s.nodes, tnode{kind: tObject})
	s.pos++
	s.skipSpace()
	n := int32(0)
	if s.pos < len(s.src) && s.src[s.pos] == '}' {
		s.pos++
	} else {
		for {
			if s.pos >= len(s.src) || s.src[s.pos] != '"' || !s.str() {
				return false
			}
			s.skipSpace()
			if s.pos >= len(s.src) || s.src[s.pos] != ':' {
				return false
			}
			s.pos++
			s.skipSpace()
			if !s.value(depth) {
				return false
			}
			n++
			s.skipSpace()
			if s.pos >= len(s.src) {
				return false
			}
			c := s.src[s.pos]
			s.pos++
			if c == '}' {
				break
			}
			if c != ',' {
				return false
			}
			s.skipSpace()
		}
	}
	s.nodes[at].n = n
	s.nodes[at].end = int32(len(s.nodes))
	if !s.dups && hasDuplicateKeys(s.nodes, at) {
		s.dups = true
	}
	return true
}

// hasDuplicateKeys reports whether the object at index at repeats a key.
func hasDuplicateKeys(nodes []tnode, at int) bool {
	n := int(nodes[at].n)
	if n < 2 {
		return false
	}
	if n <= maxQuadraticKeys {
		var keys [maxQuadraticKeys]string
		k := 0
		for i := at + 1; i < int(nodes[at].end); i = int(nodes[i+1].end) {
			for _, prev := range keys[:k] {
				if prev == nodes[i].text {
					return true
				}
			}
			keys[k] = nodes[i].text
			k++
		}
		return false
	}
	seen := make(map[string]struct{}, n)
	for i := at + 1; i < int(nodes[at].end); i = int(nodes[i+1].end) {
		if _, dup := seen[nodes[i].text]; dup {
			return true
		}
		seen[nodes[i].text] = struct{}{}
	}
	return false
}

// str scans a string; s.pos is at its opening quote. A string of plain
// UTF-8 is sliced from the body; one with escapes or invalid UTF-8 is
// decoded by encoding/json, which replaces bad bytes and lone surrogates
// with U+FFFD.
func (s *scanner) str() bool {
	start := s.pos
	s.pos++
	plain := true
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '"':
			s.pos++
			text := s.src[start+1 : s.pos-1]
			if !plain {
				var decoded string
				if json.Unmarshal([]byte(s.src[start:s.pos]), &decoded) != nil {
					return false
				}
				text = decoded
			}
			s.nodes = append(s.nodes, tnode{kind: tString, text: text, end: int32(len(s.nodes) + 1)})
			return true
		case c == '\\':
			if !s.escape() {
				return false
			}
			plain = false
		case c < 0x20:
			return false
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, size := utf8.DecodeRuneInString(s.src[s.pos:])
			if r == utf8.RuneError && size == 1 {
				plain = false
			}
			s.pos += size
		}
	}
	return false
}

// escape checks one escape sequence at s.pos and steps over it.
func (s *scanner) escape() bool {
	if s.pos+1 >= len(s.src) {
		return false
	}
	switch s.src[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return true
	case 'u':
		if s.pos+6 > len(s.src) {
			return false
		}
		for _, h := range []byte(s.src[s.pos+2 : s.pos+6]) {
			if !isHex(h) {
				return false
			}
		}
		s.pos += 6
		return true
	}
	return false
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number scans a number as JSON's grammar has it:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() bool {
	start := s.pos
	if s.src[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.src) && s.src[s.pos] == '0':
		s.pos++
	case s.digits() == 0:
		return false
	}
	if s.pos < len(s.src) && s.src[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return false
		}
	}
	if s.pos < len(s.src) && (s.src[s.pos] == 'e' || s.src[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.src) && (s.src[s.pos] == '+' || s.src[s.pos] == '-') {
			s.pos++
		}
		switch n := s.digits(); {
		case n == 0:
			return false
		case n > maxExponentDigits:
			s.huge = true
		}
	}
	s.nodes = append(s.nodes, tnode{kind: tNumber, text: s.src[start:s.pos], end: int32(len(s.nodes) + 1)})
	return true
}

// digits steps over decimal digits and returns how many there were.
func (s *scanner) digits() int {
	start := s.pos
	for s.pos < len(s.src) && '0' <= s.src[s.pos] && s.src[s.pos] <= '9' {
		s.pos++
	}
	return s.pos - start
}

// value materializes the value at index i as jsonschema.UnmarshalJSON
// decodes it: maps, slices, json.Number, strings, booleans and nil, the last
// of repeated object members winning.
func (t tape) value(i int) any {
	nd := t.nodes[i]
	switch nd.kind {
	case tFalse:
		return false
	case tTrue:
		return true
	case tNumber:
		return json.Number(nd.text)
	case tString:
		return nd.text
	case tArray:
		arr := make([]any, 0, nd.n)
		for j := i + 1; j < int(nd.end); j = int(t.nodes[j].end) {
			arr = append(arr, t.value(j))
		}
		return arr
	case tObject:
		obj := make(map[string]any, nd.n)
		for j := i + 1; j < int(nd.end); j = int(t.nodes[j+1].end) {
			obj[t.nodes[j].text] = t.value(j + 1)
		}
		return obj
	}
	return nil
}
