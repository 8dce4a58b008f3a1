package admin

import (
	"context"
	"errors"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Limits of a test invocation's request, as Envoy's defaults for a
// client's request: at most 100 header fields (max_headers_count) of 60
// KiB in all (max_request_headers_kb), and API Gateway's 10 MB payload.
const (
	maxTestHeaders     = 100
	maxTestHeaderBytes = 60 << 10
	maxTestBody        = 10 << 20
	maxTestPath        = 8 << 10
)

// MaxRequestBytes is the largest request message the admin API takes: a
// TestInvokeRoute request with a body of maxTestBody, and a MiB for its
// headers (at most maxTestHeaderBytes), path and other fields. A server of
// the admin API raises gRPC's default of 4 MiB to it; every other call is
// small.
const MaxRequestBytes = maxTestBody + 1<<20

// TestInvokeStageName is the stage a test invocation without a stage
// names, as AWS's TestInvokeMethod does in $context.stage and the
// function's event.
const TestInvokeStageName = "test-invoke-stage"

// TestInvocation is one TestInvokeRoute request, checked, with the records
// it runs through: the API, the route and its integration as they are
// defined now, deployed or not.
type TestInvocation struct {
	API         *adminv1.Api
	Route       *adminv1.Route
	Integration *adminv1.Integration
	// Stage is the stage name the request sees (TestInvokeStageName when
	// the request named none), and StageVariables its variables: the
	// request's, else the stage's.
	Stage          string
	StageVariables map[string]string
	// Method is the request's method: the one asked for, else the
	// route's (GET for ANY).
	Method string
	// PathWithQueryString matches the route's path; it does not hold the
	// stage.
	PathWithQueryString string
	Headers             []*adminv1.HeaderValue
	Body                []byte
}

// TestInvoker runs test invocations the way the data plane would run the
// request (Envoy and Archway's ext_proc service), calling the integration
// for real. An error that is a gRPC status is returned to the client as
// it is (FAILED_PRECONDITION for a route the gateway could not serve);
// any other is logged and reported as INTERNAL.
type TestInvoker interface {
	TestInvoke(ctx context.Context, inv *TestInvocation) (*adminv1.TestInvokeRouteResponse, error)
}

// TestInvokeRoute runs one request through a route as it is defined now,
// as AWS's TestInvokeMethod: see TestInvoker. Authorization, API keys and
// throttling are skipped.
func (s *Server) TestInvokeRoute(ctx context.Context, req *adminv1.TestInvokeRouteRequest) (*adminv1.TestInvokeRouteResponse, error) {
	v := newViolations(req)
	validateTestInvoke(v, req)
	if !v.ok() {
		return nil, v.err()
	}
	st, err := s.store.ReadAPI(ctx, req.GetApiId())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, notFound("api", req.GetApiId(), "")
	case err != nil:
		return nil, s.storeError(ctx, err)
	}
	inv, err := testInvocation(st, req, v)
	if err != nil {
		return nil, err
	}
	if s.testInvoker == nil {
		return nil, failedPrecondition(failureNotConfigured, "test invoke",
			"this server runs without test invocations: no invoker is configured")
	}
	resp, err := s.testInvoker.TestInvoke(ctx, inv)
	if err == nil {
		return resp, nil
	}
	if _, ok := status.FromError(err); ok {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, s.storeError(ctx, ctx.Err())
	}
	s.log.ErrorContext(ctx, "test invocation failed", "api_id", req.GetApiId(), "route_id", req.GetRouteId(), "error", err)
	return nil, status.Error(codes.Internal, "internal error")
}

// validateTestInvoke checks the fields of a test invocation that need no
// record.
func validateTestInvoke(v *violations, req *adminv1.TestInvokeRouteRequest) {
	v.id("api_id", req.GetApiId())
	v.id("route_id", req.GetRouteId())
	if p := req.GetPathWithQueryString(); !validRequestTarget(p) {
		v.add("path_with_query_string", "must be a path starting with \"/\" of at most %d printable ASCII characters, with an optional query string and no fragment, got %q", maxTestPath, p)
	}
	if m := req.GetMethod(); m != "" && (!model.ValidMethod(m) || m == model.MethodAny) {
		v.add("method", "must be empty (the route's) or one of %s, got %q",
			strings.Join(slices.DeleteFunc(model.Methods(), func(m string) bool { return m == model.MethodAny }), ", "), m)
	}
	v.testHeaders("headers", req.GetHeaders())
	if n := len(req.GetBody()); n > maxTestBody {
		v.add("body", "must be at most %d bytes, API Gateway's payload limit, got %d", maxTestBody, n)
	}
	if req.GetStage() != "" {
		v.stageName("stage", req.GetStage())
	}
	v.variables("stage_variables", req.GetStageVariables())
}

