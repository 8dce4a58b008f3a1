package model

import (
	"slices"
	"strings"
	"testing"
)

func TestParsePathTemplate(t *testing.T) {
	tests := map[string]struct {
		in     string
		shape  string
		params []string
		greedy bool
		err    string // substring of the error; empty means valid
	}{
		"root":              {in: "/", shape: "/"},
		"literal":           {in: "/pets", shape: "/pets"},
		"param":             {in: "/pets/{petId}", shape: "/pets/{}", params: []string{"petId"}},
		"greedy":            {in: "/{proxy+}", shape: "/{+}", params: []string{"proxy"}, greedy: true},
		"mixed":             {in: "/a/{b}/c/{d_1+}", shape: "/a/{}/c/{+}", params: []string{"b", "d_1"}, greedy: true},
		"sub-delims":        {in: "/a-b.c_d~e!$&'()*+,;=:@", shape: "/a-b.c_d~e!$&'()*+,;=:@"},
		"empty":             {in: "", err: "empty"},
		"relative":          {in: "pets", err: `must start with "/"`},
		"trailing slash":    {in: "/pets/", err: "empty segment"},
		"double slash":      {in: "//pets", err: "empty segment"},
		"dot":               {in: "/a/./b", err: `"." and ".."`},
		"dot dot":           {in: "/..", err: `"." and ".."`},
		"greedy not last":   {in: "/{p+}/x", err: "must be the last segment"},
		"duplicate param":   {in: "/{a}/{a+}", err: "appears twice"},
		"partial param":     {in: "/pet{id}", err: "not allowed"},
		"unclosed param":    {in: "/{id", err: "whole segment"},
		"empty param":       {in: "/{}", err: "whole segment"},
		"bad param name":    {in: "/{1a}", err: "must match"},
		"only plus":         {in: "/{+}", err: "must match"},
		"percent":           {in: "/a%20b", err: "not allowed"},
		"space":             {in: "/a b", err: "not allowed"},
		"query":             {in: "/a?b", err: "not allowed"},
		"too long":          {in: "/" + strings.Repeat("a", MaxPathLength), err: "longer than"},
		"longest":           {in: "/" + strings.Repeat("a", MaxPathLength-1), shape: "/" + strings.Repeat("a", MaxPathLength-1)},
		"non-ascii literal": {in: "/caf\u00e9", err: "not allowed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := ParsePathTemplate(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParsePathTemplate(%q) error = %v, want one containing %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePathTemplate(%q): %v", tc.in, err)
			}
			if got := p.String(); got != tc.in {
				t.Errorf("String() = %q, want %q", got, tc.in)
			}
			if got := p.Shape(); got != tc.shape {
				t.Errorf("Shape() = %q, want %q", got, tc.shape)
			}
			if got := p.Params(); !slices.Equal(got, tc.params) {
				t.Errorf("Params() = %q, want %q", got, tc.params)
			}
			if got := p.Greedy(); got != tc.greedy {
				t.Errorf("Greedy() = %v, want %v", got, tc.greedy)
			}
		})
	}
}

// FuzzParsePathTemplate checks that parsing never panics and that every
// accepted template prints as its input and parses back to the same
// template, so that what the admin API stores is exactly what is served.
func FuzzParsePathTemplate(f *testing.F) {
	for _, s := range []string{"/", "/pets", "/pets/{petId}", "/{proxy+}", "/a/{b}/c/{d+}", "//", "/{a}/{a}", "/{", "/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePathTemplate(s)
		if err != nil {
			return
		}
		if got := p.String(); got != s {
			t.Fatalf("ParsePathTemplate(%q).String() = %q", s, got)
		}
		again, err := ParsePathTemplate(p.String())
		if err != nil {
			t.Fatalf("reparse of %q: %v", s, err)
		}
		if !slices.Equal(again.Segments, p.Segments) {
			t.Fatalf("reparse of %q gave %v, want %v", s, again.Segments, p.Segments)
		}
		if len(p.Shape()) > len(s) {
			t.Fatalf("Shape() %q is longer than the template %q", p.Shape(), s)
		}
	})
}

func TestPathTemplateMatch(t *testing.T) {
	tests := []struct {
		template, path string
		want           []PathParam
		ok             bool
	}{
		{"/", "/", nil, true},
		{"/", "", nil, true},
		{"/", "/pets", nil, false},
		{"/pets", "/pets", nil, true},
		{"/pets", "/pets/", nil, false},
		{"/pets/{id}", "/pets/a%20b", []PathParam{{"id", "a%20b"}}, true},
		{"/pets/{id}", "/pets/", nil, false},
		{"/pets/{id}", "/pets/1/2", nil, false},
		{"/pets/{id}/toys/{toy}", "/pets/1/toys/ball", []PathParam{{"id", "1"}, {"toy", "ball"}}, true},
		{"/files/{proxy+}", "/files/a/b/c", []PathParam{{"proxy", "a/b/c"}}, true},
		{"/files/{proxy+}", "/files", nil, false},
		{"/files/{proxy+}", "/files/", nil, false},
		{"/{proxy+}", "/x", []PathParam{{"proxy", "x"}}, true},
		{"/Pets", "/pets", nil, false},
	}
	for _, tc := range tests {
		tmpl, err := ParsePathTemplate(tc.template)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := tmpl.Match(tc.path)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("%s.Match(%q) = %v, %v; want %v, %v", tc.template, tc.path, got, ok, tc.want, tc.ok)
		}
	}
}
