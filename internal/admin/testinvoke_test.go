package admin

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestTestInvokeRouteRefuses checks what TestInvokeRoute refuses before
// any invoker runs: bad fields, unknown records, and a server without an
// invoker. (internal/testinvoke's tests run the RPC with the real
// invoker.)
func TestTestInvokeRouteRefuses(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "invoke")
	in := e.mustMock(t, api.GetId(), "mock")
	route := e.mustRoute(t, api.GetId(), "GET", "/pets/{id}/toys/{rest+}", in.GetId())
	anyRoute := e.mustRoute(t, api.GetId(), "ANY", "/any", in.GetId())
	valid := func() *adminv1.TestInvokeRouteRequest {
		return &adminv1.TestInvokeRouteRequest{ApiId: api.GetId(), RouteId: route.GetId(), PathWithQueryString: "/pets/7/toys/a/b?x=1"}
	}
	tests := map[string]struct {
		change func(r *adminv1.TestInvokeRouteRequest)
		code   codes.Code
		fields []string
	}{
		"bad ids": {
			change: func(r *adminv1.TestInvokeRouteRequest) { r.ApiId, r.RouteId = "x", "../y" },
			code:   codes.InvalidArgument, fields: []string{"api_id", "route_id"},
		},
		"relative path": {
			change: func(r *adminv1.TestInvokeRouteRequest) { r.PathWithQueryString = "pets/7" },
			code:   codes.InvalidArgument, fields: []string{"path_with_query_string"},
		},
		"path with a space and a fragment": {
			change: func(r *adminv1.TestInvokeRouteRequest) { r.PathWithQueryString = "/pets/7 x#f" },
			code:   codes.InvalidArgument, fields: []string{"path_with_query_string"},
		},
		"path not matching the route": {
			change: func(r *adminv1.TestInvokeRouteRequest) { r.PathWithQueryString = "/pets/7?toys=a" },
			code:   codes.InvalidArgument, fields: []string{"path_with_query_string"},
		},
		"empty parameter segment": {
			change: func(r *adminv1.TestInvokeRouteRequest) { r.PathWithQueryString = "/pets//toys/a" },
			code:   codes.InvalidArgument, fields: []string{"path_with_query_string"},
		},
		"method ANY": {
			change: func(r *adminv1.TestInvokeRouteRequest) { r.Method = "ANY" },
			code:   codes.InvalidArgument, fields: []string{"method"},
		},
		"method of another route": {
			change: func(r *adminv1.TestInvokeRouteRequest) { r.Method = "POST" },
			code:   codes.InvalidArgument, fields: []string{"method"},
		},
		"bad headers": {
			change: func(r *adminv1.TestInvokeRouteRequest) {
				r.Headers = []*adminv1.HeaderValue{
					{Name: "x y", Value: "1"}, {Name: "Content-Length", Value: "3"}, {Name: "x-ok", Value: "a\r\nb"},
				}
			},
			code: codes.InvalidArgument, fields: []string{"headers[0].name", "headers[1].name", "headers[2].value"},
		},
		"bad stage and variables": {
			change: func(r *adminv1.TestInvokeRouteRequest) {
				r.Stage, r.StageVariables = "a.b", map[string]string{"bad-name": "v"}
			},
			code: codes.InvalidArgument, fields: []string{"stage", `stage_variables["bad-name"]`},
		},
		"unknown api": {
			change: func(r *adminv1.TestInvokeRouteRequest) { r.ApiId = "nosuchapi0" },
			code:   codes.NotFound,
		},
		"unknown route": {
			change: func(r *adminv1.TestInvokeRouteRequest) { r.RouteId = "nosuchrte0" },
			code:   codes.NotFound,
		},
		"unknown stage": {
			change: func(r *adminv1.TestInvokeRouteRequest) { r.Stage = "prod" },
			code:   codes.NotFound,
		},
		"no invoker": {code: codes.FailedPrecondition},
		"any route, any method": {
			change: func(r *adminv1.TestInvokeRouteRequest) {
				r.RouteId, r.PathWithQueryString, r.Method = anyRoute.GetId(), "/any", "DELETE"
			},
			code: codes.FailedPrecondition,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := valid()
			if tc.change != nil {
				tc.change(req)
			}
			_, err := e.TestInvokeRoute(e.ctx, req)
			if tc.fields != nil {
				wantViolations(t, err, tc.fields...)
				return
			}
			wantCode(t, err, tc.code)
			if tc.code == codes.FailedPrecondition {
				wantPrecondition(t, err, failureNotConfigured)
			}
		})
	}
}

