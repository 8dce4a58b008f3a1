package vtl

import (
	"errors"
	"strings"
)

// hash handles a '#': a comment, an unparsed block, a directive, a macro
// call, or plain text.
func (p *parser) hash(b *builder) (*terminator, bool, error) {
	start := p.pos
	if strings.HasPrefix(p.src[start:], "##") {
		p.lineComment()
		b.tokStart = p.pos
		return nil, true, nil
	}
	if strings.HasPrefix(p.src[start:], "#*") {
		end := strings.Index(p.src[start+2:], "*#")
		if end < 0 {
			return nil, false, p.errorf(start, "unterminated #* comment")
		}
		p.pos = start + 2 + end + 2
		b.tokStart = p.pos
		return nil, true, nil
	}
	if strings.HasPrefix(p.src[start:], "#[[") {
		end := strings.Index(p.src[start+3:], "]]#")
		if end < 0 {
			return nil, false, p.errorf(start, "unterminated #[[ block")
		}
		b.buf = append(b.buf, p.src[start+3:start+3+end]...)
		p.pos = start + 3 + end + 3
		b.tokStart = p.pos
		return nil, true, nil
	}
	word, _, end := p.directiveWord(start + 1)
	if word == "" {
		return nil, false, nil
	}
	switch word {
	case "end", "else":
		p.pos = end
		p.gobbleNewline()
		kind := termEnd
		if word == "else" {
			kind = termElse
		}
		return &terminator{kind: kind, pos: start, word: word}, true, nil
	case "elseif":
		p.pos = end
		cond, err := p.parenExpr(word)
		if err != nil {
			return nil, false, err
		}
		return &terminator{kind: termElseIf, cond: cond, pos: start, word: word}, true, nil
	}
	return nil, true, p.directive(b, word, start, end)
}

// lineComment skips a ## comment and the newline that ends it.
func (p *parser) lineComment() {
	nl := strings.IndexAny(p.src[p.pos:], "\r\n")
	if nl < 0 {
		p.pos = len(p.src)
		return
	}
	p.pos += nl
	if strings.HasPrefix(p.src[p.pos:], "\r\n") {
		p.pos += 2
		return
	}
	p.pos++
}

// directive parses the directive named word whose '#' is at start and whose
// name ends at end.
func (p *parser) directive(b *builder, word string, start, end int) error {
	p.pos = end
	switch word {
	case "set":
		return p.setDirective(b, start)
	case "if":
		return p.ifDirective(b)
	case "foreach":
		return p.foreachDirective(b, start)
	case "macro":
		return p.macroDirective(b, start)
	case "define":
		return p.defineDirective(b, start)
	case "stop":
		b.add(&stopNode{})
		b.tokStart = p.pos
		return nil
	case "break":
		return p.breakDirective(b)
	case "parse", "include", "evaluate", "literal":
		return p.errorf(start, "#%s is not supported", word)
	}
	return p.macroCall(b, word, start)
}

// setDirective parses #set($ref = expr). Only spaces may separate #set from
// its parenthesis; otherwise the text is not a directive (Velocity 1.7).
func (p *parser) setDirective(b *builder, start int) error {
	i := p.pos
	for i < len(p.src) && p.src[i] == ' ' {
		i++
	}
	if i >= len(p.src) || p.src[i] != '(' {
		b.buf = append(b.buf, p.src[start:p.pos]...)
		b.tokStart = p.pos
		return nil
	}
	if ws := p.src[b.tokStart:start]; ws != "" && strings.Trim(ws, " \t") == "" {
		b.buf = b.buf[:len(b.buf)-len(ws)]
	}
	p.pos = i + 1
	p.skipWS()
	if p.pos >= len(p.src) || p.src[p.pos] != '$' {
		return p.errorf(p.pos, "#set needs a reference on the left of =")
	}
	lhs, quiet, end, ok, err := p.scanRef(p.pos)
	if err != nil {
		return err
	}
	if !ok || quiet {
		return p.errorf(p.pos, "#set needs a reference on the left of =")
	}
	p.pos = end
	p.skipWS()
	if p.pos >= len(p.src) || p.src[p.pos] != '=' {
		return p.errorf(p.pos, "#set needs = after %s", lhs.src)
	}
	p.pos++
	rhs, err := p.parseExpr()
	if err != nil {
		return err
	}
	if err := p.closeParen("#set"); err != nil {
		return err
	}
	b.add(&setNode{lhs: lhs, rhs: rhs})
	b.tokStart = p.pos
	return nil
}

