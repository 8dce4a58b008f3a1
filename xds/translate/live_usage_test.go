package translate

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
)

// usageServices stands in for Archway's Envoy-facing gRPC port: an
// ext_authz Authorization service that admits the API key "good", and a
// rate-limit service that admits usageBurst requests per descriptor and
// then answers OVER_LIMIT as Archway's does. Both record what Envoy asked.
type usageServices struct {
	authv3.UnimplementedAuthorizationServer
	rlsv3.UnimplementedRateLimitServiceServer

	mu     sync.Mutex
	checks []*authv3.CheckRequest
	limits []*rlsv3.RateLimitRequest
	used   map[string]uint32
}

// usageBurst is how many requests usageServices admits per descriptor.
const usageBurst = 2

// Check admits requests with x-api-key: good and tells the backend the
// key's ID in an x-archway- header, as Archway's authz service does.
func (s *usageServices) Check(_ context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	s.mu.Lock()
	s.checks = append(s.checks, req)
	s.mu.Unlock()
	if req.GetAttributes().GetRequest().GetHttp().GetHeaders()["x-api-key"] != "good" {
		return &authv3.CheckResponse{
			Status: &rpcstatus.Status{Code: int32(codes.PermissionDenied)},
			HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status: &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden},
				Body:   `{"message":"Forbidden"}`,
			}},
		}, nil
	}
	return &authv3.CheckResponse{
		Status: &rpcstatus.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
			Headers: []*corev3.HeaderValueOption{setHeader("x-archway-api-key-id", "key1")},
		}},
	}, nil
}

// ShouldRateLimit counts requests per descriptor value.
func (s *usageServices) ShouldRateLimit(_ context.Context, req *rlsv3.RateLimitRequest) (*rlsv3.RateLimitResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, req)
	resp := &rlsv3.RateLimitResponse{OverallCode: rlsv3.RateLimitResponse_OK}
	for _, d := range req.GetDescriptors() {
		value := d.GetEntries()[0].GetValue()
		s.used[value]++
		st := &rlsv3.RateLimitResponse_DescriptorStatus{
			Code:         rlsv3.RateLimitResponse_OK,
			CurrentLimit: &rlsv3.RateLimitResponse_RateLimit{RequestsPerUnit: usageBurst, Unit: rlsv3.RateLimitResponse_RateLimit_SECOND},
		}
		if s.used[value] > usageBurst {
			st.Code, resp.OverallCode = rlsv3.RateLimitResponse_OVER_LIMIT, rlsv3.RateLimitResponse_OVER_LIMIT
		} else {
			st.LimitRemaining = usageBurst - s.used[value]
		}
		resp.Statuses = append(resp.Statuses, st)
	}
	if resp.OverallCode == rlsv3.RateLimitResponse_OVER_LIMIT {
		resp.RawBody = []byte(`{"message":"Too Many Requests"}`)
		resp.ResponseHeadersToAdd = []*corev3.HeaderValue{{Key: "content-type", Value: "application/json"}}
	}
	return resp, nil
}

// take returns and forgets what Envoy asked since the last take.
func (s *usageServices) take() ([]*authv3.CheckRequest, []*rlsv3.RateLimitRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	checks, limits := s.checks, s.limits
	s.checks, s.limits = nil, nil
	return checks, limits
}

// TestEnvoyEnforcesKeysAndThrottles runs the real Envoy on a translation
// of testdata/live/usage.yaml with the bootstrap's services cluster
// pointing at usageServices over loopback, and checks that only
// key-required routes and throttled mocks call ext_authz (with the route's
// IDs), only throttled proxied routes call the rate-limit service (with the route's
// descriptor), that both refusals reach the client, and the failure modes
// once the services are gone: ext_authz closed (503), throttles open.
func TestEnvoyEnforcesKeysAndThrottles(t *testing.T) {
	bin := testenvoy.Binary(t)
	backend := httptest.NewServer(http.HandlerFunc(echoHandler))
	t.Cleanup(backend.Close)
	svc := &usageServices{used: make(map[string]uint32)}
	srv := grpc.NewServer()
	authv3.RegisterAuthorizationServer(srv, svc)
	rlsv3.RegisterRateLimitServiceServer(srv, svc)
	gateway := startLiveGateway(t, bin, "usage.yaml", strings.TrimPrefix(backend.URL, "http://"), serveGRPC(t, srv))
	const host = "liveusage1.execute-api.localhost"
	// Clients cannot pose as what ext_authz tells the backend.
	forged := http.Header{"X-Archway-Api-Key-Id": {"forged"}}
	key := http.Header{"X-Api-Key": {"good"}, "X-Archway-Api-Key-Id": {"forged"}}

	// Steps, not cases: the throttle counts requests across them.
	steps := []usageStep{
		{name: "key required, none given", path: "/prod/keyed", header: forged, status: 403, body: `{"message":"Forbidden"}`, checked: "keyed", descriptor: ""},
		{name: "key required, good key", path: "/prod/keyed", header: key, status: 200, checked: "keyed", descriptor: "liveusage1/prod/keyed"},
		{name: "key required on a mock", path: "/prod/keyed-mock", status: 403, checked: "keyed-mock"},
		{name: "key required on a mock, good key", path: "/prod/keyed-mock", header: key, status: 200, body: `{"mock":true}`, checked: "keyed-mock"},
		{name: "throttled, first", path: "/prod/open", status: 200, descriptor: "liveusage1/prod/open"},
		{name: "throttled, second", path: "/prod/open", status: 200, descriptor: "liveusage1/prod/open"},
		{name: "throttled, over", path: "/prod/open", status: 429, body: `{"message":"Too Many Requests"}`, descriptor: "liveusage1/prod/open"},
		{name: "route exempt from the stage throttle", path: "/prod/free", header: forged, status: 200},
		{name: "stage without a throttle", path: "/dev/open", status: 200},
		// Envoy's rate-limit filter skips direct responses, so ext_authz
		// throttles mocks: a key is sent, and the stand-in admits it.
		{name: "throttled stage, mock", path: "/prod/mock", header: key, status: 200, body: `{"mock":true}`, checked: "mock"},
	}
	for _, step := range steps {
		resp, data := send(t, gateway, "GET", host, step.path, "", step.header)
		checks, limits := svc.take()
		if resp.StatusCode != step.status || step.body != "" && string(data) != step.body {
			t.Errorf("%s: %d %q, want %d %q", step.name, resp.StatusCode, data, step.status, step.body)
		}
		checkAuthzCalls(t, step.name, checks, step.checked)
		checkRateLimitCalls(t, step.name, limits, step.descriptor)
		checkUsageHeaders(t, step, resp, data)
	}

	srv.Stop()
	for path, want := range map[string]int{"/prod/keyed": http.StatusServiceUnavailable, "/prod/open": http.StatusOK} {
		if resp, data := send(t, gateway, "GET", host, path, "", key); resp.StatusCode != want {
			t.Errorf("Archway down: %s answers %d %q, want %d", path, resp.StatusCode, data, want)
		}
	}
}

