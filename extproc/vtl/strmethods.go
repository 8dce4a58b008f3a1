package vtl

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// jstring is a string as Java sees it: UTF-16 code units, which is what
// length(), indexOf() and substring() count.
type jstring []uint16

func toJ(s string) jstring { return jstring(utf16.Encode([]rune(s))) }

func (j jstring) String() string { return string(utf16.Decode(j)) }

// indexFrom is String.indexOf(sub, from).
func (j jstring) indexFrom(sub jstring, from int) int {
	if from < 0 {
		from = 0
	}
	for i := from; i+len(sub) <= len(j); i++ {
		if equalUnits(j[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// lastIndexFrom is String.lastIndexOf(sub, from).
func (j jstring) lastIndexFrom(sub jstring, from int) int {
	if from > len(j)-len(sub) {
		from = len(j) - len(sub)
	}
	for i := from; i >= 0; i-- {
		if equalUnits(j[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func equalUnits(a, b jstring) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// strArgs checks that args are strings and returns them.
func strArgs(args []any, n int) ([]string, bool) {
	if len(args) != n {
		return nil, false
	}
	out := make([]string, n)
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// stringMethod implements java.lang.String's common methods.
func (r *renderer) stringMethod(s, name string, args []any) (any, error) {
	switch name {
	case "length", "isEmpty", "trim", "toLowerCase", "toUpperCase":
		if len(args) == 0 {
			return stringNoArg(s, name), nil
		}
	case "substring", "charAt":
		return substring(s, name, args)
	case "indexOf", "lastIndexOf":
		return indexOf(s, name, args)
	case "replace":
		if a, ok := strArgs(args, 2); ok {
			return r.replace(s, a[0], a[1])
		}
	case "replaceAll", "replaceFirst":
		if a, ok := strArgs(args, 2); ok {
			return r.regexReplace(s, a[0], a[1], name == "replaceAll")
		}
	case "matches":
		if a, ok := strArgs(args, 1); ok {
			return regexMatches(s, a[0])
		}
	case "split":
		return r.split(s, args)
	}
	return stringCompare(s, name, args), nil
}

// stringNoArg implements the String methods without arguments.
func stringNoArg(s, name string) any {
	switch name {
	case "length":
		return int64(len(toJ(s)))
	case "isEmpty":
		return s == ""
	case "trim":
		return strings.TrimFunc(s, func(c rune) bool { return c <= ' ' })
	case "toLowerCase":
		return strings.ToLower(s)
	}
	return strings.ToUpper(s)
}

// stringCompare implements the String methods that compare or join strings.
func stringCompare(s, name string, args []any) any {
	if name == "equals" && len(args) == 1 {
		o, ok := args[0].(string)
		return ok && o == s
	}
	if name == "equalsIgnoreCase" && len(args) == 1 {
		o, ok := args[0].(string)
		return ok && strings.EqualFold(o, s)
	}
	if name == "startsWith" && len(args) == 2 {
		p, ok := args[0].(string)
		off, okOff := args[1].(int64)
		j := toJ(s)
		if !ok || !okOff || off < 0 || off > int64(len(j)) {
			return false
		}
		return strings.HasPrefix(j[off:].String(), p)
	}
	a, ok := strArgs(args, 1)
	if !ok {
		return nil
	}
	switch name {
	case "startsWith":
		return strings.HasPrefix(s, a[0])
	case "endsWith":
		return strings.HasSuffix(s, a[0])
	case "contains":
		return strings.Contains(s, a[0])
	case "concat":
		return s + a[0]
	}
	return nil
}

// intArgs checks that args are integers and returns them.
func intArgs(args []any) ([]int, bool) {
	out := make([]int, len(args))
	for i, a := range args {
		n, ok := a.(int64)
		if !ok || n != int64(int(n)) {
			return nil, false
		}
		out[i] = int(n)
	}
	return out, true
}

// substring implements substring(begin[, end]) and charAt(index), which
// throw StringIndexOutOfBoundsException out of range.
func substring(s, name string, args []any) (any, error) {
	n, ok := intArgs(args)
	if !ok || len(n) == 0 || len(n) > 2 || (name == "charAt" && len(n) != 1) {
		return nil, nil
	}
	j := toJ(s)
	if name == "charAt" {
		if n[0] < 0 || n[0] >= len(j) {
			return nil, fmt.Errorf("index %d out of bounds for length %d", n[0], len(j))
		}
		return j[n[0] : n[0]+1].String(), nil
	}
	begin, end := n[0], len(j)
	if len(n) == 2 {
		end = n[1]
	}
	if begin < 0 || end > len(j) || begin > end {
		return nil, fmt.Errorf("begin %d, end %d, length %d", begin, end, len(j))
	}
	return j[begin:end].String(), nil
}

// indexOf implements indexOf and lastIndexOf with an optional start index.
func indexOf(s, name string, args []any) (any, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, nil
	}
	sub, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	j, sj := toJ(s), toJ(sub)
	from := 0
	if name == "lastIndexOf" {
		from = len(j)
	}
	if len(args) == 2 {
		f, ok := args[1].(int64)
		if !ok {
			return nil, nil
		}
		from = int(max(min(f, int64(len(j))+1), -1))
	}
	if name == "lastIndexOf" {
		return int64(j.lastIndexFrom(sj, from)), nil
	}
	return int64(j.indexFrom(sj, from)), nil
}

// replace is String.replace(CharSequence, CharSequence): every literal
// occurrence; an empty target matches between every character.
func (r *renderer) replace(s, old, repl string) (any, error) {
	n := strings.Count(s, old)
	if err := r.checkLen(len(s) + n*(len(repl)-len(old))); err != nil {
		return nil, err
	}
	if n > 0 && int64(n)*int64(len(repl)) > int64(r.lim.MaxOutputBytes) {
		return nil, r.checkLen(-1)
	}
	return strings.ReplaceAll(s, old, repl), nil
}
