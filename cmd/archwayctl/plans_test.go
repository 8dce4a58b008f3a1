package main

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestPlans builds a usage plan with the CLI, changes it one field at a
// time, moves it across stages and keys, and deletes it, checking every
// step through the test's own client. APIs are named by name.
func TestPlans(t *testing.T) {
	addr, admin := startServer(t, serverOptions{})
	mustRun(t, addr, "apply", "-f", "testdata/petstore.yaml")
	mustRun(t, addr, "create", "stage", "--api", "petstore", "prod")
	api := apiNamed(t, admin, "petstore")

	created := &adminv1.UsagePlan{}
	unmarshal(t, mustRun(t, addr, "plans", "create", "gold", "--description", "Paying partners.",
		"--rate", "10", "--burst", "20", "--quota-limit", "1000", "--quota-period", "month", "--quota-offset", "5",
		"--stage", "petstore:prod", "--fail-open", "--tag", "tier=1", "-o", "json"), created)
	want := &adminv1.UsagePlan{
		Name: "gold", Description: "Paying partners.", Tags: map[string]string{"tier": "1"},
		Throttle:    &adminv1.ThrottleSettings{RateLimit: 10, BurstLimit: 20},
		Quota:       &adminv1.QuotaSettings{Limit: 1000, Period: adminv1.QuotaSettings_PERIOD_MONTH, Offset: 5},
		ApiStages:   []*adminv1.ApiStage{{ApiId: api.GetId(), Stage: "prod"}},
		FailureMode: adminv1.FailureMode_FAILURE_MODE_FAIL_OPEN,
	}
	if got := planFields(created); !proto.Equal(got, want) {
		t.Fatalf("plans create made\n%v\nwant\n%v", got, want)
	}
	id := created.GetId()

	rows := tableRows(t, mustRun(t, addr, "plans", "list"))
	if len(rows) != 2 || !slices.Equal(rows[1], []string{id, "gold", "10:20", "1000/MONTH", "petstore:prod", "admit"}) {
		t.Errorf("plans list = %q", rows)
	}
	if got := tableRows(t, mustRun(t, addr, "get", "plan", id)); len(got) != 2 || !slices.Equal(got[1], rows[1]) {
		t.Errorf("get plan %s = %q, want %q", id, got, rows)
	}

	// Only the given fields change: --rate keeps the burst, and the
	// quota, stages and tags are left alone.
	mustRun(t, addr, "plans", "update", "gold", "--rate", "2.5")
	want.Throttle.RateLimit = 2.5
	checkPlan(t, admin, id, want)

	mustRun(t, addr, "plans", "update", id, "--name", "platinum", "--no-quota", "--fail-open=false")
	want.Name, want.Quota, want.FailureMode = "platinum", nil, adminv1.FailureMode_FAILURE_MODE_FAIL_CLOSED
	checkPlan(t, admin, id, want)

	planStages(t, addr, admin, id, api.GetId(), want)
	planKeysAndDelete(t, addr, admin, id)
}

// planStages adds, changes and removes the plan's API stages.
func planStages(t *testing.T, addr string, admin adminv1.AdminServiceClient, id, apiID string, want *adminv1.UsagePlan) {
	t.Helper()
	mustRun(t, addr, "plans", "add-stage", "platinum", "petstore:$default", "--route-throttle", "get /pets=1:2")
	mustRun(t, addr, "plans", "add-stage", "platinum", apiID+":$default", "--route-throttle", "GET /pets/{petId}=3:4")
	want.ApiStages = append(want.ApiStages, &adminv1.ApiStage{
		ApiId: apiID, Stage: "$default",
		RouteThrottles: map[string]*adminv1.ThrottleSettings{
			"GET /pets":         {RateLimit: 1, BurstLimit: 2},
			"GET /pets/{petId}": {RateLimit: 3, BurstLimit: 4},
		},
	})
	checkPlan(t, admin, id, want)

	// --stage replaces the list but keeps the route throttles of a stage
	// that stays.
	mustRun(t, addr, "plans", "update", "platinum", "--stage", "petstore:$default")
	want.ApiStages = want.ApiStages[1:]
	checkPlan(t, admin, id, want)

	out := mustRun(t, addr, "plans", "remove-stage", "platinum", "petstore:$default")
	if out != "usage plan platinum no longer covers petstore:$default\n" {
		t.Errorf("remove-stage printed %q", out)
	}
	want.ApiStages = nil
	checkPlan(t, admin, id, want)
	r := runBinary(t, nil, "", "--addr", addr, "plans", "remove-stage", "platinum", "petstore:$default")
	if r.code != exitFailure || r.err != "archwayctl: usage plan platinum does not cover petstore:$default\n" {
		t.Errorf("removing a stage twice: exit %d, stderr %q", r.code, r.err)
	}
}

