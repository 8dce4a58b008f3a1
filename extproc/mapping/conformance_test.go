package mapping

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/archway-gateway/archway/extproc/vtl"
)

// conformanceCase is one case of testdata/*.yaml: a template, the request
// it renders for, and the output API Gateway gives (or that it fails).
type conformanceCase struct {
	Name      string      `yaml:"name"`
	Note      string      `yaml:"note"`
	Template  string      `yaml:"template"`
	Request   caseRequest `yaml:"request"`
	Want      *string     `yaml:"want"`
	WantError string      `yaml:"wantError"`
}

// caseRequest describes the request in a case. The parameter maps are
// yaml.Nodes so that their order is kept; a parameter's value is a string
// or, for a repeated parameter, a list of strings.
type caseRequest struct {
	Method         string            `yaml:"method"`
	Path           string            `yaml:"path"`
	ResourcePath   string            `yaml:"resourcePath"`
	ResourceID     string            `yaml:"resourceId"`
	PathParams     yaml.Node         `yaml:"pathParams"`
	Query          yaml.Node         `yaml:"query"`
	Header         yaml.Node         `yaml:"header"`
	Body           string            `yaml:"body"`
	Stage          string            `yaml:"stage"`
	StageVariables map[string]string `yaml:"stageVariables"`
	RequestID      string            `yaml:"requestId"`
	ExtendedID     string            `yaml:"extendedRequestId"`
	Time           string            `yaml:"time"`
	SourceIP       string            `yaml:"sourceIp"`
	UserAgent      string            `yaml:"userAgent"`
	Protocol       string            `yaml:"protocol"`
	DomainName     string            `yaml:"domainName"`
	APIID          string            `yaml:"apiId"`
	AccountID      string            `yaml:"accountId"`
	APIKey         string            `yaml:"apiKey"`
	APIKeyID       string            `yaml:"apiKeyId"`
	Authorizer     map[string]any    `yaml:"authorizer"`
	Error          *caseError        `yaml:"error"`
}

type caseError struct {
	Message               string `yaml:"message"`
	ResponseType          string `yaml:"responseType"`
	ValidationErrorString string `yaml:"validationErrorString"`
}

func (c caseRequest) build() (*Request, error) {
	r := &Request{
		Method: c.Method, Path: c.Path, ResourcePath: c.ResourcePath, ResourceID: c.ResourceID,
		Body: []byte(c.Body), Stage: c.Stage, StageVariables: c.StageVariables,
		RequestID: c.RequestID, ExtendedRequestID: c.ExtendedID, SourceIP: c.SourceIP,
		UserAgent: c.UserAgent, Protocol: c.Protocol, DomainName: c.DomainName,
		APIID: c.APIID, AccountID: c.AccountID, APIKey: c.APIKey, APIKeyID: c.APIKeyID,
		Authorizer: c.Authorizer,
	}
	if c.Error != nil {
		r.Error = (*ErrorInfo)(c.Error)
	}
	var err error
	if r.PathParams, err = nodeParams(&c.PathParams); err != nil {
		return nil, err
	}
	if r.Query, err = nodeParams(&c.Query); err != nil {
		return nil, err
	}
	if r.Header, err = nodeParams(&c.Header); err != nil {
		return nil, err
	}
	if c.Time != "" {
		if r.Time, err = time.Parse(time.RFC3339Nano, c.Time); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func nodeParams(n *yaml.Node) ([]Param, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: parameters must be a map", n.Line)
	}
	var out []Param
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := n.Content[i].Value, n.Content[i+1]
		if v.Kind == yaml.SequenceNode {
			for _, e := range v.Content {
				out = append(out, Param{Name: name, Value: e.Value})
			}
			continue
		}
		out = append(out, Param{Name: name, Value: v.Value})
	}
	return out, nil
}

func loadCases(t *testing.T) map[string]conformanceCase {
	t.Helper()
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance files: %v", err)
	}
	cases := map[string]conformanceCase{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var list []conformanceCase
		if err := yaml.Unmarshal(data, &list); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range list {
			key := strings.TrimSuffix(filepath.Base(f), ".yaml") + "/" + c.Name
			if _, dup := cases[key]; dup || c.Name == "" {
				t.Fatalf("%s: case name %q is empty or repeated", f, c.Name)
			}
			if (c.Want == nil) == (c.WantError == "") {
				t.Fatalf("%s: case %q needs exactly one of want and wantError", f, c.Name)
			}
			cases[key] = c
		}
	}
	return cases
}

// TestConformance renders every case of testdata/*.yaml through the vtl
// engine with the variables Vars builds.
func TestConformance(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 40 {
		t.Errorf("only %d conformance cases, want at least 40", len(cases))
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := tc.Request.build()
			if err != nil {
				t.Fatal(err)
			}
			tmpl, err := vtl.Parse(tc.Name, tc.Template)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := tmpl.Render(Vars(r), vtl.Limits{})
			if tc.WantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.WantError) {
					t.Fatalf("Render = %q, %v; want an error containing %q", got, err, tc.WantError)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != *tc.Want {
				t.Errorf("Render =\n%s\nwant\n%s", got, *tc.Want)
			}
		})
	}
}
