package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/archway-gateway/archway/internal/testutil/testnet"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// These tests run the built binary against the real admin API over a real
// etcd, and check the result through the test's own client.

func TestApplyTwiceChangesNothing(t *testing.T) {
	addr, admin := startServer(t, serverOptions{})
	first := mustRun(t, addr, "apply", "-f", "testdata/petstore.yaml")
	for _, want := range []string{
		"api petstore created",
		"integration backend created",
		"integration health created",
		"route GET /pets created",
		"route GET /pets/{petId} created",
		"route GET /health created",
		"stage $default created",
	} {
		if !slices.Contains(strings.Split(first, "\n"), want) {
			t.Errorf("first apply printed:\n%s\nwant a line %q", first, want)
		}
	}
	before := etags(t, admin, "petstore")

	second := mustRun(t, addr, "apply", "-f", "testdata/petstore.yaml")
	if second != "api petstore unchanged\n" {
		t.Errorf("second apply printed %q, want \"api petstore unchanged\\n\"", second)
	}
	if after := etags(t, admin, "petstore"); !maps.Equal(before, after) {
		t.Errorf("etags changed by a no-op apply:\nbefore %v\nafter  %v", before, after)
	}
}

func TestApplyDryRunWritesNothing(t *testing.T) {
	addr, admin := startServer(t, serverOptions{})
	out := mustRun(t, addr, "apply", "--dry-run", "-f", "testdata/petstore.yaml")
	if !strings.Contains(out, "api petstore created (dry run)\n") {
		t.Errorf("dry run printed:\n%s\nwant \"api petstore created (dry run)\"", out)
	}
	if apis := allAPIs(t, admin); len(apis) != 0 {
		t.Errorf("a dry run created %d APIs", len(apis))
	}
}

// TestApplyRejectsBadFiles checks that a file the decoder or the admin API
// refuses exits 1, names the bad field, and leaves nothing half-written.
func TestApplyRejectsBadFiles(t *testing.T) {
	tests := map[string]struct {
		file string
		want []string
	}{
		"unknown field": {
			file: "testdata/unknown_field.yaml",
			want: []string{`archwayctl: testdata/unknown_field.yaml: document 1: line 5: integrations[0].httpProxy: unknown field "url"`},
		},
		"bad path in a route": {
			file: "testdata/bad_path.yaml",
			want: []string{"archwayctl: api petstore: invalid request:\n  definition.routes[1].path: "},
		},
	}
	addr, admin := startServer(t, serverOptions{})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := runBinary(t, nil, "", "--addr", addr, "apply", "-f", tc.file)
			if r.code != exitFailure {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, exitFailure, r.err)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.err, want) {
					t.Errorf("stderr:\n%s\nwant it to contain %q", r.err, want)
				}
			}
			if apis := allAPIs(t, admin); len(apis) != 0 {
				t.Errorf("a refused apply left %d APIs behind", len(apis))
			}
		})
	}
}

func TestGetOutputFormats(t *testing.T) {
	addr, admin := startServer(t, serverOptions{})
	mustRun(t, addr, "apply", "-f", "testdata/petstore.yaml")
	api := apiNamed(t, admin, "petstore")

	var list []json.RawMessage
	if err := json.Unmarshal([]byte(mustRun(t, addr, "get", "apis", "-o", "json")), &list); err != nil {
		t.Fatalf("get apis -o json: %v", err)
	}
	if len(list) != 1 || !proto.Equal(unmarshalAPI(t, list[0]), api) {
		t.Errorf("get apis -o json = %s, want one API equal to %v", list, api)
	}

	js, err := yaml.YAMLToJSON([]byte(mustRun(t, addr, "get", "api", "petstore", "-o", "yaml")))
	if err != nil {
		t.Fatal(err)
	}
	if got := unmarshalAPI(t, js); !proto.Equal(got, api) {
		t.Errorf("get api petstore -o yaml = %v, want %v", got, api)
	}

	routes := tableRows(t, mustRun(t, addr, "get", "routes", "--api", api.GetId()))
	if !slices.Equal(routes[0], []string{"ID", "METHOD", "PATH", "INTEGRATION", "API-KEY"}) {
		t.Errorf("routes header = %q", routes[0])
	}
	got := map[string]string{}
	for _, row := range routes[1:] {
		got[row[1]+" "+row[2]] = row[3]
	}
	want := map[string]string{"GET /pets": "backend", "GET /pets/{petId}": "backend", "GET /health": "health"}
	if !maps.Equal(got, want) {
		t.Errorf("routes table maps routes to integrations %v, want %v", got, want)
	}

	stages := tableRows(t, mustRun(t, addr, "get", "stages", "--api", "petstore", "$default"))
	if len(stages) != 2 || stages[1][0] != "$default" || stages[1][2] != "true" {
		t.Errorf("get stages $default table = %q, want one auto-deploying $default", stages)
	}
}

