package vtl

import (
	"strconv"
	"strings"
)

// skipWS skips the whitespace Velocity allows inside directive arguments.
func (p *parser) skipWS() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// word consumes the keyword w if it stands alone at p.pos.
func (p *parser) word(w string) bool {
	if !strings.HasPrefix(p.src[p.pos:], w) {
		return false
	}
	if end := p.pos + len(w); end < len(p.src) && isIdentChar(p.src[end]) {
		return false
	}
	p.pos += len(w)
	return true
}

// operator consumes the first of ops (symbols, or keywords that must stand
// alone) found at p.pos after whitespace, and returns its canonical form.
func (p *parser) operator(ops ...[2]string) (string, bool) {
	save := p.pos
	p.skipWS()
	for _, op := range ops {
		sym, canon := op[0], op[1]
		if isAlpha(sym[0]) {
			if p.word(sym) {
				return canon, true
			}
			continue
		}
		if strings.HasPrefix(p.src[p.pos:], sym) {
			p.pos += len(sym)
			return canon, true
		}
	}
	p.pos = save
	return "", false
}

// enter bounds expression nesting; the caller must call p.leave.
func (p *parser) enter() error {
	p.depth++
	if p.depth > maxNesting {
		return p.errorf(p.pos, "expression nested more than %d deep", maxNesting)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// binaryLevel parses one precedence level of left-associative operators.
func (p *parser) binaryLevel(next func() (expr, error), ops ...[2]string) (expr, error) {
	l, err := next()
	if err != nil {
		return nil, err
	}
	for {
		pos := p.pos
		op, ok := p.operator(ops...)
		if !ok {
			return l, nil
		}
		r, err := next()
		if err != nil {
			return nil, err
		}
		l = &binary{op: op, l: l, r: r, pos: p.base + pos}
	}
}

// parseExpr parses an expression: || binds loosest, then &&, equality,
// relational, additive, multiplicative, then unary ! and -.
func (p *parser) parseExpr() (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.binaryLevel(p.parseAnd, [2]string{"||", "||"}, [2]string{"or", "||"})
}

func (p *parser) parseAnd() (expr, error) {
	return p.binaryLevel(p.parseEquality, [2]string{"&&", "&&"}, [2]string{"and", "&&"})
}

func (p *parser) parseEquality() (expr, error) {
	return p.binaryLevel(p.parseRelational,
		[2]string{"==", "=="}, [2]string{"!=", "!="}, [2]string{"eq", "=="}, [2]string{"ne", "!="})
}

func (p *parser) parseRelational() (expr, error) {
	return p.binaryLevel(p.parseAdditive,
		[2]string{"<=", "<="}, [2]string{">=", ">="}, [2]string{"<", "<"}, [2]string{">", ">"},
		[2]string{"le", "<="}, [2]string{"ge", ">="}, [2]string{"lt", "<"}, [2]string{"gt", ">"})
}

func (p *parser) parseAdditive() (expr, error) {
	return p.binaryLevel(p.parseMultiplicative, [2]string{"+", "+"}, [2]string{"-", "-"})
}

func (p *parser) parseMultiplicative() (expr, error) {
	return p.binaryLevel(p.parseUnary, [2]string{"*", "*"}, [2]string{"/", "/"}, [2]string{"%", "%"})
}

// parseUnary parses !x, not x and -x.
func (p *parser) parseUnary() (expr, error) {
	p.skipWS()
	pos := p.pos
	if strings.HasPrefix(p.src[p.pos:], "!") && !strings.HasPrefix(p.src[p.pos:], "!=") {
		p.pos++
	} else if !p.word("not") {
		if p.pos < len(p.src) && p.src[p.pos] == '-' && !p.numberAt(p.pos+1) {
			p.pos++
			if err := p.enter(); err != nil {
				return nil, err
			}
			defer p.leave()
			x, err := p.parseUnary()
			if err != nil {
				return nil, err
			}
			return &unary{op: "-", x: x, pos: p.base + pos}, nil
		}
		return p.parsePrimary()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	return &unary{op: "!", x: x, pos: p.base + pos}, nil
}

// numberAt reports whether a number's digits (or its decimal point) start at i.
func (p *parser) numberAt(i int) bool {
	return i < len(p.src) && (isDigit(p.src[i]) || p.src[i] == '.')
}

// parsePrimary parses a single value: a reference, a literal, a list, a
// range, a map or a parenthesised expression.
func (p *parser) parsePrimary() (expr, error) {
	p.skipWS()
	if p.pos >= len(p.src) {
		return nil, p.errorf(p.pos, "unexpected end of template in expression")
	}
	switch c := p.src[p.pos]; {
	case c == '(':
		p.pos++
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		p.skipWS()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return nil, p.errorf(p.pos, "expected )")
		}
		p.pos++
		return e, nil
	case c == '"' || c == '\'':
		return p.stringLiteral()
	case isDigit(c) || c == '-' || c == '.':
		return p.number()
	case c == '[':
		return p.listOrRange()
	case c == '{':
		return p.mapLiteral()
	case c == '$':
		r, _, end, ok, err := p.scanRef(p.pos)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, p.errorf(p.pos, "invalid reference")
		}
		p.pos = end
		return r, nil
	}
	if p.word("true") {
		return &literal{v: true}, nil
	}
	if p.word("false") {
		return &literal{v: false}, nil
	}
	return nil, p.errorf(p.pos, "unexpected %q in expression", p.src[p.pos:p.pos+1])
}

// stringLiteral parses '...' (no interpolation) or "..." (references and
// directives are rendered); in both a doubled quote stands for one quote, as
// in Velocity 1.7.
func (p *parser) stringLiteral() (expr, error) {
	q := p.src[p.pos]
	start := p.pos
	var sb strings.Builder
	i := p.pos + 1
	for {
		j := strings.IndexByte(p.src[i:], q)
		if j < 0 {
			return nil, p.errorf(start, "unterminated string literal")
		}
		sb.WriteString(p.src[i : i+j])
		i += j + 1
		if i < len(p.src) && p.src[i] == q {
			sb.WriteByte(q)
			i++
			continue
		}
		break
	}
	p.pos = i
	s := sb.String()
	if q == '"' {
		s = unescapeUnicode(s)
	}
	if q == '\'' || !strings.ContainsAny(s, "$#") {
		return &literal{v: s}, nil
	}
	if strings.Contains(p.src[start+1:i-1], `""`) {
		// Offsets shift where quotes were doubled; errors point at the literal.
		return p.interpolate(s, start)
	}
	return p.interpolate(s, start+1)
}

// interpolate parses a double-quoted string's content as a template.
func (p *parser) interpolate(s string, base int) (expr, error) {
	sub := &parser{name: p.name, orig: p.orig, src: s, base: p.base + base, depth: p.depth, macros: p.macros}
	nodes, t, err := sub.parseBlock()
	if err != nil {
		return nil, err
	}
	if t.kind != termEOF {
		return nil, sub.errorf(t.pos, "unexpected %s in string literal", t.describe())
	}
	return &interpString{nodes: nodes}, nil
}

// number parses an integer (int64) or floating-point (float64) literal. A
// trailing ".." belongs to a range, not to the number.
func (p *parser) number() (expr, error) {
	start := p.pos
	i := p.pos
	if p.src[i] == '-' {
		i++
	}
	digits := i
	for i < len(p.src) && isDigit(p.src[i]) {
		i++
	}
	isFloat := false
	if i < len(p.src) && p.src[i] == '.' && !strings.HasPrefix(p.src[i:], "..") {
		j := i + 1
		for j < len(p.src) && isDigit(p.src[j]) {
			j++
		}
		if j > i+1 || i > digits {
			isFloat, i = true, j
		}
	}
	if i == digits {
		return nil, p.errorf(start, "invalid number")
	}
	if i < len(p.src) && (p.src[i] == 'e' || p.src[i] == 'E') {
		j := i + 1
		if j < len(p.src) && (p.src[j] == '+' || p.src[j] == '-') {
			j++
		}
		if j < len(p.src) && isDigit(p.src[j]) {
			for j < len(p.src) && isDigit(p.src[j]) {
				j++
			}
			isFloat, i = true, j
		}
	}
	text := p.src[start:i]
	p.pos = i
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, p.errorf(start, "invalid number %s", text)
		}
		return &literal{v: f}, nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return nil, p.errorf(start, "integer %s out of range", text)
	}
	return &literal{v: n}, nil
}

