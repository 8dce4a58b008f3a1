package model

import (
	"errors"
	"fmt"
	"strings"
)

// StageVariablePrefix starts a stage variable reference in an integration
// URI, ${stageVariables.name}, as API Gateway writes them.
const StageVariablePrefix = "${stageVariables."

// SubstituteStageVariables replaces every ${stageVariables.name} in s with
// the stage's value. A reference to an undefined variable is an error
// rather than an empty string: it would silently send requests somewhere
// else; so is a malformed one (no closing brace, a name that is not
// letters, digits and underscores).
func SubstituteStageVariables(s string, vars map[string]string) (string, error) {
	var b strings.Builder
	for range len(s) + 1 { // each pass consumes a reference
		i := strings.Index(s, StageVariablePrefix)
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		name, after, ok := strings.Cut(s[i+len(StageVariablePrefix):], "}")
		if !ok || !IsVariableName(name) {
			return "", errors.New("integration URI has a malformed ${stageVariables.name} reference")
		}
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("integration URI uses stage variable %q, which the stage does not define", name)
		}
		b.WriteString(v)
		s = after
	}
	b.WriteString(s)
	return b.String(), nil
}

// IsVariableName reports whether s can name a stage variable or a path
// parameter in a URI: one or more ASCII letters, digits and underscores.
func IsVariableName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isVariableChar(s[i]) {
			return false
		}
	}
	return true
}

// isVariableChar reports whether c is an ASCII letter, digit or underscore.
func isVariableChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}
