package gatewayresponse

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/archway-gateway/archway/extproc/mapping"
)

// conformanceCase is one case of testdata/*.yaml: an API's overrides, the
// gateway response to render for a request, and what API Gateway answers,
// or the fault Compile reports.
type conformanceCase struct {
	Note         string                `yaml:"note"`
	Overrides    map[Type]caseOverride `yaml:"overrides"`
	Type         Type                  `yaml:"type"`
	Request      caseRequest           `yaml:"request"`
	Error        caseError             `yaml:"error"`
	Accept       string                `yaml:"accept"`
	Want         *caseWant             `yaml:"want"`
	CompileError *caseCompileError     `yaml:"compileError"`
	Extra        map[string]any        `yaml:",inline"`
}

type caseOverride struct {
	StatusCode int               `yaml:"statusCode"`
	Headers    map[string]string `yaml:"headers"`
	Templates  map[string]string `yaml:"templates"`
}

type caseRequest struct {
	Header         []caseParam       `yaml:"header"`
	Query          []caseParam       `yaml:"query"`
	PathParams     []caseParam       `yaml:"pathParams"`
	Body           string            `yaml:"body"`
	Stage          string            `yaml:"stage"`
	StageVariables map[string]string `yaml:"stageVariables"`
	RequestID      string            `yaml:"requestId"`
	ResourcePath   string            `yaml:"resourcePath"`
	Authorizer     map[string]any    `yaml:"authorizer"`
}

type caseParam struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

type caseError struct {
	Message               string `yaml:"message"`
	ValidationErrorString string `yaml:"validationErrorString"`
}

type caseWant struct {
	Status  int               `yaml:"status"`
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"`
}

type caseCompileError struct {
	Type  Type   `yaml:"type"`
	Field string `yaml:"field"`
	// Contains is a fragment of the error's message.
	Contains string `yaml:"contains"`
}

func params(ps []caseParam) []mapping.Param {
	out := make([]mapping.Param, len(ps))
	for i, p := range ps {
		out[i] = mapping.Param{Name: p.Name, Value: p.Value}
	}
	return out
}

func (c caseRequest) build() *mapping.Request {
	return &mapping.Request{
		Header: params(c.Header), Query: params(c.Query), PathParams: params(c.PathParams),
		Body: []byte(c.Body), Stage: c.Stage, StageVariables: c.StageVariables,
		RequestID: c.RequestID, ResourcePath: c.ResourcePath, Authorizer: c.Authorizer,
	}
}

func (c conformanceCase) overrides() map[Type]Override {
	out := make(map[Type]Override, len(c.Overrides))
	for t, o := range c.Overrides {
		out[t] = Override(o)
	}
	return out
}

// loadCases reads every testdata/*.yaml file, a map of case name to case.
func loadCases(tb testing.TB) map[string]conformanceCase {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no testdata: %v", err)
	}
	all := make(map[string]conformanceCase)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var cases map[string]conformanceCase
		if err := yaml.Unmarshal(raw, &cases); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		for name, c := range cases {
			if len(c.Extra) > 0 {
				tb.Fatalf("%s: %s: unknown keys %v", f, name, c.Extra)
			}
			all[strings.TrimSuffix(filepath.Base(f), ".yaml")+"/"+name] = c
		}
	}
	return all
}

func TestConformance(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 25 {
		t.Fatalf("only %d conformance cases", len(cases))
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			set, err := Compile(c.overrides())
			if c.CompileError != nil {
				checkCompileError(t, err, c.CompileError)
				return
			}
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if c.Want == nil {
				t.Fatal("case has neither want nor compileError")
			}
			e := mapping.ErrorInfo{Message: c.Error.Message, ValidationErrorString: c.Error.ValidationErrorString}
			got, err := set.Render(c.Type, c.Request.build(), e, c.Accept)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			checkResponse(t, got, c.Want)
		})
	}
}

func checkCompileError(t *testing.T, err error, want *caseCompileError) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("Compile error = %v, want a *FieldError", err)
	}
	if fe.Type != want.Type || fe.Field != want.Field {
		t.Errorf("FieldError names %s %s, want %s %s", fe.Type, fe.Field, want.Type, want.Field)
	}
	if !strings.Contains(err.Error(), want.Contains) {
		t.Errorf("error %q does not contain %q", err, want.Contains)
	}
}

func checkResponse(t *testing.T, got Response, want *caseWant) {
	t.Helper()
	if got.Status != want.Status {
		t.Errorf("status = %d, want %d", got.Status, want.Status)
	}
	if string(got.Body) != want.Body {
		t.Errorf("body:\n got %q\nwant %q", got.Body, want.Body)
	}
	for k, v := range want.Headers {
		if vs := got.Headers.Values(k); len(vs) != 1 || vs[0] != v {
			t.Errorf("header %s = %q, want %q", k, vs, v)
		}
	}
	for k := range got.Headers {
		if _, ok := want.Headers[k]; !ok {
			t.Errorf("unexpected header %s: %q", k, got.Headers[k])
		}
	}
}
