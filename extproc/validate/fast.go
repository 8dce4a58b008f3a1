package validate

import (
	"maps"
	"math/big"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The fast path. Most request bodies are valid, and telling that they are
// needs none of the error tree the schema library builds, nor its cost: a
// scope, an evaluation record and a location per value, and a big.Rat per
// number. So a compiled model is mirrored once, at Compile time, into a
// plan of fnodes holding the same keywords, and a valid body is confirmed by
// walking its tape (tape.go) against that plan without allocating.
//
// The plan gives a verdict only when it is sure. Whatever it is not sure
// of, and every body it finds invalid, goes to the general path: the
// library validates the decoded body and the messages are built from its
// errors, exactly as before. A model using anything the plan does not
// mirror (a later draft's keywords, a $ref loop) gets no plan at all.

// verdict is the fast path's answer for one value against one schema.
type verdict uint8

// The fast path's verdicts.
const (
	valid verdict = iota
	invalid
	unsure
)

// Type bits of a plan node's type keyword.
const (
	typeNull uint8 = 1 << iota
	typeBoolean
	typeNumber
	typeInteger
	typeString
	typeArray
	typeObject
)

// fastSchema is the plan of one compiled model.
type fastSchema struct {
	root *fnode
}

// fnode mirrors one compiled schema: the keywords the library's validator
// checks for the draft 4 to 7 dialects, in the form cheapest to check on a
// tape. Absent numeric limits are -1.
type fnode struct {
	// always is set for a boolean schema: valid or invalid whatever the
	// value.
	always *verdict
	types  uint8
	enum   []any
	format *jsonschema.Format
	// ref, when set, replaces every keyword but type, enum and format, as
	// $ref does before draft 2019-09.
	ref *fnode

	minProps, maxProps int
	required           []string
	deps               []fdep
	props              map[string]*fnode
	patternProps       []fpattern
	additionalProps    *fnode
	noAdditionalProps  bool

	minItems, maxItems int
	unique             bool
	items              *fnode
	tupleItems         []*fnode
	hasTuple           bool
	additionalItems    *fnode
	noAdditionalItems  bool

	minLen, maxLen int
	pattern        jsonschema.Regexp

	bounds     []fbound
	multipleOf *big.Rat
	// multipleInt is multipleOf when it is a positive int64, else 0.
	multipleInt int64

	not                 *fnode
	allOf, anyOf, oneOf []*fnode
}

// fdep is one entry of the dependencies keyword.
type fdep struct {
	name     string
	required []string
	schema   *fnode
}

// fpattern is one entry of patternProperties.
type fpattern struct {
	re     jsonschema.Regexp
	schema *fnode
}

// newFastSchema builds the plan of a compiled model, or returns nil when
// the model uses something the plan does not mirror.
func newFastSchema(s *jsonschema.Schema) *fastSchema {
	if s == nil {
		return nil
	}
	p := planner{nodes: map[*jsonschema.Schema]*fnode{}}
	root := p.node(s)
	if p.unsupported || p.sameValueCycle() {
		return nil
	}
	return &fastSchema{root: root}
}

// planner builds plan nodes, one per compiled schema, so that recursive
// models make recursive plans.
type planner struct {
	nodes       map[*jsonschema.Schema]*fnode
	unsupported bool
}

// node returns the plan of one compiled schema.
func (p *planner) node(s *jsonschema.Schema) *fnode {
	if n, ok := p.nodes[s]; ok {
		return n
	}
	n := &fnode{minProps: -1, maxProps: -1, minItems: -1, maxItems: -1, minLen: -1, maxLen: -1}
	p.nodes[s] = n
	if !mirrored(s) {
		p.unsupported = true
		return n
	}
	if s.Bool != nil {
		v := invalid
		if *s.Bool {
			v = valid
		}
		n.always = &v
		return n
	}
	if s.Types != nil {
		n.types = typeBits(s.Types.ToStrings())
	}
	if s.Enum != nil {
		n.enum = s.Enum.Values
	}
	n.format = s.Format
	if s.Ref != nil {
		n.ref = p.node(s.Ref)
		return n
	}
	p.object(n, s)
	p.array(n, s)
	n.minLen, n.maxLen, n.pattern = intOr(s.MinLength), intOr(s.MaxLength), s.Pattern
	p.number(n, s)
	if s.Not != nil {
		n.not = p.node(s.Not)
	}
	n.allOf, n.anyOf, n.oneOf = p.list(s.AllOf), p.list(s.AnyOf), p.list(s.OneOf)
	return n
}

// mirrored reports whether the plan covers every keyword set on s: those
// of drafts 4 to 7 but const, contains, propertyNames, if/then/else and the
// content keywords.
func mirrored(s *jsonschema.Schema) bool {
	return s.DraftVersion >= 4 && s.DraftVersion < 2019 &&
		s.RecursiveRef == nil && s.DynamicRef == nil && s.Const == nil &&
		s.If == nil && s.Then == nil && s.Else == nil &&
		s.PropertyNames == nil && s.DependentRequired == nil && s.DependentSchemas == nil &&
		s.UnevaluatedProperties == nil && s.Contains == nil && s.MinContains == nil && s.MaxContains == nil &&
		s.PrefixItems == nil && s.Items2020 == nil && s.UnevaluatedItems == nil &&
		s.ContentEncoding == nil && s.ContentMediaType == nil && s.ContentSchema == nil &&
		len(s.Extensions) == 0
}

// object plans the object keywords.
func (p *planner) object(n *fnode, s *jsonschema.Schema) {
	n.minProps, n.maxProps, n.required = intOr(s.MinProperties), intOr(s.MaxProperties), s.Required
	for _, name := range slices.Sorted(maps.Keys(s.Dependencies)) {
		switch dep := s.Dependencies[name].(type) {
		case []string:
			n.deps = append(n.deps, fdep{name: name, required: dep})
		case *jsonschema.Schema:
			n.deps = append(n.deps, fdep{name: name, schema: p.node(dep)})
		default:
			p.unsupported = true
		}
	}
	if len(s.Properties) > 0 {
		n.props = make(map[string]*fnode, len(s.Properties))
		for name, sub := range s.Properties {
			n.props[name] = p.node(sub)
		}
	}
	for re, sub := range s.PatternProperties {
		n.patternProps = append(n.patternProps, fpattern{re: re, schema: p.node(sub)})
	}
	switch a := s.AdditionalProperties.(type) {
	case nil:
	case bool:
		n.noAdditionalProps = !a
	case *jsonschema.Schema:
		n.additionalProps = p.node(a)
	default:
		p.unsupported = true
	}
}

// array plans the array keywords.
func (p *planner) array(n *fnode, s *jsonschema.Schema) {
	n.minItems, n.maxItems, n.unique = intOr(s.MinItems), intOr(s.MaxItems), s.UniqueItems
	switch items := s.Items.(type) {
	case nil:
	case *jsonschema.Schema:
		n.items = p.node(items)
	case []*jsonschema.Schema:
		n.tupleItems, n.hasTuple = p.list(items), true
	default:
		p.unsupported = true
	}
	switch a := s.AdditionalItems.(type) {
	case nil:
	case bool:
		n.noAdditionalItems = !a
	case *jsonschema.Schema:
		n.additionalItems = p.node(a)
	default:
		p.unsupported = true
	}
}

// number plans the numeric keywords.
func (p *planner) number(n *fnode, s *jsonschema.Schema) {
	for _, b := range []struct {
		r    *big.Rat
		fail func(int) bool
	}{
		{s.Minimum, func(c int) bool { return c < 0 }},
		{s.Maximum, func(c int) bool { return c > 0 }},
		{s.ExclusiveMinimum, func(c int) bool { return c <= 0 }},
		{s.ExclusiveMaximum, func(c int) bool { return c >= 0 }},
	} {
		if b.r != nil {
			n.bounds = append(n.bounds, newBound(b.r, b.fail))
		}
	}
	n.multipleOf = s.MultipleOf
	if m := s.MultipleOf; m != nil && m.IsInt() && m.Num().IsInt64() && m.Num().Int64() > 0 {
		n.multipleInt = m.Num().Int64()
	}
}

// list plans a list of subschemas.
func (p *planner) list(ss []*jsonschema.Schema) []*fnode {
	if len(ss) == 0 {
		return nil
	}
	out := make([]*fnode, len(ss))
	for i, s := range ss {
		out[i] = p.node(s)
	}
	return out
}

// sameValueCycle reports whether some schema applies itself to the value
// it is checking ({"$ref": "#"}, or allOf pointing back up): the library
// fails such a model with a reference cycle, which the plan leaves to it.
// The walk is bounded by the number of plan nodes.
func (p *planner) sameValueCycle() bool {
	const (
		unseen = iota
		open
		done
	)
	state := make(map[*fnode]int, len(p.nodes))
	var visit func(n *fnode) bool
	visit = func(n *fnode) bool {
		switch state[n] {
		case open:
			return true
		case done:
			return false
		}
		state[n] = open
		for _, next := range n.sameValueEdges() {
			if visit(next) {
				return true
			}
		}
		state[n] = done
		return false
	}
	for _, n := range p.nodes {
		if visit(n) {
			return true
		}
	}
	return false
}

// sameValueEdges lists the subschemas a node applies to the value itself
// rather than to one of its members or elements.
func (n *fnode) sameValueEdges() []*fnode {
	var out []*fnode
	if n.ref != nil {
		out = append(out, n.ref)
	}
	if n.not != nil {
		out = append(out, n.not)
	}
	out = append(out, n.allOf...)
	out = append(out, n.anyOf...)
	out = append(out, n.oneOf...)
	for _, d := range n.deps {
		if d.schema != nil {
			out = append(out, d.schema)
		}
	}
	return out
}

// typeBits turns a type keyword's names into type bits.
func typeBits(names []string) uint8 {
	var bits uint8
	for _, name := range names {
		switch name {
		case "null":
			bits |= typeNull
		case "boolean":
			bits |= typeBoolean
		case "number":
			bits |= typeNumber
		case "integer":
			bits |= typeInteger
		case "string":
			bits |= typeString
		case "array":
			bits |= typeArray
		case "object":
			bits |= typeObject
		}
	}
	return bits
}

// intOr returns *p, or -1 when p is nil.
func intOr(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}
