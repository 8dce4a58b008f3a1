package xds_test

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/archway-gateway/archway/envoy"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestKeysAndThrottlesReachEnvoy drives api_key_required and stage
// throttles through the admin API and checks what an Envoy receives: the
// key-required route enables ext_authz with its IDs, the others do not; a
// stage throttle adds the route's rate-limit descriptor without a deploy,
// and removing it takes the descriptor away. API keys and usage plans live
// in ext_authz alone: creating them sends Envoy nothing new.
func TestKeysAndThrottlesReachEnvoy(t *testing.T) {
	for name, delta := range protocols {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			c := dialADS(t, e.addr, "node-"+name, delta, nil)
			c.waitFor(t, "the first snapshot", serves)

			api := e.api(t, "metered")
			backend := e.integration(t, api.GetId(), proxy("backend", "http://127.0.0.1:9/"))
			keyed, err := e.admin.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: &adminv1.Route{
				Method: "POST", Path: "/pets", IntegrationId: backend.GetId(), ApiKeyRequired: true,
			}})
			if err != nil {
				t.Fatal(err)
			}
			open := e.route(t, api.GetId(), "GET", "/pets", backend.GetId())
			e.stage(t, api.GetId(), "prod", nil)
			e.deploy(t, api.GetId(), "prod")
			c.waitFor(t, "prod to serve both routes", servesRoutes(api.GetId(), "prod", keyed.GetId(), open.GetId()))

			routes := stageRoutes(gateway(c), api.GetId(), "prod")
			if ids := authzIDs(t, routes[keyed.GetId()]); ids[envoy.MetadataRouteID] != keyed.GetId() ||
				ids[envoy.MetadataAPIID] != api.GetId() || ids[envoy.MetadataStage] != "prod" {
				t.Errorf("key-required route: ext_authz context extensions %v", ids)
			}
			if _, ok := routes[open.GetId()].GetTypedPerFilterConfig()[envoy.FilterExtAuthz]; ok {
				t.Error("a route without api_key_required enables ext_authz")
			}
			for id, r := range routes {
				if len(r.GetRoute().GetRateLimits()) != 0 {
					t.Errorf("route %s has rate limits before any throttle", id)
				}
			}

			setStageThrottle(t, e, api.GetId(), &adminv1.ThrottleSettings{RateLimit: 10, BurstLimit: 20})
			want := envoy.RateLimitRouteValue(api.GetId(), "prod", open.GetId())
			c.waitFor(t, "the stage throttle's descriptor", func(c *adsClient) bool {
				return descriptor(stageRoutes(gateway(c), api.GetId(), "prod")[open.GetId()]) == want
			})
			setStageThrottle(t, e, api.GetId(), nil)
			c.waitFor(t, "the descriptor to go", func(c *adsClient) bool {
				r := stageRoutes(gateway(c), api.GetId(), "prod")[open.GetId()]
				return r != nil && descriptor(r) == ""
			})

			// Keys and plans make no new version: every route configuration
			// sent from now on holds the barrier API, created after them.
			sent := len(c.received(resource.RouteType))
			keyOnPlan(t, e, api.GetId())
			barrier := e.api(t, "barrier")
			c.waitFor(t, "the barrier API", hasAPI(barrier.GetId(), true))
			for _, r := range c.received(resource.RouteType)[sent:] {
				if apiHost(r.resources[envoy.HTTPRouteConfigName].(*routev3.RouteConfiguration), barrier.GetId()) == nil {
					t.Errorf("version %s was sent for a change to keys and plans", r.version)
				}
			}
		})
	}
}

// keyOnPlan creates an API key on a usage plan covering the API's prod stage.
func keyOnPlan(t *testing.T, e *env, apiID string) {
	t.Helper()
	key, err := e.admin.CreateApiKey(e.ctx, &adminv1.CreateApiKeyRequest{ApiKey: &adminv1.ApiKey{Name: "k", Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := e.admin.CreateUsagePlan(e.ctx, &adminv1.CreateUsagePlanRequest{UsagePlan: &adminv1.UsagePlan{
		Name: "p", Throttle: &adminv1.ThrottleSettings{RateLimit: 1, BurstLimit: 1},
		ApiStages: []*adminv1.ApiStage{{ApiId: apiID, Stage: "prod"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.CreateUsagePlanKey(e.ctx, &adminv1.CreateUsagePlanKeyRequest{
		UsagePlanId: plan.GetId(), KeyId: key.GetId(),
	}); err != nil {
		t.Fatal(err)
	}
}

// setStageThrottle sets (nil: removes) the prod stage's default throttle.
func setStageThrottle(t *testing.T, e *env, apiID string, th *adminv1.ThrottleSettings) {
	t.Helper()
	if _, err := e.admin.UpdateStage(e.ctx, &adminv1.UpdateStageRequest{
		Stage: &adminv1.Stage{ApiId: apiID, Name: "prod", Throttle: th}, UpdateMask: fieldMask("throttle"),
	}); err != nil {
		t.Fatal(err)
	}
}

// authzIDs returns the context extensions a route's ext_authz settings
// hand the service, failing the test if the route has none.
func authzIDs(t *testing.T, r *routev3.Route) map[string]string {
	t.Helper()
	a, ok := r.GetTypedPerFilterConfig()[envoy.FilterExtAuthz]
	if !ok {
		t.Fatalf("route %s does not enable ext_authz", r.GetName())
	}
	var per extauthzv3.ExtAuthzPerRoute
	if err := a.UnmarshalTo(&per); err != nil {
		t.Fatal(err)
	}
	return per.GetCheckSettings().GetContextExtensions()
}

// descriptor returns the value of a route's one generic_key rate-limit
// descriptor, or "" if it has none.
func descriptor(r *routev3.Route) string {
	for _, rl := range r.GetRoute().GetRateLimits() {
		for _, a := range rl.GetActions() {
			if gk := a.GetGenericKey(); gk.GetDescriptorKey() == envoy.RateLimitRouteKey {
				return gk.GetDescriptorValue()
			}
		}
	}
	return ""
}
