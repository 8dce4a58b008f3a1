package vtl

import "fmt"

// sentinel is the type of the package's sentinel errors. A string constant
// cannot be reassigned, so the sentinel needs no package-level variable.
type sentinel string

// Error returns the sentinel's message.
func (e sentinel) Error() string { return string(e) }

// ErrLimit is wrapped by every error that reports an exceeded evaluation
// limit (steps, output size or depth), so that a caller can tell a template
// that was stopped on purpose (errors.Is(err, ErrLimit)) from one that failed.
const ErrLimit sentinel = "vtl: evaluation limit exceeded"

// ParseError reports a template that is not valid VTL. Line and Column are
// 1-based and point at the construct that could not be parsed, so that an
// operator can find it in the template they uploaded.
type ParseError struct {
	Name   string
	Line   int
	Column int
	Msg    string
}

// Error formats the error as name:line:column: message.
func (e *ParseError) Error() string {
	return fmt.Sprintf("vtl: %s:%d:%d: %s", e.Name, e.Line, e.Column, e.Msg)
}

// lineCol converts a byte offset in src to a 1-based line and column.
func lineCol(src string, off int) (int, int) {
	if off > len(src) {
		off = len(src)
	}
	line, col := 1, 1
	for i := 0; i < off; i++ {
		if src[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Limits bounds one rendering, so that a template (which API Gateway users
// write and Archway runs inside the request path) cannot hang the service or
// exhaust its memory. A zero field takes its default.
type Limits struct {
	// MaxSteps bounds the evaluation steps: one per node rendered, expression
	// evaluated and loop iteration, and one per element a range creates.
	// Default 1,000,000.
	MaxSteps int
	// MaxOutputBytes bounds the rendered output and every string the template
	// builds. Default 10 MiB, API Gateway's payload limit.
	MaxOutputBytes int
	// MaxDepth bounds nested macro calls and #define expansions. Default 20,
	// Velocity's velocimacro.max.depth.
	MaxDepth int
}

// The defaults of Limits' fields.
const (
	defaultMaxSteps       = 1_000_000
	defaultMaxOutputBytes = 10 << 20
	defaultMaxDepth       = 20
)

// withDefaults returns l with every zero or negative field set to its default.
func (l Limits) withDefaults() Limits {
	if l.MaxSteps <= 0 {
		l.MaxSteps = defaultMaxSteps
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = defaultMaxOutputBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = defaultMaxDepth
	}
	return l
}
