package validate

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxUniqueItems bounds the arrays whose uniqueness the fast path checks
// pairwise; longer ones go to the general path.
const maxUniqueItems = 256

// maxExponentDigits bounds the digits of a number's exponent: 1e999 is
// beyond every binary and decimal floating-point format already, and the
// schema library converts numbers to big.Rat, where 1e100000 costs
// milliseconds and 1e-99999999999999999999 panics. Check refuses a body
// with a larger exponent before validating it.
const maxExponentDigits = 3

// valid reports whether the scanned body is certainly valid.
func (f *fastSchema) valid(t *tape) bool {
	return !t.duplicates && f.root.check(t, 0) == valid
}

// worse combines the verdicts of two keywords that must both hold.
func worse(a, b verdict) verdict {
	if a == invalid || b == invalid {
		return invalid
	}
	if a == unsure || b == unsure {
		return unsure
	}
	return valid
}

// check checks the value at index i as the library's validator does: type,
// enum and format, then $ref alone or else the keywords of the value's type
// and the combinators.
func (n *fnode) check(t *tape, i int) verdict {
	if n.always != nil {
		return *n.always
	}
	nd := &t.nodes[i]
	v := valid
	if n.types != 0 {
		if v = n.typeMatches(nd); v == invalid {
			return invalid
		}
	}
	if n.enum != nil {
		if v = worse(v, enumVerdict(n.enum, t, i)); v == invalid {
			return invalid
		}
	}
	if n.format != nil && n.format.Validate(t.value(i)) != nil {
		return invalid
	}
	if n.ref != nil {
		return worse(v, n.ref.check(t, i))
	}
	switch nd.kind {
	case tObject:
		v = worse(v, n.checkObject(t, i))
	case tArray:
		v = worse(v, n.checkArray(t, i))
	case tString:
		v = worse(v, n.checkString(nd.text))
	case tNumber:
		v = worse(v, n.checkNumber(nd.text))
	}
	if v == invalid {
		return invalid
	}
	return worse(v, n.checkCombinators(t, i))
}

// typeMatches checks the type keyword. A number is an integer when its
// value is whole, however it is written (1.0, 1e2).
func (n *fnode) typeMatches(nd *tnode) verdict {
	var bit uint8
	switch nd.kind {
	case tNull:
		bit = typeNull
	case tFalse, tTrue:
		bit = typeBoolean
	case tString:
		bit = typeString
	case tArray:
		bit = typeArray
	case tObject:
		bit = typeObject
	case tNumber:
		if n.types&typeNumber != 0 {
			return valid
		}
		if n.types&typeInteger == 0 {
			return invalid
		}
		isInt, ok := isIntegerText(nd.text)
		if !ok {
			return unsure
		}
		if isInt {
			return valid
		}
		return invalid
	}
	if n.types&bit != 0 {
		return valid
	}
	return invalid
}

// checkObject checks the object keywords.
func (n *fnode) checkObject(t *tape, i int) verdict {
	nd := &t.nodes[i]
	if n.minProps >= 0 && int(nd.n) < n.minProps || n.maxProps >= 0 && int(nd.n) > n.maxProps {
		return invalid
	}
	if len(n.required) > 0 || len(n.deps) > 0 {
		if v := n.checkPresence(t, i); v != valid {
			return v
		}
	}
	v := valid
	for j := i + 1; j < int(nd.end); j = int(t.nodes[j+1].end) {
		key := t.nodes[j].text
		evaluated := false
		if sub, ok := n.props[key]; ok {
			evaluated = true
			v = worse(v, sub.check(t, j+1))
		}
		for _, pp := range n.patternProps {
			if pp.re.MatchString(key) {
				evaluated = true
				v = worse(v, pp.schema.check(t, j+1))
			}
		}
		if !evaluated {
			if n.noAdditionalProps {
				return invalid
			}
			if n.additionalProps != nil {
				v = worse(v, n.additionalProps.check(t, j+1))
			}
		}
		if v == invalid {
			return invalid
		}
	}
	return v
}

