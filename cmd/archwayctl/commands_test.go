package main

import (
	"strings"
	"testing"
	"time"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestCreateAndDelete builds an API one command at a time, checks every
// flag arrived through the test's own client, then takes it apart,
// referring to resources by name where the CLI allows it.
func TestCreateAndDelete(t *testing.T) {
	addr, admin := startServer(t, serverOptions{})
	mustRun(t, addr, "create", "api", "shop", "--protocol", "rest", "--description", "The shop.", "--tag", "team=web", "--tag", "cost=a=b")
	mustRun(t, addr, "create", "integration", "--api", "shop", "backend", "--http-proxy", "http://127.0.0.1:8083/{proxy}", "--method", "post", "--timeout", "1500ms")
	mustRun(t, addr, "create", "integration", "--api", "shop", "ping", "--mock-status", "204", "--mock-header", "x-ping=pong", "--mock-body", "hi")
	routeOut := mustRun(t, addr, "create", "route", "--api", "shop", "get", "/items/{proxy+}", "--integration", "backend")
	stageOut := mustRun(t, addr, "create", "stage", "--api", "shop", "beta", "--var", "color=blue", "--auto-deploy")
	mustRun(t, addr, "create", "deployment", "--api", "shop", "--stage", "beta", "--description", "first")

	api := apiNamed(t, admin, "shop")
	if api.GetProtocol() != adminv1.Protocol_PROTOCOL_REST || api.GetDescription() != "The shop." ||
		api.GetTags()["team"] != "web" || api.GetTags()["cost"] != "a=b" {
		t.Errorf("created api %v", api)
	}
	integrations, err := listIntegrations(t.Context(), admin, api.GetId())
	check(t, err)
	byName := map[string]*adminv1.Integration{}
	for _, in := range integrations {
		byName[in.GetName()] = in
	}
	proxy := byName["backend"].GetHttpProxy()
	if proxy.GetUri() != "http://127.0.0.1:8083/{proxy}" || proxy.GetMethod() != "POST" || proxy.GetTimeout().AsDuration() != 1500*time.Millisecond {
		t.Errorf("backend integration is %v", byName["backend"])
	}
	mock := byName["ping"].GetMock()
	if mock.GetStatusCode() != 204 || mock.GetHeaders()["x-ping"] != "pong" || mock.GetBody() != "hi" {
		t.Errorf("ping integration is %v", byName["ping"])
	}
	routes, err := listRoutes(t.Context(), admin, api.GetId())
	check(t, err)
	if len(routes) != 1 || routes[0].GetMethod() != "GET" || routes[0].GetIntegrationId() != byName["backend"].GetId() {
		t.Fatalf("routes are %v, want GET /items/{proxy+} to backend", routes)
	}
	if !strings.Contains(routeOut, routes[0].GetId()) || !strings.Contains(routeOut, "backend") {
		t.Errorf("create route printed %q, want the route's id and integration name", routeOut)
	}
	stage, err := admin.GetStage(t.Context(), &adminv1.GetStageRequest{ApiId: api.GetId(), Name: "beta"})
	check(t, err)
	if stage.GetVariables()["color"] != "blue" || !stage.GetAutoDeploy() || stage.GetDeploymentId() == "" {
		t.Errorf("stage beta is %v, want auto-deploy, color=blue and a deployment", stage)
	}
	if rows := tableRows(t, stageOut); len(rows) != 2 || rows[1][0] != "beta" {
		t.Errorf("create stage printed %q", stageOut)
	}

	deleteAll(t, addr, admin, api.GetId(), stage.GetDeploymentId())
}

func deleteAll(t *testing.T, addr string, admin adminv1.AdminServiceClient, apiID, deployment string) {
	t.Helper()
	r := runBinary(t, nil, "", "--addr", addr, "delete", "integration", "--api", "shop", "backend")
	if r.code != exitFailure || !strings.Contains(r.err, "in use") {
		t.Errorf("deleting a used integration: exit %d, stderr %q; want exit 1 and \"in use\"", r.code, r.err)
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"delete", "route", "--api", "shop", "GET", "/items/{proxy+}"}, "route GET /items/{proxy+} deleted\n"},
		{[]string{"delete", "integration", "--api", apiID, "backend"}, "integration backend deleted\n"},
		{[]string{"delete", "stage", "--api", "shop", "beta"}, "stage beta deleted\n"},
		{[]string{"delete", "deployment", "--api", "shop", deployment}, "deployment " + deployment + " deleted\n"},
		{[]string{"delete", "api", "shop"}, "api shop deleted\n"},
	}
	for _, s := range steps {
		if out := mustRun(t, addr, s.args...); out != s.want {
			t.Errorf("archwayctl %s printed %q, want %q", strings.Join(s.args, " "), out, s.want)
		}
	}
	if apis := allAPIs(t, admin); len(apis) != 0 {
		t.Errorf("after delete api, %d APIs remain", len(apis))
	}
	r = runBinary(t, nil, "", "--addr", addr, "get", "api", "shop")
	if r.code != exitFailure || r.err != "archwayctl: api \"shop\" not found\n" {
		t.Errorf("get a deleted api: exit %d, stderr %q", r.code, r.err)
	}
}
