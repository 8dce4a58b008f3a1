package gatewayresponse

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/extproc/vtl"
)

func TestTypes(t *testing.T) {
	types := Types()
	if len(types) != 21 {
		t.Fatalf("Types() has %d types, want API Gateway's 21", len(types))
	}
	for i, ty := range types {
		if !ty.Valid() || ty.Message() == "" {
			t.Errorf("%s: Valid %v, Message %q", ty, ty.Valid(), ty.Message())
		}
		if i > 0 && types[i-1] >= ty {
			t.Errorf("Types() not sorted at %s", ty)
		}
	}
	tests := map[string]struct {
		typ        Type
		valid      bool
		status     int
		fallback   Type
		isFallback bool
	}{
		"4xx type":         {Throttled, true, 429, Default4XX, true},
		"401 type":         {Unauthorized, true, 401, Default4XX, true},
		"5xx type":         {IntegrationTimeout, true, 504, Default5XX, true},
		"default 4xx":      {Default4XX, true, 0, "", false},
		"default 5xx":      {Default5XX, true, 0, "", false},
		"lower case":       {Type("throttled"), false, 0, "", false},
		"misspelled media": {Type("UNSUPPORTED_MEDIA_TYPES"), false, 0, "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.typ.Valid(); got != tc.valid {
				t.Errorf("Valid() = %v, want %v", got, tc.valid)
			}
			if got := tc.typ.DefaultStatus(); got != tc.status {
				t.Errorf("DefaultStatus() = %d, want %d", got, tc.status)
			}
			fb, ok := tc.typ.fallback()
			if fb != tc.fallback || ok != tc.isFallback {
				t.Errorf("fallback() = %s %v, want %s %v", fb, ok, tc.fallback, tc.isFallback)
			}
		})
	}
}

func TestCompileReportsEveryFault(t *testing.T) {
	_, err := Compile(map[Type]Override{
		Throttled:    {StatusCode: 600, Headers: map[string]string{"x": "nope"}},
		Default4XX:   {Templates: map[string]string{"application/json": "#end"}},
		"NOT_A_TYPE": {},
	})
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Compile error = %v, want every fault joined", err)
	}
	var fields []string
	for _, e := range joined.Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a *FieldError", e)
		}
		fields = append(fields, string(fe.Type)+" "+fe.Field)
	}
	want := []string{
		`DEFAULT_4XX responseTemplates["application/json"]`,
		`NOT_A_TYPE responseType`,
		`THROTTLED statusCode`,
		`THROTTLED responseParameters["x"]`,
	}
	if strings.Join(fields, "|") != strings.Join(want, "|") {
		t.Errorf("faults:\n got %q\nwant %q", fields, want)
	}
	var pe *vtl.ParseError
	if !errors.As(err, &pe) {
		t.Errorf("the template fault does not wrap a *vtl.ParseError: %v", err)
	}
}

func TestRenderUnknownType(t *testing.T) {
	set, err := Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Render("NOPE", nil, mapping.ErrorInfo{}, ""); err == nil {
		t.Error("Render of an unknown type succeeded")
	}
}

func TestRenderTemplateFailure(t *testing.T) {
	set, err := Compile(map[Type]Override{
		Throttled: {Templates: map[string]string{"application/json": "#foreach($i in [1..2000000])x#end"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = set.Render(Throttled, nil, mapping.ErrorInfo{}, "")
	if !errors.Is(err, vtl.ErrLimit) {
		t.Errorf("Render error = %v, want one wrapping vtl.ErrLimit", err)
	}
}

func TestRenderLeavesRequestAlone(t *testing.T) {
	set, err := Compile(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &mapping.Request{RequestID: "r1"}
	if _, err := set.Render(Throttled, r, mapping.ErrorInfo{}, ""); err != nil {
		t.Fatal(err)
	}
	if r.Error != nil {
		t.Errorf("Render set the caller's Request.Error to %+v", r.Error)
	}
}

// TestRenderConcurrently renders one Set from many goroutines, for the
// race detector: a Set is shared by every request of an API.
func TestRenderConcurrently(t *testing.T) {
	set, err := Compile(map[Type]Override{
		Default4XX: {
			Headers:   map[string]string{"x-id": "context.requestId"},
			Templates: map[string]string{"application/json": `#set($m = $context.error.message){"m":"$m"}`},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := string(rune('a' + i))
			got, err := set.Render(Throttled, &mapping.Request{RequestID: id}, mapping.ErrorInfo{}, "")
			if err != nil || string(got.Body) != `{"m":"Too Many Requests"}` || got.Headers.Get("x-id") != id {
				t.Errorf("render %d: %v %q %q", i, err, got.Body, got.Headers)
			}
		}()
	}
	wg.Wait()
}
