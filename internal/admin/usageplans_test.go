package admin

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// mustStage creates a stage in an API.
func (e *env) mustStage(t *testing.T, apiID, name string) *adminv1.Stage {
	t.Helper()
	st, err := e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: apiID, Stage: &adminv1.Stage{Name: name}})
	if err != nil {
		t.Fatalf("CreateStage(%s): %v", name, err)
	}
	return st
}

// mustPlan creates a usage plan covering the given API stages.
func (e *env) mustPlan(t *testing.T, name string, stages ...*adminv1.ApiStage) *adminv1.UsagePlan {
	t.Helper()
	p, err := e.CreateUsagePlan(e.ctx, &adminv1.CreateUsagePlanRequest{UsagePlan: &adminv1.UsagePlan{Name: name, ApiStages: stages}})
	if err != nil {
		t.Fatalf("CreateUsagePlan(%s): %v", name, err)
	}
	return p
}

// mustLink puts an API key on a usage plan.
func (e *env) mustLink(t *testing.T, planID, keyID string) {
	t.Helper()
	if _, err := e.CreateUsagePlanKey(e.ctx, &adminv1.CreateUsagePlanKeyRequest{UsagePlanId: planID, KeyId: keyID}); err != nil {
		t.Fatalf("CreateUsagePlanKey(%s, %s): %v", planID, keyID, err)
	}
}

// keyPlans returns the ids of the plans ListUsagePlans lists for a key.
func (e *env) keyPlans(t *testing.T, keyID string) []string {
	t.Helper()
	resp, err := e.ListUsagePlans(e.ctx, &adminv1.ListUsagePlansRequest{KeyId: keyID})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range resp.GetUsagePlans() {
		ids = append(ids, p.GetId())
	}
	return ids
}

func apiStage(apiID, stage string) *adminv1.ApiStage {
	return &adminv1.ApiStage{ApiId: apiID, Stage: stage}
}

