package jsonpath

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"

	"github.com/archway-gateway/archway/extproc/vtl"
)

// Limits on one evaluation. A deep scan visits every node of the document
// once per node it is applied to, so nested scans (or scans inside filters)
// over a large body could otherwise take quadratic or worse time.
const (
	// MaxSteps is how many nodes one Eval may visit, filters included:
	// enough for a few deep scans over API Gateway's largest payload
	// (10 MB, so at most about 5 million JSON values).
	MaxSteps = 10_000_000
	// MaxResults is how many values one token of a path may select.
	MaxResults = 1_000_000
)

// sentinel is the type of the package's sentinel errors: constants, so that
// no package-level variable can be reassigned.
type sentinel string

// Error returns the sentinel's message.
func (e sentinel) Error() string { return string(e) }

const (
	// ErrNotFound means a definite path, or a definite prefix of a path,
	// names nothing in the document: Jayway's PathNotFoundException.
	ErrNotFound sentinel = "jsonpath: no value at path"
	// ErrLimit means the evaluation needed more than MaxSteps visits or a
	// token selected more than MaxResults values.
	ErrLimit sentinel = "jsonpath: evaluation limit exceeded"
)

// Eval evaluates the path over doc. A definite path returns the value it
// names, or ErrNotFound; any other path returns a []any of the matches in
// document order, empty when nothing matches. The returned values share
// structure with the document; treat them as read-only.
func (p *Path) Eval(doc any) (any, error) {
	ev := &evaluator{root: doc}
	return ev.run(p, doc)
}

// evaluator holds the state of one Eval, shared with the paths evaluated
// inside its filters so that the limits cover all of them.
type evaluator struct {
	root  any
	steps int
}

func (ev *evaluator) step() error {
	ev.steps++
	if ev.steps > MaxSteps {
		return fmt.Errorf("%w: more than %d steps", ErrLimit, MaxSteps)
	}
	return nil
}

func (ev *evaluator) emit(out []any, v any) ([]any, error) {
	if len(out) >= MaxResults {
		return nil, fmt.Errorf("%w: more than %d results", ErrLimit, MaxResults)
	}
	return append(out, v), nil
}

func (ev *evaluator) run(p *Path, start any) (any, error) {
	nodes := []any{start}
	upstreamDefinite := true
	for i := range p.segs {
		seg := &p.segs[i]
		leaf := i == len(p.segs)-1
		var next []any
		for _, n := range nodes {
			var err error
			if next, err = ev.apply(seg, leaf, n, next); err != nil {
				return nil, err
			}
		}
		// Jayway throws when a property is missing (or its parent is not
		// an object) and every token so far named a single value.
		if len(next) == 0 && len(nodes) == 1 && upstreamDefinite && !seg.scan &&
			seg.kind == kindNames && (len(seg.names) == 1 || !isMap(nodes[0])) {
			return nil, ErrNotFound
		}
		upstreamDefinite = upstreamDefinite && seg.definite(leaf)
		nodes = next
	}
	if !p.definite {
		if nodes == nil {
			nodes = []any{}
		}
		return nodes, nil
	}
	if len(nodes) == 0 {
		return nil, ErrNotFound
	}
	return nodes[0], nil
}

func isMap(v any) bool {
	_, ok := v.(*vtl.Map)
	return ok
}

// apply evaluates one segment on one node, appending what it selects.
func (ev *evaluator) apply(seg *segment, leaf bool, n any, out []any) ([]any, error) {
	if seg.scan {
		return ev.scan(seg, leaf, n, out)
	}
	if err := ev.step(); err != nil {
		return nil, err
	}
	switch seg.kind {
	case kindNames:
		return ev.names(seg, leaf, n, out)
	case kindIndexes:
		return ev.indexes(seg, n, out)
	case kindSlice:
		return ev.slice(seg, n, out)
	case kindWildcard:
		return ev.children(n, out)
	}
	return ev.filter(seg, n, out)
}

