package translate

import (
	"crypto/sha256"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// TestStageThrottleChangeReachesEnvoy changes only a stage's throttle, as
// UpdateStage does without a deployment: the watcher builds a new
// *model.API around the same *model.Deployment, and a Translator that has
// cached the API must translate it again, in both layouts. A Config that
// changes only API keys keeps the cached translation.
func TestStageThrottleChangeReachesEnvoy(t *testing.T) {
	api := cacheAPI(t, "thro", "/pets")
	d := api.Stages[0].Deployment
	throttle := &model.Throttle{Rate: 10, Burst: 20}
	// Steps, not cases: each runs on the cache the previous one left.
	steps := []struct {
		name      string
		stage     model.Stage // Name and Deployment are filled in
		throttled bool
	}{
		{name: "no throttle"},
		{name: "stage default", stage: model.Stage{Throttle: throttle}, throttled: true},
		{name: "route exempted", stage: model.Stage{Throttle: throttle, RouteThrottles: map[string]*model.Throttle{"GET /pets": nil}}},
		{name: "route override only", stage: model.Stage{RouteThrottles: map[string]*model.Throttle{"GET /pets": throttle}}, throttled: true},
		{name: "override of another route", stage: model.Stage{RouteThrottles: map[string]*model.Throttle{"POST /pets": throttle}}},
	}
	for name, opts := range layouts {
		t.Run(name, func(t *testing.T) {
			tr, err := NewTranslator(opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, step := range steps {
				st := step.stage
				st.Name, st.Deployment = "prod", d
				next, err := model.NewAPI(api.ID, api.Name, api.Protocol, []*model.Stage{&st})
				if err != nil {
					t.Fatal(err)
				}
				res := mustTranslate(t, tr, int64(i+1), next)
				want := 0
				if step.throttled {
					want = 1
				}
				r := findRoute(res, routeName(api.ID, "prod", "r"))
				if r == nil {
					t.Fatalf("%s: no route %s", step.name, routeName(api.ID, "prod", "r"))
				}
				if got := r.GetRoute().GetRateLimits(); len(got) != want {
					t.Errorf("%s: %d rate limits, want %d", step.name, len(got), want)
				}
				assertEqualResources(t, res, opts, next)
			}
		})
	}
	t.Run("keys only", func(t *testing.T) {
		tr, err := NewTranslator(Options{})
		if err != nil {
			t.Fatal(err)
		}
		before := mustTranslate(t, tr, 1, api)
		cfg, err := model.NewConfig(2, []*model.API{api})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Keys = model.NewKeys([]*model.APIKey{{ID: "k1", Enabled: true, Hash: sha256.Sum256([]byte("value"))}})
		after, err := tr.Translate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if vhost(before, api.ID) != vhost(after, api.ID) {
			t.Error("a change of API keys translated an unchanged API again")
		}
	})
}

// TestRouteRateLimits checks the one descriptor a throttled route sends.
func TestRouteRateLimits(t *testing.T) {
	api := cacheAPI(t, "thro", "/pets")
	st := &model.Stage{Name: "prod", Deployment: api.Stages[0].Deployment, Throttle: &model.Throttle{Rate: 1, Burst: 1}}
	r := st.Deployment.Routes[0]
	got := routeRateLimits(api, st, r)
	if len(got) != 1 || len(got[0].GetActions()) != 1 {
		t.Fatalf("rate limits %v, want one with one action", got)
	}
	gk := got[0].GetActions()[0].GetGenericKey()
	if gk.GetDescriptorKey() != envoy.RateLimitRouteKey || gk.GetDescriptorValue() != "thro/prod/r" {
		t.Errorf("generic_key %s=%s, want %s=thro/prod/r", gk.GetDescriptorKey(), gk.GetDescriptorValue(), envoy.RateLimitRouteKey)
	}
	if err := got[0].ValidateAll(); err != nil {
		t.Error(err)
	}
}

// findRoute returns the first route named name in res.
func findRoute(res Resources, name string) *routev3.Route {
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if r.GetName() == name {
					return r
				}
			}
		}
	}
	return nil
}