func TestUsagePlanValidation(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "shop")
	e.mustStage(t, api.GetId(), "prod")
	plan := e.mustPlan(t, "valid")
	many := make([]*adminv1.ApiStage, maxPlanStages+1)
	for i := range many {
		many[i] = apiStage(api.GetId(), fmt.Sprintf("s%d", i))
	}
	tests := violationCases{
		"create everything bad": {func() error {
			_, err := e.CreateUsagePlan(e.ctx, &adminv1.CreateUsagePlanRequest{UsagePlan: &adminv1.UsagePlan{
				Name:        "a b",
				Throttle:    &adminv1.ThrottleSettings{RateLimit: -1, BurstLimit: 2e6},
				Quota:       &adminv1.QuotaSettings{Limit: -1, Offset: 5},
				FailureMode: 9,
				ApiStages: []*adminv1.ApiStage{
					apiStage("bad", "a.b"),
					{ApiId: api.GetId(), Stage: "prod", RouteThrottles: map[string]*adminv1.ThrottleSettings{
						"FETCH /": {}, "GET /pets/{id}": {RateLimit: math.Inf(1)},
					}},
					apiStage(api.GetId(), "nope"),
					apiStage("zzzzzzzzzz", "prod"),
					apiStage(api.GetId(), "prod"),
				},
			}})
			return err
		}, []string{
			"usage_plan.name", "usage_plan.throttle.rate_limit", "usage_plan.throttle.burst_limit",
			"usage_plan.quota.limit", "usage_plan.quota.period", "usage_plan.quota.offset", "usage_plan.failure_mode",
			"usage_plan.api_stages[0].api_id", "usage_plan.api_stages[0].stage",
			`usage_plan.api_stages[1].route_throttles["FETCH /"]`,
			`usage_plan.api_stages[1].route_throttles["GET /pets/{id}"].rate_limit`,
			"usage_plan.api_stages[4]", "usage_plan.api_stages[2].stage", "usage_plan.api_stages[3].api_id",
		}},
		"offset equal to limit": {func() error {
			_, err := e.CreateUsagePlan(e.ctx, &adminv1.CreateUsagePlanRequest{UsagePlan: &adminv1.UsagePlan{
				Name: "x", Quota: &adminv1.QuotaSettings{Limit: 10, Offset: 10, Period: adminv1.QuotaSettings_PERIOD_DAY},
			}})
			return err
		}, []string{"usage_plan.quota.offset"}},
		"limit above 2^53": {func() error {
			_, err := e.CreateUsagePlan(e.ctx, &adminv1.CreateUsagePlanRequest{UsagePlan: &adminv1.UsagePlan{
				Name: "x", Quota: &adminv1.QuotaSettings{Limit: maxQuotaLimit + 1, Period: adminv1.QuotaSettings_PERIOD_WEEK},
			}})
			return err
		}, []string{"usage_plan.quota.limit"}},
		"NaN rate": {func() error {
			_, err := e.CreateUsagePlan(e.ctx, &adminv1.CreateUsagePlanRequest{UsagePlan: &adminv1.UsagePlan{
				Name: "x", Throttle: &adminv1.ThrottleSettings{RateLimit: math.NaN()},
			}})
			return err
		}, []string{"usage_plan.throttle.rate_limit"}},
		"too many stages": {func() error {
			_, err := e.CreateUsagePlan(e.ctx, &adminv1.CreateUsagePlanRequest{UsagePlan: &adminv1.UsagePlan{Name: "x", ApiStages: many}})
			return err
		}, []string{"usage_plan.api_stages"}},
		"update immutable": {func() error {
			_, err := e.UpdateUsagePlan(e.ctx, &adminv1.UpdateUsagePlanRequest{
				UsagePlan: &adminv1.UsagePlan{Id: plan.GetId()}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"id", "quota_start_time"}},
			})
			return err
		}, []string{"update_mask", "update_mask"}},
		"update to a missing stage": {func() error {
			_, err := e.UpdateUsagePlan(e.ctx, &adminv1.UpdateUsagePlanRequest{
				UsagePlan:  &adminv1.UsagePlan{Id: plan.GetId(), ApiStages: []*adminv1.ApiStage{apiStage(api.GetId(), "gone")}},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"api_stages"}},
			})
			return err
		}, []string{"usage_plan.api_stages[0].stage"}},
		"plan key ids": {func() error {
			_, err := e.CreateUsagePlanKey(e.ctx, &adminv1.CreateUsagePlanKeyRequest{UsagePlanId: "x", KeyId: "../y"})
			return err
		}, []string{"usage_plan_id", "key_id"}},
		"list keys bad page": {func() error {
			_, err := e.ListUsagePlanKeys(e.ctx, &adminv1.ListUsagePlanKeysRequest{UsagePlanId: plan.GetId(), PageToken: "x"})
			return err
		}, []string{"page_token"}},
		"stage throttles": {func() error {
			_, err := e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{
				Name: "beta", Throttle: &adminv1.ThrottleSettings{BurstLimit: -1},
				RouteThrottles: map[string]*adminv1.ThrottleSettings{"GET pets": {}, "ANY /{proxy+}": {RateLimit: 5, BurstLimit: 10}},
			}})
			return err
		}, []string{"stage.throttle.burst_limit", `stage.route_throttles["GET pets"]`}},
		"update stage throttle": {func() error {
			_, err := e.UpdateStage(e.ctx, &adminv1.UpdateStageRequest{
				Stage:      &adminv1.Stage{ApiId: api.GetId(), Name: "prod", Throttle: &adminv1.ThrottleSettings{RateLimit: 1e7}},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"throttle"}},
			})
			return err
		}, []string{"stage.throttle.rate_limit"}},
		"api key source": {func() error {
			_, err := e.CreateApi(e.ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{Name: "x", ApiKeySource: 7}})
			return err
		}, []string{"api.api_key_source"}},
		"definition": {func() error {
			_, err := e.ApplyApi(e.ctx, &adminv1.ApplyApiRequest{Definition: &adminv1.ApiDefinition{
				Name: "def", ApiKeySource: 3, Stages: []*adminv1.StageDefinition{{
					Name: "prod", Throttle: &adminv1.ThrottleSettings{RateLimit: -2},
					RouteThrottles: map[string]*adminv1.ThrottleSettings{"get /": {}},
				}},
			}})
			return err
		}, []string{"definition.api_key_source", "definition.stages[0].throttle.rate_limit", `definition.stages[0].route_throttles["get /"]`}},
	}
	tests.run(t, e)
}

