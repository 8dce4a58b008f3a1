package authz

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/testutil/testredis"
	"github.com/archway-gateway/archway/ratelimit"
)

func TestCheckKeys(t *testing.T) {
	tests := map[string]struct {
		call call
		want result
	}{
		"valid key": {
			call: call{api: "a1", stage: "prod", route: "rget", key: valueGold},
			want: allowed("gold", "gold", rate("5", "4", untilMidnight)),
		},
		"valid key sent as header_map": {
			call: call{api: "a1", stage: "prod", route: "rget", key: valueGold, headerMap: true},
			want: allowed("gold", "gold", rate("5", "4", untilMidnight)),
		},
		"valid key on a plan without limits": {
			call: call{api: "a1", stage: "dev", route: "rget", key: valueFree},
			want: allowed("free", "free", nil),
		},
		"forged internal headers are replaced": {
			call: call{
				api: "a1", stage: "prod", route: "rget", key: valueGold,
				headers: map[string]string{DefaultKeyIDHeader: "free", DefaultPlanIDHeader: "free"},
			},
			want: allowed("gold", "gold", rate("5", "4", untilMidnight)),
		},
		"route requires no key": {
			call: call{api: "a1", stage: "prod", route: "ropen"},
			want: result{Status: 200},
		},
		"route requires no key, disabled key sent": {
			call: call{api: "a1", stage: "prod", route: "ropen", key: valueDisabled},
			want: result{Status: 200},
		},
		"missing header": {
			call: call{api: "a1", stage: "prod", route: "rget"},
			want: forbidden(),
		},
		"empty header": {
			call: call{api: "a1", stage: "prod", route: "rget", headers: map[string]string{APIKeyHeader: ""}},
			want: forbidden(),
		},
		"unknown key": {
			call: call{api: "a1", stage: "prod", route: "rget", key: "no-such-key-0123456789abcdefghijklmnopq"},
			want: forbidden(),
		},
		"key in another header": {
			call: call{api: "a1", stage: "prod", route: "rget", headers: map[string]string{"authorization": valueGold}},
			want: forbidden(),
		},
		"disabled key": {
			call: call{api: "a1", stage: "prod", route: "rget", key: valueDisabled},
			want: forbidden(),
		},
		"key on another plan": {
			call: call{api: "a1", stage: "prod", route: "rget", key: valueOther},
			want: forbidden(),
		},
		"key on a plan for another stage": {
			call: call{api: "a1", stage: "prod", route: "rget", key: valueFree},
			want: forbidden(),
		},
		"authorizer key source without usage identifier": {
			call: call{api: "a3", stage: "prod", route: "rget", key: valueGold},
			want: forbidden(),
		},
		"unknown API": {
			call: call{api: "a9", stage: "prod", route: "rget", key: valueGold},
			want: forbidden(),
		},
		"unknown stage": {
			call: call{api: "a1", stage: "test", route: "rget", key: valueGold},
			want: forbidden(),
		},
		"unknown route": {
			call: call{api: "a1", stage: "prod", route: "rgone", key: valueGold},
			want: forbidden(),
		},
		"no context extensions": {
			call: call{api: "a1", stage: "prod", route: "rget", key: valueGold, noExtensions: true},
			want: forbidden(),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clock := newClock()
			h := serve(t, fixture(t, 1), Options{Store: ratelimit.NewMemoryStore(), Now: clock.Now})
			if diff := cmp.Diff(tc.want, h.check(t, tc.call)); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckNilConfigDenies(t *testing.T) {
	h := serve(t, nil, Options{Store: ratelimit.NewMemoryStore(), Now: newClock().Now})
	if diff := cmp.Diff(forbidden(), h.check(t, call{api: "a1", stage: "prod", route: "ropen"})); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestCheckHeaderNames(t *testing.T) {
	h := serve(t, fixture(t, 1), Options{
		Store: ratelimit.NewMemoryStore(), Now: newClock().Now,
		KeyIDHeader: "x-archway-key", PlanIDHeader: "x-archway-plan",
	})
	got := h.check(t, call{api: "a1", stage: "dev", route: "rget", key: valueFree})
	want := map[string]string{"x-archway-key": "free", "x-archway-plan": "free"}
	if diff := cmp.Diff(want, got.Upstream); diff != "" {
		t.Errorf("upstream headers (-want +got):\n%s", diff)
	}
}

// TestThrottle drains the gold plan's bucket (burst 2, 1 rps) and refills it.
func TestThrottle(t *testing.T) {
	gold := call{api: "a1", stage: "prod", route: "rget", key: valueGold}
	for name, newStore := range stores() {
		t.Run(name, func(t *testing.T) {
			clock := newClock()
			h := serve(t, fixture(t, 1), Options{Store: newStore(t), Now: clock.Now})
			steps := []struct {
				advance time.Duration
				want    result
			}{
				{0, allowed("gold", "gold", rate("5", "4", untilMidnight))},
				{0, allowed("gold", "gold", rate("5", "3", untilMidnight))},
				{0, refused(429, `{"message":"Too Many Requests"}`, "TooManyRequestsException",
					withRetry(rate("2", "0", "2"), "1"))},
				// Throttled requests do not count against the quota.
				{time.Second, allowed("gold", "gold", rate("5", "2", "50399"))},
			}
			for i, s := range steps {
				clock.Advance(s.advance)
				if diff := cmp.Diff(s.want, h.check(t, gold)); diff != "" {
					t.Errorf("request %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// TestThrottleSharedAcrossStages checks that a plan's throttle is one bucket
// per key over all the stages the plan covers.
func TestThrottleSharedAcrossStages(t *testing.T) {
	h := serve(t, fixture(t, 1), Options{Store: ratelimit.NewMemoryStore(), Now: newClock().Now})
	for _, stage := range []string{"prod", "beta"} {
		if got := h.check(t, call{api: "a1", stage: stage, route: "rget", key: valueGold}); got.Status != 200 {
			t.Fatalf("%s: status %d, want 200", stage, got.Status)
		}
	}
	if got := h.check(t, call{api: "a1", stage: "beta", route: "rget", key: valueGold}); got.Status != 429 {
		t.Errorf("third request: status %d, want 429", got.Status)
	}
}

// TestRouteOverride checks that POST /pets has its own bucket (burst 1) on
// a1/prod, apart from the plan's.
func TestRouteOverride(t *testing.T) {
	post := call{api: "a1", stage: "prod", route: "rpost", key: valueGold}
	get := call{api: "a1", stage: "prod", route: "rget", key: valueGold}
	for name, newStore := range stores() {
		t.Run(name, func(t *testing.T) {
			clock := newClock()
			h := serve(t, fixture(t, 1), Options{Store: newStore(t), Now: clock.Now})
			steps := []struct {
				call call
				want result
			}{
				{post, allowed("gold", "gold", rate("5", "4", untilMidnight))},
				{post, refused(429, `{"message":"Too Many Requests"}`, "TooManyRequestsException",
					withRetry(rate("1", "0", "1"), "1"))},
				{get, allowed("gold", "gold", rate("5", "3", untilMidnight))},
				{get, allowed("gold", "gold", rate("5", "2", untilMidnight))},
				{get, refused(429, `{"message":"Too Many Requests"}`, "TooManyRequestsException",
					withRetry(rate("2", "0", "2"), "1"))},
			}
			for i, s := range steps {
				if diff := cmp.Diff(s.want, h.check(t, s.call)); diff != "" {
					t.Errorf("request %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// TestQuota uses up the gold plan's daily quota of 5 and starts the next day.
func TestQuota(t *testing.T) {
	gold := call{api: "a1", stage: "prod", route: "rget", key: valueGold}
	for name, newStore := range stores() {
		t.Run(name, func(t *testing.T) {
			clock := newClock()
			h := serve(t, fixture(t, 1), Options{Store: newStore(t), Now: clock.Now})
			for i := range 5 {
				if got := h.check(t, gold); got.Status != 200 {
					t.Fatalf("request %d: status %d, want 200", i, got.Status)
				}
				clock.Advance(time.Second)
			}
			want := refused(429, `{"message":"Limit Exceeded"}`, "LimitExceededException",
				withRetry(rate("5", "0", "50395"), "50395"))
			if diff := cmp.Diff(want, h.check(t, gold)); diff != "" {
				t.Errorf("over quota (-want +got):\n%s", diff)
			}
			clock.Advance(50395 * time.Second)
			if diff := cmp.Diff(allowed("gold", "gold", rate("5", "4", "86400")), h.check(t, gold)); diff != "" {
				t.Errorf("next day (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUsageCounted checks that requests on plans without a quota are still
// counted where the admin API's GetUsage reads them.
func TestUsageCounted(t *testing.T) {
	clock := newClock()
	store := ratelimit.NewMemoryStore()
	h := serve(t, fixture(t, 1), Options{Store: store, Now: clock.Now})
	for range 3 {
		if got := h.check(t, call{api: "a1", stage: "dev", route: "rget", key: valueFree}); got.Status != 200 {
			t.Fatalf("status %d, want 200", got.Status)
		}
	}
	u, err := store.Usage(context.Background(), ratelimit.UsageKey("free", "free"),
		ratelimit.Quota{Limit: ratelimit.Unlimited, Period: ratelimit.Day}, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if u.Used != 3 {
		t.Errorf("usage %d, want 3", u.Used)
	}
}

// TestFailurePolicy stops Redis under a plan that fails closed (gold) and
// one that fails open (open), then restarts it.
func TestFailurePolicy(t *testing.T) {
	gold := call{api: "a1", stage: "prod", route: "rget", key: valueGold}
	open := call{api: "a1", stage: "prod", route: "rget", key: valueOpen}
	clock := newClock()
	redis := testredis.Start(t)
	h := serve(t, fixture(t, 1), Options{Store: ratelimit.NewRedisStore(redis.Client()), Now: clock.Now})
	steps := []struct {
		name string
		do   func()
		call call
		want int
	}{
		{"closed, redis up", nil, gold, 200},
		{"open, redis up", nil, open, 200},
		{"closed, redis down", redis.Stop, gold, 503},
		{"open, redis down", nil, open, 200},
		{"closed, redis back", redis.Restart, gold, 200},
	}
	for _, s := range steps {
		if s.do != nil {
			s.do()
		}
		clock.Advance(time.Second)
		got := h.check(t, s.call)
		if got.Status != s.want {
			t.Fatalf("%s: status %d, want %d (%+v)", s.name, got.Status, s.want, got)
		}
		if got.Status == 200 && got.Upstream[DefaultKeyIDHeader] == "" {
			t.Errorf("%s: no key ID header upstream", s.name)
		}
		if got.Status == 503 {
			want := refused(503, `{"message":"Service Unavailable"}`, "ServiceUnavailableException", nil)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", s.name, diff)
			}
		}
	}
}

// TestConfigSwap checks that each Check reads the Config published last.
func TestConfigSwap(t *testing.T) {
	gold := call{api: "a1", stage: "prod", route: "rget", key: valueGold}
	clock := newClock()
	h := serve(t, fixture(t, 1), Options{Store: ratelimit.NewMemoryStore(), Now: clock.Now})
	steps := []struct {
		rev      int64
		disabled []string
		want     int
	}{
		{1, nil, 200},
		{2, []string{"gold"}, 403},
		{3, nil, 200},
	}
	for _, s := range steps {
		h.config.Store(fixture(t, s.rev, s.disabled...))
		clock.Advance(time.Second)
		if got := h.check(t, gold); got.Status != s.want {
			t.Errorf("revision %d: status %d, want %d", s.rev, got.Status, s.want)
		}
	}
}

// TestSharedQuota runs two Servers over one Redis: together they admit the
// quota once.
func TestSharedQuota(t *testing.T) {
	gold := call{api: "a1", stage: "prod", route: "rget", key: valueGold}
	clock := newClock()
	redis := testredis.Start(t)
	cfg := fixture(t, 1)
	servers := []*harness{
		serve(t, cfg, Options{Store: ratelimit.NewRedisStore(redis.Client()), Now: clock.Now}),
		serve(t, cfg, Options{Store: ratelimit.NewRedisStore(redis.Client()), Now: clock.Now}),
	}
	var remaining []string
	refusedCount := 0
	for i := range 8 {
		clock.Advance(time.Second)
		got := servers[i%2].check(t, gold)
		switch got.Status {
		case 200:
			remaining = append(remaining, got.Downstream["x-ratelimit-remaining"])
		case 429:
			refusedCount++
		default:
			t.Fatalf("request %d: status %d", i, got.Status)
		}
	}
	if diff := cmp.Diff([]string{"4", "3", "2", "1", "0"}, remaining); diff != "" {
		t.Errorf("remaining quota of admitted requests (-want +got):\n%s", diff)
	}
	if refusedCount != 3 {
		t.Errorf("%d requests refused, want 3", refusedCount)
	}
}

// TestLogsNoKeyValues checks that refusals are logged with key IDs and
// never with key values.
func TestLogsNoKeyValues(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	redis := testredis.Start(t)
	h := serve(t, fixture(t, 1), Options{Store: ratelimit.NewRedisStore(redis.Client()), Now: newClock().Now, Logger: log})
	calls := []call{
		{api: "a1", stage: "prod", route: "rget", key: valueDisabled},
		{api: "a1", stage: "prod", route: "rget", key: valueFree},
		{api: "a1", stage: "prod", route: "rget", key: valueOther},
		{api: "a1", stage: "prod", route: "rpost", key: valueGold},
		{api: "a1", stage: "prod", route: "rpost", key: valueGold},
	}
	for _, c := range calls {
		h.check(t, c)
	}
	redis.Stop()
	h.check(t, call{api: "a1", stage: "prod", route: "rget", key: valueGold})
	h.check(t, call{api: "a1", stage: "prod", route: "rget", key: valueOpen})
	out := buf.String()
	for _, v := range []string{valueGold, valueDisabled, valueFree, valueOpen, valueOther} {
		if strings.Contains(out, v) {
			t.Errorf("log holds the value of a key:\n%s", out)
		}
	}
	for _, want := range []string{"key_id=disabled", "key_id=free", "key_id=other", "status=429", "status=503", "key=u:open:open"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TestInvalidLimits checks that a plan whose limits cannot be enforced,
// which the admin API refuses to store, refuses requests with 500 rather
// than admitting them unmetered.
func TestInvalidLimits(t *testing.T) {
	cfg := fixture(t, 1)
	gold := cfg.Keys.ByID("gold")
	gold.Plans[0].Throttle = &model.Throttle{Rate: -1, Burst: 2}
	h := serve(t, cfg, Options{Store: ratelimit.NewMemoryStore(), Now: newClock().Now})
	want := refused(500, `{"message":"Internal server error"}`, "InternalServerErrorException", nil)
	if diff := cmp.Diff(want, h.check(t, call{api: "a1", stage: "prod", route: "rget", key: valueGold})); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

// TestMockRouteThrottle checks that ext_authz applies a stage's throttle to
// mock routes, which Envoy's rate-limit filter skips: for all clients
// together, on routes with and without keys, counting only requests the key
// check admits.
func TestMockRouteThrottle(t *testing.T) {
	base := fixture(t, 1)
	d1 := base.API("a1").Stage("prod").Deployment
	a4, err := model.NewAPI("a4", "a4", model.ProtocolREST, []*model.Stage{{
		Name: "prod", Deployment: d1, Throttle: &model.Throttle{Rate: 1, Burst: 1},
		RouteThrottles: map[string]*model.Throttle{"GET /health": {Rate: 1, Burst: 2}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.NewConfig(2, append(slices.Clone(base.APIs), a4))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keys = base.Keys
	clock := newClock()
	h := serve(t, cfg, Options{Store: ratelimit.NewMemoryStore(), Now: clock.Now})
	throttled := refused(429, `{"message":"Too Many Requests"}`, "TooManyRequestsException", withRetry(rate("2", "0", "2"), "1"))

	open := call{api: "a4", stage: "prod", route: "ropen"}
	for i, want := range []int{200, 200} {
		if got := h.check(t, open); got.Status != want {
			t.Errorf("GET /health request %d: %d %q, want %d", i, got.Status, got.Body, want)
		}
	}
	if diff := cmp.Diff(throttled, h.check(t, open)); diff != "" {
		t.Errorf("GET /health over the stage throttle (-want +got):\n%s", diff)
	}
	// Requests refused for their key take no token: they never reach the
	// integration.
	for i := range 3 {
		if got := h.check(t, call{api: "a4", stage: "prod", route: "rpost", key: valueGold}); got.Status != 403 {
			t.Errorf("POST /pets with a key of no plan for the stage, request %d: %d, want 403", i, got.Status)
		}
	}
	clock.Advance(time.Second)
	if got := h.check(t, open); got.Status != 200 {
		t.Errorf("GET /health after a refill: %d, want 200", got.Status)
	}
	// The stage without throttles is not throttled.
	for range 3 {
		if got := h.check(t, call{api: "a1", stage: "prod", route: "ropen"}); got.Status != 200 {
			t.Fatalf("unthrottled stage: %d %q", got.Status, got.Body)
		}
	}
}

// TestCancelledCheck checks that a Check Envoy gave up on gets the
// context's status, not a 503 of a failed store, and logs no refusal.
func TestCancelledCheck(t *testing.T) {
	var logs bytes.Buffer
	s := New(Options{
		Config: func() *model.Config { return fixture(t, 1) },
		Store:  ratelimit.NewRedisStore(testredis.Start(t).Client()),
		Now:    newClock().Now, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for name, value := range map[string]string{"fail closed": valueGold, "fail open": valueOpen} {
		resp, err := s.Check(ctx, call{api: "a1", stage: "prod", route: "rget", key: value}.request())
		if status.Code(err) != codes.Canceled {
			t.Errorf("%s: Check = %v, %v; want CANCELLED", name, resp, err)
		}
	}
	if strings.Contains(logs.String(), "refused") || strings.Contains(logs.String(), "store failed") {
		t.Errorf("a cancelled check was logged as a refusal or a store failure:\n%s", logs.String())
	}
}
