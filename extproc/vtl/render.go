package vtl

import (
	"errors"
	"fmt"
	"strings"
)

// Render renders the template. vars are the top-level references ($name);
// values are nil, bool, int64, float64, string, []any, *Map or Object (other
// Go integer and float types are accepted and widened). Render may be called
// from many goroutines at once; the values in vars are shared, so a template
// that changes them ($m.put, $l.add) changes the caller's values.
//
// A template that exceeds lim gives an error wrapping ErrLimit. A method that
// Java would throw from (an index out of range, a regular expression RE2
// cannot run) gives an error, as Velocity's MethodInvocationException fails
// the rendering.
func (t *Template) Render(vars map[string]any, lim Limits) (string, error) {
	r := &renderer{
		t:    t,
		lim:  lim.withDefaults(),
		vars: make(map[string]any, len(vars)+4),
	}
	for k, v := range vars {
		r.vars[k] = v
	}
	var out strings.Builder
	out.Grow(int(t.outputHint.Load()))
	err := r.renderNodes(&out, t.nodes)
	var sig *signal
	if errors.As(err, &sig) {
		err = nil
	}
	if err != nil {
		return "", err
	}
	t.outputHint.Store(int64(min(out.Len(), maxOutputHint)))
	return out.String(), nil
}

// signal unwinds the evaluation for #break and #stop.
type signal struct {
	stop        bool
	foreachOnly bool
}

func (s *signal) Error() string { return "vtl: #break or #stop outside its scope" }

// renderer holds the state of one Render call.
type renderer struct {
	t     *Template
	lim   Limits
	vars  map[string]any
	steps int
	depth int
	loop  *loopState
}

// step counts n evaluation steps against the limit.
func (r *renderer) step(n int) error {
	r.steps += n
	if r.steps > r.lim.MaxSteps {
		return fmt.Errorf("%w: more than %d steps", ErrLimit, r.lim.MaxSteps)
	}
	return nil
}

// write appends s to out within the output limit.
func (r *renderer) write(out *strings.Builder, s string) error {
	if out.Len()+len(s) > r.lim.MaxOutputBytes {
		return fmt.Errorf("%w: output larger than %d bytes", ErrLimit, r.lim.MaxOutputBytes)
	}
	out.WriteString(s)
	return nil
}

// checkLen rejects a string the template is building that would exceed the
// output limit, before it is built.
func (r *renderer) checkLen(n int) error {
	if n > r.lim.MaxOutputBytes || n < 0 {
		return fmt.Errorf("%w: string longer than %d bytes", ErrLimit, r.lim.MaxOutputBytes)
	}
	return nil
}

// errorf reports a rendering error at offset pos of the template.
func (r *renderer) errorf(pos int, format string, args ...any) error {
	line, col := -1, -1
	if pos >= 0 {
		line, col = lineCol(r.t.src, pos)
	}
	return fmt.Errorf("vtl: %s:%d:%d: %s", r.t.name, line, col, fmt.Sprintf(format, args...))
}

// renderNodes renders a block.
func (r *renderer) renderNodes(out *strings.Builder, nodes []node) error {
	for _, n := range nodes {
		if err := r.step(1); err != nil {
			return err
		}
		if err := r.renderNode(out, n); err != nil {
			return err
		}
	}
	return nil
}

// renderNode renders one node.
func (r *renderer) renderNode(out *strings.Builder, n node) error {
	switch n := n.(type) {
	case *textNode:
		return r.write(out, n.text)
	case *refNode:
		return r.renderRef(out, n)
	case *setNode:
		return r.set(n)
	case *ifNode:
		return r.renderIf(out, n)
	case *foreachNode:
		return r.foreach(out, n)
	case *breakNode:
		return &signal{foreachOnly: n.foreachOnly}
	case *stopNode:
		return &signal{stop: true}
	case *defineNode:
		r.vars[n.name] = &block{nodes: n.body}
		return nil
	case *macroCallNode:
		return r.callMacro(out, n)
	}
	return fmt.Errorf("vtl: unknown node %T", n)
}

