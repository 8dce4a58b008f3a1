package vtl

import (
	"errors"
	"strings"
)

// loopState is $foreach inside a #foreach body (Velocity 1.7's ForeachScope).
type loopState struct {
	index   int
	hasNext bool
	parent  *loopState
}

// property resolves $foreach.name.
func (l *loopState) property(name string) any {
	switch name {
	case "index":
		return int64(l.index)
	case "count":
		return int64(l.index + 1)
	case "hasNext":
		return l.hasNext
	case "first":
		return l.index == 0
	case "last":
		return !l.hasNext
	case "parent":
		if l.parent == nil {
			return nil
		}
		return l.parent
	case "topmost":
		t := l
		for t.parent != nil {
			t = t.parent
		}
		return t
	}
	return nil
}

// String names the scope, as Velocity's ForeachScope does not print usefully.
func (l *loopState) String() string { return "foreach" }

// items returns what #foreach iterates: a list's elements or a map's values
// (as Velocity 1.7 iterates Map.values()). Anything else, null included,
// iterates nothing.
func iterItems(v any) []any {
	switch x := v.(type) {
	case *list:
		return append([]any(nil), x.items...)
	case *Map:
		out := make([]any, 0, x.Len())
		for _, e := range x.entries {
			out = append(out, e.val)
		}
		return out
	}
	return nil
}

// loopNames are the references #foreach sets, restored when it ends.
func loopNames(varName string) []string {
	return []string{varName, "foreach", "velocityCount", "velocityHasNext"}
}

// foreach renders a #foreach loop. The loop variable, $foreach,
// $velocityCount (1-based) and $velocityHasNext are restored afterwards.
func (r *renderer) foreach(out *strings.Builder, n *foreachNode) error {
	v, err := r.eval(n.iter)
	if err != nil {
		return err
	}
	items := iterItems(v)
	if len(items) == 0 {
		return nil
	}
	state := &loopState{parent: r.loop}
	r.loop = state
	names := loopNames(n.varName)
	restore := r.bind(names, make([]any, len(names)))
	defer func() {
		restore()
		r.loop = state.parent
	}()
	for i, it := range items {
		if err := r.step(1); err != nil {
			return err
		}
		state.index, state.hasNext = i, i < len(items)-1
		vals := []any{normalize(it), state, int64(i + 1), state.hasNext}
		for j, name := range names {
			if vals[j] == nil {
				delete(r.vars, name)
			} else {
				r.vars[name] = vals[j]
			}
		}
		err := r.renderNodes(out, n.body)
		var sig *signal
		if errors.As(err, &sig) && !sig.stop {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}
