package model

import (
	"strings"
	"testing"
	"time"
)

func mustPath(t testing.TB, s string) PathTemplate {
	t.Helper()
	p, err := ParsePathTemplate(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func proxy(id string) *Integration {
	return &Integration{ID: id, Name: "n-" + id, HTTPProxy: &HTTPProxy{URI: "https://backend.example/x", Timeout: DefaultTimeout}}
}

func TestNewDeploymentSortsAndResolves(t *testing.T) {
	i1, i2 := proxy("i1"), &Integration{ID: "i0", Mock: &Mock{StatusCode: 200, Body: "{}"}}
	routes := []*Route{
		{ID: "r2", Method: "GET", Path: mustPath(t, "/pets/{id}"), Integration: i1},
		{ID: "r1", Method: "ANY", Path: mustPath(t, "/pets/{petId}"), Integration: i2},
		{ID: "r3", Method: "GET", Path: mustPath(t, "/{proxy+}"), Integration: i1},
	}
	d, err := NewDeployment("d1", routes, []*Integration{i1, i2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range d.Routes {
		got = append(got, r.ID)
	}
	if strings.Join(got, ",") != "r1,r2,r3" {
		t.Errorf("routes = %v, want r1,r2,r3", got)
	}
	if d.Integrations[0] != i2 || d.Integrations[1] != i1 {
		t.Error("integrations are not sorted by ID")
	}
	if routes[0].ID != "r2" {
		t.Error("NewDeployment reordered the caller's slice")
	}
	if d.Route("r2") != routes[0] || d.Route("r9") != nil {
		t.Error("Route lookup is wrong")
	}
	if d.Integration("i1") != i1 || d.Integration("i9") != nil {
		t.Error("Integration lookup is wrong")
	}
	var none *Deployment
	if none.Route("r1") != nil || none.Integration("i1") != nil {
		t.Error("nil Deployment found something")
	}
}

func TestNewDeploymentRejects(t *testing.T) {
	ok := proxy("i1")
	outside := proxy("i1") // same ID, different value: not the deployment's
	route := func(id, method, path string, in *Integration) *Route {
		return &Route{ID: id, Method: method, Path: mustPath(t, path), Integration: in}
	}
	withProxy := func(h HTTPProxy) *Integration { return &Integration{ID: "i2", HTTPProxy: &h} }
	good := HTTPProxy{URI: "http://b.example", Timeout: time.Second}
	tests := map[string]struct {
		id     string
		routes []*Route
		ints   []*Integration
		want   string
	}{
		"empty id":             {want: "deployment id is empty"},
		"same shape":           {id: "d", routes: []*Route{route("a", "GET", "/p/{x}", ok), route("b", "GET", "/p/{y}", ok)}, ints: []*Integration{ok}, want: `routes "a" and "b" both match GET /p/{}`},
		"duplicate route":      {id: "d", routes: []*Route{route("a", "GET", "/x", ok), route("a", "PUT", "/x", ok)}, ints: []*Integration{ok}, want: "appears twice"},
		"empty route id":       {id: "d", routes: []*Route{route("", "GET", "/x", ok)}, ints: []*Integration{ok}, want: "empty"},
		"nil route":            {id: "d", routes: []*Route{nil}, want: "nil route"},
		"bad method":           {id: "d", routes: []*Route{route("a", "get", "/x", ok)}, ints: []*Integration{ok}, want: `invalid method "get"`},
		"no integration":       {id: "d", routes: []*Route{route("a", "GET", "/x", nil)}, want: "not part of the deployment"},
		"foreign integration":  {id: "d", routes: []*Route{route("a", "GET", "/x", outside)}, ints: []*Integration{ok}, want: "not part of the deployment"},
		"duplicate int":        {id: "d", ints: []*Integration{ok, outside}, want: `integration "i1" appears twice`},
		"nil integration":      {id: "d", ints: []*Integration{nil}, want: "nil integration"},
		"empty integration id": {id: "d", ints: []*Integration{{Mock: &Mock{StatusCode: 200}}}, want: "id is empty"},
		"no kind":              {id: "d", ints: []*Integration{{ID: "i"}}, want: "no kind"},
		"two kinds":            {id: "d", ints: []*Integration{{ID: "i", HTTPProxy: &good, Mock: &Mock{StatusCode: 200}}}, want: "more than one kind"},
		"mock status":          {id: "d", ints: []*Integration{{ID: "i", Mock: &Mock{StatusCode: 600}}}, want: "mock status code 600"},
		"not http":             {id: "d", ints: []*Integration{withProxy(HTTPProxy{URI: "ftp://user:secret@h", Timeout: time.Second})}, want: "must be an http or https URL"},
		"no scheme":            {id: "d", ints: []*Integration{withProxy(HTTPProxy{URI: "backend", Timeout: time.Second})}, want: "must be an http or https URL"},
		"proxy method ANY":     {id: "d", ints: []*Integration{withProxy(HTTPProxy{URI: "http://h", Method: "ANY", Timeout: time.Second})}, want: `method "ANY"`},
		"unresolved timeout":   {id: "d", ints: []*Integration{withProxy(HTTPProxy{URI: "http://h"})}, want: "timeout 0s is outside"},
		"timeout too long":     {id: "d", ints: []*Integration{withProxy(HTTPProxy{URI: "http://h", Timeout: MaxTimeout + 1})}, want: "is outside"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewDeployment(tc.id, tc.routes, tc.ints)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewDeployment error = %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q leaks the URI's credentials", err)
			}
		})
	}
}

func TestNewDeploymentAcceptsBoundaries(t *testing.T) {
	tests := map[string]*Integration{
		"min timeout":   {ID: "i", HTTPProxy: &HTTPProxy{URI: "HTTPS://h", Method: "POST", Timeout: MinTimeout}},
		"max timeout":   {ID: "i", HTTPProxy: &HTTPProxy{URI: "http://h", Timeout: MaxTimeout}},
		"mock 100":      {ID: "i", Mock: &Mock{StatusCode: 100}},
		"mock 599":      {ID: "i", Mock: &Mock{StatusCode: 599}},
		"empty deploys": nil,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			var ints []*Integration
			if in != nil {
				ints = append(ints, in)
			}
			if _, err := NewDeployment("d", nil, ints); err != nil {
				t.Fatal(err)
			}
		})
	}
}