// usageStep is one request through the gateway and what it must cause.
type usageStep struct {
	name       string
	path       string
	header     http.Header
	status     int
	body       string // exact response body, when not proxied
	checked    string // route_id ext_authz must have been asked about; empty: not called
	descriptor string // descriptor value the service must have been asked about; empty: not called
}

// checkAuthzCalls asserts that ext_authz asked about routeID alone, with
// the route's IDs as context_extensions and the client's headers less the
// x-archway-* ones, or that it was not called when routeID is empty.
func checkAuthzCalls(t *testing.T, step string, checks []*authv3.CheckRequest, routeID string) {
	t.Helper()
	if routeID == "" {
		if len(checks) != 0 {
			t.Errorf("%s: ext_authz was called %d times, want none", step, len(checks))
		}
		return
	}
	if len(checks) != 1 {
		t.Fatalf("%s: ext_authz was called %d times, want once", step, len(checks))
	}
	want := map[string]string{
		envoy.MetadataAPIID: "liveusage1", envoy.MetadataStage: "prod",
		envoy.MetadataRouteID: routeID, envoy.MetadataDeploymentID: "d1",
	}
	if got := checks[0].GetAttributes().GetContextExtensions(); !maps.Equal(got, want) {
		t.Errorf("%s: context_extensions = %v, want %v", step, got, want)
	}
	for name := range checks[0].GetAttributes().GetRequest().GetHttp().GetHeaders() {
		if strings.HasPrefix(name, envoy.InternalHeaderPrefix) {
			t.Errorf("%s: ext_authz saw the client's %s header", step, name)
		}
	}
}

// checkRateLimitCalls asserts that the rate-limit service was asked about
// one descriptor, archway_route = value, in Archway's domain, or that it
// was not called when value is empty.
func checkRateLimitCalls(t *testing.T, step string, limits []*rlsv3.RateLimitRequest, value string) {
	t.Helper()
	if value == "" {
		if len(limits) != 0 {
			t.Errorf("%s: the rate-limit service was called %d times, want none", step, len(limits))
		}
		return
	}
	if len(limits) != 1 {
		t.Fatalf("%s: the rate-limit service was called %d times, want once", step, len(limits))
	}
	req := limits[0]
	if req.GetDomain() != envoy.RateLimitDomain || len(req.GetDescriptors()) != 1 || len(req.GetDescriptors()[0].GetEntries()) != 1 {
		t.Fatalf("%s: rate-limit request %v, want one descriptor of one entry in domain %s", step, req, envoy.RateLimitDomain)
	}
	if e := req.GetDescriptors()[0].GetEntries()[0]; e.GetKey() != envoy.RateLimitRouteKey || e.GetValue() != value {
		t.Errorf("%s: descriptor %s=%s, want %s=%s", step, e.GetKey(), e.GetValue(), envoy.RateLimitRouteKey, value)
	}
}

// checkUsageHeaders asserts what the client and backend see of the two
// services: the draft-03 rate-limit headers on throttled routes, never
// x-envoy-ratelimited, and, at the backend of an authorized request, the
// x-archway-api-key-id header the authz service set, which no filter after
// ext_authz strips.
func checkUsageHeaders(t *testing.T, step usageStep, resp *http.Response, data []byte) {
	t.Helper()
	throttled := step.descriptor != ""
	if got := resp.Header.Get("X-Ratelimit-Limit"); throttled != (got != "") || throttled && !strings.HasPrefix(got, "2") {
		t.Errorf("%s: x-ratelimit-limit = %q (throttled %v)", step.name, got, throttled)
	}
	if got := resp.Header.Get("X-Envoy-Ratelimited"); got != "" {
		t.Errorf("%s: client saw x-envoy-ratelimited: %s", step.name, got)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Upstream") == "" {
		return
	}
	var e echo
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("%s: backend answer %q: %v", step.name, data, err)
	}
	want := ""
	if step.checked != "" {
		want = "key1"
	}
	if got := e.Headers.Get("X-Archway-Api-Key-Id"); got != want {
		t.Errorf("%s: backend saw x-archway-api-key-id %q, want %q", step.name, got, want)
	}
}