// closeParen expects the ')' that ends a directive's arguments, then applies
// Velocity's newline gobbling.
func (p *parser) closeParen(what string) error {
	p.skipWS()
	if p.pos >= len(p.src) || p.src[p.pos] != ')' {
		return p.errorf(p.pos, "expected ) to close %s", what)
	}
	p.pos++
	p.gobbleNewline()
	return nil
}

// openParen expects optional whitespace and the '(' that starts a
// directive's arguments.
func (p *parser) openParen(what string) error {
	p.skipWS()
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		return p.errorf(p.pos, "expected ( after #%s", what)
	}
	p.pos++
	return nil
}

// parenExpr parses "(expr)" after #if or #elseif.
func (p *parser) parenExpr(what string) (expr, error) {
	if err := p.openParen(what); err != nil {
		return nil, err
	}
	e, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	return e, p.closeParen("#" + what)
}

// ifDirective parses #if(cond) ... [#elseif(cond) ...]* [#else ...] #end.
func (p *parser) ifDirective(b *builder) error {
	ifPos := p.pos
	cond, err := p.parenExpr("if")
	if err != nil {
		return err
	}
	n := &ifNode{}
	for {
		body, t, err := p.parseBlock()
		if err != nil {
			return err
		}
		n.conds = append(n.conds, cond)
		n.blocks = append(n.blocks, body)
		switch t.kind {
		case termEOF:
			return p.errorf(ifPos, "#if without #end")
		case termEnd:
			b.add(n)
			b.tokStart = p.pos
			return nil
		case termElseIf:
			cond = t.cond
			continue
		}
		body, t, err = p.parseBlock()
		if err != nil {
			return err
		}
		if t.kind != termEnd {
			return p.errorf(t.pos, "expected #end after #else, found %s", t.describe())
		}
		n.elseBlock = body
		b.add(n)
		b.tokStart = p.pos
		return nil
	}
}

// describe names a terminator for error messages.
func (t terminator) describe() string {
	if t.kind == termEOF {
		return "end of template"
	}
	return "#" + t.word
}

// body parses a block that must end with #end (#foreach, #macro, #define).
func (p *parser) body(what string, start int) ([]node, error) {
	nodes, t, err := p.parseBlock()
	if err != nil {
		return nil, err
	}
	if t.kind != termEnd {
		if t.kind == termEOF {
			return nil, p.errorf(start, "#%s without #end", what)
		}
		return nil, p.errorf(t.pos, "unexpected %s in #%s", t.describe(), what)
	}
	return nodes, nil
}

// foreachDirective parses #foreach($v in expr) ... #end.
func (p *parser) foreachDirective(b *builder, start int) error {
	if err := p.openParen("foreach"); err != nil {
		return err
	}
	p.skipWS()
	name, err := p.varName("#foreach")
	if err != nil {
		return err
	}
	p.skipWS()
	if !p.word("in") {
		return p.errorf(p.pos, "expected 'in' in #foreach")
	}
	iter, err := p.parseExpr()
	if err != nil {
		return err
	}
	if err := p.closeParen("#foreach"); err != nil {
		return err
	}
	body, err := p.body("foreach", start)
	if err != nil {
		return err
	}
	b.add(&foreachNode{varName: name, iter: iter, body: body, pos: p.base + start})
	b.tokStart = p.pos
	return nil
}