// testHeaders checks a test request's header fields: HTTP field names and
// values (RFC 9110, section 5), neither pseudo-headers nor the framing the
// body decides.
func (v *violations) testHeaders(field string, hs []*adminv1.HeaderValue) {
	if len(hs) > maxTestHeaders {
		v.add(field, "at most %d header fields are allowed, got %d", maxTestHeaders, len(hs))
	}
	size := 0
	for i, h := range hs {
		f := listField(field, i)
		name := strings.ToLower(h.GetName())
		size += len(h.GetName()) + len(h.GetValue())
		switch {
		case !httpguts.ValidHeaderFieldName(name):
			v.add(f+".name", "must be an HTTP field name (letters, digits and !#$%%&'*+-.^_`|~), got %q", h.GetName())
		case name == "content-length" || name == "transfer-encoding":
			v.add(f+".name", "%s is set from the body", name)
		}
		if !httpguts.ValidHeaderFieldValue(h.GetValue()) {
			v.add(f+".value", "must not contain control characters")
		}
	}
	if size > maxTestHeaderBytes {
		v.add(field, "must be at most %d bytes in all, got %d", maxTestHeaderBytes, size)
	}
}

// validRequestTarget reports whether p is an origin-form request target:
// an absolute path and an optional query string, printable ASCII, without
// a fragment, which clients never send.
func validRequestTarget(p string) bool {
	if p == "" || p[0] != '/' || len(p) > maxTestPath || strings.ContainsRune(p, '#') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] >= 0x7f {
			return false
		}
	}
	return true
}

// testInvocation finds the route, its integration and the stage of req in
// the API's records, and checks the request's method and path against the
// route.
func testInvocation(st *store.APIState, req *adminv1.TestInvokeRouteRequest, v *violations) (*TestInvocation, error) {
	apiID := req.GetApiId()
	i := slices.IndexFunc(st.Routes, func(r *adminv1.Route) bool { return r.GetId() == req.GetRouteId() })
	if i < 0 {
		return nil, notFound("route", req.GetRouteId(), apiID)
	}
	route := st.Routes[i]
	i = slices.IndexFunc(st.Integrations, func(in *adminv1.Integration) bool { return in.GetId() == route.GetIntegrationId() })
	if i < 0 {
		return nil, failedPrecondition(failureNotConfigured, "route "+route.GetId(),
			"route %s refers to integration %s, which does not exist", route.GetId(), route.GetIntegrationId())
	}
	inv := &TestInvocation{
		API: st.API, Route: route, Integration: st.Integrations[i],
		Stage: TestInvokeStageName, StageVariables: req.GetStageVariables(),
		Method: testMethod(v, req.GetMethod(), route, st.API.GetProtocol()), PathWithQueryString: req.GetPathWithQueryString(),
		Headers: req.GetHeaders(), Body: req.GetBody(),
	}
	if t, err := model.ParsePathTemplate(route.GetPath()); err == nil && !matchesTemplate(t, req.GetPathWithQueryString()) {
		v.add("path_with_query_string", "path %q does not match the route's path %s", pathOnly(req.GetPathWithQueryString()), route.GetPath())
	}
	if !v.ok() {
		return nil, v.err()
	}
	if name := req.GetStage(); name != "" {
		i = slices.IndexFunc(st.Stages, func(s *adminv1.Stage) bool { return s.GetName() == name })
		if i < 0 {
			return nil, notFound("stage", name, apiID)
		}
		inv.Stage = name
		if len(inv.StageVariables) == 0 {
			inv.StageVariables = st.Stages[i].GetVariables()
		}
	}
	return inv, nil
}

// testMethod is the method a test request uses: the one asked for, which
// the route must match, else the route's (GET for an ANY route). A GET
// route of an HTTP API also serves HEAD, as the translator routes it.
func testMethod(v *violations, m string, route *adminv1.Route, p adminv1.Protocol) string {
	rm := route.GetMethod()
	switch {
	case m == "" && rm == model.MethodAny:
		return "GET"
	case m == "":
		return rm
	case m != rm && rm != model.MethodAny && (m != "HEAD" || rm != "GET" || p != adminv1.Protocol_PROTOCOL_HTTP):
		v.add("method", "route %s does not match method %s", routeName(rm, route.GetPath()), m)
	}
	return m
}

// pathOnly is a request target without its query string.
func pathOnly(target string) string {
	p, _, _ := strings.Cut(target, "?")
	return p
}

// matchesTemplate reports whether the path of target matches t as Envoy's
// route does: segment by segment, a parameter matching one non-empty
// segment and a greedy parameter the rest of the path.
func matchesTemplate(t model.PathTemplate, target string) bool {
	_, ok := t.Match(pathOnly(target))
	return ok
}