// scan applies seg to n and then to each of its descendants, parents
// before children, as Jayway's deep scan walks the document.
func (ev *evaluator) scan(seg *segment, leaf bool, n any, out []any) ([]any, error) {
	if err := ev.step(); err != nil {
		return nil, err
	}
	var err error
	if ev.scanMatches(seg, leaf, n) {
		flat := *seg
		flat.scan = false
		if out, err = ev.apply(&flat, leaf, n, out); err != nil {
			return nil, err
		}
	}
	switch n := n.(type) {
	case *vtl.Map:
		for _, v := range n.All() {
			if out, err = ev.scan(seg, leaf, v, out); err != nil {
				return nil, err
			}
		}
	case []any:
		for _, v := range n {
			if out, err = ev.scan(seg, leaf, v, out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// scanMatches says whether a scanned node is one the segment applies to:
// objects holding the named properties, arrays for indexes and slices,
// objects for filters, anything for a wildcard.
func (ev *evaluator) scanMatches(seg *segment, leaf bool, n any) bool {
	switch seg.kind {
	case kindNames:
		m, ok := n.(*vtl.Map)
		if !ok {
			return false
		}
		if len(seg.names) > 1 && !leaf {
			return true
		}
		for _, name := range seg.names {
			if _, has := m.Peek(name); !has {
				return false
			}
		}
		return true
	case kindIndexes, kindSlice:
		_, ok := n.([]any)
		return ok
	case kindFilter:
		return isMap(n)
	}
	return true
}

func (ev *evaluator) names(seg *segment, leaf bool, n any, out []any) ([]any, error) {
	m, ok := n.(*vtl.Map)
	if !ok {
		return out, nil
	}
	if len(seg.names) > 1 && leaf {
		merged := vtl.NewMap()
		for _, name := range seg.names {
			if v, has := m.Peek(name); has {
				merged.Set(name, v)
			}
		}
		return ev.emit(out, merged)
	}
	var err error
	for _, name := range seg.names {
		if v, has := m.Peek(name); has {
			if out, err = ev.emit(out, v); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (ev *evaluator) indexes(seg *segment, n any, out []any) ([]any, error) {
	list, ok := n.([]any)
	if !ok {
		return out, nil
	}
	var err error
	for _, i := range seg.indexes {
		if i < 0 {
			i += len(list)
		}
		if i >= 0 && i < len(list) {
			if out, err = ev.emit(out, list[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (ev *evaluator) slice(seg *segment, n any, out []any) ([]any, error) {
	list, ok := n.([]any)
	if !ok {
		return out, nil
	}
	start, end, step := seg.slice.bounds(len(list))
	var err error
	for i := start; (step > 0 && i < end) || (step < 0 && i > end); i += step {
		if err = ev.step(); err != nil {
			return nil, err
		}
		if out, err = ev.emit(out, list[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bounds resolves the slice against an array of length n the way Python
// (and Goessner's JSONPath) does: negative bounds count from the end and
// bounds are clamped to the array.
func (s sliceSpec) bounds(n int) (start, end, step int) {
	step = s.step
	lo, hi := 0, n
	if step < 0 {
		lo, hi = -1, n-1
	}
	clamp := func(v int) int {
		if v < 0 {
			v += n
		}
		return min(max(v, lo), hi)
	}
	if step > 0 {
		start, end = 0, n
	} else {
		start, end = n-1, -1
	}
	if s.hasStart {
		start = clamp(s.start)
	}
	if s.hasEnd {
		end = clamp(s.end)
	}
	return start, end, step
}

func (ev *evaluator) children(n any, out []any) ([]any, error) {
	var err error
	switch n := n.(type) {
	case *vtl.Map:
		for _, v := range n.All() {
			if out, err = ev.emit(out, v); err != nil {
				return nil, err
			}
		}
	case []any:
		for _, v := range n {
			if out, err = ev.emit(out, v); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// filter keeps the elements of an array that pass the filter; applied to
// an object, it keeps the object itself if it passes, as Jayway does.
func (ev *evaluator) filter(seg *segment, n any, out []any) ([]any, error) {
	candidates := []any{n}
	switch n := n.(type) {
	case []any:
		candidates = n
	case *vtl.Map:
	default:
		return out, nil
	}
	for _, c := range candidates {
		if err := ev.step(); err != nil {
			return nil, err
		}
		ok, err := seg.filter.test(ev, c)
		if err != nil {
			return nil, err
		}
		if ok {
			if out, err = ev.emit(out, c); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// toFloat reads a JSON number in any of the forms a document may hold.
func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil || errors.Is(err, strconv.ErrRange)
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	}
	return 0, false
}

// equal compares two values as Jayway's value nodes do: numbers by value
// (a string that reads as a number equals that number), strings, booleans
// and null by value, arrays and objects element by element.
func equal(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		return numberEquals(fa, b)
	}
	if fb, ok := toFloat(b); ok {
		return numberEquals(fb, a)
	}
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool, string:
		return a == b
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return false
		}
		for i := range a {
			if !equal(a[i], bl[i]) {
				return false
			}
		}
		return true
	case *vtl.Map:
		return mapEqual(a, b)
	}
	return false
}

func numberEquals(f float64, other any) bool {
	if s, ok := other.(string); ok {
		g, err := strconv.ParseFloat(s, 64)
		return err == nil && f == g
	}
	g, ok := toFloat(other)
	return ok && f == g
}

func mapEqual(a *vtl.Map, b any) bool {
	bm, ok := b.(*vtl.Map)
	if !ok || a.Len() != bm.Len() {
		return false
	}
	for k, av := range a.All() {
		bv, has := bm.Peek(k)
		if !has || !equal(av, bv) {
			return false
		}
	}
	return true
}

// compare orders two numbers or two strings; other pairs do not compare.
func compare(a, b any) (int, bool) {
	fa, aok := toFloat(a)
	fb, bok := toFloat(b)
	if aok && bok {
		if math.IsNaN(fa) || math.IsNaN(fb) {
			return 0, false
		}
		switch {
		case fa < fb:
			return -1, true
		case fa > fb:
			return 1, true
		}
		return 0, true
	}
	sa, aok := a.(string)
	sb, bok := b.(string)
	if aok && bok {
		switch {
		case sa < sb:
			return -1, true
		case sa > sb:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// matchRegex applies "=~": either side may be the pattern; the other must
// be a string, a number or a boolean, matched as its text.
func matchRegex(a, b any) bool {
	re, ok := b.(*regexp.Regexp)
	if !ok {
		if re, ok = a.(*regexp.Regexp); !ok {
			return false
		}
		a = b
	}
	switch v := a.(type) {
	case string:
		return re.MatchString(v)
	case json.Number:
		return re.MatchString(v.String())
	case bool:
		return re.MatchString(strconv.FormatBool(v))
	}
	return false
}
