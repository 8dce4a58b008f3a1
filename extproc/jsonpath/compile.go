package jsonpath

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxNesting bounds how deeply filters may nest (parentheses, and paths
// inside filters that hold filters themselves), so that compiling a hostile
// path cannot exhaust the stack.
const maxNesting = 32

// Path is a compiled JSONPath expression. A Path is immutable and safe to
// evaluate from many goroutines at once; compile it once, when the template
// that holds it is loaded, and evaluate it per request.
type Path struct {
	src      string
	segs     []segment
	definite bool
}

// kind says what a path token selects.
type kind int

const (
	kindNames    kind = iota // .name, ['a'] or ['a','b']
	kindIndexes              // [0] or [0,-1]
	kindSlice                // [start:end:step]
	kindWildcard             // * or [*]
	kindFilter               // [?(...)]
)

// segment is one token of a path: what it selects and whether it is
// applied to every descendant (a ".." deep scan).
type segment struct {
	kind    kind
	scan    bool
	names   []string
	indexes []int
	slice   sliceSpec
	filter  expr
}

// sliceSpec is an array slice; a missing bound is the start or the end of
// the array, depending on the step's sign.
type sliceSpec struct {
	start, end, step int
	hasStart, hasEnd bool
}

// definite reports whether the segment selects at most one value: Jayway's
// isTokenDefinite. A list of names is definite only as the last token,
// where it merges the named properties into one object.
func (s *segment) definite(leaf bool) bool {
	if s.scan {
		return false
	}
	switch s.kind {
	case kindNames:
		return len(s.names) == 1 || leaf
	case kindIndexes:
		return len(s.indexes) == 1
	}
	return false
}

// Compile parses a JSONPath expression. A path that does not start with "$"
// is read as "$." followed by the path, as Jayway reads it.
func Compile(path string) (*Path, error) {
	src := strings.TrimSpace(path)
	if src == "" {
		return nil, errors.New("jsonpath: empty path")
	}
	if src[0] != '$' {
		src = "$." + src
	}
	p := &parser{src: src, pos: 1}
	segs, err := p.segments(false)
	if err != nil {
		return nil, fmt.Errorf("jsonpath: %q: %w", path, err)
	}
	return newPath(path, segs), nil
}

func newPath(src string, segs []segment) *Path {
	definite := true
	for i := range segs {
		definite = definite && segs[i].definite(i == len(segs)-1)
	}
	return &Path{src: src, segs: segs, definite: definite}
}

// Definite reports whether the path names a single value. Eval then returns
// that value itself; for any other path it returns a list of the matches.
func (p *Path) Definite() bool { return p.definite }

// String returns the path as it was given to Compile.
func (p *Path) String() string { return p.src }

// parser reads a path or a filter expression from src, starting at pos.
type parser struct {
	src   string
	pos   int
	depth int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// segments reads tokens up to the end of the input or, inside a filter, up
// to the first character that cannot continue a path.
func (p *parser) segments(inFilter bool) ([]segment, error) {
	var segs []segment
	for p.pos < len(p.src) {
		var seg segment
		var err error
		switch c := p.peek(); {
		case c == '.':
			seg, err = p.dotSegment()
		case c == '[':
			seg, err = p.bracket()
		case inFilter:
			return segs, nil
		default:
			return nil, p.errorf("unexpected %q", c)
		}
		if err != nil {
			return nil, err
		}
		segs = append(segs, seg)
	}
	return segs, nil
}

// dotSegment reads ".name", ".*", "..name", "..*", "..[...]" or, as Jayway
// also accepts, ".[...]".
func (p *parser) dotSegment() (segment, error) {
	p.pos++ // the dot
	scan := false
	if p.peek() == '.' {
		scan = true
		p.pos++
	}
	switch p.peek() {
	case '*':
		p.pos++
		return segment{kind: kindWildcard, scan: scan}, nil
	case '[':
		seg, err := p.bracket()
		seg.scan = scan
		return seg, err
	}
	start := p.pos
	for p.pos < len(p.src) && !strings.ContainsRune(".[]()=!<>&|, \t", rune(p.src[p.pos])) {
		p.pos++
	}
	if p.pos == start {
		return segment{}, p.errorf("missing property name")
	}
	if p.peek() == '(' {
		return segment{}, p.errorf("functions such as %s() are not supported", p.src[start:p.pos])
	}
	return segment{kind: kindNames, scan: scan, names: []string{p.src[start:p.pos]}}, nil
}

// bracket reads a "[...]" token: a wildcard, a filter, quoted names,
// indexes or a slice.
func (p *parser) bracket() (segment, error) {
	p.pos++ // the bracket
	p.skipSpace()
	var seg segment
	var err error
	switch c := p.peek(); {
	case c == '*':
		p.pos++
		seg = segment{kind: kindWildcard}
	case c == '?':
		seg, err = p.filterSegment()
	case c == '\'' || c == '"':
		seg, err = p.names()
	case c == '-' || c == ':' || (c >= '0' && c <= '9'):
		seg, err = p.indexes()
	default:
		return segment{}, p.errorf("unexpected %q in brackets", c)
	}
	if err != nil {
		return segment{}, err
	}
	p.skipSpace()
	if p.peek() != ']' {
		return segment{}, p.errorf("missing ']'")
	}
	p.pos++
	return seg, nil
}

func (p *parser) filterSegment() (segment, error) {
	p.pos++ // the question mark
	p.skipSpace()
	if p.peek() != '(' {
		return segment{}, p.errorf("a filter must be written [?(...)]")
	}
	p.pos++
	e, err := p.expr()
	if err != nil {
		return segment{}, err
	}
	p.skipSpace()
	if p.peek() != ')' {
		return segment{}, p.errorf("missing ')' closing the filter")
	}
	p.pos++
	return segment{kind: kindFilter, filter: e}, nil
}

// names reads a comma-separated list of quoted property names.
func (p *parser) names() (segment, error) {
	var names []string
	for {
		p.skipSpace()
		s, err := p.quoted()
		if err != nil {
			return segment{}, err
		}
		names = append(names, s)
		p.skipSpace()
		if p.peek() != ',' {
			return segment{kind: kindNames, names: names}, nil
		}
		p.pos++
	}
}

// quoted reads a string in single or double quotes with JSON's backslash
// escapes (and \' for a single quote).
func (p *parser) quoted() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.errorf("expected a quoted string")
	}
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case q:
			p.pos++
			return b.String(), nil
		case '\\':
			if err := p.escape(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *parser) escape(b *strings.Builder) error {
	p.pos++ // the backslash
	if p.pos >= len(p.src) {
		return p.errorf("unterminated escape")
	}
	c := p.src[p.pos]
	p.pos++
	switch c {
	case '\'', '"', '\\', '/':
		b.WriteByte(c)
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		if p.pos+4 > len(p.src) {
			return p.errorf("short \\u escape")
		}
		n, err := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 16)
		if err != nil {
			return p.errorf("bad \\u escape")
		}
		b.WriteRune(rune(n))
		p.pos += 4
	default:
		return p.errorf("unknown escape \\%c", c)
	}
	return nil
}