// listOrRange parses [a, b, ...] or [from..to].
func (p *parser) listOrRange() (expr, error) {
	start := p.pos
	p.pos++
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return &listLit{}, nil
	}
	first, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if strings.HasPrefix(p.src[p.pos:], "..") {
		p.pos += 2
		to, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(']', start, "range"); err != nil {
			return nil, err
		}
		return &rangeLit{from: first, to: to}, nil
	}
	l := &listLit{items: []expr{first}}
	for {
		p.skipWS()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			e, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			l.items = append(l.items, e)
			continue
		}
		return l, p.expect(']', start, "list")
	}
}

// expect consumes c after whitespace or reports what was being parsed.
func (p *parser) expect(c byte, start int, what string) error {
	p.skipWS()
	if p.pos >= len(p.src) || p.src[p.pos] != c {
		return p.errorf(start, "unterminated %s: expected %q", what, string(c))
	}
	p.pos++
	return nil
}

// mapLiteral parses {key: value, ...}.
func (p *parser) mapLiteral() (expr, error) {
	start := p.pos
	p.pos++
	m := &mapLit{}
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return m, nil
	}
	for {
		k, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(':', start, "map"); err != nil {
			return nil, err
		}
		v, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		m.keys, m.vals = append(m.keys, k), append(m.vals, v)
		p.skipWS()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		return m, p.expect('}', start, "map")
	}
}

// unescapeUnicode replaces \uXXXX escapes, the only escape Velocity 1.7
// decodes in a double-quoted string literal.
func unescapeUnicode(s string) string {
	if !strings.Contains(s, `\u`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+5 < len(s) && s[i+1] == 'u' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				sb.WriteRune(rune(n))
				i += 5
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}
