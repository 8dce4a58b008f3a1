package jsonpath

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
)

// expr is a filter expression, evaluated against the current node ("@")
// and the document root ("$").
type expr interface {
	test(ev *evaluator, cur any) (bool, error)
}

// operand is one side of a comparison.
type operand interface {
	value(ev *evaluator, cur any) (v any, ok bool, err error)
}

type orExpr struct{ l, r expr }

func (e orExpr) test(ev *evaluator, cur any) (bool, error) {
	ok, err := e.l.test(ev, cur)
	if err != nil || ok {
		return ok, err
	}
	return e.r.test(ev, cur)
}

type andExpr struct{ l, r expr }

func (e andExpr) test(ev *evaluator, cur any) (bool, error) {
	ok, err := e.l.test(ev, cur)
	if err != nil || !ok {
		return false, err
	}
	return e.r.test(ev, cur)
}

type notExpr struct{ x expr }

func (e notExpr) test(ev *evaluator, cur any) (bool, error) {
	ok, err := e.x.test(ev, cur)
	return !ok, err
}

// existsExpr is a bare path such as [?(@.isbn)]: true when the path
// selects something, even a null.
type existsExpr struct{ p *pathOperand }

func (e existsExpr) test(ev *evaluator, cur any) (bool, error) {
	v, ok, err := e.p.value(ev, cur)
	if err != nil || !ok {
		return false, err
	}
	if list, isList := v.([]any); isList && !e.p.path.definite {
		return len(list) > 0, nil
	}
	return true, nil
}

type cmpExpr struct {
	op   string
	l, r operand
}

func (e cmpExpr) test(ev *evaluator, cur any) (bool, error) {
	l, lok, err := e.l.value(ev, cur)
	if err != nil {
		return false, err
	}
	r, rok, err := e.r.value(ev, cur)
	if err != nil {
		return false, err
	}
	if e.op == "!=" {
		return !lok || !rok || !equal(l, r), nil
	}
	if !lok || !rok {
		return false, nil
	}
	switch e.op {
	case "==":
		return equal(l, r), nil
	case "=~":
		return matchRegex(l, r), nil
	}
	c, ok := compare(l, r)
	if !ok {
		return false, nil
	}
	switch e.op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil // ">="
}

// literal is a constant operand: a number (json.Number), string, boolean,
// null or regular expression.
type literal struct{ v any }

func (l literal) value(*evaluator, any) (any, bool, error) { return l.v, true, nil }

// pathOperand is "@..." (relative to the node being filtered) or "$..."
// (from the document root).
type pathOperand struct {
	fromRoot bool
	path     *Path
}

func (o *pathOperand) value(ev *evaluator, cur any) (any, bool, error) {
	start := cur
	if o.fromRoot {
		start = ev.root
	}
	v, err := ev.run(o.path, start)
	switch {
	case err == nil:
		return v, true, nil
	case errors.Is(err, ErrNotFound):
		return nil, false, nil
	}
	return nil, false, err
}

// expr reads an "||" expression, the loosest binding level.
func (p *parser) expr() (expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		return nil, p.errorf("filter nested deeper than %d", maxNesting)
	}
	l, err := p.andExpr()
	for err == nil && p.consume("||") {
		var r expr
		r, err = p.andExpr()
		l = orExpr{l, r}
	}
	return l, err
}

func (p *parser) andExpr() (expr, error) {
	l, err := p.unary()
	for err == nil && p.consume("&&") {
		var r expr
		r, err = p.unary()
		l = andExpr{l, r}
	}
	return l, err
}

func (p *parser) unary() (expr, error) {
	p.skipSpace()
	if p.peek() == '!' && !strings.HasPrefix(p.src[p.pos:], "!=") {
		p.pos++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxNesting {
			return nil, p.errorf("filter nested deeper than %d", maxNesting)
		}
		x, err := p.unary()
		return notExpr{x}, err
	}
	if p.peek() == '(' {
		p.pos++
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if !p.consume(")") {
			return nil, p.errorf("missing ')'")
		}
		return e, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (expr, error) {
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	// Longest operators first, so that "<=" is not read as "<".
	for _, op := range [...]string{"==", "!=", "<=", ">=", "=~", "<", ">"} {
		if !strings.HasPrefix(p.src[p.pos:], op) {
			continue
		}
		p.pos += len(op)
		r, err := p.operand()
		if err != nil {
			return nil, err
		}
		return cmpExpr{op: op, l: l, r: r}, nil
	}
	po, isPath := l.(*pathOperand)
	if !isPath {
		return nil, p.errorf("a filter needs a comparison or a path")
	}
	return existsExpr{po}, nil
}

func (p *parser) consume(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *parser) operand() (operand, error) {
	p.skipSpace()
	switch c := p.peek(); {
	case c == '@' || c == '$':
		return p.pathOperand()
	case c == '\'' || c == '"':
		s, err := p.quoted()
		return literal{s}, err
	case c == '/':
		return p.regex()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, kw := range [...]struct {
		word string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(p.src[p.pos:], kw.word) {
			p.pos += len(kw.word)
			return literal{kw.v}, nil
		}
	}
	return nil, p.errorf("expected a value or a path in the filter")
}

func (p *parser) pathOperand() (operand, error) {
	fromRoot := p.peek() == '$'
	start := p.pos
	p.pos++
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		return nil, p.errorf("filter nested deeper than %d", maxNesting)
	}
	segs, err := p.segments(true)
	if err != nil {
		return nil, err
	}
	return &pathOperand{fromRoot: fromRoot, path: newPath(p.src[start:p.pos], segs)}, nil
}

func (p *parser) number() (operand, error) {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	for p.pos < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[p.pos]) >= 0 {
		p.pos++
	}
	n := json.Number(p.src[start:p.pos])
	if _, err := n.Float64(); err != nil {
		return nil, p.errorf("bad number %q", n)
	}
	return literal{n}, nil
}

// regex reads /pattern/flags. Jayway matches the whole input (Java's
// Matcher.matches), so the pattern is anchored at both ends.
func (p *parser) regex() (operand, error) {
	p.pos++ // the opening slash
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			return nil, p.errorf("unterminated regular expression")
		}
		c := p.src[p.pos]
		if c == '/' {
			p.pos++
			break
		}
		if c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '/' {
			c = '/'
			p.pos++
		} else if c == '\\' && p.pos+1 < len(p.src) {
			b.WriteByte(c)
			p.pos++
			c = p.src[p.pos]
		}
		b.WriteByte(c)
		p.pos++
	}
	flags := ""
	for p.pos < len(p.src) && strings.IndexByte("imsu", p.src[p.pos]) >= 0 {
		if p.src[p.pos] != 'u' { // UNICODE_CASE: Go's (?i) already folds Unicode
			flags += string(p.src[p.pos])
		}
		p.pos++
	}
	src := `\A(?:` + b.String() + `)\z`
	if flags != "" {
		src = "(?" + flags + ")" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, p.errorf("regular expression: %v", err)
	}
	return literal{re}, nil
}
