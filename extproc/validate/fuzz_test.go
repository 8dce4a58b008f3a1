package validate

import (
	"net/url"
	"strings"
	"testing"
)

// fuzzModels covers every keyword the messages render, references included.
const fuzzModels = `{
  "type": "object",
  "required": ["name"],
  "additionalProperties": false,
  "definitions": {"Tag": {"type": "string", "maxLength": 4, "pattern": "^[a-z]*$"}},
  "dependencies": {"a": ["b"]},
  "properties": {
    "a": {}, "b": {},
    "name": {"type": "string", "minLength": 1, "enum": ["x", "yy", 1]},
    "n": {"type": ["integer", "null"], "minimum": 0, "maximum": 100, "exclusiveMaximum": true, "multipleOf": 3},
    "tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}, "uniqueItems": true, "maxItems": 3},
    "pair": {"items": [{"type": "boolean"}], "additionalItems": false},
    "o": {"minProperties": 1, "maxProperties": 2, "anyOf": [{"type": "object"}, {"type": "string"}]},
    "c": {"oneOf": [{"type": "number"}, {"minimum": 1}], "allOf": [{}, {"not": {"type": "string"}}]},
    "id": {"$ref": "Id"}
  }
}`

func FuzzCheck(f *testing.F) {
	m, err := Compile(map[string]string{"Body": fuzzModels, "Id": `{"type": "integer"}`})
	if err != nil {
		f.Fatal(err)
	}
	body, _ := m.Schema("Body")
	schemas := map[string]*Schema{"application/json": body}
	for _, c := range loadCases(f) {
		f.Add([]byte(c.Request.Body), c.Request.ContentType, "v")
	}
	f.Add([]byte(`{"name":"x","n":3,"tags":["ab"],"pair":[true],"o":{"k":1},"c":2,"id":1}`), "", "")
	f.Add([]byte(`{"name":5,"n":1.5,"tags":["AB","AB",1],"pair":[1,2],"o":{},"c":"s","id":"x","a":1,"zz":0}`), "application/json", " ")

	f.Fuzz(func(t *testing.T, data []byte, contentType, q string) {
		r := &Request{Query: url.Values{"q": {q}}, ContentType: contentType, Body: data}
		got := Check(Validator{Params: true, Body: true}, Requirements{Query: []string{"q"}}, schemas, r)
		if got == nil {
			return
		}
		switch got.Kind {
		case BadRequestParameters:
			if strings.TrimSpace(q) != "" {
				t.Fatalf("parameter q=%q reported missing", q)
			}
		case BadRequestBody:
			if got.Message != invalidBodyMessage {
				t.Fatalf("message %q", got.Message)
			}
		default:
			t.Fatalf("kind %d", got.Kind)
		}
		if len(got.ValidationErrorString) > maxDetailBytes || !strings.HasPrefix(got.ValidationErrorString, "[") && got.Kind == BadRequestBody {
			t.Fatalf("detail %d bytes: %.200q", len(got.ValidationErrorString), got.ValidationErrorString)
		}
	})
}
