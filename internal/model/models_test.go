package model

import (
	"strings"
	"testing"
)

func TestNewDeploymentWithModels(t *testing.T) {
	in := proxy("i1")
	route := func(inline, named map[string]string) *Route {
		return &Route{
			ID: "r1", Method: "POST", Path: mustPath(t, "/pets"), Integration: in,
			Validation: &Validation{Body: true, Models: inline, RequestModels: named},
		}
	}
	pet, owner := &Model{Name: "Pet", Schema: `{}`}, &Model{Name: "Owner", Schema: `{}`}
	tests := map[string]struct {
		route  *Route
		models []*Model
		want   string // error substring; empty for success
	}{
		"named models":       {route: route(map[string]string{"text/plain": `{}`}, map[string]string{"application/json": "Pet", "$default": "Owner"}), models: []*Model{pet, owner}},
		"no validation":      {route: &Route{ID: "r1", Method: "GET", Path: mustPath(t, "/"), Integration: in}, models: []*Model{pet}},
		"missing model":      {route: route(nil, map[string]string{"application/json": "Cat"}), models: []*Model{pet}, want: `model "Cat" for "application/json" is not in the deployment`},
		"no models at all":   {route: route(nil, map[string]string{"$default": "Pet"}), want: `model "Pet" for "$default" is not in the deployment`},
		"inline and named":   {route: route(map[string]string{"application/json": `{}`}, map[string]string{"application/json": "Pet"}), models: []*Model{pet}, want: "both an inline and a named model"},
		"duplicate model":    {route: route(nil, nil), models: []*Model{pet, {Name: "Pet"}}, want: `model "Pet" appears twice`},
		"model without name": {route: route(nil, nil), models: []*Model{{Schema: `{}`}}, want: "without a name"},
		"nil model":          {route: route(nil, nil), models: []*Model{nil}, want: "nil model"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := NewDeploymentWithModels("d1", []*Route{tc.route}, []*Integration{in}, tc.models)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error = %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Models) != len(tc.models) {
				t.Fatalf("models = %v, want %d", d.Models, len(tc.models))
			}
			for i := 1; i < len(d.Models); i++ {
				if d.Models[i-1].Name >= d.Models[i].Name {
					t.Errorf("models are not sorted by name: %v", d.Models)
				}
			}
		})
	}
	if d, err := NewDeployment("d1", nil, nil); err != nil || d.Models != nil {
		t.Errorf("NewDeployment = %v, %v; want no models", d, err)
	}
}

func TestValidationNeedsBody(t *testing.T) {
	tests := map[string]struct {
		v            *Validation
		want, active bool
	}{
		"nil":                  {nil, false, false},
		"inline":               {&Validation{Body: true, Models: map[string]string{"$default": "{}"}}, true, true},
		"named":                {&Validation{Body: true, RequestModels: map[string]string{"$default": "Pet"}}, true, true},
		"named, body off":      {&Validation{RequestModels: map[string]string{"$default": "Pet"}}, false, false},
		"body on, no models":   {&Validation{Body: true}, false, false},
		"parameters and named": {&Validation{Parameters: true, Body: true, RequestModels: map[string]string{"a/b": "Pet"}}, true, true},
		"parameters only":      {&Validation{Parameters: true, Header: []string{"x-a"}}, false, true},
		"parameters off":       {&Validation{Query: []string{"q"}, Path: []string{"id"}}, false, false},
		"parameters, none":     {&Validation{Parameters: true}, false, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.v.NeedsBody(); got != tc.want {
				t.Errorf("NeedsBody = %v, want %v", got, tc.want)
			}
			if got := tc.v.Active(); got != tc.active {
				t.Errorf("Active = %v, want %v", got, tc.active)
			}
		})
	}
}
