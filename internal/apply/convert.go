package apply

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxNodes bounds the YAML nodes one document may expand to. Aliases let a
// small file name the same subtree many times over ("billion laughs"); the
// converter follows them, so it counts what it visits.
const maxNodes = 100_000

// converter turns a YAML node tree into the JSON value protojson expects for
// a message, checking each key and value against the message's descriptor
// so that errors can name the line and field the user wrote.
type converter struct {
	doc    int
	limit  int
	budget int
	errs   []error
}

func newConverter(doc, errLimit int) *converter {
	return &converter{doc: doc, limit: errLimit, budget: maxNodes}
}

// fail records a problem at n, unless enough are already known.
func (c *converter) fail(n *yaml.Node, path, format string, args ...any) {
	if len(c.errs) >= c.limit {
		return
	}
	c.errs = append(c.errs, &Error{
		Document: c.doc, Line: n.Line, Column: n.Column, Path: path,
		Msg: fmt.Sprintf(format, args...),
	})
}

// full reports whether the converter should stop: enough errors are known,
// or the document has expanded past its node budget.
func (c *converter) full() bool {
	return len(c.errs) >= c.limit || c.budget <= 0
}

// visit follows aliases and charges n against the node budget. It returns
// nil once the budget is spent, after recording why.
func (c *converter) visit(n *yaml.Node, path string) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	c.budget--
	if c.budget == 0 {
		c.fail(n, path, "the document expands to more than %d values", maxNodes)
	}
	if c.budget <= 0 {
		return nil
	}
	return n
}

// message converts a mapping to the JSON object of the message md.
func (c *converter) message(n *yaml.Node, md protoreflect.MessageDescriptor, path string) any {
	if n = c.visit(n, path); n == nil {
		return nil
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		c.fail(n, path, "want a mapping of %s fields, got %s", md.Name(), describe(n))
		return nil
	}
	obj := make(map[string]any, len(n.Content)/2)
	seen := make(map[protoreflect.FieldNumber]string)
	oneofs := make(map[protoreflect.FullName]string)
	for i := 0; i+1 < len(n.Content) && !c.full(); i += 2 {
		key, val := resolveAlias(n.Content[i]), n.Content[i+1]
		fd := lookupField(md, key)
		if fd == nil {
			c.unknownField(key, path)
			continue
		}
		if prev, dup := seen[fd.Number()]; dup {
			c.fail(key, path, "field %q is set twice (also as %q)", key.Value, prev)
			continue
		}
		seen[fd.Number()] = key.Value
		if od := fd.ContainingOneof(); od != nil && !isNull(val) {
			if prev, dup := oneofs[od.FullName()]; dup {
				c.fail(key, path, "%q and %q are both set; only one may be", prev, key.Value)
				continue
			}
			oneofs[od.FullName()] = key.Value
		}
		// Null means unset, as in protojson; leaving it out also keeps a
		// null oneof member from counting as the member that is set.
		if v := c.field(val, fd, join(path, key.Value)); v != nil {
			obj[fd.JSONName()] = v
		}
	}
	return obj
}

// unknownField reports a key that names no field.
func (c *converter) unknownField(key *yaml.Node, path string) {
	switch {
	case key.Kind != yaml.ScalarNode:
		c.fail(key, path, "want a field name, got %s", describe(key))
	case key.ShortTag() == "!!merge":
		c.fail(key, path, "merge keys (<<) are not supported; repeat the fields or use an alias for the whole value")
	default:
		c.fail(key, path, "unknown field %q", key.Value)
	}
}

// lookupField finds the field a key names, by its JSON (camelCase) or proto
// (snake_case) name, as protojson accepts both.
func lookupField(md protoreflect.MessageDescriptor, key *yaml.Node) protoreflect.FieldDescriptor {
	if key.Kind != yaml.ScalarNode {
		return nil
	}
	fields := md.Fields()
	if fd := fields.ByJSONName(key.Value); fd != nil {
		return fd
	}
	return fields.ByTextName(key.Value)
}

// field converts the value of one field, which may be a map or a list.
func (c *converter) field(n *yaml.Node, fd protoreflect.FieldDescriptor, path string) any {
	switch {
	case fd.IsMap():
		return c.mapField(n, fd, path)
	case fd.IsList():
		return c.listField(n, fd, path)
	default:
		return c.single(n, fd, path)
	}
}

func (c *converter) mapField(n *yaml.Node, fd protoreflect.FieldDescriptor, path string) any {
	if n = c.visit(n, path); n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		c.fail(n, path, "want a mapping, got %s", describe(n))
		return nil
	}
	obj := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content) && !c.full(); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if key = c.visit(key, path); key == nil {
			return nil
		}
		if key.Kind != yaml.ScalarNode || isNull(key) {
			c.fail(key, path, "want a key, got %s", describe(key))
			continue
		}
		if _, dup := obj[key.Value]; dup {
			c.fail(key, path, "key %q is set twice", key.Value)
			continue
		}
		elemPath := fmt.Sprintf("%s[%s]", path, strconv.Quote(key.Value))
		obj[key.Value] = c.element(val, fd.MapValue(), elemPath)
	}
	return obj
}

func (c *converter) listField(n *yaml.Node, fd protoreflect.FieldDescriptor, path string) any {
	if n = c.visit(n, path); n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		c.fail(n, path, "want a list, got %s", describe(n))
		return nil
	}
	list := make([]any, 0, len(n.Content))
	for i, elem := range n.Content {
		if c.full() {
			break
		}
		list = append(list, c.element(elem, fd, fmt.Sprintf("%s[%d]", path, i)))
	}
	return list
}

// element converts a list element or map value, where null has no meaning.
func (c *converter) element(n *yaml.Node, fd protoreflect.FieldDescriptor, path string) any {
	if resolved := resolveAlias(n); isNull(resolved) {
		c.fail(resolved, path, "want %s, got null", want(fd))
		return nil
	}
	return c.single(n, fd, path)
}

// single converts one value of fd's kind, ignoring whether fd repeats.
func (c *converter) single(n *yaml.Node, fd protoreflect.FieldDescriptor, path string) any {
	if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
		if isWellKnown(fd.Message()) {
			return c.wellKnown(n, fd.Message(), path)
		}
		return c.message(n, fd.Message(), path)
	}
	if n = c.visit(n, path); n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		c.fail(n, path, "want %s, got %s", want(fd), describe(n))
		return nil
	}
	v, err := scalar(n, fd)
	if err != nil {
		c.fail(n, path, "%v", err)
		return nil
	}
	return v
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node holds, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		}
		if tag := n.ShortTag(); !strings.HasPrefix(tag, "!!") {
			return fmt.Sprintf("%s tagged %s", n.Value, tag)
		}
		return n.Value
	}
	return "an empty value"
}

// marshalJSON renders a converted value for protojson.
func marshalJSON(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}
