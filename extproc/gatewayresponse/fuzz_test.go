package gatewayresponse

import (
	"testing"

	"github.com/archway-gateway/archway/extproc/mapping"
)

// FuzzRender compiles a fuzzed override of DEFAULT_4XX (template, header
// expression, content type) and renders it for a fuzzed request: Compile
// may refuse, but nothing may panic or hang, and a body is never larger
// than MaxBodyBytes.
func FuzzRender(f *testing.F) {
	for _, c := range loadCases(f) {
		for _, o := range c.Overrides {
			for ct, tmpl := range o.Templates {
				expr := ""
				for _, e := range o.Headers {
					expr = e
				}
				f.Add(tmpl, expr, ct, c.Accept, c.Error.Message, c.Request.Body)
			}
		}
	}
	f.Add(DefaultTemplate, "'x'", ContentTypeJSON, "", "msg", "{}")
	f.Fuzz(func(t *testing.T, tmpl, expr, contentType, accept, message, body string) {
		set, err := Compile(map[Type]Override{
			Default4XX: {
				Headers:   map[string]string{"x-fuzz": expr},
				Templates: map[string]string{contentType: tmpl},
			},
		})
		if err != nil {
			return
		}
		r := &mapping.Request{
			Body:   []byte(body),
			Header: []mapping.Param{{Name: "x-fuzz", Value: message}},
			Query:  []mapping.Param{{Name: "q", Value: message}},
		}
		got, err := set.Render(Throttled, r, mapping.ErrorInfo{Message: message}, accept)
		if err != nil {
			return
		}
		if len(got.Body) > MaxBodyBytes {
			t.Fatalf("body of %d bytes, over MaxBodyBytes", len(got.Body))
		}
		if got.Status != 429 || got.Headers.Get("Content-Type") == "" {
			t.Fatalf("status %d, Content-Type %q", got.Status, got.Headers.Get("Content-Type"))
		}
	})
}
