package ratelimit

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	commonrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/testutil/testredis"
)

// testClock is an injected clock the test moves while the service reads it.
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// rlsConfig is the configuration the RLS tests run against:
//
//   - API a1, stage prod: default throttle 1 rps, burst 2; POST /pets has
//     its own, 10 rps, burst 3. Stage dev has no throttle. Both serve GET
//     /pets (rget), POST /pets (rpost) and GET /health (rhealth).
//   - API a2, stage prod: throttle 0 rps, burst 1 (never refills).
func rlsConfig(t testing.TB) *model.Config {
	t.Helper()
	mock := &model.Integration{ID: "i1", Name: "mock", Mock: &model.Mock{StatusCode: 200}}
	route := func(id, method, path string) *model.Route {
		p, err := model.ParsePathTemplate(path)
		if err != nil {
			t.Fatal(err)
		}
		return &model.Route{ID: id, Method: method, Path: p, Integration: mock}
	}
	d, err := model.NewDeployment("d1", []*model.Route{
		route("rget", "GET", "/pets"), route("rpost", "POST", "/pets"), route("rhealth", "GET", "/health"),
	}, []*model.Integration{mock})
	if err != nil {
		t.Fatal(err)
	}
	a1, err := model.NewAPI("a1", "pets", model.ProtocolREST, []*model.Stage{
		{
			Name: "prod", Deployment: d,
			Throttle:       &model.Throttle{Rate: 1, Burst: 2},
			RouteThrottles: map[string]*model.Throttle{"POST /pets": {Rate: 10, Burst: 3}},
		},
		{Name: "dev", Deployment: d},
	})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := model.NewAPI("a2", "frozen", model.ProtocolHTTP, []*model.Stage{
		{Name: "prod", Deployment: d, Throttle: &model.Throttle{Rate: 0, Burst: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.NewConfig(1, []*model.API{a1, a2})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startRLS serves an RLS over lim on 127.0.0.1 and returns a client of it.
func startRLS(t *testing.T, cfg *model.Config, lim *Limiter) rlsv3.RateLimitServiceClient {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	NewRLS(func() *model.Config { return cfg }, lim, nil).Register(srv)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return rlsv3.NewRateLimitServiceClient(conn)
}

// routeRequest asks about the routes named by values, as Envoy's filter does.
func routeRequest(values ...string) *rlsv3.RateLimitRequest {
	req := &rlsv3.RateLimitRequest{Domain: envoy.RateLimitDomain}
	for _, v := range values {
		req.Descriptors = append(req.Descriptors, &commonrlv3.RateLimitDescriptor{
			Entries: []*commonrlv3.RateLimitDescriptor_Entry{{Key: envoy.RateLimitRouteKey, Value: v}},
		})
	}
	return req
}

// rlsStep is one call: after advancing the clock, the one descriptor's status.
type rlsStep struct {
	advance   time.Duration
	code      rlsv3.RateLimitResponse_Code
	limit     uint32
	remaining uint32
	reset     int64 // seconds; -1 for no duration_until_reset
}

func TestRLSThrottle(t *testing.T) {
	const ok, over = rlsv3.RateLimitResponse_OK, rlsv3.RateLimitResponse_OVER_LIMIT
	tests := map[string]struct {
		value string
		steps []rlsStep
	}{
		"stage default: burst, over limit, refill": {
			value: envoy.RateLimitRouteValue("a1", "prod", "rget"),
			steps: []rlsStep{
				{0, ok, 2, 1, 1},
				{0, ok, 2, 0, 2},
				{0, over, 2, 0, 1},
				{500 * time.Millisecond, over, 2, 0, 1}, // half a token: retry in 0.5 s, rounded up
				{500 * time.Millisecond, ok, 2, 0, 2},
				{10 * time.Second, ok, 2, 1, 1},
			},
		},
		"route override replaces the stage default": {
			value: envoy.RateLimitRouteValue("a1", "prod", "rpost"),
			steps: []rlsStep{
				{0, ok, 3, 2, 1},
				{0, ok, 3, 1, 1},
				{0, ok, 3, 0, 1},
				{0, over, 3, 0, 1},
				{100 * time.Millisecond, ok, 3, 0, 1},
			},
		},
		"a bucket that never refills has no reset": {
			value: envoy.RateLimitRouteValue("a2", "prod", "rget"),
			steps: []rlsStep{
				{0, ok, 1, 0, -1},
				{time.Hour, over, 1, 0, -1},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clock := newTestClock(date(2024, 5, 1, 12, 0, 0))
			c := startRLS(t, rlsConfig(t), NewLimiter(NewMemoryStore(), FailClosed, clock.now, nil))
			for i, st := range tc.steps {
				clock.advance(st.advance)
				resp, err := c.ShouldRateLimit(t.Context(), routeRequest(tc.value))
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if resp.GetOverallCode() != st.code || len(resp.GetStatuses()) != 1 {
					t.Fatalf("step %d: got overall %v with %d statuses, want %v with 1", i, resp.GetOverallCode(), len(resp.GetStatuses()), st.code)
				}
				got := resp.GetStatuses()[0]
				reset := int64(-1)
				if got.GetDurationUntilReset() != nil {
					reset = got.GetDurationUntilReset().GetSeconds()
				}
				if got.GetCode() != st.code || got.GetCurrentLimit().GetRequestsPerUnit() != st.limit ||
					got.GetCurrentLimit().GetUnit() != rlsv3.RateLimitResponse_RateLimit_SECOND ||
					got.GetLimitRemaining() != st.remaining || reset != st.reset {
					t.Errorf("step %d: got %v, want code %v limit %d/s remaining %d reset %ds", i, got, st.code, st.limit, st.remaining, st.reset)
				}
			}
		})
	}
}

func TestRLSRoutesHaveTheirOwnBuckets(t *testing.T) {
	clock := newTestClock(date(2024, 5, 1, 12, 0, 0))
	c := startRLS(t, rlsConfig(t), NewLimiter(NewMemoryStore(), FailClosed, clock.now, nil))
	get := routeRequest(envoy.RateLimitRouteValue("a1", "prod", "rget"))
	for range 2 {
		if _, err := c.ShouldRateLimit(t.Context(), get); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]struct {
		value string
		want  rlsv3.RateLimitResponse_Code
	}{
		"the exhausted route":             {envoy.RateLimitRouteValue("a1", "prod", "rget"), rlsv3.RateLimitResponse_OVER_LIMIT},
		"another route on the same stage": {envoy.RateLimitRouteValue("a1", "prod", "rhealth"), rlsv3.RateLimitResponse_OK},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, err := c.ShouldRateLimit(t.Context(), routeRequest(tc.value))
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetOverallCode() != tc.want {
				t.Errorf("got %v, want %v", resp.GetOverallCode(), tc.want)
			}
		})
	}
}

func TestRLSNothingToThrottleIsOK(t *testing.T) {
	other := &commonrlv3.RateLimitDescriptor{Entries: []*commonrlv3.RateLimitDescriptor_Entry{{Key: "remote_address", Value: "127.0.0.1"}}}
	two := &commonrlv3.RateLimitDescriptor{Entries: []*commonrlv3.RateLimitDescriptor_Entry{
		{Key: envoy.RateLimitRouteKey, Value: "a2/prod/rget"}, {Key: envoy.RateLimitRouteKey, Value: "a2/prod/rget"},
	}}
	tests := map[string]*rlsv3.RateLimitRequest{
		"unknown API":              routeRequest("nope/prod/rget"),
		"unknown stage":            routeRequest("a1/staging/rget"),
		"unknown route":            routeRequest("a1/prod/gone"),
		"stage without throttle":   routeRequest("a1/dev/rget"),
		"value without separators": routeRequest("a2"),
		"value without route":      routeRequest("a2/prod"),
		"another key":              {Domain: envoy.RateLimitDomain, Descriptors: []*commonrlv3.RateLimitDescriptor{other}},
		"two entries":              {Domain: envoy.RateLimitDomain, Descriptors: []*commonrlv3.RateLimitDescriptor{two}},
	}
	clock := newTestClock(date(2024, 5, 1, 12, 0, 0))
	c := startRLS(t, rlsConfig(t), NewLimiter(NewMemoryStore(), FailClosed, clock.now, nil))
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			for i := range 3 { // More than the burst of any throttle they might hit.
				resp, err := c.ShouldRateLimit(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				if resp.GetOverallCode() != rlsv3.RateLimitResponse_OK || len(resp.GetStatuses()) != 1 {
					t.Fatalf("call %d: got %v, want OK with one status", i, resp)
				}
				if st := resp.GetStatuses()[0]; st.GetCode() != rlsv3.RateLimitResponse_OK || st.GetCurrentLimit() != nil {
					t.Errorf("call %d: status %v, want OK without a limit", i, st)
				}
			}
		})
	}
	t.Run("unknown domain", func(t *testing.T) {
		req := routeRequest("a2/prod/rget", "a2/prod/rget")
		req.Domain = "someone_else"
		resp, err := c.ShouldRateLimit(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetOverallCode() != rlsv3.RateLimitResponse_OK || len(resp.GetStatuses()) != 0 {
			t.Errorf("got %v, want OK with no statuses", resp)
		}
	})
}

func TestRLSOverLimitResponse(t *testing.T) {
	clock := newTestClock(date(2024, 5, 1, 12, 0, 0))
	c := startRLS(t, rlsConfig(t), NewLimiter(NewMemoryStore(), FailClosed, clock.now, nil))
	req := routeRequest("a1/dev/rget", "a2/prod/rget")
	first, err := c.ShouldRateLimit(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if first.GetOverallCode() != rlsv3.RateLimitResponse_OK || first.GetRawBody() != nil || first.GetResponseHeadersToAdd() != nil {
		t.Errorf("first call: got %v, want OK with no body or headers", first)
	}
	second, err := c.ShouldRateLimit(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	codes := []rlsv3.RateLimitResponse_Code{second.GetStatuses()[0].GetCode(), second.GetStatuses()[1].GetCode()}
	if second.GetOverallCode() != rlsv3.RateLimitResponse_OVER_LIMIT ||
		codes[0] != rlsv3.RateLimitResponse_OK || codes[1] != rlsv3.RateLimitResponse_OVER_LIMIT {
		t.Errorf("second call: overall %v, statuses %v; want OVER_LIMIT from the second descriptor only", second.GetOverallCode(), codes)
	}
	if got := string(second.GetRawBody()); got != `{"message":"Too Many Requests"}` {
		t.Errorf("body: got %q", got)
	}
	hs := second.GetResponseHeadersToAdd()
	if len(hs) != 1 || hs[0].GetKey() != "content-type" || hs[0].GetValue() != "application/json" {
		t.Errorf("headers: got %v, want content-type: application/json", hs)
	}
}

func TestRLSStoreDown(t *testing.T) {
	tests := map[string]struct {
		policy   FailurePolicy
		wantCode codes.Code // codes.OK: the call succeeds with overall OK
	}{
		"fail open admits":                    {FailOpen, codes.OK},
		"fail closed leaves it to the filter": {FailClosed, codes.Unavailable},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := testredis.Start(t)
			clock := newTestClock(date(2024, 5, 1, 12, 0, 0))
			lim := NewLimiter(NewRedisStore(srv.Client()), tc.policy, clock.now, nil)
			c := startRLS(t, rlsConfig(t), lim)
			req := routeRequest("a2/prod/rget")
			if resp, err := c.ShouldRateLimit(t.Context(), req); err != nil || resp.GetOverallCode() != rlsv3.RateLimitResponse_OK {
				t.Fatalf("with Redis up: got %v, %v; want OK", resp, err)
			}
			if resp, err := c.ShouldRateLimit(t.Context(), req); err != nil || resp.GetOverallCode() != rlsv3.RateLimitResponse_OVER_LIMIT {
				t.Fatalf("with Redis up, over the burst: got %v, %v; want OVER_LIMIT", resp, err)
			}
			srv.Stop()
			resp, err := c.ShouldRateLimit(t.Context(), req)
			if got := status.Code(err); got != tc.wantCode {
				t.Fatalf("with Redis down: got code %v (%v), want %v", got, err, tc.wantCode)
			}
			if err == nil && resp.GetOverallCode() != rlsv3.RateLimitResponse_OK {
				t.Errorf("with Redis down: got %v, want OK", resp.GetOverallCode())
			}
		})
	}
}

func TestRLSReadsTheCurrentConfig(t *testing.T) {
	var cur atomic.Pointer[model.Config]
	cur.Store(rlsConfig(t))
	clock := newTestClock(date(2024, 5, 1, 12, 0, 0))
	rls := NewRLS(cur.Load, NewLimiter(NewMemoryStore(), FailClosed, clock.now, nil), nil)
	req := routeRequest("a2/prod/rget")
	for i, want := range []rlsv3.RateLimitResponse_Code{rlsv3.RateLimitResponse_OK, rlsv3.RateLimitResponse_OVER_LIMIT} {
		if resp, err := rls.ShouldRateLimit(t.Context(), req); err != nil || resp.GetOverallCode() != want {
			t.Fatalf("call %d: got %v, %v; want %v", i, resp, err, want)
		}
	}
	empty, err := model.NewConfig(2, nil)
	if err != nil {
		t.Fatal(err)
	}
	cur.Store(empty) // The API is deleted while Envoy still sends its descriptors.
	if resp, err := rls.ShouldRateLimit(t.Context(), req); err != nil || resp.GetOverallCode() != rlsv3.RateLimitResponse_OK {
		t.Errorf("after the API is deleted: got %v, %v; want OK", resp, err)
	}
}

// BenchmarkRLS measures one in-process decision with the memory store, as
// the gRPC handler makes it; gRPC's own cost is not included.
func BenchmarkRLS(b *testing.B) {
	mock := &model.Integration{ID: "i1", Name: "mock", Mock: &model.Mock{StatusCode: 200}}
	p, err := model.ParsePathTemplate("/pets/{id}")
	if err != nil {
		b.Fatal(err)
	}
	d, err := model.NewDeployment("d1", []*model.Route{{ID: "r1", Method: "GET", Path: p, Integration: mock}}, []*model.Integration{mock})
	if err != nil {
		b.Fatal(err)
	}
	open, closed := &model.Throttle{Rate: 1e9, Burst: 1 << 40}, &model.Throttle{}
	cases := map[string]*model.Stage{
		"ok":         {Throttle: open},
		"over_limit": {Throttle: closed},
		// Route overrides make the model build the route key per request.
		"ok_route_override": {Throttle: closed, RouteThrottles: map[string]*model.Throttle{"GET /pets/{id}": open}},
	}
	for name, stage := range cases {
		b.Run(name, func(b *testing.B) {
			stage.Name, stage.Deployment = "prod", d
			api, err := model.NewAPI("a1", "bench", model.ProtocolREST, []*model.Stage{stage})
			if err != nil {
				b.Fatal(err)
			}
			cfg, err := model.NewConfig(1, []*model.API{api})
			if err != nil {
				b.Fatal(err)
			}
			now := date(2024, 5, 1, 12, 0, 0)
			rls := NewRLS(func() *model.Config { return cfg }, NewLimiter(NewMemoryStore(), FailClosed, func() time.Time { return now }, nil), nil)
			req := routeRequest("a1/prod/r1")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rls.ShouldRateLimit(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestRLSCancelledCall checks that a call Envoy gave up on gets the
// context's status, not that of a failed store.
func TestRLSCancelledCall(t *testing.T) {
	cfg := rlsConfig(t)
	for name, policy := range map[string]FailurePolicy{"fail open": FailOpen, "fail closed": FailClosed} {
		t.Run(name, func(t *testing.T) {
			lim := NewLimiter(NewRedisStore(testredis.Start(t).Client()), policy, nil, nil)
			rls := NewRLS(func() *model.Config { return cfg }, lim, nil)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if resp, err := rls.ShouldRateLimit(ctx, routeRequest("a2/prod/rget")); status.Code(err) != codes.Canceled {
				t.Errorf("ShouldRateLimit = %v, %v; want CANCELLED", resp, err)
			}
		})
	}
}