// checkPresence checks required and dependencies on the object at index i.
func (n *fnode) checkPresence(t *tape, i int) verdict {
	keys := t.keySet(i)
	for _, name := range n.required {
		if !keys.has(name) {
			return invalid
		}
	}
	v := valid
	for _, d := range n.deps {
		if !keys.has(d.name) {
			continue
		}
		if d.schema != nil {
			v = worse(v, d.schema.check(t, i))
		}
		for _, name := range d.required {
			if !keys.has(name) {
				return invalid
			}
		}
		if v == invalid {
			return invalid
		}
	}
	return v
}

// keySet looks up an object's member names: by scanning the members of a
// small object, through a set built once for a large one.
type keySet struct {
	t   *tape
	at  int
	set map[string]struct{}
}

// keySet returns the member names of the object at index i.
func (t *tape) keySet(i int) keySet {
	ks := keySet{t: t, at: i}
	if t.nodes[i].n <= maxQuadraticKeys {
		return ks
	}
	end := int(t.nodes[i].end)
	ks.set = make(map[string]struct{}, t.nodes[i].n)
	for j := i + 1; j < end; j = int(t.nodes[j+1].end) {
		ks.set[t.nodes[j].text] = struct{}{}
	}
	return ks
}

// has reports whether the object has a member named name.
func (ks keySet) has(name string) bool {
	if ks.set != nil {
		_, ok := ks.set[name]
		return ok
	}
	end := int(ks.t.nodes[ks.at].end)
	for j := ks.at + 1; j < end; j = int(ks.t.nodes[j+1].end) {
		if ks.t.nodes[j].text == name {
			return true
		}
	}
	return false
}

// checkArray checks the array keywords, items and additionalItems as
// drafts before 2020-12 have them.
func (n *fnode) checkArray(t *tape, i int) verdict {
	nd := &t.nodes[i]
	count := int(nd.n)
	if n.minItems >= 0 && count < n.minItems || n.maxItems >= 0 && count > n.maxItems {
		return invalid
	}
	v := valid
	if n.unique && count > 1 {
		if v = t.uniqueVerdict(i); v == invalid {
			return invalid
		}
	}
	evaluated, k := 0, 0
	for j := i + 1; j < int(nd.end); j = int(t.nodes[j].end) {
		var sub *fnode
		switch {
		case n.items != nil:
			sub, evaluated = n.items, k+1
		case n.hasTuple && k < len(n.tupleItems):
			sub, evaluated = n.tupleItems[k], k+1
		case n.additionalItems != nil:
			sub = n.additionalItems
		}
		if sub != nil {
			if v = worse(v, sub.check(t, j)); v == invalid {
				return invalid
			}
		}
		k++
	}
	if n.noAdditionalItems && evaluated != count {
		return invalid
	}
	return v
}

// uniqueVerdict checks uniqueItems on the array at index i.
func (t *tape) uniqueVerdict(i int) verdict {
	nd := &t.nodes[i]
	if nd.n > maxUniqueItems {
		return unsure
	}
	var idx [maxUniqueItems]int32
	k := 0
	for j := i + 1; j < int(nd.end); j = int(t.nodes[j].end) {
		idx[k] = int32(j)
		k++
	}
	v := valid
	for a := 1; a < k; a++ {
		for b := range a {
			switch t.equal(int(idx[a]), int(idx[b])) {
			case valid:
				return invalid
			case unsure:
				v = unsure
			}
		}
	}
	return v
}

// equal compares two scalar values as JSON Schema does, numbers by value:
// valid when they are equal, invalid when not, unsure for two containers.
func (t *tape) equal(a, b int) verdict {
	x, y := &t.nodes[a], &t.nodes[b]
	if x.kind != y.kind {
		return invalid
	}
	switch x.kind {
	case tString:
		return verdictOf(x.text == y.text)
	case tNumber:
		return numbersEqual(x.text, y.text)
	case tArray, tObject:
		return unsure
	}
	return valid
}

