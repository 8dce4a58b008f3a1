package vtl

import (
	"fmt"
	"slices"
)

// method calls name on v with Java's semantics for the common methods of
// String, List and Map, and Object.Method for host objects. A method that
// does not exist (or whose arguments do not fit) gives null, which API
// Gateway renders as nothing; a method Java would throw from gives an error.
// args are the call's own: method may change them.
func (r *renderer) method(v any, name string, args []any) (any, error) {
	if name == "toString" && len(args) == 0 {
		return r.toString(v)
	}
	switch x := v.(type) {
	case string:
		return r.stringMethod(x, name, args)
	case *list:
		return r.listMethod(x, name, args)
	case *Map:
		return r.mapMethod(x, name, args)
	case entry:
		switch name {
		case "getKey":
			return x.key, nil
		case "getValue":
			return normalize(x.val), nil
		}
	case *loopState:
		if len(args) == 0 {
			if len(name) > 3 && name[:3] == "get" {
				name = string(name[3]+'a'-'A') + name[4:]
			} else if len(name) > 2 && name[:2] == "is" {
				name = string(name[2]+'a'-'A') + name[3:]
			}
			return x.property(name), nil
		}
	case Object:
		for i, a := range args { // args are the call's own
			args[i] = export(a)
		}
		res, ok, err := x.Method(name, args)
		if err != nil || !ok {
			return nil, err
		}
		return normalize(res), nil
	}
	return nil, nil
}

// outOfBounds is the error Java's IndexOutOfBoundsException would carry.
func outOfBounds(i int64, n int) error {
	return fmt.Errorf("index %d out of bounds for length %d", i, n)
}

// listMethod implements java.util.List's common methods.
func (r *renderer) listMethod(l *list, name string, args []any) (any, error) {
	switch {
	case name == "size" && len(args) == 0:
		return int64(len(l.items)), nil
	case name == "isEmpty" && len(args) == 0:
		return len(l.items) == 0, nil
	case name == "get" && len(args) == 1:
		i, ok := args[0].(int64)
		if !ok {
			return nil, nil
		}
		if i < 0 || i >= int64(len(l.items)) {
			return nil, outOfBounds(i, len(l.items))
		}
		return normalize(l.items[i]), nil
	case name == "contains" && len(args) == 1:
		return l.indexOf(args[0]) >= 0, nil
	case name == "indexOf" && len(args) == 1:
		return int64(l.indexOf(args[0])), nil
	case name == "add" && len(args) == 1:
		l.items = append(l.items, args[0])
		return true, nil
	case name == "add" && len(args) == 2:
		i, ok := args[0].(int64)
		if !ok {
			return nil, nil
		}
		if i < 0 || i > int64(len(l.items)) {
			return nil, outOfBounds(i, len(l.items))
		}
		l.items = append(l.items, nil)
		copy(l.items[i+1:], l.items[i:])
		l.items[i] = args[1]
		return nil, nil
	case name == "set" && len(args) == 2:
		i, ok := args[0].(int64)
		if !ok {
			return nil, nil
		}
		if i < 0 || i >= int64(len(l.items)) {
			return nil, outOfBounds(i, len(l.items))
		}
		old := l.items[i]
		l.items[i] = args[1]
		return normalize(old), nil
	case name == "remove" && len(args) == 1:
		return l.remove(args[0])
	case name == "clear" && len(args) == 0:
		l.items = nil
		return nil, nil
	}
	return nil, nil
}

// indexOf returns the index of the first element equal (Java equals) to v.
func (l *list) indexOf(v any) int {
	for i, it := range l.items {
		if javaEquals(normalize(it), v) {
			return i
		}
	}
	return -1
}

// remove is List.remove(int index) for an integer and List.remove(Object)
// otherwise, as Java's overloads resolve for Velocity.
func (l *list) remove(arg any) (any, error) {
	if i, ok := arg.(int64); ok {
		if i < 0 || i >= int64(len(l.items)) {
			return nil, outOfBounds(i, len(l.items))
		}
		old := l.items[i]
		l.items = append(l.items[:i:i], l.items[i+1:]...)
		return normalize(old), nil
	}
	i := l.indexOf(arg)
	if i < 0 {
		return false, nil
	}
	l.items = append(l.items[:i:i], l.items[i+1:]...)
	return true, nil
}

// mapMethod implements java.util.Map's common methods. Keys are strings:
// a non-string key is converted with toString().
func (r *renderer) mapMethod(m *Map, name string, args []any) (any, error) {
	if len(args) == 0 {
		return r.mapNoArg(m, name), nil
	}
	key := ""
	if args[0] != nil {
		var err error
		if key, err = r.toString(args[0]); err != nil {
			return nil, err
		}
	}
	switch {
	case name == "get" && len(args) == 1:
		v, _ := m.get(key)
		return v, nil
	case name == "containsKey" && len(args) == 1:
		return m.find(key) >= 0, nil
	case name == "containsValue" && len(args) == 1:
		for _, e := range m.entries {
			if javaEquals(normalize(e.val), args[0]) {
				return true, nil
			}
		}
		return false, nil
	case name == "put" && len(args) == 2:
		old, _ := m.get(key)
		m.Set(key, args[1])
		return old, nil
	case name == "remove" && len(args) == 1:
		old, _ := m.get(key)
		m.Delete(key)
		return old, nil
	case name == "putAll" && len(args) == 1:
		if src, ok := args[0].(*Map); ok {
			for _, e := range slices.Clone(src.entries) {
				m.Set(e.key, e.val)
			}
		}
		return nil, nil
	}
	return nil, nil
}

// mapNoArg implements the Map methods that take no argument.
func (r *renderer) mapNoArg(m *Map, name string) any {
	switch name {
	case "size":
		return int64(m.Len())
	case "isEmpty":
		return m.Len() == 0
	case "keySet":
		l := &list{items: make([]any, 0, m.Len())}
		for _, e := range m.entries {
			l.items = append(l.items, e.key)
		}
		return l
	case "values":
		return &list{items: iterItems(m)}
	case "entrySet":
		l := &list{items: make([]any, 0, m.Len())}
		for _, e := range m.entries {
			l.items = append(l.items, e)
		}
		return l
	case "clear":
		m.clear()
	}
	return nil
}
