package vtl

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// maxNesting bounds how deeply blocks and expressions may nest, so that a
// hostile template cannot make the recursive-descent parser or the evaluator
// recurse without bound.
const maxNesting = 200

// Template is a parsed template. It is immutable, so one Template may be
// rendered by many goroutines at once: API Gateway templates are parsed when
// the configuration changes and rendered for every request.
type Template struct {
	name   string
	src    string
	nodes  []node
	macros map[string]*macroDef
	// outputHint is the length of the latest rendering's output, up to
	// maxOutputHint: the room the next rendering reserves, so that its
	// output is allocated once instead of doubled from a few bytes.
	outputHint atomic.Int64
}

// maxOutputHint bounds the room a rendering reserves ahead, so that one
// huge output does not make every later rendering allocate as much.
const maxOutputHint = 64 << 10

// Parse parses a VTL template. name is used in error messages only. A
// template that is not valid VTL gives a *ParseError.
func Parse(name, src string) (*Template, error) {
	p := &parser{name: name, orig: src, src: src, macros: make(map[string]*macroDef)}
	nodes, t, err := p.parseBlock()
	if err != nil {
		return nil, err
	}
	if t.kind != termEOF {
		return nil, p.errorf(t.pos, "unexpected #%s", t.word)
	}
	tmpl := &Template{name: name, src: src, nodes: nodes, macros: p.macros}
	tmpl.outputHint.Store(int64(min(len(src), maxOutputHint)))
	return tmpl, nil
}

// parser parses one template, or one interpolated string literal within it
// (then src is the literal's content and base its offset in orig).
type parser struct {
	name   string
	orig   string
	src    string
	base   int
	pos    int
	depth  int
	macros map[string]*macroDef
}

// termKind says what ended a block.
type termKind int

const (
	termEOF termKind = iota
	termEnd
	termElse
	termElseIf
)

// terminator is the directive that ended a block (#end, #else, #elseif).
type terminator struct {
	kind termKind
	cond expr // for #elseif
	pos  int
	word string
}

// errorf returns a *ParseError located at offset pos of p.src.
func (p *parser) errorf(pos int, msg string, args ...any) error {
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	line, col := lineCol(p.orig, p.base+pos)
	return &ParseError{Name: p.name, Line: line, Column: col, Msg: msg}
}

// builder accumulates the nodes of one block. tokStart is where the current
// run of plain text began: Velocity 1.7's lexer lets #set swallow the spaces
// before it only when they start a token, not when they end a text token.
type builder struct {
	nodes    []node
	buf      []byte
	tokStart int
}

// flush turns pending text into a node.
func (b *builder) flush() {
	if len(b.buf) > 0 {
		b.nodes = append(b.nodes, &textNode{text: string(b.buf)})
		b.buf = b.buf[:0]
	}
}

// add appends a node after any pending text.
func (b *builder) add(n node) {
	b.flush()
	b.nodes = append(b.nodes, n)
}

// parseBlock parses nodes until the end of input or a block terminator.
func (p *parser) parseBlock() ([]node, terminator, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		return nil, terminator{}, p.errorf(p.pos, "blocks nested more than %d deep", maxNesting)
	}
	b := &builder{tokStart: p.pos}
	for p.pos < len(p.src) {
		var (
			t    *terminator
			err  error
			done bool
		)
		switch p.src[p.pos] {
		case '$':
			done, err = p.reference(b, 0)
		case '#':
			t, done, err = p.hash(b)
		case '\\':
			t, done, err = p.backslash(b)
		}
		if err != nil {
			return nil, terminator{}, err
		}
		if t != nil {
			b.flush()
			return b.nodes, *t, nil
		}
		if !done {
			b.buf = append(b.buf, p.src[p.pos])
			p.pos++
			if c := p.src[p.pos-1]; c == '$' || c == '#' || c == '\\' {
				b.tokStart = p.pos
			}
		}
	}
	b.flush()
	return b.nodes, terminator{kind: termEOF, pos: p.pos}, nil
}

