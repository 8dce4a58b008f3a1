package vtl

import (
	"fmt"
	"regexp"
	"strings"
)

// compileJava compiles a java.util.regex pattern with Go's RE2. The common
// syntax is the same; constructs RE2 cannot run in linear time
// (lookaround, backreferences, atomic groups, possessive quantifiers) are
// rejected with an error that names them, rather than silently changing what
// the pattern matches.
func compileJava(pattern string) (*regexp.Regexp, error) {
	if what := unsupportedJava(pattern); what != "" {
		return nil, fmt.Errorf("java.util.regex pattern %q uses %s, which RE2 does not support", pattern, what)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("java.util.regex pattern %q is not supported by RE2: %w", pattern, err)
	}
	return re, nil
}

// unsupportedJava names the first Java-only construct in pattern, or "".
func unsupportedJava(p string) string {
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			if n := p[i+1]; !inClass && n >= '1' && n <= '9' {
				return "a backreference"
			} else if n == 'k' && i+2 < len(p) && p[i+2] == '<' {
				return "a named backreference"
			}
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(p) && p[i+1] == ']' {
				i++
			}
		case c == '(' && strings.HasPrefix(p[i:], "(?="), c == '(' && strings.HasPrefix(p[i:], "(?!"):
			return "a lookahead"
		case c == '(' && (strings.HasPrefix(p[i:], "(?<=") || strings.HasPrefix(p[i:], "(?<!")):
			return "a lookbehind"
		case c == '(' && strings.HasPrefix(p[i:], "(?>"):
			return "an atomic group"
		case (c == '*' || c == '+' || c == '?' || c == '}') && i+1 < len(p) && p[i+1] == '+':
			return "a possessive quantifier"
		}
	}
	return ""
}

// javaReplacement converts a Matcher.replaceAll replacement ($1, ${name},
// \x for a literal x) to a regexp.Expand template, checking the group
// references as Java does.
func javaReplacement(re *regexp.Regexp, repl string) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch c {
		case '\\':
			i++
			if i >= len(repl) {
				return "", fmt.Errorf("character to be escaped is missing")
			}
			if repl[i] == '$' {
				sb.WriteString("$$")
			} else {
				sb.WriteByte(repl[i])
			}
		case '$':
			end, group, err := javaGroupRef(re, repl, i+1)
			if err != nil {
				return "", err
			}
			sb.WriteString("${" + group + "}")
			i = end - 1
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String(), nil
}

// javaGroupRef parses the group reference after a '$' at i: ${name}, or a
// number that Java extends digit by digit while the group exists.
func javaGroupRef(re *regexp.Regexp, repl string, i int) (int, string, error) {
	if i >= len(repl) {
		return 0, "", fmt.Errorf("illegal group reference: group index is missing")
	}
	if repl[i] == '{' {
		end := strings.IndexByte(repl[i:], '}')
		if end < 0 {
			return 0, "", fmt.Errorf("named capturing group is missing trailing '}'")
		}
		name := repl[i+1 : i+end]
		if re.SubexpIndex(name) < 0 {
			return 0, "", fmt.Errorf("no group with name {%s}", name)
		}
		return i + end + 1, name, nil
	}
	if !isDigit(repl[i]) {
		return 0, "", fmt.Errorf("illegal group reference")
	}
	n := int(repl[i] - '0')
	if n > re.NumSubexp() {
		return 0, "", fmt.Errorf("no group %d", n)
	}
	j := i + 1
	for j < len(repl) && isDigit(repl[j]) {
		next := n*10 + int(repl[j]-'0')
		if next > re.NumSubexp() {
			break
		}
		n, j = next, j+1
	}
	return j, fmt.Sprint(n), nil
}

// regexReplace implements replaceAll and replaceFirst.
func (r *renderer) regexReplace(s, pattern, repl string, all bool) (any, error) {
	re, err := compileJava(pattern)
	if err != nil {
		return nil, err
	}
	tmpl, err := javaReplacement(re, repl)
	if err != nil {
		return nil, err
	}
	limit := -1
	if !all {
		limit = 1
	}
	var out []byte
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, limit) {
		out = append(out, s[last:m[0]]...)
		out = re.ExpandString(out, tmpl, s, m)
		last = m[1]
		if err := r.checkLen(len(out)); err != nil {
			return nil, err
		}
	}
	out = append(out, s[last:]...)
	return string(out), r.checkLen(len(out))
}

// regexMatches is String.matches: the whole string must match.
func regexMatches(s, pattern string) (any, error) {
	re, err := compileJava(pattern)
	if err != nil {
		return nil, err
	}
	whole, err := regexp.Compile(`\A(?:` + re.String() + `)\z`)
	if err != nil {
		return nil, err
	}
	return whole.MatchString(s), nil
}

// split is String.split(regex[, limit]) with Java 8's rules: no leading
// empty string for a zero-width match at the start, and with a zero limit
// no trailing empty strings.
func (r *renderer) split(s string, args []any) (any, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, nil
	}
	pattern, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	limit := int64(0)
	if len(args) == 2 {
		if limit, ok = args[1].(int64); !ok {
			return nil, nil
		}
	}
	re, err := compileJava(pattern)
	if err != nil {
		return nil, err
	}
	var parts []any
	index := 0
	for _, m := range re.FindAllStringIndex(s, -1) {
		if limit > 0 && int64(len(parts)) >= limit-1 {
			break
		}
		if m[1] == 0 {
			continue
		}
		parts = append(parts, s[index:m[0]])
		index = m[1]
	}
	if index == 0 && len(parts) == 0 {
		return &list{items: []any{s}}, nil
	}
	parts = append(parts, s[index:])
	if limit == 0 {
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
	}
	if err := r.step(len(parts)); err != nil {
		return nil, err
	}
	return &list{items: parts}, nil
}