func TestDeployAndRollback(t *testing.T) {
	addr, admin := startServer(t, serverOptions{})
	mustRun(t, addr, "apply", "-f", "testdata/orders.yaml")
	api := apiNamed(t, admin, "orders")

	first := &adminv1.DeployResponse{}
	unmarshal(t, mustRun(t, addr, "deploy", "orders", "--stage", "prod", "--description", "v1", "-o", "json"), first)
	mustRun(t, addr, "create", "route", "--api", "orders", "POST", "/orders", "--integration", "backend")
	out := mustRun(t, addr, "deploy", "orders", "--stage", "prod")
	second := servedBy(t, admin, api.GetId(), "prod")
	if second == first.GetDeployment().GetId() {
		t.Fatalf("the second deploy left prod on the first deployment %s", second)
	}
	if want := "deployment " + second + " created; stage prod of api orders serves it\n"; out != want {
		t.Errorf("deploy printed %q, want %q", out, want)
	}

	out = mustRun(t, addr, "rollback", "orders", "--stage", "prod", "--to", first.GetDeployment().GetId())
	if want := "stage prod of api orders serves deployment " + first.GetDeployment().GetId() + "\n"; out != want {
		t.Errorf("rollback printed %q, want %q", out, want)
	}
	if got := servedBy(t, admin, api.GetId(), "prod"); got != first.GetDeployment().GetId() {
		t.Errorf("after rollback prod serves %s, want %s", got, first.GetDeployment().GetId())
	}

	snapshot := &adminv1.Deployment{}
	unmarshal(t, mustRun(t, addr, "get", "deployment", "--api", "orders", first.GetDeployment().GetId(), "-o", "json"), snapshot)
	if n := len(snapshot.GetRoutes()); n != 1 || snapshot.GetDescription() != "v1" {
		t.Errorf("first deployment has %d routes and description %q, want 1 and \"v1\"", n, snapshot.GetDescription())
	}
	if rows := tableRows(t, mustRun(t, addr, "get", "deployments", "--api", "orders")); len(rows) != 3 {
		t.Errorf("get deployments listed %d rows, want a header and 2 deployments", len(rows))
	}
}

func TestUnreachableServer(t *testing.T) {
	addr := testnet.ClosedAddr(t)
	r := runBinary(t, nil, "", "--addr", addr, "get", "apis")
	want := "archwayctl: cannot reach the admin API at " + addr + ": "
	if r.code != exitFailure || !strings.HasPrefix(r.err, want) {
		t.Errorf("exit %d, stderr %q; want exit 1 and a message starting %q", r.code, r.err, want)
	}
}

// etags maps every resource of an API to its etag.
func etags(t *testing.T, admin adminv1.AdminServiceClient, name string) map[string]string {
	t.Helper()
	ctx := t.Context()
	api := apiNamed(t, admin, name)
	id := api.GetId()
	tags := map[string]string{"api": api.GetEtag()}
	routes, err := listRoutes(ctx, admin, id)
	check(t, err)
	for _, r := range routes {
		tags["route/"+r.GetId()] = r.GetEtag()
	}
	integrations, err := listIntegrations(ctx, admin, id)
	check(t, err)
	for _, in := range integrations {
		tags["integration/"+in.GetId()] = in.GetEtag()
	}
	stages, err := listStages(ctx, admin, id)
	check(t, err)
	for _, s := range stages {
		tags["stage/"+s.GetName()] = s.GetEtag()
	}
	deployments, err := listDeployments(ctx, admin, id)
	check(t, err)
	for _, d := range deployments {
		tags["deployment/"+d.GetId()] = d.GetEtag()
	}
	return tags
}

func apiNamed(t *testing.T, admin adminv1.AdminServiceClient, name string) *adminv1.Api {
	t.Helper()
	resp, err := admin.ListApis(t.Context(), &adminv1.ListApisRequest{Name: name})
	check(t, err)
	if len(resp.GetApis()) != 1 {
		t.Fatalf("no api named %s", name)
	}
	return resp.GetApis()[0]
}

func allAPIs(t *testing.T, admin adminv1.AdminServiceClient) []*adminv1.Api {
	t.Helper()
	apis, err := listAPIs(t.Context(), admin)
	check(t, err)
	return apis
}

func servedBy(t *testing.T, admin adminv1.AdminServiceClient, apiID, stage string) string {
	t.Helper()
	st, err := admin.GetStage(t.Context(), &adminv1.GetStageRequest{ApiId: apiID, Name: stage})
	check(t, err)
	return st.GetDeploymentId()
}

func unmarshalAPI(t *testing.T, js []byte) *adminv1.Api {
	t.Helper()
	api := &adminv1.Api{}
	unmarshal(t, string(js), api)
	return api
}

func unmarshal(t *testing.T, js string, m proto.Message) {
	t.Helper()
	if err := protojson.Unmarshal([]byte(js), m); err != nil {
		t.Fatalf("%v in:\n%s", err, js)
	}
}

// tableRows splits a table into rows of whitespace-separated cells.
func tableRows(t *testing.T, out string) [][]string {
	t.Helper()
	var rows [][]string
	for line := range strings.Lines(out) {
		rows = append(rows, strings.Fields(line))
	}
	if len(rows) == 0 {
		t.Fatal("empty table")
	}
	return rows
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