// reference parses $ref at p.pos (after backslash backslashes, already
// consumed) and reports whether it found one.
func (p *parser) reference(b *builder, backslash int) (bool, error) {
	start := p.pos
	r, quiet, end, ok, err := p.scanRef(start)
	if err != nil || !ok {
		p.pos = start
		return false, err
	}
	p.pos = end
	b.add(&refNode{ref: r, quiet: quiet, backslash: backslash, src: p.src[start:end]})
	b.tokStart = p.pos
	return true, nil
}

// backslash handles a run of backslashes: Velocity escapes a following
// reference or directive with an odd number of them, and halves an even run
// before a directive.
func (p *parser) backslash(b *builder) (*terminator, bool, error) {
	start := p.pos
	i := start
	for i < len(p.src) && p.src[i] == '\\' {
		i++
	}
	n := i - start
	if i >= len(p.src) {
		return nil, false, nil
	}
	switch p.src[i] {
	case '$':
		p.pos = i
		ok, err := p.reference(b, n)
		if err != nil || ok {
			return nil, ok, err
		}
	case '#':
		word, _, end := p.directiveWord(i + 1)
		if word == "" || (!isDirectiveName(word) && p.macros[word] == nil) {
			break
		}
		if n%2 == 1 {
			b.buf = append(b.buf, strings.Repeat(`\`, (n-1)/2)...)
			b.buf = append(b.buf, p.src[i:end]...)
			p.pos = end
			b.tokStart = p.pos
			return nil, true, nil
		}
		b.buf = append(b.buf, strings.Repeat(`\`, n/2)...)
		p.pos = i
		b.tokStart = p.pos
		return nil, true, nil
	}
	b.buf = append(b.buf, p.src[start:i]...)
	p.pos = i
	b.tokStart = i
	return nil, true, nil
}

// isDirectiveName reports whether name is a directive Velocity recognises
// when deciding what a backslash escapes.
func isDirectiveName(name string) bool {
	switch name {
	case "if", "elseif", "else", "end", "set", "foreach", "macro", "define",
		"break", "stop", "parse", "include", "evaluate", "literal":
		return true
	}
	return false
}

// directiveWord reads the directive name after a '#' at i: name or {name}.
// It returns the name, whether it was bracketed, and the offset after it.
func (p *parser) directiveWord(i int) (string, bool, int) {
	if i < len(p.src) && p.src[i] == '{' {
		j := i + 1
		if j >= len(p.src) || !isIdentStart(p.src[j]) {
			return "", false, i
		}
		for j < len(p.src) && isDirectiveChar(p.src[j]) {
			j++
		}
		if j >= len(p.src) || p.src[j] != '}' {
			return "", false, i
		}
		return p.src[i+1 : j], true, j + 1
	}
	if i >= len(p.src) || (!isIdentStart(p.src[i]) && p.src[i] != '@') {
		return "", false, i
	}
	j := i
	for j < len(p.src) && isDirectiveChar(p.src[j]) {
		j++
	}
	return p.src[i:j], false, j
}

// gobbleNewline consumes spaces and tabs followed by one newline after a
// directive, as Velocity 1.7's lexer does after a directive's closing
// parenthesis and after #else and #end; without the newline it consumes
// nothing.
func (p *parser) gobbleNewline() {
	i := p.pos
	for i < len(p.src) && (p.src[i] == ' ' || p.src[i] == '\t') {
		i++
	}
	switch {
	case i < len(p.src) && p.src[i] == '\n':
		p.pos = i + 1
	case i < len(p.src) && p.src[i] == '\r':
		i++
		if i < len(p.src) && p.src[i] == '\n' {
			i++
		}
		p.pos = i
	}
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isIdentStart is a character that may begin an identifier.
func isIdentStart(c byte) bool { return isAlpha(c) || c == '_' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isIdentChar is Velocity 1.7's identifier character; 1.x allows '-'.
func isIdentChar(c byte) bool { return isAlpha(c) || isDigit(c) || c == '_' || c == '-' }

func isDirectiveChar(c byte) bool { return isAlpha(c) || isDigit(c) || c == '_' || c == '@' }
