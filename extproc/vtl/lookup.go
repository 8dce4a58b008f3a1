package vtl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// evalRef evaluates a reference. Any null along a chain makes the whole
// reference null.
func (r *renderer) evalRef(ref *refExpr) (any, error) {
	return r.evalParts(ref, ref.parts)
}

// root returns the value of a top-level name. A host []any is replaced by a
// list on first use, so that $l.add(x) is seen by later uses of $l.
func (r *renderer) root(name string) any {
	v := r.vars[name]
	if s, ok := v.([]any); ok {
		l := &list{items: s}
		r.vars[name] = l
		return l
	}
	return normalize(v)
}

// evalParts evaluates ref's root followed by parts.
func (r *renderer) evalParts(ref *refExpr, parts []refPart) (any, error) {
	v := r.root(ref.name)
	for _, p := range parts {
		if v == nil {
			return nil, nil
		}
		if b, ok := v.(*block); ok {
			s, err := r.renderBlock(b)
			if err != nil {
				return nil, err
			}
			v = s
		}
		var err error
		switch p.kind {
		case partProp:
			v, err = r.property(v, p.name)
		case partMethod:
			v, err = r.callMethod(ref, v, p)
		case partIndex:
			var idx any
			if idx, err = r.eval(p.index); err == nil {
				v, err = r.index(ref, v, idx)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

// property resolves $v.name as Velocity's introspection would: Map.get for
// maps, isEmpty() for "empty" on strings and lists, the entry's key and
// value, the loop's $foreach properties, Object.Property for host objects.
func (r *renderer) property(v any, name string) (any, error) {
	switch x := v.(type) {
	case *Map:
		val, _ := x.get(name)
		return val, nil
	case *list:
		if name == "empty" {
			return len(x.items) == 0, nil
		}
	case string:
		if name == "empty" {
			return x == "", nil
		}
	case entry:
		switch name {
		case "key":
			return x.key, nil
		case "value":
			return normalize(x.val), nil
		}
	case *loopState:
		return x.property(name), nil
	case Object:
		val, _ := x.Property(name)
		return normalize(val), nil
	}
	return nil, nil
}

// callMethod evaluates a method call's arguments and dispatches it.
func (r *renderer) callMethod(ref *refExpr, v any, p refPart) (any, error) {
	args := make([]any, len(p.args))
	for i, a := range p.args {
		val, err := r.eval(a)
		if err != nil {
			return nil, err
		}
		args[i] = val
	}
	res, err := r.method(v, p.name, args)
	if err != nil {
		var limit sentinel
		if errors.As(err, &limit) {
			return nil, err
		}
		return nil, r.errorf(ref.pos, "%s: %s(): %v", ref.src, p.name, err)
	}
	return res, nil
}

// index resolves $v[i]: List.get (a negative index counts from the end, as in
// Velocity 1.7), Map.get, or the host object's get method.
func (r *renderer) index(ref *refExpr, v, idx any) (any, error) {
	switch x := v.(type) {
	case *list:
		i, err := r.listIndex(ref.pos, x, idx)
		if err != nil {
			return nil, err
		}
		return normalize(x.items[i]), nil
	case *Map:
		if idx == nil {
			return nil, nil
		}
		k, err := r.toString(idx)
		if err != nil {
			return nil, err
		}
		val, _ := x.get(k)
		return val, nil
	case Object:
		res, _, err := x.Method("get", []any{export(idx)})
		if err != nil {
			return nil, r.errorf(ref.pos, "%s: %v", ref.src, err)
		}
		return normalize(res), nil
	}
	return nil, nil
}

// listIndex checks a list index as Java would, after Velocity's adjustment of
// negative indexes.
func (r *renderer) listIndex(pos int, l *list, idx any) (int, error) {
	n, ok := idx.(int64)
	if !ok {
		return 0, r.errorf(pos, "list index %v is not an integer", idx)
	}
	if n < 0 {
		n += int64(len(l.items))
	}
	if n < 0 || n >= int64(len(l.items)) {
		return 0, r.errorf(pos, "index %d out of bounds for length %d", n, len(l.items))
	}
	return int(n), nil
}

// toString converts a value to the string Java's toString() gives, bounded
// by the output limit and a nesting depth.
func (r *renderer) toString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case *block:
		return r.renderBlock(x)
	}
	switch x := normalize(v).(type) {
	case *list, *Map, entry:
	default: // a scalar needs no builder
		s, err := scalarString(r, x)
		if err != nil {
			return "", err
		}
		return s, r.checkLen(len(s))
	}
	var sb strings.Builder
	if err := r.writeValue(&sb, v, 0); err != nil {
		return "", err
	}
	return sb.String(), nil
}

// maxValueDepth bounds how deeply toString descends into nested collections.
const maxValueDepth = 100

// writeValue appends v's Java toString() to sb.
func (r *renderer) writeValue(sb *strings.Builder, v any, depth int) error {
	if depth > maxValueDepth {
		return fmt.Errorf("%w: collections nested more than %d deep", ErrLimit, maxValueDepth)
	}
	if sb.Len() > r.lim.MaxOutputBytes {
		return r.checkLen(sb.Len())
	}
	switch x := normalize(v).(type) {
	case *list:
		return r.writeList(sb, x, depth)
	case *Map:
		return r.writeMap(sb, x, depth)
	case entry:
		sb.WriteString(x.key)
		sb.WriteByte('=')
		return r.writeValue(sb, x.val, depth+1)
	default:
		s, err := scalarString(r, x)
		if err != nil {
			return err
		}
		sb.WriteString(s)
	}
	return r.checkLen(sb.Len())
}

// writeList writes [a, b] as Java's AbstractCollection.toString.
func (r *renderer) writeList(sb *strings.Builder, l *list, depth int) error {
	sb.WriteByte('[')
	for i, it := range l.items {
		if i > 0 {
			sb.WriteString(", ")
		}
		if il, ok := it.(*list); ok && il == l {
			sb.WriteString("(this Collection)")
			continue
		}
		if err := r.writeValue(sb, it, depth+1); err != nil {
			return err
		}
	}
	sb.WriteByte(']')
	return r.checkLen(sb.Len())
}

// writeMap writes {k=v, k2=v2} as Java's AbstractMap.toString.
func (r *renderer) writeMap(sb *strings.Builder, m *Map, depth int) error {
	sb.WriteByte('{')
	for i, e := range m.entries {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(e.key)
		sb.WriteByte('=')
		if mv, ok := e.val.(*Map); ok && mv == m {
			sb.WriteString("(this Map)")
			continue
		}
		if err := r.writeValue(sb, e.val, depth+1); err != nil {
			return err
		}
	}
	sb.WriteByte('}')
	return r.checkLen(sb.Len())
}

// scalarString formats a value that is not a collection.
func scalarString(r *renderer, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case string:
		return x, nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return javaDouble(x), nil
	case *block:
		return r.renderBlock(x)
	case fmt.Stringer:
		return x.String(), nil
	}
	return fmt.Sprint(v), nil
}
