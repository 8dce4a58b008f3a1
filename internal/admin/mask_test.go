package admin

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/google/go-cmp/cmp"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func TestUpdatePaths(t *testing.T) {
	mutable := []string{"name", "description", "tags"}
	md := (&adminv1.Api{}).ProtoReflect().Descriptor()
	tests := map[string]struct {
		paths     []string
		want      []string
		violation bool
	}{
		"empty mask is every mutable field": {paths: nil, want: mutable},
		"subset":                            {paths: []string{"tags", "name"}, want: []string{"tags", "name"}},
		"duplicates collapse":               {paths: []string{"tags", "tags"}, want: []string{"tags"}},
		"unknown field":                     {paths: []string{"tags", "colour"}, want: []string{"tags"}, violation: true},
		"immutable field":                   {paths: []string{"id"}, violation: true},
		"nested path":                       {paths: []string{"tags.team"}, violation: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := &violations{request: "Test"}
			var mask *fieldmaskpb.FieldMask
			if tc.paths != nil {
				mask = &fieldmaskpb.FieldMask{Paths: tc.paths}
			}
			got := v.updatePaths("update_mask", mask, md, mutable)
			if !slices.Equal(got, tc.want) {
				t.Errorf("paths = %q, want %q", got, tc.want)
			}
			if v.ok() == tc.violation {
				t.Errorf("violations = %v, want violation %v", v.list, tc.violation)
			}
			for _, f := range fieldsOf(v) {
				if f != "update_mask" {
					t.Errorf("violation of %q, want update_mask", f)
				}
			}
		})
	}
}

func TestApplyPaths(t *testing.T) {
	proxy := &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{Uri: "http://h/"}}
	mock := &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200}}
	tests := map[string]struct {
		dst, src, want *adminv1.Integration
		paths          []string
	}{
		"scalar and map": {
			dst:   &adminv1.Integration{Id: "a", Name: "old", Description: "keep", Tags: map[string]string{"x": "1"}},
			src:   &adminv1.Integration{Id: "b", Name: "new", Description: "drop", Tags: map[string]string{"y": "2"}},
			paths: []string{"name", "tags"},
			want:  &adminv1.Integration{Id: "a", Name: "new", Description: "keep", Tags: map[string]string{"y": "2"}},
		},
		"missing value clears": {
			dst:   &adminv1.Integration{Name: "n", Tags: map[string]string{"x": "1"}},
			src:   &adminv1.Integration{},
			paths: []string{"tags"},
			want:  &adminv1.Integration{Name: "n"},
		},
		"oneof member switches kind": {
			dst:   &adminv1.Integration{Kind: mock},
			src:   &adminv1.Integration{Kind: proxy},
			paths: []string{"http_proxy"},
			want:  &adminv1.Integration{Kind: proxy},
		},
		"oneof member replaces whole oneof": {
			dst:   &adminv1.Integration{Kind: proxy},
			src:   &adminv1.Integration{Kind: mock},
			paths: []string{"http_proxy"},
			want:  &adminv1.Integration{Kind: mock},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			applyPaths(tc.dst, tc.src, tc.paths)
			if d := cmp.Diff(tc.want, tc.dst, protocmp.Transform()); d != "" {
				t.Errorf("after applyPaths (-want +got):\n%s", d)
			}
		})
	}
}

func TestApplyPathsDoesNotShare(t *testing.T) {
	src := &adminv1.Integration{Tags: map[string]string{"x": "1"}, Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200}}}
	dst := &adminv1.Integration{}
	applyPaths(dst, src, []string{"tags", "mock"})
	src.Tags["x"] = "changed"
	src.GetMock().StatusCode = 500
	want := &adminv1.Integration{Tags: map[string]string{"x": "1"}, Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200}}}
	if !proto.Equal(dst, want) {
		t.Errorf("dst changed with src: %v", dst)
	}
}
