package vtl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// confCase is one conformance case from testdata/conformance/*.yaml.
type confCase struct {
	Name     string    `yaml:"name"`
	Template string    `yaml:"template"`
	Vars     yaml.Node `yaml:"vars"`
	Want     *string   `yaml:"want"`
	// WantError is a substring of the expected error. "ErrLimit" asks for an
	// error wrapping ErrLimit; a "parse:" prefix asks for a *ParseError.
	WantError string `yaml:"wantError"`
	Limits    Limits `yaml:"limits"`
	Note      string `yaml:"note"`
}

// loadConformance reads every conformance file, keyed "file/case name".
func loadConformance(t testing.TB) map[string]confCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "conformance", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance files: %v", err)
	}
	cases := make(map[string]confCase)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var list []confCase
		if err := yaml.Unmarshal(data, &list); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		topic := strings.TrimSuffix(filepath.Base(f), ".yaml")
		for _, c := range list {
			key := topic + "/" + c.Name
			if _, dup := cases[key]; dup || c.Name == "" {
				t.Fatalf("%s: duplicate or empty case name %q", f, c.Name)
			}
			if (c.Want == nil) == (c.WantError == "") {
				t.Fatalf("%s: case %q needs exactly one of want and wantError", f, c.Name)
			}
			cases[key] = c
		}
	}
	return cases
}

func TestConformance(t *testing.T) {
	cases := loadConformance(t)
	if len(cases) < 120 {
		t.Errorf("conformance suite has %d cases, want at least 120", len(cases))
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			vars, err := yamlVars(&c.Vars)
			if err != nil {
				t.Fatalf("vars: %v", err)
			}
			got, err := renderString(c.Template, vars, c.Limits)
			if c.WantError != "" {
				checkError(t, err, c.WantError)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != *c.Want {
				t.Errorf("template:\n%s\ngot:  %q\nwant: %q", c.Template, got, *c.Want)
			}
		})
	}
}

// renderString parses and renders src.
func renderString(src string, vars map[string]any, lim Limits) (string, error) {
	tmpl, err := Parse("case", src)
	if err != nil {
		return "", err
	}
	return tmpl.Render(vars, lim)
}

// checkError checks err against a conformance case's wantError.
func checkError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	switch {
	case want == "ErrLimit":
		if !errors.Is(err, ErrLimit) {
			t.Fatalf("error %v does not wrap ErrLimit", err)
		}
	case strings.HasPrefix(want, "parse:"):
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v is not a *ParseError", err)
		}
		if !strings.Contains(err.Error(), strings.TrimSpace(strings.TrimPrefix(want, "parse:"))) {
			t.Fatalf("error %q does not contain %q", err, want)
		}
	default:
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not contain %q", err, want)
		}
	}
}

// yamlVars converts a case's vars mapping to Render's vars.
func yamlVars(n *yaml.Node) (map[string]any, error) {
	vars := make(map[string]any)
	if n.Kind == 0 {
		return vars, nil
	}
	v, err := yamlValue(n)
	if err != nil {
		return nil, err
	}
	m, ok := v.(*Map)
	if !ok {
		return nil, fmt.Errorf("vars must be a mapping")
	}
	for _, k := range m.Keys() {
		vars[k], _ = m.Get(k)
	}
	return vars, nil
}

// yamlValue converts YAML to the host values Render takes, keeping mapping
// order. A mapping tagged !object becomes a testObject.
func yamlValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		return yamlValue(n.Content[0])
	case yaml.MappingNode:
		m := NewMap()
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := yamlValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m.Set(n.Content[i].Value, v)
		}
		if n.Tag == "!object" {
			return testObject{props: m}, nil
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		return yamlScalar(n)
	}
	return nil, fmt.Errorf("unsupported YAML node kind %v", n.Kind)
}

func yamlScalar(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		return n.Value == "true", nil
	case "!!int":
		return strconv.ParseInt(n.Value, 10, 64)
	case "!!float":
		return strconv.ParseFloat(n.Value, 64)
	}
	return n.Value, nil
}

// testObject is a host Object: properties from a map, and methods echo
// (joins its arguments' types and values), fail (returns an error) and
// missing (reports no such method).
type testObject struct{ props *Map }

func (o testObject) Property(name string) (any, bool) { return o.props.Get(name) }

func (o testObject) Method(name string, args []any) (any, bool, error) {
	switch name {
	case "echo":
		parts := make([]string, len(args))
		for i, a := range args {
			parts[i] = fmt.Sprintf("%T:%v", a, a)
		}
		return strings.Join(parts, ","), true, nil
	case "fail":
		return nil, true, errors.New("host failure")
	case "get":
		if len(args) == 1 {
			return fmt.Sprintf("got %v", args[0]), true, nil
		}
	case "list":
		return []any{1, "two"}, true, nil
	}
	return nil, false, nil
}

func (o testObject) String() string { return "testObject" }