// varName parses a plain $name (or ${name}) and returns the name.
func (p *parser) varName(what string) (string, error) {
	r, quiet, end, ok, err := p.scanRef(p.pos)
	if err != nil {
		return "", err
	}
	if !ok || quiet || len(r.parts) > 0 {
		return "", p.errorf(p.pos, "%s needs a plain $name", what)
	}
	p.pos = end
	return r.name, nil
}

// defineDirective parses #define($name) ... #end.
func (p *parser) defineDirective(b *builder, start int) error {
	if err := p.openParen("define"); err != nil {
		return err
	}
	p.skipWS()
	name, err := p.varName("#define")
	if err != nil {
		return err
	}
	if err := p.closeParen("#define"); err != nil {
		return err
	}
	body, err := p.body("define", start)
	if err != nil {
		return err
	}
	b.add(&defineNode{name: name, body: body})
	b.tokStart = p.pos
	return nil
}

// macroDirective parses #macro(name $p1 $p2 ...) ... #end. The macro is
// known from parse time on, in the whole template, as in Velocity.
func (p *parser) macroDirective(b *builder, start int) error {
	if err := p.openParen("macro"); err != nil {
		return err
	}
	p.skipWS()
	name, _, end := p.directiveWord(p.pos)
	if name == "" || p.src[p.pos] == '{' {
		return p.errorf(p.pos, "#macro needs a name")
	}
	if isDirectiveName(name) {
		return p.errorf(p.pos, "#macro cannot redefine #%s", name)
	}
	p.pos = end
	def := &macroDef{name: name}
	for {
		p.skipWS()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			p.skipWS()
		}
		if p.pos >= len(p.src) || p.src[p.pos] != '$' {
			break
		}
		param, err := p.varName("#macro parameter")
		if err != nil {
			return err
		}
		def.params = append(def.params, param)
	}
	if err := p.closeParen("#macro"); err != nil {
		return err
	}
	p.macros[name] = def
	body, err := p.body("macro", start)
	if err != nil {
		return err
	}
	def.body = body
	b.tokStart = p.pos
	return nil
}

// breakDirective parses #break or #break($foreach).
func (p *parser) breakDirective(b *builder) error {
	save := p.pos
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == '(' {
		p.pos++
		p.skipWS()
		name, err := p.varName("#break")
		if err != nil {
			return err
		}
		if err := p.closeParen("#break"); err != nil {
			return err
		}
		b.add(&breakNode{foreachOnly: name == "foreach"})
		b.tokStart = p.pos
		return nil
	}
	p.pos = save
	b.add(&breakNode{})
	b.tokStart = p.pos
	return nil
}

// macroCall parses #name(args). Arguments are single values separated by
// whitespace or commas, as Velocity's directive arguments. Anything that
// does not parse as a call is plain text.
func (p *parser) macroCall(b *builder, name string, start int) error {
	afterName := p.pos
	p.skipWS()
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		p.pos = afterName
		if p.macros[name] != nil {
			b.add(&macroCallNode{name: name, src: p.src[start:afterName], pos: p.base + start})
		} else {
			b.buf = append(b.buf, p.src[start:afterName]...)
		}
		b.tokStart = p.pos
		return nil
	}
	p.pos++
	args, err := p.macroArgs()
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) || p.macros[name] != nil {
			return err
		}
		p.pos = afterName
		b.buf = append(b.buf, p.src[start:afterName]...)
		b.tokStart = p.pos
		return nil
	}
	srcEnd := p.pos
	p.gobbleNewline()
	b.add(&macroCallNode{name: name, args: args, src: p.src[start:srcEnd], pos: p.base + start})
	b.tokStart = p.pos
	return nil
}

// macroArgs parses a macro call's arguments up to and including ')'.
func (p *parser) macroArgs() ([]expr, error) {
	var args []expr
	for {
		p.skipWS()
		if p.pos < len(p.src) && p.src[p.pos] == ')' {
			p.pos++
			return args, nil
		}
		if len(args) > 0 && p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			p.skipWS()
		}
		e, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
}