// indexes reads "[n]", "[a,b,...]" or a slice "[start:end:step]".
func (p *parser) indexes() (segment, error) {
	first, ok, err := p.optInt()
	if err != nil {
		return segment{}, err
	}
	p.skipSpace()
	if p.peek() == ':' {
		return p.sliceFrom(first, ok)
	}
	if !ok {
		return segment{}, p.errorf("expected an index")
	}
	idx := []int{first}
	for p.peek() == ',' {
		p.pos++
		p.skipSpace()
		n, ok, err := p.optInt()
		if err != nil {
			return segment{}, err
		}
		if !ok {
			return segment{}, p.errorf("expected an index after ','")
		}
		idx = append(idx, n)
		p.skipSpace()
	}
	return segment{kind: kindIndexes, indexes: idx}, nil
}

func (p *parser) sliceFrom(start int, hasStart bool) (segment, error) {
	s := sliceSpec{start: start, hasStart: hasStart, step: 1}
	p.pos++ // the first colon
	p.skipSpace()
	end, hasEnd, err := p.optInt()
	if err != nil {
		return segment{}, err
	}
	s.end, s.hasEnd = end, hasEnd
	p.skipSpace()
	if p.peek() == ':' {
		p.pos++
		p.skipSpace()
		step, ok, err := p.optInt()
		if err != nil {
			return segment{}, err
		}
		if ok {
			s.step = step
		}
	}
	if s.step == 0 {
		return segment{}, p.errorf("slice step cannot be zero")
	}
	return segment{kind: kindSlice, slice: s}, nil
}

// optInt reads an optional signed integer.
func (p *parser) optInt() (int, bool, error) {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == start {
		return 0, false, nil
	}
	n, err := strconv.Atoi(p.src[start:p.pos])
	if err != nil {
		return 0, false, p.errorf("bad index %q", p.src[start:p.pos])
	}
	return n, true, nil
}
