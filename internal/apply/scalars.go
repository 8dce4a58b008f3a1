package apply

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	yaml "go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// scalar converts a YAML scalar to the JSON form of a non-message field.
// YAML resolves an unquoted scalar to a type ("1" is an integer, "true" a
// boolean); that type must fit the field, so a version tag written as 1
// must be quoted rather than silently turned into text.
func scalar(n *yaml.Node, fd protoreflect.FieldDescriptor) (any, error) {
	tag := n.ShortTag()
	switch fd.Kind() {
	case protoreflect.StringKind:
		// A bare date is still the text the user wrote.
		if tag == "!!str" || tag == "!!timestamp" {
			return n.Value, nil
		}
	case protoreflect.BytesKind:
		// protojson expects base64, as does YAML's !!binary.
		if tag == "!!str" || tag == "!!binary" {
			return n.Value, nil
		}
	case protoreflect.BoolKind:
		if tag == "!!bool" {
			var b bool
			err := n.Decode(&b)
			return b, err
		}
	case protoreflect.EnumKind:
		if tag == "!!str" {
			return enumName(fd.Enum(), n.Value)
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		if tag == "!!float" || tag == "!!int" {
			return float(n)
		}
	default:
		if tag == "!!int" {
			return integer(n, fd.Kind())
		}
	}
	return nil, fmt.Errorf("want %s, got %s", want(fd), describe(n))
}

// integer range-checks an integer against the field's width, which
// protojson would otherwise report with a position in generated JSON.
func integer(n *yaml.Node, kind protoreflect.Kind) (any, error) {
	bits, unsigned := 64, false
	switch kind {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		bits = 32
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		bits, unsigned = 32, true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		unsigned = true
	}
	if unsigned {
		var u uint64
		if err := n.Decode(&u); err != nil || u>>bits != 0 && bits < 64 {
			return nil, fmt.Errorf("%s is not an unsigned %d-bit integer", n.Value, bits)
		}
		return json.Number(strconv.FormatUint(u, 10)), nil
	}
	var i int64
	if err := n.Decode(&i); err != nil || bits == 32 && int64(int32(i)) != i {
		return nil, fmt.Errorf("%s is not a %d-bit integer", n.Value, bits)
	}
	return json.Number(strconv.FormatInt(i, 10)), nil
}

// float renders a number as protojson does, with the special values as
// the strings protojson reads.
func float(n *yaml.Node) (any, error) {
	var f float64
	if err := n.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s is not a number", n.Value)
	}
	switch {
	case math.IsNaN(f):
		return "NaN", nil
	case math.IsInf(f, 1):
		return "Infinity", nil
	case math.IsInf(f, -1):
		return "-Infinity", nil
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
}

// enumName accepts an enum value by its full name or without the prefix
// that proto style puts on every value: "HTTP" for PROTOCOL_HTTP. Numbers
// are refused; they mean nothing to a reader of the file.
func enumName(ed protoreflect.EnumDescriptor, s string) (any, error) {
	values := ed.Values()
	if values.ByName(protoreflect.Name(s)) != nil {
		return s, nil
	}
	prefix := enumPrefix(ed)
	if v := values.ByName(protoreflect.Name(prefix + s)); v != nil {
		return string(v.Name()), nil
	}
	return nil, fmt.Errorf("unknown %s %q; want %s", ed.Name(), s, enumChoices(ed))
}

// enumPrefix is the UPPER_SNAKE_CASE enum name and an underscore, the
// prefix buf lint requires on every value: "PROTOCOL_" for Protocol.
func enumPrefix(ed protoreflect.EnumDescriptor) string {
	name := []rune(string(ed.Name()))
	var b strings.Builder
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) {
			prevLower := !unicode.IsUpper(name[i-1])
			nextLower := i+1 < len(name) && unicode.IsLower(name[i+1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	b.WriteByte('_')
	return b.String()
}

// enumChoices lists the short names of an enum's meaningful values.
func enumChoices(ed protoreflect.EnumDescriptor) string {
	prefix := enumPrefix(ed)
	var names []string
	values := ed.Values()
	for i := range values.Len() {
		if v := values.Get(i); v.Number() != 0 {
			names = append(names, strings.TrimPrefix(string(v.Name()), prefix))
		}
	}
	return "one of " + strings.Join(names, ", ")
}

// want names what a field holds, for "want X, got Y" messages.
func want(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return "a string"
	case protoreflect.BytesKind:
		return "base64 text"
	case protoreflect.BoolKind:
		return "true or false"
	case protoreflect.EnumKind:
		return enumChoices(fd.Enum())
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "a number"
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if fd.Message().FullName() == durationName {
			return `a duration such as "29s" or "500ms"`
		}
		return "a mapping"
	}
	return "an integer"
}

const durationName protoreflect.FullName = "google.protobuf.Duration"

// isWellKnown reports whether protojson gives md a special JSON form, such
// as a string for a Duration, instead of an object of its fields.
func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "google.protobuf"
}

// wellKnown converts the value of a well-known type. Durations also accept
// Go's notation ("500ms", "1m30s"), which reads better in a file than
// protojson's seconds ("0.5s"); anything else passes through in its JSON
// form and is checked by protojson here, where the line is still known.
func (c *converter) wellKnown(n *yaml.Node, md protoreflect.MessageDescriptor, path string) any {
	if n = c.visit(n, path); n == nil || isNull(n) {
		return nil
	}
	var v any
	if md.FullName() == durationName && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		v = durationJSON(n.Value)
	} else {
		v = c.generic(n, path)
	}
	js, err := marshalJSON(v)
	if err == nil {
		err = protojson.Unmarshal(js, dynamicpb.NewMessage(md))
	}
	if err != nil {
		c.fail(n, path, "want %s, got %s", wantMessage(md), describe(n))
		return nil
	}
	return v
}

func wantMessage(md protoreflect.MessageDescriptor) string {
	if md.FullName() == durationName {
		return `a duration such as "29s" or "500ms"`
	}
	return "a " + string(md.FullName()) + " in its JSON form"
}

// durationJSON rewrites a Go duration in protojson's notation, exactly, in
// whole seconds and nanoseconds. Text that is not a Go duration is
// returned unchanged for protojson to judge.
func durationJSON(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil {
		return s
	}
	sign := ""
	if d < 0 {
		if d == math.MinInt64 {
			return s
		}
		sign, d = "-", -d
	}
	secs, nanos := d/time.Second, d%time.Second
	if nanos == 0 {
		return fmt.Sprintf("%s%ds", sign, secs)
	}
	return fmt.Sprintf("%s%d.%09ds", sign, secs, nanos)
}

// generic converts any YAML value to JSON without a schema.
func (c *converter) generic(n *yaml.Node, path string) any {
	if n = c.visit(n, path); n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		obj := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content) && !c.full(); i += 2 {
			key := resolveAlias(n.Content[i])
			obj[key.Value] = c.generic(n.Content[i+1], join(path, key.Value))
		}
		return obj
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for i, e := range n.Content {
			list = append(list, c.generic(e, fmt.Sprintf("%s[%d]", path, i)))
		}
		return list
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		if v, err := integer(n, protoreflect.Int64Kind); err == nil {
			return v
		}
	case "!!float":
		if v, err := float(n); err == nil {
			return v
		}
	}
	return n.Value
}
