package validate

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// benchModel is a typical order model: nested objects, an array of line
// items, enums, bounds and patterns.
const benchModel = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "Order",
  "type": "object",
  "required": ["orderId", "customer", "lines"],
  "properties": {
    "orderId": {"type": "string", "pattern": "^[A-Z0-9-]+$"},
    "status": {"type": "string", "enum": ["new", "paid", "shipped"]},
    "customer": {
      "type": "object",
      "required": ["id", "email"],
      "properties": {
        "id": {"type": "integer", "minimum": 1},
        "email": {"type": "string", "maxLength": 254},
        "name": {"type": "string", "minLength": 1, "maxLength": 100}
      }
    },
    "lines": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"$ref": "#/definitions/Line"}}
  },
  "definitions": {
    "Line": {
      "type": "object",
      "required": ["sku", "quantity", "price"],
      "additionalProperties": false,
      "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
        "price": {"type": "number", "minimum": 0},
        "note": {"type": "string", "maxLength": 200}
      }
    }
  }
}`

// benchBody builds a valid order body of about 2 KB.
func benchBody() []byte {
	var lines []string
	for i := range 26 {
		lines = append(lines, fmt.Sprintf(`{"sku": "ABC-%04d", "quantity": %d, "price": %d.99, "note": "gift wrap"}`, i, i+1, i*3))
	}
	return []byte(`{"orderId": "ORD-2024-0001", "status": "paid", "customer": {"id": 42, "email": "jane@example.com", "name": "Jane Doe"}, "lines": [` +
		strings.Join(lines, ", ") + `]}`)
}

func BenchmarkCheck(b *testing.B) {
	m, err := Compile(map[string]string{"Order": benchModel})
	if err != nil {
		b.Fatal(err)
	}
	s, _ := m.Schema("Order")
	schemas := map[string]*Schema{"application/json": s}
	body := benchBody()
	invalid := []byte(strings.Replace(string(body), `"quantity": 3`, `"quantity": "3"`, 1))
	header := http.Header{"X-Tenant": {"t1"}}
	query := url.Values{"verbose": {"1"}}
	req := Requirements{Header: []string{"x-tenant"}, Query: []string{"verbose"}}
	v := Validator{Params: true, Body: true}

	tests := map[string]struct {
		body  []byte
		valid bool
	}{
		"valid":   {body, true},
		"invalid": {invalid, false},
	}
	for name, tc := range tests {
		b.Run(fmt.Sprintf("%s-%dB", name, len(tc.body)), func(b *testing.B) {
			r := &Request{Query: query, Header: header, ContentType: "application/json", Body: tc.body}
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if got := Check(v, req, schemas, r); (got == nil) != tc.valid {
					b.Fatalf("got %+v", got)
				}
			}
		})
	}
}