// enumVerdict checks the enum keyword on the value at index i.
func enumVerdict(members []any, t *tape, i int) verdict {
	nd := &t.nodes[i]
	v := invalid
	for _, m := range members {
		var eq verdict
		switch x := m.(type) {
		case nil:
			eq = verdictOf(nd.kind == tNull)
		case bool:
			eq = verdictOf(x && nd.kind == tTrue || !x && nd.kind == tFalse)
		case string:
			eq = verdictOf(nd.kind == tString && nd.text == x)
		case json.Number:
			eq = invalid
			if nd.kind == tNumber {
				eq = numbersEqual(nd.text, x.String())
			}
		case []any:
			eq = invalid
			if nd.kind == tArray {
				eq = unsure
			}
		case map[string]any:
			eq = invalid
			if nd.kind == tObject {
				eq = unsure
			}
		default:
			eq = unsure
		}
		if eq == valid {
			return valid
		}
		if eq == unsure {
			v = unsure
		}
	}
	return v
}

// verdictOf turns a certain answer into a verdict.
func verdictOf(ok bool) verdict {
	if ok {
		return valid
	}
	return invalid
}

// checkString checks the string keywords; lengths count code points.
func (n *fnode) checkString(s string) verdict {
	if n.minLen >= 0 || n.maxLen >= 0 {
		length := utf8.RuneCountInString(s)
		if n.minLen >= 0 && length < n.minLen || n.maxLen >= 0 && length > n.maxLen {
			return invalid
		}
	}
	if n.pattern != nil && !n.pattern.MatchString(s) {
		return invalid
	}
	return valid
}

// checkNumber checks the numeric keywords, exactly, as the library does
// with big.Rat.
func (n *fnode) checkNumber(text string) verdict {
	for _, b := range n.bounds {
		c, ok := b.compare(text)
		if !ok {
			return unsure
		}
		if b.fail(c) {
			return invalid
		}
	}
	if n.multipleOf == nil {
		return valid
	}
	if n.multipleInt > 0 && isPlainInt(text) {
		if x, err := strconv.ParseInt(text, 10, 64); err == nil {
			return verdictOf(x%n.multipleInt == 0)
		}
	}
	x, ok := exactNumber(text)
	if !ok || n.multipleOf.Sign() == 0 {
		return unsure
	}
	return verdictOf(new(big.Rat).Quo(x, n.multipleOf).IsInt())
}

// checkCombinators checks not, allOf, anyOf and oneOf.
func (n *fnode) checkCombinators(t *tape, i int) verdict {
	v := valid
	if n.not != nil {
		switch n.not.check(t, i) {
		case valid:
			return invalid
		case unsure:
			v = unsure
		}
	}
	for _, sub := range n.allOf {
		if v = worse(v, sub.check(t, i)); v == invalid {
			return invalid
		}
	}
	if len(n.anyOf) > 0 {
		v = worse(v, anyOfVerdict(n.anyOf, t, i))
	}
	if len(n.oneOf) > 0 {
		v = worse(v, oneOfVerdict(n.oneOf, t, i))
	}
	return v
}

// anyOfVerdict: valid when one subschema is certainly valid.
func anyOfVerdict(subs []*fnode, t *tape, i int) verdict {
	v := invalid
	for _, sub := range subs {
		switch sub.check(t, i) {
		case valid:
			return valid
		case unsure:
			v = unsure
		}
	}
	return v
}

// oneOfVerdict: valid when exactly one subschema is valid and the others
// certainly are not.
func oneOfVerdict(subs []*fnode, t *tape, i int) verdict {
	matched, doubts := 0, 0
	for _, sub := range subs {
		switch sub.check(t, i) {
		case valid:
			matched++
		case unsure:
			doubts++
		}
		if matched > 1 {
			return invalid
		}
	}
	switch {
	case doubts > 0:
		return unsure
	case matched == 1:
		return valid
	}
	return invalid
}

