package vtl

// scanRef parses a reference starting at the '$' at start: $name, $!name,
// ${name}, $!{name}, followed by .property, .method(args) and [index] parts.
// ok is false (and err nil) when the text is not a reference, which Velocity
// then renders as plain text ("$5", "$ ", "${").
func (p *parser) scanRef(start int) (r *refExpr, quiet bool, end int, ok bool, err error) {
	src := p.src
	i := start + 1
	if i < len(src) && src[i] == '!' {
		quiet = true
		i++
	}
	formal := false
	if i < len(src) && src[i] == '{' {
		formal = true
		i++
	}
	if i >= len(src) || !isIdentStart(src[i]) {
		return nil, false, 0, false, nil
	}
	j := i
	for j < len(src) && isIdentChar(src[j]) {
		j++
	}
	r = &refExpr{name: src[i:j], pos: p.base + start}
	save := p.pos
	defer func() { p.pos = save }()
	if err := p.enter(); err != nil {
		return nil, false, 0, false, err
	}
	defer p.leave()
	i, err = p.refParts(r, j)
	if err != nil {
		return nil, false, 0, false, err
	}
	if formal {
		if i >= len(src) || src[i] != '}' {
			return nil, false, 0, false, nil
		}
		i++
	}
	r.src = src[start:i]
	return r, quiet, i, true, nil
}

// refParts parses the .name, .name(args) and [index] parts from i on and
// returns the offset after them.
func (p *parser) refParts(r *refExpr, i int) (int, error) {
	src := p.src
	for i < len(src) {
		switch {
		case src[i] == '.' && i+1 < len(src) && isAlpha(src[i+1]):
			j := i + 1
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			part := refPart{kind: partProp, name: src[i+1 : j]}
			if j < len(src) && src[j] == '(' {
				p.pos = j + 1
				args, err := p.callArgs()
				if err != nil {
					return 0, err
				}
				part.kind, part.args = partMethod, args
				j = p.pos
			}
			r.parts = append(r.parts, part)
			i = j
		case src[i] == '[':
			p.pos = i + 1
			idx, err := p.parseExpr()
			if err != nil {
				return 0, err
			}
			if err := p.expect(']', i, "index"); err != nil {
				return 0, err
			}
			r.parts = append(r.parts, refPart{kind: partIndex, index: idx})
			i = p.pos
		default:
			return i, nil
		}
	}
	return i, nil
}

// callArgs parses a method call's comma-separated arguments up to and
// including ')'.
func (p *parser) callArgs() ([]expr, error) {
	start := p.pos - 1
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
		return nil, nil
	}
	var args []expr
	for {
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
		p.skipWS()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		return args, p.expect(')', start, "method call")
	}
}
