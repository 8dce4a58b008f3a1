package apply

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

var update = flag.Bool("update", false, "rewrite testdata/good/*.want.json from what Decode returns")

func TestDecodeGood(t *testing.T) {
	tests := map[string]struct {
		file string
		// names are the API names decoded, in order.
		names []string
	}{
		"yaml in protojson form":    {file: "petstore.yaml", names: []string{"petstore"}},
		"snake case and full enums": {file: "snake_case.yaml", names: []string{"orders"}},
		"stream with empty docs":    {file: "stream.yaml", names: []string{"one", "two"}},
		"json":                      {file: "minimal.json", names: []string{"petstore"}},
		"anchors and aliases":       {file: "anchors.yaml", names: []string{"anchored"}},
		"no definitions":            {file: "empty.yaml"},
		"null is unset":             {file: "null_oneof.yaml", names: []string{"petstore"}},
		"usage plan fields":         {file: "usage.yaml", names: []string{"metered"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "good", tc.file)
			defs, err := Decode(readFile(t, path))
			if err != nil {
				t.Fatalf("Decode(%s): %v", path, err)
			}
			var got []string
			for _, d := range defs {
				got = append(got, d.GetName())
			}
			if strings.Join(got, ",") != strings.Join(tc.names, ",") {
				t.Fatalf("Decode(%s) names = %q, want %q", path, got, tc.names)
			}
			checkGolden(t, strings.TrimSuffix(path, filepath.Ext(path))+".want.json", defs)
		})
	}
}

// checkGolden compares defs with a JSON array of protojson definitions,
// read with protojson itself so that the golden file does not depend on the
// decoder under test.
func checkGolden(t *testing.T, path string, defs []*adminv1.ApiDefinition) {
	t.Helper()
	if *update {
		writeGolden(t, path, defs)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(readFile(t, path), &raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(raw) != len(defs) {
		t.Fatalf("%s holds %d definitions, Decode returned %d", path, len(raw), len(defs))
	}
	for i, r := range raw {
		want := &adminv1.ApiDefinition{}
		if err := protojson.Unmarshal(r, want); err != nil {
			t.Fatalf("%s[%d]: %v", path, i, err)
		}
		if !proto.Equal(defs[i], want) {
			t.Errorf("definition %d:\n got %v\nwant %v", i, defs[i], want)
		}
	}
}

func writeGolden(t *testing.T, path string, defs []*adminv1.ApiDefinition) {
	t.Helper()
	raw := make([]json.RawMessage, 0, len(defs))
	for _, d := range defs {
		b, err := protojson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// badCase is a file Decode must refuse, with every error it must report.
type badCase struct {
	file string
	want []string
}

func badCases() map[string]badCase {
	return map[string]badCase{
		"unknown field": {
			file: "unknown_field.yaml",
			want: []string{`document 1: line 3: unknown field "routs"`},
		},
		"unknown field in second document": {
			file: "unknown_nested.yaml",
			want: []string{`document 2: line 9: routes[0]: unknown field "methd"`},
		},
		"empty documents are counted": {
			file: "counts_empty_documents.yaml",
			want: []string{`document 3: line 7: unknown field "routz"`},
		},
		"list for a string": {
			file: "wrong_type.yaml",
			want: []string{`document 1: line 1: name: want a string, got a list`},
		},
		"unquoted number for a string": {
			file: "unquoted_number.yaml",
			want: []string{`document 1: line 3: tags["version"]: want a string, got 1`},
		},
		"unknown enum value": {
			file: "bad_protocol.yaml",
			want: []string{`document 1: line 2: protocol: unknown Protocol "GRPC"; want one of HTTP, REST`},
		},
		"two integration kinds": {
			file: "two_kinds.yaml",
			want: []string{`document 1: line 6: integrations[0]: "httpProxy" and "mock" are both set; only one may be`},
		},
		"field set under both names": {
			file: "set_twice.yaml",
			want: []string{`document 1: line 5: stages[0]: field "auto_deploy" is set twice (also as "autoDeploy")`},
		},
		"bad duration": {
			file: "bad_duration.yaml",
			want: []string{`document 1: line 6: integrations[0].httpProxy.timeout: want a duration such as "29s" or "500ms", got the string "soon"`},
		},
		"yaml syntax": {
			file: "syntax.yaml",
			want: []string{`document 1: line 2: did not find expected '-' indicator`},
		},
		"document is a list": {
			file: "not_a_mapping.yaml",
			want: []string{`document 1: line 1: want a mapping of ApiDefinition fields, got a list`},
		},
		"null list element": {
			file: "null_route.yaml",
			want: []string{`document 1: line 3: routes[0]: want a mapping, got null`},
		},
		"integer out of range": {
			file: "out_of_range.yaml",
			want: []string{`document 1: line 5: integrations[0].mock.statusCode: 4294967296 is not a 32-bit integer`},
		},
		"yes is not a boolean in yaml 1.2": {
			file: "yes_is_a_string.yaml",
			want: []string{`document 1: line 4: stages[0].autoDeploy: want true or false, got the string "yes"`},
		},
		"list for a map": {
			file: "list_for_mapping.yaml",
			want: []string{`document 1: line 3: tags: want a mapping, got a list`},
		},
		"alias expansion is bounded": {
			file: "alias_bomb.yaml",
			want: []string{`document 1: line 254: routes[98].tags["k248"]: the document expands to more than 100000 values`},
		},
		"merge key": {
			file: "merge_key.yaml",
			want: []string{`document 1: line 4: routes[1]: merge keys (<<) are not supported; repeat the fields or use an alias for the whole value`},
		},
		"custom tag": {
			file: "custom_tag.yaml",
			want: []string{`document 1: line 1: name: want a string, got ApiName tagged !Ref`},
		},
		"every error is reported": {
			file: "many_errors.yaml",
			want: []string{
				`document 1: line 2: description: want a string, got a list`,
				`document 1: line 3: protocol: unknown Protocol "GRPC"; want one of HTTP, REST`,
				`document 1: line 4: tags: want a mapping, got a list`,
				`document 1: line 5: unknown field "routs"`,
			},
		},
	}
}

func TestDecodeBad(t *testing.T) {
	for name, tc := range badCases() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tc.file)
			defs, err := Decode(readFile(t, path))
			if err == nil {
				t.Fatalf("Decode(%s) = %d definitions, want an error", path, len(defs))
			}
			if defs != nil {
				t.Errorf("Decode(%s) returned definitions with its error", path)
			}
			var got []string
			for _, e := range unjoin(err) {
				var de *Error
				if !errors.As(e, &de) || de.Document < 1 {
					t.Errorf("error %q is not an *Error with a document", e)
				}
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Decode(%s) errors:\n%s\nwant:\n%s", path, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestDecodeErrorLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: many\n")
	for i := range 3 * maxErrors {
		b.WriteString("unknown" + strings.Repeat("x", i) + ": 1\n")
	}
	_, err := Decode([]byte(b.String()))
	if n := len(unjoin(err)); n != maxErrors {
		t.Fatalf("Decode reported %d errors, want the limit %d", n, maxErrors)
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