// fbound is one of minimum, maximum, exclusiveMinimum, exclusiveMaximum.
type fbound struct {
	r *big.Rat
	// f is r as a float64; exact says whether it is r exactly.
	f     float64
	exact bool
	// fail tells, from the comparison of the instance to the bound,
	// whether the keyword fails.
	fail func(cmp int) bool
}

// newBound plans one numeric bound.
func newBound(r *big.Rat, fail func(int) bool) fbound {
	f, exact := r.Float64()
	return fbound{r: r, f: f, exact: exact, fail: fail}
}

// compare compares a number, as written, to the bound: exactly, in
// float64 when that decides it (rounding to float64 is monotonic, so a
// float that differs from an exact bound is on the same side as the
// number), else in big.Rat. ok is false for numbers the fast path leaves
// to the library.
func (b fbound) compare(text string) (cmp int, ok bool) {
	if !shortExponent(text) {
		return 0, false
	}
	if b.exact {
		x, err := strconv.ParseFloat(text, 64)
		if err == nil {
			switch {
			case x < b.f:
				return -1, true
			case x > b.f:
				return 1, true
			case isPlainInt(text) && len(strings.TrimPrefix(text, "-")) <= 15:
				return 0, true // below 2^53: x is the number exactly
			}
		}
	}
	x, ok := exactNumber(text)
	if !ok {
		return 0, false
	}
	return x.Cmp(b.r), true
}

// numbersEqual compares two numbers by value as the library's equals does.
func numbersEqual(a, b string) verdict {
	if !shortExponent(a) || !shortExponent(b) {
		return unsure
	}
	if a == b {
		return valid
	}
	x, errx := strconv.ParseFloat(a, 64)
	y, erry := strconv.ParseFloat(b, 64)
	if errx == nil && erry == nil && x != y {
		return invalid
	}
	rx, okx := exactNumber(a)
	ry, oky := exactNumber(b)
	if !okx || !oky {
		return unsure
	}
	return verdictOf(rx.Cmp(ry) == 0)
}

// exactNumber parses a number as the library does, into a big.Rat.
func exactNumber(text string) (*big.Rat, bool) {
	if !shortExponent(text) {
		return nil, false
	}
	return new(big.Rat).SetString(text)
}

// isIntegerText reports whether a number as written has a whole value,
// from its digits alone: the value is digits × 10^(exponent − fraction
// digits), whole when the trailing zeros of the digits make up for a
// negative power. ok is false for numbers the fast path leaves to the
// library.
func isIntegerText(text string) (isInt, ok bool) {
	if isPlainInt(text) {
		return true, true
	}
	if !shortExponent(text) {
		return false, false
	}
	mantissa, exp := text, 0
	if e := strings.IndexAny(text, "eE"); e >= 0 {
		mantissa = text[:e]
		n, err := strconv.Atoi(strings.TrimPrefix(text[e+1:], "+"))
		if err != nil {
			return false, false
		}
		exp = n
	}
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(mantissa, "-"), ".")
	digits := strings.TrimRight(intPart+frac, "0")
	if strings.Trim(digits, "0") == "" {
		return true, true // zero
	}
	trailingZeros := len(intPart) + len(frac) - len(digits)
	return exp-len(frac)+trailingZeros >= 0, true
}

// isPlainInt reports whether a number is written without a fraction or an
// exponent.
func isPlainInt(text string) bool {
	return !strings.ContainsAny(text, ".eE")
}

// shortExponent reports whether a number's exponent, if any, has at most
// maxExponentDigits digits.
func shortExponent(text string) bool {
	e := strings.IndexAny(text, "eE")
	if e < 0 {
		return true
	}
	exp := strings.TrimLeft(text[e+1:], "+-")
	return len(exp) <= maxExponentDigits
}