// renderRef renders $ref, $!ref and their escaped forms. An undefined (null)
// reference renders as nothing, as on API Gateway (Velocity would print the
// reference as written unless it is quiet).
func (r *renderer) renderRef(out *strings.Builder, n *refNode) error {
	v, err := r.evalRef(n.ref)
	if err != nil {
		return err
	}
	if n.backslash > 0 {
		if err := r.write(out, strings.Repeat(`\`, n.backslash/2)); err != nil {
			return err
		}
		if n.backslash%2 == 1 {
			if v == nil {
				return r.write(out, `\`+n.src)
			}
			return r.write(out, n.src)
		}
	}
	if v == nil {
		return nil
	}
	s, err := r.toString(v)
	if err != nil {
		return err
	}
	return r.write(out, s)
}

// set runs #set. A null right-hand side leaves the target unchanged
// (Velocity 1.7's directive.set.null.allowed=false).
func (r *renderer) set(n *setNode) error {
	v, err := r.eval(n.rhs)
	if err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	lhs := n.lhs
	if len(lhs.parts) == 0 {
		r.vars[lhs.name] = v
		return nil
	}
	target, err := r.evalParts(lhs, lhs.parts[:len(lhs.parts)-1])
	if err != nil {
		return err
	}
	last := lhs.parts[len(lhs.parts)-1]
	switch last.kind {
	case partProp:
		return r.setProperty(target, last.name, v)
	case partIndex:
		idx, err := r.eval(last.index)
		if err != nil {
			return err
		}
		return r.setIndex(lhs, target, idx, v)
	}
	return r.errorf(lhs.pos, "cannot assign to a method call in %s", lhs.src)
}

// setProperty runs #set($obj.name = v): Map.put for maps.
func (r *renderer) setProperty(target any, name string, v any) error {
	if m, ok := target.(*Map); ok {
		m.Set(name, v)
	}
	return nil
}

// setIndex runs #set($obj[i] = v): List.set or Map.put.
func (r *renderer) setIndex(ref *refExpr, target, idx, v any) error {
	switch t := target.(type) {
	case *Map:
		k, err := r.toString(idx)
		if err != nil {
			return err
		}
		t.Set(k, v)
	case *list:
		i, err := r.listIndex(ref.pos, t, idx)
		if err != nil {
			return err
		}
		t.items[i] = v
	}
	return nil
}

// renderIf renders the first block whose condition holds, or the #else block.
func (r *renderer) renderIf(out *strings.Builder, n *ifNode) error {
	for i, c := range n.conds {
		v, err := r.eval(c)
		if err != nil {
			return err
		}
		if truthy(v) {
			return r.renderNodes(out, n.blocks[i])
		}
	}
	return r.renderNodes(out, n.elseBlock)
}

// enterDepth bounds nested macro calls and #define expansions.
func (r *renderer) enterDepth() error {
	r.depth++
	if r.depth > r.lim.MaxDepth {
		return fmt.Errorf("%w: macros or #define nested more than %d deep", ErrLimit, r.lim.MaxDepth)
	}
	return nil
}

// callMacro runs a macro. Arguments are evaluated once, at the call, and bound
// to the parameter names for the duration of the body; a missing argument is
// null. A call to an unknown macro renders as written, as Velocity does.
func (r *renderer) callMacro(out *strings.Builder, n *macroCallNode) error {
	def := r.t.macros[n.name]
	if def == nil {
		return r.write(out, n.src)
	}
	args := make([]any, len(def.params))
	for i := range def.params {
		if i < len(n.args) {
			v, err := r.eval(n.args[i])
			if err != nil {
				return err
			}
			args[i] = v
		}
	}
	if err := r.enterDepth(); err != nil {
		return err
	}
	defer func() { r.depth-- }()
	restore := r.bind(def.params, args)
	defer restore()
	err := r.renderNodes(out, def.body)
	var sig *signal
	if errors.As(err, &sig) && !sig.stop && !sig.foreachOnly {
		return nil
	}
	return err
}

// bind sets names to vals and returns a function that restores what the
// names held before.
func (r *renderer) bind(names []string, vals []any) func() {
	type saved struct {
		v  any
		ok bool
	}
	old := make([]saved, len(names))
	for i, name := range names {
		v, ok := r.vars[name]
		old[i] = saved{v, ok}
		r.vars[name] = vals[i]
	}
	return func() {
		for i := len(names) - 1; i >= 0; i-- {
			if old[i].ok {
				r.vars[names[i]] = old[i].v
			} else {
				delete(r.vars, names[i])
			}
		}
	}
}

// renderBlock renders a #define'd block into a string.
func (r *renderer) renderBlock(b *block) (string, error) {
	if err := r.enterDepth(); err != nil {
		return "", err
	}
	defer func() { r.depth-- }()
	var sb strings.Builder
	err := r.renderNodes(&sb, b.nodes)
	var sig *signal
	if errors.As(err, &sig) && !sig.stop && !sig.foreachOnly {
		err = nil
	}
	return sb.String(), err
}
