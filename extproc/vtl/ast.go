package vtl

// node is one element of a parsed template body.
type node interface{}

// textNode is literal output.
type textNode struct{ text string }

// refNode renders a reference: $a, $!a, ${a}, with any backslashes that
// preceded it (Velocity's escaping rules depend on their number).
type refNode struct {
	ref       *refExpr
	quiet     bool
	backslash int
	src       string // the reference as written, without the backslashes
}

// setNode is #set($lhs = rhs).
type setNode struct {
	lhs *refExpr
	rhs expr
}

// ifNode is #if/#elseif/#else/#end: conds[i] guards blocks[i]; elseBlock runs
// when none holds.
type ifNode struct {
	conds     []expr
	blocks    [][]node
	elseBlock []node
}

// foreachNode is #foreach($v in iter) body #end.
type foreachNode struct {
	varName string
	iter    expr
	body    []node
	pos     int
}

// breakNode is #break or #break($foreach).
type breakNode struct{ foreachOnly bool }

// stopNode is #stop.
type stopNode struct{}

// defineNode is #define($name) body #end.
type defineNode struct {
	name string
	body []node
}

// macroCallNode is #name(args); src is the call as written, rendered as text
// when no macro of that name exists (as Velocity does for unknown directives).
type macroCallNode struct {
	name string
	args []expr
	src  string
	pos  int
}

// macroDef is a #macro definition.
type macroDef struct {
	name   string
	params []string
	body   []node
}

// expr is an expression inside a directive or a method argument.
type expr interface{}

// literal is a constant: string, int64, float64 or bool.
type literal struct{ v any }

// interpString is a double-quoted string with references or directives,
// rendered each time it is evaluated.
type interpString struct{ nodes []node }

// listLit is [a, b, c].
type listLit struct{ items []expr }

// rangeLit is [from..to].
type rangeLit struct{ from, to expr }

// mapLit is {k: v, ...}.
type mapLit struct{ keys, vals []expr }

// partKind tells a property, a method call and an index apart.
type partKind int

const (
	partProp partKind = iota
	partMethod
	partIndex
)

// refPart is one .name, .name(args) or [index] after a reference's root.
type refPart struct {
	kind  partKind
	name  string
	args  []expr
	index expr
}

// refExpr is $root followed by its parts; pos locates it for errors.
type refExpr struct {
	name  string
	parts []refPart
	pos   int
	src   string
}

// binary is an arithmetic, comparison or logical operation.
type binary struct {
	op   string
	l, r expr
	pos  int
}

// unary is ! (or not) and unary minus.
type unary struct {
	op  string
	x   expr
	pos int
}
