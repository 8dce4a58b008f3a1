package validate

import (
	"strings"
	"sync"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	tests := map[string]struct {
		models map[string]string
		want   []string // substrings of the error
	}{
		"invalid JSON names the model": {
			models: map[string]string{"Pet": `{"type": "object",`, "Ok": `{}`},
			want:   []string{`model "Pet"`, "not valid JSON"},
		},
		"invalid schema names the model": {
			models: map[string]string{"Pet": `{"type": 5}`},
			want:   []string{`model "Pet"`},
		},
		"every failing model is reported": {
			models: map[string]string{"A": `{"minLength": "x"}`, "B": `{"required": "x"}`},
			want:   []string{`model "A"`, `model "B"`},
		},
		"reference to an unknown model": {
			models: map[string]string{"Pet": `{"properties": {"id": {"$ref": "https://apigateway.amazonaws.com/restapis/x/models/Nope"}}}`},
			want:   []string{`model "Pet"`, `unknown model "Nope"`},
		},
		"file references are refused": {
			models: map[string]string{"Pet": `{"$ref": "file:///etc/passwd"}`},
			want:   []string{`model "Pet"`, "not a model of this API"},
		},
		"network references are refused": {
			models: map[string]string{"Pet": `{"$ref": "https://example.com/schema.json"}`},
			want:   []string{`model "Pet"`, "not a model of this API"},
		},
		"regular expressions RE2 cannot run are refused": {
			models: map[string]string{"Pet": `{"pattern": "^(?!admin)"}`},
			want:   []string{`model "Pet"`},
		},
		"empty model name": {
			models: map[string]string{"": `{}`},
			want:   []string{"empty name"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := Compile(tc.models)
			if err == nil {
				t.Fatalf("Compile succeeded: %v", m)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestModelsSchema(t *testing.T) {
	m, err := Compile(map[string]string{"Pet": `{"type": "object"}`})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		models *Models
		name   string
		found  bool
	}{
		"known":      {m, "Pet", true},
		"unknown":    {m, "Dog", false},
		"nil models": {nil, "Pet", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, ok := tc.models.Schema(tc.name)
			if ok != tc.found {
				t.Fatalf("found %v, want %v", ok, tc.found)
			}
			if ok && s.Name() != tc.name {
				t.Fatalf("Name() = %q, want %q", s.Name(), tc.name)
			}
		})
	}
}

// TestConcurrentChecks shares one compiled model between goroutines, as the
// ext_proc service does; run with -race.
func TestConcurrentChecks(t *testing.T) {
	m, err := Compile(map[string]string{"Pet": `{"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "enum": ["a"]}}}`})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.Schema("Pet")
	schemas := map[string]*Schema{"application/json": s}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"name": "a"}`
			if i%2 == 1 {
				body = `{"name": 5}`
			}
			for range 50 {
				got := Check(Validator{Body: true}, Requirements{}, schemas, &Request{Body: []byte(body)})
				if (got != nil) != (i%2 == 1) {
					t.Errorf("body %s: got %+v", body, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestValidationErrorStringIsBounded(t *testing.T) {
	m, err := Compile(map[string]string{"List": `{"type": "array", "items": {"type": "string", "maxLength": 1}}`})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.Schema("List")
	tests := map[string]struct {
		body         string
		wantMessages int // exact count when under the bounds, 0 to skip
	}{
		"many failing elements": {body: "[" + strings.Repeat(`"xx",`, 5000) + `"xx"]`},
		"one huge string":       {body: `["` + strings.Repeat("é", 50000) + `"]`, wantMessages: 1},
		"three elements":        {body: `["aa", "b", "cc"]`, wantMessages: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := s.Check([]byte(tc.body))
			if f == nil {
				t.Fatal("want failure")
			}
			got := f.ValidationErrorString
			if len(got) > maxDetailBytes || !strings.HasPrefix(got, "[") || !strings.HasSuffix(got, "]") {
				t.Fatalf("detail of %d bytes, want a bracketed list of at most %d", len(got), maxDetailBytes)
			}
			if n := strings.Count(got, "is too long"); n > maxMessages || (tc.wantMessages > 0 && n != tc.wantMessages) {
				t.Fatalf("%d messages, want %d (at most %d)", n, tc.wantMessages, maxMessages)
			}
		})
	}
}