func TestMatchesTemplate(t *testing.T) {
	tests := map[string]struct {
		template, target string
		want             bool
	}{
		"root":             {"/", "/?a=1", true},
		"root vs path":     {"/", "/a", false},
		"literal":          {"/pets", "/pets", true},
		"trailing slash":   {"/pets", "/pets/", false},
		"param":            {"/pets/{id}", "/pets/a%2Fb", true},
		"missing param":    {"/pets/{id}", "/pets", false},
		"greedy":           {"/{proxy+}", "/a/b/c?x", true},
		"greedy needs one": {"/pets/{p+}", "/pets", false},
		"other literal":    {"/pets/{id}", "/cats/1", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tmpl, ok := (&violations{}).path("path", tc.template)
			if !ok {
				t.Fatalf("template %q does not parse", tc.template)
			}
			if got := matchesTemplate(tmpl, tc.target); got != tc.want {
				t.Errorf("matchesTemplate(%q, %q) = %v, want %v", tc.template, tc.target, got, tc.want)
			}
		})
	}
}

// TestTestInvokeBodyLimit checks the body's limit directly: a request
// that large is over gRPC's default message size, which this package's
// test server keeps (archway serve's admin API takes MaxRequestBytes).
func TestTestInvokeBodyLimit(t *testing.T) {
	v := newViolations(&adminv1.TestInvokeRouteRequest{})
	validateTestInvoke(v, &adminv1.TestInvokeRouteRequest{
		ApiId: "x", RouteId: "abcdefghij", PathWithQueryString: "/", Body: make([]byte, maxTestBody+1),
	})
	err := v.err()
	wantViolations(t, err, "api_id", "body")
	if !strings.Contains(err.Error(), "invalid TestInvokeRouteRequest: api_id") {
		t.Errorf("error %v, want one naming api_id first", err)
	}
}

// TestTestInvokeLargestRequest checks that the largest request
// validateTestInvoke accepts (body, headers, path and stage variables all
// at their limits) fits in MaxRequestBytes, the message size servers of
// the admin API take.
func TestTestInvokeLargestRequest(t *testing.T) {
	req := &adminv1.TestInvokeRouteRequest{
		ApiId: "abcdefghij", RouteId: "abcdefghij", Method: "POST",
		PathWithQueryString: "/" + strings.Repeat("p", maxTestPath-1),
		Body:                make([]byte, maxTestBody),
		Stage:               "prod", StageVariables: map[string]string{},
	}
	for i := range maxTestHeaders {
		name := fmt.Sprintf("x-h%03d", i)
		req.Headers = append(req.Headers, &adminv1.HeaderValue{
			Name: name, Value: strings.Repeat("v", maxTestHeaderBytes/maxTestHeaders-len(name)),
		})
	}
	for i := range maxVariables {
		name := fmt.Sprintf("v%0*d", maxVariableName-1, i)
		req.StageVariables[name] = strings.Repeat("a", maxVariableValue)
	}
	v := newViolations(req)
	validateTestInvoke(v, req)
	if err := v.err(); err != nil {
		t.Fatalf("the largest request is refused: %v", err)
	}
	if n := proto.Size(req); n > MaxRequestBytes {
		t.Errorf("the largest request is %d bytes, over MaxRequestBytes (%d)", n, MaxRequestBytes)
	}
}