// planKeysAndDelete puts keys on the plan and takes them off, then
// deletes the plan.
func planKeysAndDelete(t *testing.T, addr string, admin adminv1.AdminServiceClient, id string) {
	t.Helper()
	mustRun(t, addr, "keys", "create", "k1")
	mustRun(t, addr, "keys", "create", "k2")
	if out := mustRun(t, addr, "plans", "add-key", "platinum", "k1"); out != "api key k1 added to usage plan platinum\n" {
		t.Errorf("add-key printed %q", out)
	}
	mustRun(t, addr, "plans", "add-key", id, "k2")
	rows := tableRows(t, mustRun(t, addr, "plans", "keys", "platinum"))
	var names []string
	for _, row := range rows[1:] {
		names = append(names, row[1])
	}
	slices.Sort(names)
	if !slices.Equal(rows[0], []string{"KEY-ID", "NAME", "ADDED"}) || !slices.Equal(names, []string{"k1", "k2"}) {
		t.Errorf("plans keys = %q, want k1 and k2", rows)
	}
	if out := mustRun(t, addr, "plans", "remove-key", "platinum", "k2"); out != "api key k2 removed from usage plan platinum\n" {
		t.Errorf("remove-key printed %q", out)
	}
	keys, err := listPlanKeys(t.Context(), admin, id)
	check(t, err)
	if len(keys) != 1 || keys[0].GetName() != "k1" {
		t.Errorf("after remove-key the plan has keys %v, want k1", keys)
	}
	if out := mustRun(t, addr, "plans", "delete", "platinum"); out != "usage plan platinum deleted\n" {
		t.Errorf("plans delete printed %q", out)
	}
	if plans, err := listPlans(t.Context(), admin); err != nil || len(plans) != 0 {
		t.Errorf("after delete: plans %v, error %v", plans, err)
	}
}

// TestPlanRejectedField checks that a plan the admin API refuses exits 1
// naming the bad field.
func TestPlanRejectedField(t *testing.T) {
	addr, _ := startServer(t, serverOptions{})
	r := runBinary(t, nil, "", "--addr", addr, "plans", "create", "bad", "--rate", "-1", "--burst", "1")
	if r.code != exitFailure || !strings.Contains(r.err, "archwayctl: invalid request:\n  usage_plan.throttle.rate_limit: ") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 naming usage_plan.throttle.rate_limit", r.code, r.err)
	}
}

// checkPlan compares the client-set fields of plan id with want.
func checkPlan(t *testing.T, admin adminv1.AdminServiceClient, id string, want *adminv1.UsagePlan) {
	t.Helper()
	p, err := admin.GetUsagePlan(t.Context(), &adminv1.GetUsagePlanRequest{Id: id})
	check(t, err)
	if got := planFields(p); !proto.Equal(got, want) {
		t.Errorf("plan is\n%v\nwant\n%v", got, want)
	}
}

// planFields is p without what the server sets.
func planFields(p *adminv1.UsagePlan) *adminv1.UsagePlan {
	p = proto.CloneOf(p)
	p.Id, p.Etag, p.CreateTime, p.UpdateTime, p.QuotaStartTime = "", "", nil, nil, nil
	return p
}
