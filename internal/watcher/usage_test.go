package watcher

import (
	"crypto/sha256"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/internal/store/storetest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func testKey(id, value string, enabled bool) *adminv1.ApiKey {
	h := sha256.Sum256([]byte(value))
	return &adminv1.ApiKey{Id: id, Name: "name-" + id, Enabled: enabled, ValueHash: h[:]}
}

func TestKeysAndPlans(t *testing.T) {
	e := storetest.New(t)
	h := start(t, e, Options{}, nil)
	putAPI(t, e.Client, "api0000001", 1)
	start := timestamppb.Now()
	put(t, e.Client, store.UsagePlanRecord("plan000001"), &adminv1.UsagePlan{
		Id: "plan000001", Name: "gold",
		Throttle:       &adminv1.ThrottleSettings{RateLimit: 0.5, BurstLimit: 2},
		Quota:          &adminv1.QuotaSettings{Limit: 100, Period: adminv1.QuotaSettings_PERIOD_WEEK, Offset: 10},
		QuotaStartTime: start,
		FailureMode:    adminv1.FailureMode_FAILURE_MODE_FAIL_OPEN,
		ApiStages: []*adminv1.ApiStage{{ApiId: "api0000001", Stage: "prod", RouteThrottles: map[string]*adminv1.ThrottleSettings{
			"GET /pets": {RateLimit: 5, BurstLimit: 10},
		}}},
	})
	put(t, e.Client, store.APIKeyRecord("key0000001"), testKey("key0000001", "a-secret-value-of-20-chars", true))
	put(t, e.Client, store.APIKeyRecord("key0000002"), testKey("key0000002", "another-secret-of-20-chars", true))
	rev := put(t, e.Client, store.UsagePlanKeyKey("plan000001", "key0000001"),
		&adminv1.UsagePlanKey{UsagePlanId: "plan000001", KeyId: "key0000001"})

	cfg := h.waitRevision(rev)
	k := cfg.Keys.ByHash(sha256.Sum256([]byte("a-secret-value-of-20-chars")))
	if k == nil || k.ID != "key0000001" || !k.Enabled {
		t.Fatalf("key by hash = %+v, want enabled key0000001", k)
	}
	plan, ps := k.PlanFor(model.StageKey("api0000001", "prod"))
	if plan == nil || plan.ID != "plan000001" || !plan.FailOpen {
		t.Fatalf("PlanFor(prod) = %+v, want fail-open plan000001", plan)
	}
	if got := *plan.Quota; got.Limit != 100 || got.Period != model.QuotaWeek || got.Offset != 10 || !got.Start.Equal(start.AsTime()) {
		t.Errorf("quota = %+v", got)
	}
	if got, override := plan.RouteThrottle(ps, "GET /pets"); *got != (model.Throttle{Rate: 5, Burst: 10}) || !override {
		t.Errorf("route throttle = %+v (override %v), want the override", got, override)
	}
	if got, override := plan.RouteThrottle(ps, "POST /pets"); *got != (model.Throttle{Rate: 0.5, Burst: 2}) || override {
		t.Errorf("throttle of another route = %+v (override %v), want the plan's", got, override)
	}
	if p, _ := k.PlanFor(model.StageKey("api0000001", "beta")); p != nil {
		t.Errorf("PlanFor(beta) = %s, want none", p.ID)
	}
	other := cfg.Keys.ByID("key0000002")
	if other == nil || len(other.Plans) != 0 {
		t.Fatalf("key0000002 = %+v, want a key on no plan", other)
	}

	// Unchanged usage records are shared by the next Config.
	rev = putAPI(t, e.Client, "api0000002", 1)
	if next := h.waitRevision(rev); next.Keys != cfg.Keys {
		t.Error("an API change rebuilt the keys index")
	}

	// Disabling a key takes effect in the Config of that very revision.
	rev = put(t, e.Client, store.APIKeyRecord("key0000001"), testKey("key0000001", "a-secret-value-of-20-chars", false))
	if k := h.waitRevision(rev).Keys.ByID("key0000001"); k == nil || k.Enabled {
		t.Fatalf("after disabling, key = %+v", k)
	}
	// Removing the association takes the key off the plan.
	rev = deleteKey(t, e, store.UsagePlanKeyKey("plan000001", "key0000001"))
	if k := h.waitRevision(rev).Keys.ByID("key0000001"); len(k.Plans) != 0 {
		t.Fatalf("after removing the association, plans = %v", k.Plans)
	}
}

func TestStageThrottlesAndKeySettings(t *testing.T) {
	e := storetest.New(t)
	h := start(t, e, Options{}, nil)
	putAPI(t, e.Client, "api0000001", 2)
	api := testAPI("api0000001")
	api.ApiKeySource = adminv1.ApiKeySource_API_KEY_SOURCE_AUTHORIZER
	put(t, e.Client, store.APIKey("api0000001"), api)
	st := testStage("api0000001", "prod", "dep0000001")
	st.Throttle = &adminv1.ThrottleSettings{RateLimit: 100, BurstLimit: 200}
	st.RouteThrottles = map[string]*adminv1.ThrottleSettings{"GET /r0/{id}": {RateLimit: 1, BurstLimit: 1}}
	rev := put(t, e.Client, store.StageKey("api0000001", "prod"), st)

	a := h.waitRevision(rev).API("api0000001")
	if a == nil || a.KeySource != model.KeySourceAuthorizer {
		t.Fatalf("API = %+v, want key source AUTHORIZER", a)
	}
	stage := a.Stage("prod")
	for _, r := range stage.Deployment.Routes {
		want := model.Throttle{Rate: 100, Burst: 200}
		if r.Key() == "GET /r0/{id}" {
			want = model.Throttle{Rate: 1, Burst: 1}
		}
		if got := stage.RouteThrottle(r); got == nil || *got != want {
			t.Errorf("%s: throttle = %+v, want %+v", r.Key(), got, want)
		}
	}

	// A stage whose throttle is invalid is skipped, not served unthrottled.
	st.Throttle = &adminv1.ThrottleSettings{RateLimit: -1}
	rev = put(t, e.Client, store.StageKey("api0000001", "prod"), st)
	if got := h.waitRevision(rev).API("api0000001").Stage("prod"); got != nil {
		t.Errorf("stage with a negative rate was served: %+v", got)
	}
}

func deleteKey(t *testing.T, e *storetest.Etcd, key string) int64 {
	t.Helper()
	resp, err := e.Client.Delete(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}
