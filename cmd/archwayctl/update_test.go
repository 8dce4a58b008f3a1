package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestStageThrottles sets a stage's throttles on create, changes them with
// update stage, and checks that update leaves the fields it was not given
// alone.
func TestStageThrottles(t *testing.T) {
	addr, admin := startServer(t, serverOptions{})
	mustRun(t, addr, "apply", "-f", "testdata/petstore.yaml")
	api := apiNamed(t, admin, "petstore")
	out := mustRun(t, addr, "create", "stage", "--api", "petstore", "prod", "--var", "color=blue",
		"--throttle", "100:200", "--route-throttle", "get /pets=10:20", "--route-throttle", "GET /pets/{petId}=0.5:1")
	rows := tableRows(t, out)
	if len(rows) != 2 || rows[1][3] != "100:200" || rows[1][4] != "2" {
		t.Errorf("create stage printed:\n%s\nwant throttle 100:200 and 2 route throttles", out)
	}
	want := &adminv1.Stage{
		Throttle: &adminv1.ThrottleSettings{RateLimit: 100, BurstLimit: 200},
		RouteThrottles: map[string]*adminv1.ThrottleSettings{
			"GET /pets": {RateLimit: 10, BurstLimit: 20}, "GET /pets/{petId}": {RateLimit: 0.5, BurstLimit: 1},
		},
		Variables: map[string]string{"color": "blue"},
	}
	checkStage(t, admin, api.GetId(), want)

	steps := []struct {
		args   []string
		change func(*adminv1.Stage)
	}{
		{[]string{"--throttle", "5:10"}, func(s *adminv1.Stage) { s.Throttle = &adminv1.ThrottleSettings{RateLimit: 5, BurstLimit: 10} }},
		{[]string{"--route-throttle", "ANY /{proxy+}=1:1"}, func(s *adminv1.Stage) {
			s.RouteThrottles = map[string]*adminv1.ThrottleSettings{"ANY /{proxy+}": {RateLimit: 1, BurstLimit: 1}}
		}},
		{[]string{"--no-throttle", "--no-route-throttles", "--description", "Live."}, func(s *adminv1.Stage) {
			s.Throttle, s.RouteThrottles, s.Description = nil, nil, "Live."
		}},
	}
	for _, s := range steps {
		mustRun(t, addr, append([]string{"update", "stage", "--api", "petstore", "prod"}, s.args...)...)
		s.change(want)
		checkStage(t, admin, api.GetId(), want)
	}

	r := runBinary(t, nil, "", "--addr", addr, "update", "stage", "--api", "petstore", "prod", "--throttle", "-1:5")
	if r.code != exitFailure || !strings.Contains(r.err, "archwayctl: invalid request:\n  stage.throttle.rate_limit: ") {
		t.Errorf("a negative rate: exit %d, stderr:\n%s\nwant exit 1 naming stage.throttle.rate_limit", r.code, r.err)
	}
}

// checkStage compares the throttles, variables and description of stage
// prod with want.
func checkStage(t *testing.T, admin adminv1.AdminServiceClient, apiID string, want *adminv1.Stage) {
	t.Helper()
	st, err := admin.GetStage(t.Context(), &adminv1.GetStageRequest{ApiId: apiID, Name: "prod"})
	check(t, err)
	got := &adminv1.Stage{
		Throttle: st.GetThrottle(), RouteThrottles: st.GetRouteThrottles(),
		Variables: st.GetVariables(), Description: st.GetDescription(),
	}
	if !proto.Equal(got, want) {
		t.Errorf("stage prod is\n%v\nwant\n%v", got, want)
	}
}

// TestAPIKeyRequiredRoutes creates a route that requires an API key and
// turns the requirement off and on with update route.
func TestAPIKeyRequiredRoutes(t *testing.T) {
	addr, admin := startServer(t, serverOptions{})
	mustRun(t, addr, "apply", "-f", "testdata/petstore.yaml")
	api := apiNamed(t, admin, "petstore")
	out := mustRun(t, addr, "create", "route", "--api", "petstore", "POST", "/pets", "--integration", "backend", "--api-key-required")
	rows := tableRows(t, out)
	if len(rows) != 2 || rows[1][4] != "required" {
		t.Errorf("create route printed:\n%s\nwant API-KEY required", out)
	}
	for _, s := range []struct {
		flag string
		want bool
	}{{"--api-key-required=false", false}, {"--api-key-required", true}} {
		mustRun(t, addr, "update", "route", "--api", "petstore", "POST", "/pets", s.flag)
		r, err := resolveRoute(t.Context(), admin, api, []string{"POST", "/pets"})
		check(t, err)
		if r.GetApiKeyRequired() != s.want || r.GetIntegrationId() == "" {
			t.Errorf("after update route %s: %v", s.flag, r)
		}
	}
	mustRun(t, addr, "update", "route", "--api", "petstore", "POST", "/pets", "--integration", "health", "--description", "Adds a pet.")
	r, err := resolveRoute(t.Context(), admin, api, []string{"POST", "/pets"})
	check(t, err)
	health, err := resolveIntegration(t.Context(), admin, api, "health")
	check(t, err)
	if r.GetIntegrationId() != health.GetId() || r.GetDescription() != "Adds a pet." || !r.GetApiKeyRequired() {
		t.Errorf("after update route --integration health: %v", r)
	}
}