func TestUsagePlanCRUD(t *testing.T) {
	e := newEnv(t)
	quota := &adminv1.QuotaSettings{Limit: 1000, Period: adminv1.QuotaSettings_PERIOD_MONTH}
	p, err := e.CreateUsagePlan(e.ctx, &adminv1.CreateUsagePlanRequest{UsagePlan: &adminv1.UsagePlan{
		Name: "gold", Quota: quota, Throttle: &adminv1.ThrottleSettings{RateLimit: 0.5, BurstLimit: 1},
		FailureMode: adminv1.FailureMode_FAILURE_MODE_FAIL_OPEN,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !validID(p.GetId()) || p.GetEtag() == "" || !p.GetQuotaStartTime().AsTime().Equal(p.GetCreateTime().AsTime()) {
		t.Fatalf("created plan = %v", p)
	}
	got, err := e.GetUsagePlan(e.ctx, &adminv1.GetUsagePlanRequest{Id: p.GetId()})
	if err != nil || got.GetEtag() != p.GetEtag() || got.GetThrottle().GetRateLimit() != 0.5 {
		t.Fatalf("GetUsagePlan = %v, %v", got, err)
	}
	_, err = e.CreateUsagePlan(e.ctx, &adminv1.CreateUsagePlanRequest{UsagePlan: &adminv1.UsagePlan{Name: "gold"}})
	wantCode(t, err, codes.AlreadyExists)

	// A description leaves the quota's start alone; a new quota restarts it.
	mask := func(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }
	up, err := e.UpdateUsagePlan(e.ctx, &adminv1.UpdateUsagePlanRequest{
		UsagePlan: &adminv1.UsagePlan{Id: p.GetId(), Description: "d", Etag: p.GetEtag()}, UpdateMask: mask("description"),
	})
	if err != nil || !up.GetQuotaStartTime().AsTime().Equal(p.GetQuotaStartTime().AsTime()) || up.GetEtag() == p.GetEtag() {
		t.Fatalf("UpdateUsagePlan(description) = %v, %v", up, err)
	}
	_, err = e.UpdateUsagePlan(e.ctx, &adminv1.UpdateUsagePlanRequest{
		UsagePlan: &adminv1.UsagePlan{Id: p.GetId(), Name: "stale", Etag: p.GetEtag()}, UpdateMask: mask("name"),
	})
	wantPrecondition(t, err, failureEtag)
	up2, err := e.UpdateUsagePlan(e.ctx, &adminv1.UpdateUsagePlanRequest{
		UsagePlan:  &adminv1.UsagePlan{Id: p.GetId(), Name: "platinum", Quota: &adminv1.QuotaSettings{Limit: 5, Period: adminv1.QuotaSettings_PERIOD_DAY}},
		UpdateMask: mask("name", "quota"),
	})
	if err != nil || up2.GetName() != "platinum" || !up2.GetQuotaStartTime().AsTime().After(up.GetQuotaStartTime().AsTime()) {
		t.Fatalf("UpdateUsagePlan(quota) = %v, %v", up2, err)
	}
	up3, err := e.UpdateUsagePlan(e.ctx, &adminv1.UpdateUsagePlanRequest{
		UsagePlan: &adminv1.UsagePlan{Id: p.GetId()}, UpdateMask: mask("quota"),
	})
	if err != nil || up3.GetQuotaStartTime() != nil {
		t.Fatalf("UpdateUsagePlan(no quota) = %v, %v", up3, err)
	}
	e.mustPlan(t, "gold") // The old name is free again.

	_, err = e.DeleteUsagePlan(e.ctx, &adminv1.DeleteUsagePlanRequest{Id: p.GetId(), Etag: p.GetEtag()})
	wantPrecondition(t, err, failureEtag)
	if _, err := e.DeleteUsagePlan(e.ctx, &adminv1.DeleteUsagePlanRequest{Id: p.GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err = e.GetUsagePlan(e.ctx, &adminv1.GetUsagePlanRequest{Id: p.GetId()})
	wantCode(t, err, codes.NotFound)
}

func TestListUsagePlansPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.mustPlan(t, fmt.Sprintf("plan-%d", i))
	}
	var ids []string
	token := ""
	for pages := 1; pages <= 5; pages++ {
		resp, err := e.ListUsagePlans(e.ctx, &adminv1.ListUsagePlansRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range resp.GetUsagePlans() {
			ids = append(ids, p.GetId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
	}
	if len(ids) != 5 || !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != 5 {
		t.Errorf("listed %v, want 5 distinct plans in id order", ids)
	}
}

func TestUsagePlanKeyRules(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "shop")
	e.mustStage(t, api.GetId(), "prod")
	e.mustStage(t, api.GetId(), "beta")
	a := e.mustPlan(t, "a", apiStage(api.GetId(), "prod"))
	b := e.mustPlan(t, "b", apiStage(api.GetId(), "prod"))
	c := e.mustPlan(t, "c", apiStage(api.GetId(), "beta"))
	k := e.mustKey(t, "k", "")
	e.mustLink(t, a.GetId(), k.GetId())
	e.mustLink(t, c.GetId(), k.GetId())

	before := e.revision(t)
	_, err := e.CreateUsagePlanKey(e.ctx, &adminv1.CreateUsagePlanKeyRequest{UsagePlanId: a.GetId(), KeyId: k.GetId()})
	wantCode(t, err, codes.AlreadyExists)
	_, err = e.CreateUsagePlanKey(e.ctx, &adminv1.CreateUsagePlanKeyRequest{UsagePlanId: b.GetId(), KeyId: k.GetId()})
	wantPrecondition(t, err, failureAPIStage)
	_, err = e.UpdateUsagePlan(e.ctx, &adminv1.UpdateUsagePlanRequest{
		UsagePlan:  &adminv1.UsagePlan{Id: c.GetId(), ApiStages: []*adminv1.ApiStage{apiStage(api.GetId(), "beta"), apiStage(api.GetId(), "prod")}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"api_stages"}},
	})
	wantPrecondition(t, err, failureAPIStage)
	_, err = e.CreateUsagePlanKey(e.ctx, &adminv1.CreateUsagePlanKeyRequest{UsagePlanId: "zzzzzzzzzz", KeyId: k.GetId()})
	wantCode(t, err, codes.NotFound)
	_, err = e.CreateUsagePlanKey(e.ctx, &adminv1.CreateUsagePlanKeyRequest{UsagePlanId: a.GetId(), KeyId: "zzzzzzzzzz"})
	wantCode(t, err, codes.NotFound)
	e.wantNoWrite(t, before, "refused associations")

	// The association shows the key's current name.
	if _, err := e.UpdateApiKey(e.ctx, &adminv1.UpdateApiKeyRequest{
		ApiKey: &adminv1.ApiKey{Id: k.GetId(), Name: "renamed"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
	}); err != nil {
		t.Fatal(err)
	}
	keys, err := e.ListUsagePlanKeys(e.ctx, &adminv1.ListUsagePlanKeysRequest{UsagePlanId: a.GetId()})
	if err != nil || len(keys.GetKeys()) != 1 || keys.GetKeys()[0].GetName() != "renamed" || keys.GetKeys()[0].GetKeyId() != k.GetId() {
		t.Fatalf("ListUsagePlanKeys = %v, %v", keys, err)
	}
	if got, want := e.keyPlans(t, k.GetId()), slices.Sorted(slices.Values([]string{a.GetId(), c.GetId()})); !slices.Equal(got, want) {
		t.Fatalf("plans of the key = %v, want %v", got, want)
	}
	paged, err := e.ListUsagePlans(e.ctx, &adminv1.ListUsagePlansRequest{KeyId: k.GetId(), PageSize: 1})
	if err != nil || len(paged.GetUsagePlans()) != 1 || paged.GetNextPageToken() == "" {
		t.Fatalf("first page of the key's plans = %v, %v", paged, err)
	}

	// Once off plan a, the key may join b, which covers the same stage.
	if _, err := e.DeleteUsagePlanKey(e.ctx, &adminv1.DeleteUsagePlanKeyRequest{UsagePlanId: a.GetId(), KeyId: k.GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err = e.DeleteUsagePlanKey(e.ctx, &adminv1.DeleteUsagePlanKeyRequest{UsagePlanId: a.GetId(), KeyId: k.GetId()})
	wantCode(t, err, codes.NotFound)
	e.mustLink(t, b.GetId(), k.GetId())

	// Deleting the key drops its associations; deleting a plan drops its.
	if _, err := e.DeleteApiKey(e.ctx, &adminv1.DeleteApiKeyRequest{Id: k.GetId()}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*adminv1.UsagePlan{b, c} {
		keys, err := e.ListUsagePlanKeys(e.ctx, &adminv1.ListUsagePlanKeysRequest{UsagePlanId: p.GetId()})
		if err != nil || len(keys.GetKeys()) != 0 {
			t.Fatalf("keys of plan %s after the key's deletion = %v, %v", p.GetName(), keys, err)
		}
	}
	k2 := e.mustKey(t, "k2", "")
	e.mustLink(t, c.GetId(), k2.GetId())
	if _, err := e.DeleteUsagePlan(e.ctx, &adminv1.DeleteUsagePlanRequest{Id: c.GetId()}); err != nil {
		t.Fatal(err)
	}
	if got := e.keyPlans(t, k2.GetId()); len(got) != 0 {
		t.Fatalf("plans of k2 after its plan's deletion = %v", got)
	}
	_, err = e.ListUsagePlanKeys(e.ctx, &adminv1.ListUsagePlanKeysRequest{UsagePlanId: c.GetId()})
	wantCode(t, err, codes.NotFound)
}

func TestThrottlesAndKeyRequired(t *testing.T) {
	e := newEnv(t)
	def := &adminv1.ApiDefinition{
		Name: "shop", ApiKeySource: adminv1.ApiKeySource_API_KEY_SOURCE_AUTHORIZER,
		Integrations: []*adminv1.IntegrationDefinition{{
			Name: "mock", Kind: &adminv1.IntegrationDefinition_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200}},
		}},
		Routes: []*adminv1.RouteDefinition{{Method: "GET", Path: "/pets", Integration: "mock", ApiKeyRequired: true}},
		Stages: []*adminv1.StageDefinition{{
			Name: "prod", AutoDeploy: true, Throttle: &adminv1.ThrottleSettings{RateLimit: 10, BurstLimit: 20},
			RouteThrottles: map[string]*adminv1.ThrottleSettings{"GET /pets": {RateLimit: 1, BurstLimit: 1}},
		}},
	}
	resp, err := e.ApplyApi(e.ctx, &adminv1.ApplyApiRequest{Definition: def})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetApi().GetApiKeySource() != adminv1.ApiKeySource_API_KEY_SOURCE_AUTHORIZER {
		t.Errorf("applied api = %v", resp.GetApi())
	}
	again, err := e.ApplyApi(e.ctx, &adminv1.ApplyApiRequest{Definition: def})
	if err != nil || len(again.GetChanges()) != 0 {
		t.Fatalf("second apply = %v, %v", again.GetChanges(), err)
	}
	apiID := resp.GetApi().GetId()
	st, err := e.GetStage(e.ctx, &adminv1.GetStageRequest{ApiId: apiID, Name: "prod"})
	if err != nil || st.GetThrottle().GetBurstLimit() != 20 || st.GetRouteThrottles()["GET /pets"].GetRateLimit() != 1 {
		t.Fatalf("stage = %v, %v", st, err)
	}
	dep, err := e.GetDeployment(e.ctx, &adminv1.GetDeploymentRequest{ApiId: apiID, Id: st.GetDeploymentId()})
	if err != nil || len(dep.GetRoutes()) != 1 || !dep.GetRoutes()[0].GetApiKeyRequired() {
		t.Fatalf("deployment = %v, %v", dep, err)
	}

	// The throttles change through UpdateStage's mask, without a deployment.
	up, err := e.UpdateStage(e.ctx, &adminv1.UpdateStageRequest{
		Stage:      &adminv1.Stage{ApiId: apiID, Name: "prod", RouteThrottles: map[string]*adminv1.ThrottleSettings{"ANY /{proxy+}": {RateLimit: 2}}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"throttle", "route_throttles"}},
	})
	if err != nil || up.GetThrottle() != nil || len(up.GetRouteThrottles()) != 1 || up.GetDeploymentId() != st.GetDeploymentId() {
		t.Fatalf("UpdateStage = %v, %v", up, err)
	}
	r, err := e.UpdateRoute(e.ctx, &adminv1.UpdateRouteRequest{
		Route:      &adminv1.Route{ApiId: apiID, Id: dep.GetRoutes()[0].GetId()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"api_key_required"}},
	})
	if err != nil || r.GetApiKeyRequired() {
		t.Fatalf("UpdateRoute = %v, %v", r, err)
	}
	api, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{
		Api: &adminv1.Api{Id: apiID}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"api_key_source"}},
	})
	if err != nil || api.GetApiKeySource() != adminv1.ApiKeySource_API_KEY_SOURCE_UNSPECIFIED {
		t.Fatalf("UpdateApi = %v, %v", api, err)
	}
}
