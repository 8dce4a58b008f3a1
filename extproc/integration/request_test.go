package integration

import (
	"reflect"
	"testing"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/internal/model"
)

func TestStatusCode(t *testing.T) {
	rs := newRelaxedStatus()
	tests := map[string]struct {
		body string
		want int // 0: an error
	}{
		"JSON":                  {`{"statusCode": 200}`, 200},
		"JSON with more":        {`{"a": {"b": 1}, "statusCode": 404, "c": [1]}`, 404},
		"negative":              {`{"statusCode": -1}`, -1},
		"string":                {`{"statusCode": "200"}`, 0},
		"fraction":              {`{"statusCode": 200.0}`, 0},
		"missing":               {`{"status": 200}`, 0},
		"empty":                 {``, 0},
		"not an object":         {`[200]`, 0},
		"relaxed":               {`{statusCode: 201}`, 201},
		"relaxed single quotes": {`{ 'statusCode' : 202 , x: 1}`, 202},
		"relaxed after a key":   {`{a: 1, statusCode: 203}`, 203},
		"relaxed, no number":    {`{statusCode: }`, 0},
		"too large":             {`{"statusCode": 99999999999999999999999}`, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := rs.statusCode([]byte(tc.body))
			if tc.want == 0 {
				if err == nil {
					t.Errorf("statusCode(%q) = %d, want an error", tc.body, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("statusCode(%q) = %d, %v; want %d", tc.body, got, err, tc.want)
			}
		})
	}
}

func TestPathParams(t *testing.T) {
	tests := map[string]struct {
		template, stage, path string
		want                  []mapping.Param
	}{
		"host style":        {"/pets/{id}", "test", "/test/pets/7", []mapping.Param{{Name: "id", Value: "7"}}},
		"path style":        {"/pets/{id}", "test", "/api1/test/pets/7", []mapping.Param{{Name: "id", Value: "7"}}},
		"default stage":     {"/pets/{id}", "$default", "/pets/a%20b", []mapping.Param{{Name: "id", Value: "a b"}}},
		"default, path":     {"/pets/{id}", "$default", "/api1/pets/7", []mapping.Param{{Name: "id", Value: "7"}}},
		"greedy":            {"/files/{path+}", "test", "/test/files/a/b/c", []mapping.Param{{Name: "path", Value: "a/b/c"}}},
		"stage named alike": {"/test/{id}", "test", "/test/test/9", []mapping.Param{{Name: "id", Value: "9"}}},
		"no parameters":     {"/pets", "test", "/test/pets", nil},
		"no match":          {"/pets/{id}", "test", "/test/dogs/7", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tpl, err := model.ParsePathTemplate(tc.template)
			if err != nil {
				t.Fatal(err)
			}
			rr := newRouteRequest(&model.API{ID: "api1"}, &model.Stage{Name: tc.stage}, &model.Route{Path: tpl}, nil)
			if got := pathParams(tc.path, rr); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("pathParams(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

func TestSourceIP(t *testing.T) {
	tests := map[string]struct {
		headers extproc.Headers
		hops    int
		want    string
	}{
		"external address": {extproc.Headers{{Name: "x-forwarded-for", Value: "1.1.1.1"}, {Name: "x-envoy-external-address", Value: "2.2.2.2"}}, 0, "2.2.2.2"},
		"last forwarded":   {extproc.Headers{{Name: "x-forwarded-for", Value: "1.1.1.1, 3.3.3.3"}}, 0, "3.3.3.3"},
		"trusted hop":      {extproc.Headers{{Name: "x-forwarded-for", Value: "1.1.1.1, 3.3.3.3"}}, 1, "1.1.1.1"},
		"more hops":        {extproc.Headers{{Name: "x-forwarded-for", Value: "1.1.1.1"}}, 3, "1.1.1.1"},
		"repeated header":  {extproc.Headers{{Name: "x-forwarded-for", Value: "1.1.1.1"}, {Name: "x-forwarded-for", Value: "4.4.4.4"}}, 0, "4.4.4.4"},
		"none":             {nil, 0, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := sourceIP(tc.headers, tc.hops); got != tc.want {
				t.Errorf("sourceIP = %q, want %q", got, tc.want)
			}
		})
	}
}
