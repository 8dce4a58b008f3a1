package vtl

import (
	"fmt"
	"math"
	"strings"
)

// eval evaluates an expression.
func (r *renderer) eval(e expr) (any, error) {
	if err := r.step(1); err != nil {
		return nil, err
	}
	switch e := e.(type) {
	case *literal:
		return e.v, nil
	case *refExpr:
		return r.evalRef(e)
	case *binary:
		return r.evalBinary(e)
	case *unary:
		return r.evalUnary(e)
	case *interpString:
		var sb strings.Builder
		if err := r.renderNodes(&sb, e.nodes); err != nil {
			return nil, err
		}
		return sb.String(), nil
	case *listLit:
		l := &list{items: make([]any, 0, len(e.items))}
		for _, it := range e.items {
			v, err := r.eval(it)
			if err != nil {
				return nil, err
			}
			l.items = append(l.items, v)
		}
		return l, nil
	case *rangeLit:
		return r.evalRange(e)
	case *mapLit:
		return r.evalMap(e)
	}
	return nil, fmt.Errorf("vtl: unknown expression %T", e)
}

// evalRange builds [from..to], ascending or descending, inclusive. Bounds
// that are not numbers give null, as in Velocity 1.7.
func (r *renderer) evalRange(e *rangeLit) (any, error) {
	from, err := r.eval(e.from)
	if err != nil {
		return nil, err
	}
	to, err := r.eval(e.to)
	if err != nil {
		return nil, err
	}
	if !isNumber(from) || !isNumber(to) {
		return nil, nil
	}
	a, b := toInt(from), toInt(to)
	n := b - a
	if n < 0 {
		n = -n
	}
	if n >= int64(r.lim.MaxSteps) {
		return nil, fmt.Errorf("%w: range [%d..%d] larger than the step limit", ErrLimit, a, b)
	}
	if err := r.step(int(n) + 1); err != nil {
		return nil, err
	}
	items := make([]any, 0, n+1)
	for i := a; ; {
		items = append(items, i)
		if i == b {
			break
		}
		if a < b {
			i++
		} else {
			i--
		}
	}
	return &list{items: items}, nil
}

// toInt converts an engine number to int64, truncating a float as Java's
// Number.intValue would (saturating instead of wrapping).
func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		switch {
		case math.IsNaN(x):
			return 0
		case x >= math.MaxInt64:
			return math.MaxInt64
		case x <= math.MinInt64:
			return math.MinInt64
		}
		return int64(x)
	}
	return 0
}

// evalMap builds {k: v, ...}; keys are converted to strings.
func (r *renderer) evalMap(e *mapLit) (any, error) {
	m := NewMap()
	for i := range e.keys {
		k, err := r.eval(e.keys[i])
		if err != nil {
			return nil, err
		}
		v, err := r.eval(e.vals[i])
		if err != nil {
			return nil, err
		}
		ks, err := r.toString(k)
		if err != nil {
			return nil, err
		}
		m.Set(ks, v)
	}
	return m, nil
}

// evalUnary evaluates !x and -x.
func (r *renderer) evalUnary(e *unary) (any, error) {
	x, err := r.eval(e.x)
	if err != nil {
		return nil, err
	}
	if e.op == "!" {
		return !truthy(x), nil
	}
	switch n := x.(type) {
	case int64:
		if n == math.MinInt64 {
			return nil, r.errorf(e.pos, "integer overflow")
		}
		return -n, nil
	case float64:
		return -n, nil
	}
	return nil, nil
}

// evalBinary evaluates a binary operation with Velocity 1.7's rules.
func (r *renderer) evalBinary(e *binary) (any, error) {
	l, err := r.eval(e.l)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "&&":
		if !truthy(l) {
			return false, nil
		}
		rv, err := r.eval(e.r)
		return truthy(rv), err
	case "||":
		if truthy(l) {
			return true, nil
		}
		rv, err := r.eval(e.r)
		return truthy(rv), err
	}
	rv, err := r.eval(e.r)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "==", "!=":
		eq, err := r.equal(l, rv)
		return eq == (e.op == "=="), err
	case "<", "<=", ">", ">=":
		return compareOp(e.op, l, rv), nil
	case "+":
		_, ls := l.(string)
		_, rs := rv.(string)
		if ls || rs {
			return r.concat(l, rv)
		}
	}
	return r.arith(e, l, rv)
}

// equal is Velocity 1.7's ==: numbers compare by value, values of one class
// with equals(), anything else by comparing their toString(); null equals
// only null.
func (r *renderer) equal(l, rv any) (bool, error) {
	switch {
	case l == nil || rv == nil:
		return l == nil && rv == nil, nil
	case isNumber(l) && isNumber(rv):
		return compareNumbers(l, rv) == 0, nil
	case sameKind(l, rv):
		return javaEquals(l, rv), nil
	}
	ls, err := r.toString(l)
	if err != nil {
		return false, err
	}
	rs, err := r.toString(rv)
	return ls == rs, err
}

// compareOp is <, <=, > and >=: defined on numbers only; anything else is
// false (Velocity 1.7 logs an error and returns false).
func compareOp(op string, l, rv any) bool {
	if !isNumber(l) || !isNumber(rv) {
		return false
	}
	c := compareNumbers(l, rv)
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

// concat is + with a string operand: string concatenation. A null operand
// contributes nothing, consistent with API Gateway rendering null as "".
func (r *renderer) concat(l, rv any) (any, error) {
	var parts [2]string
	for i, v := range [2]any{l, rv} {
		if v == nil {
			continue
		}
		s, err := r.toString(v)
		if err != nil {
			return nil, err
		}
		parts[i] = s
	}
	if err := r.checkLen(len(parts[0]) + len(parts[1])); err != nil {
		return nil, err
	}
	return parts[0] + parts[1], nil
}

// arith is + - * / % on numbers: int64 when both operands are integers (Java
// integer division truncates), float64 otherwise. A null or non-numeric
// operand, or a zero divisor, gives null, as in Velocity 1.7.
func (r *renderer) arith(e *binary, l, rv any) (any, error) {
	if !isNumber(l) || !isNumber(rv) {
		return nil, nil
	}
	if (e.op == "/" || e.op == "%") && toFloat(rv) == 0 {
		return nil, nil
	}
	a, aInt := l.(int64)
	b, bInt := rv.(int64)
	if aInt && bInt {
		v, ok := intArith(e.op, a, b)
		if !ok {
			return nil, r.errorf(e.pos, "integer overflow in %d %s %d", a, e.op, b)
		}
		return v, nil
	}
	x, y := toFloat(l), toFloat(rv)
	switch e.op {
	case "+":
		return x + y, nil
	case "-":
		return x - y, nil
	case "*":
		return x * y, nil
	case "/":
		return x / y, nil
	}
	return math.Mod(x, y), nil
}

// intArith applies op to two int64s and reports false on overflow.
func intArith(op string, a, b int64) (int64, bool) {
	switch op {
	case "+":
		c := a + b
		return c, (c > a) == (b > 0)
	case "-":
		c := a - b
		return c, (c < a) == (b > 0)
	case "*":
		if a == 0 || b == 0 {
			return 0, true
		}
		c := a * b
		return c, c/b == a && (a != -1 || b != math.MinInt64) && (b != -1 || a != math.MinInt64)
	case "/":
		if a == math.MinInt64 && b == -1 {
			return 0, false
		}
		return a / b, true
	}
	return a % b, true
}
