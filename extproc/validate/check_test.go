package validate

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// conformanceCase is one request checked against one method's validation
// settings, with the failure AWS answers it with (nil: the request passes).
type conformanceCase struct {
	// Source says where the expected behaviour is documented or recorded.
	Source string `yaml:"source"`
	// Models are the API's models, by name.
	Models map[string]string `yaml:"models"`
	// BodyModels is the method's requestModels: content type to model name.
	BodyModels map[string]string `yaml:"bodyModels"`
	Validator  struct {
		Params bool `yaml:"params"`
		Body   bool `yaml:"body"`
	} `yaml:"validator"`
	Requirements struct {
		Query  []string `yaml:"query"`
		Header []string `yaml:"header"`
		Path   []string `yaml:"path"`
	} `yaml:"requirements"`
	Request struct {
		Query       map[string][]string `yaml:"query"`
		Header      map[string][]string `yaml:"header"`
		Path        map[string]string   `yaml:"path"`
		ContentType string              `yaml:"contentType"`
		Body        string              `yaml:"body"`
	} `yaml:"request"`
	Want *struct {
		Kind                  string `yaml:"kind"`
		Message               string `yaml:"message"`
		ValidationErrorString string `yaml:"validationErrorString"`
	} `yaml:"want"`
}

// loadCases reads every testdata/*.yaml file: a list of named cases.
func loadCases(t testing.TB) map[string]conformanceCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance files: %v", err)
	}
	cases := map[string]conformanceCase{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Cases []struct {
				Name            string `yaml:"name"`
				conformanceCase `yaml:",inline"`
			} `yaml:"cases"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, c := range doc.Cases {
			name := filepath.Base(file) + "/" + c.Name
			if _, dup := cases[name]; dup || c.Name == "" {
				t.Fatalf("%s: case name %q is empty or repeated", file, c.Name)
			}
			cases[name] = c.conformanceCase
		}
	}
	return cases
}

// build turns a case into Check's arguments.
func (c conformanceCase) build(t testing.TB) (Validator, Requirements, map[string]*Schema, *Request) {
	t.Helper()
	models, err := Compile(c.Models)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	bodySchemas := map[string]*Schema{}
	for contentType, name := range c.BodyModels {
		s, ok := models.Schema(name)
		if !ok {
			t.Fatalf("bodyModels names unknown model %q", name)
		}
		bodySchemas[contentType] = s
	}
	header := http.Header{}
	for name, values := range c.Request.Header {
		for _, v := range values {
			header.Add(name, v)
		}
	}
	r := &Request{
		Query:       c.Request.Query,
		Header:      header,
		Path:        c.Request.Path,
		ContentType: c.Request.ContentType,
		Body:        []byte(c.Request.Body),
	}
	v := Validator{Params: c.Validator.Params, Body: c.Validator.Body}
	req := Requirements{Query: c.Requirements.Query, Header: c.Requirements.Header, Path: c.Requirements.Path}
	return v, req, bodySchemas, r
}

func TestConformance(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 30 {
		t.Fatalf("only %d conformance cases", len(cases))
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := Check(c.build(t))
			if c.Want == nil {
				if got != nil {
					t.Fatalf("want pass, got %s %q %q", got.Kind, got.Message, got.ValidationErrorString)
				}
				return
			}
			if got == nil {
				t.Fatalf("want %s failure, got pass", c.Want.Kind)
			}
			if got.Kind.String() != c.Want.Kind || got.Message != c.Want.Message {
				t.Errorf("got %s %q, want %s %q", got.Kind, got.Message, c.Want.Kind, c.Want.Message)
			}
			if got.ValidationErrorString != c.Want.ValidationErrorString {
				t.Errorf("validationErrorString:\n got %s\nwant %s", got.ValidationErrorString, c.Want.ValidationErrorString)
			}
		})
	}
}

func TestCheckNilRequest(t *testing.T) {
	got := Check(Validator{Params: true, Body: true}, Requirements{Query: []string{"q"}}, nil, nil)
	if got == nil || got.Message != "Missing required request parameters: [q]" {
		t.Fatalf("got %+v", got)
	}
}

func TestKindString(t *testing.T) {
	tests := map[string]struct {
		kind Kind
		want string
	}{
		"parameters": {BadRequestParameters, "BAD_REQUEST_PARAMETERS"},
		"body":       {BadRequestBody, "BAD_REQUEST_BODY"},
		"zero":       {0, "UNKNOWN"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.kind.String(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestHugeExponents checks that a body holding a number whose exponent
// has four or more digits is refused as invalid before the schema library
// sees it (which would spend milliseconds on it, or panic), whatever the
// model says, and that smaller exponents are validated as usual.
func TestHugeExponents(t *testing.T) {
	m, err := Compile(map[string]string{"M": `{"type": "object", "properties": {"n": {"type": "number", "maximum": 10}}}`})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.Schema("M")
	tests := map[string]struct {
		body   string
		detail string // "" for a valid body
	}{
		"huge exponent":          {`{"n": 1e100000}`, hugeNumberBody},
		"tiny exponent":          {`{"n": 1e-99999999999999999999}`, hugeNumberBody},
		"unchecked member":       {`{"other": [2E+1000]}`, hugeNumberBody},
		"three digits, too big":  {`{"n": 1e999}`, "[numeric instance is greater than the required maximum (maximum: 10, found: 1e999)]"},
		"three digits, in range": {`{"n": 1e-999}`, ""},
		"exponent in a string":   {`{"s": "1e100000"}`, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := s.Check([]byte(tc.body))
			switch {
			case tc.detail == "" && f != nil:
				t.Errorf("Check = %+v, want valid", f)
			case tc.detail != "" && (f == nil || f.Kind != BadRequestBody || f.ValidationErrorString != tc.detail):
				t.Errorf("Check = %+v, want BAD_REQUEST_BODY %s", f, tc.detail)
			}
		})
	}
}
