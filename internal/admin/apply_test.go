package admin

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// loadDefinition reads a definition from testdata/apply, in the YAML form
// archwayctl apply reads.
func loadDefinition(t *testing.T, name string) *adminv1.ApiDefinition {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "apply", name))
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	def := &adminv1.ApiDefinition{}
	if err := protojson.Unmarshal(js, def); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return def
}

func (e *env) apply(t *testing.T, req *adminv1.ApplyApiRequest) *adminv1.ApplyApiResponse {
	t.Helper()
	resp, err := e.ApplyApi(e.ctx, req)
	if err != nil {
		t.Fatalf("ApplyApi: %v", err)
	}
	return resp
}

// changeList renders changes as "kind action name" lines, ids left out
// (they are random), sorted.
func changeList(changes []*adminv1.Change) []string {
	var out []string
	for _, c := range changes {
		action := strings.ToLower(strings.TrimPrefix(c.GetAction().String(), "ACTION_"))
		name := c.GetName()
		if c.GetKind() == "deployment" {
			name = "*"
		}
		out = append(out, c.GetKind()+" "+action+" "+name)
	}
	slices.Sort(out)
	return out
}

// everything lists every resource of an API, for before/after comparisons.
func (e *env) everything(t *testing.T, apiID string) []proto.Message {
	t.Helper()
	api, err := e.GetApi(e.ctx, &adminv1.GetApiRequest{Id: apiID})
	if err != nil {
		t.Fatal(err)
	}
	out := []proto.Message{api}
	routes, err := e.ListRoutes(e.ctx, &adminv1.ListRoutesRequest{ApiId: apiID})
	if err != nil {
		t.Fatal(err)
	}
	integrations, err := e.ListIntegrations(e.ctx, &adminv1.ListIntegrationsRequest{ApiId: apiID})
	if err != nil {
		t.Fatal(err)
	}
	stages, err := e.ListStages(e.ctx, &adminv1.ListStagesRequest{ApiId: apiID})
	if err != nil {
		t.Fatal(err)
	}
	deployments, err := e.ListDeployments(e.ctx, &adminv1.ListDeploymentsRequest{ApiId: apiID})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range routes.GetRoutes() {
		out = append(out, m)
	}
	for _, m := range integrations.GetIntegrations() {
		out = append(out, m)
	}
	for _, m := range stages.GetStages() {
		out = append(out, m)
	}
	for _, m := range deployments.GetDeployments() {
		out = append(out, m)
	}
	return out
}

func TestApplyCreateAndReapply(t *testing.T) {
	e := newEnv(t)
	def := loadDefinition(t, "petstore.yaml")
	resp := e.apply(t, &adminv1.ApplyApiRequest{Definition: def})
	want := []string{
		"api created petstore",
		"deployment created *",
		"integration created health", "integration created pets-backend",
		"route created GET /health", "route created GET /pets", "route created GET /pets/{petId}", "route created POST /pets",
		"stage created dev", "stage created prod",
	}
	if got := changeList(resp.GetChanges()); !slices.Equal(got, want) {
		t.Errorf("changes = %q\nwant %q", got, want)
	}
	apiID := resp.GetApi().GetId()
	if resp.GetApi().GetEtag() == "" || resp.GetApi().GetName() != "petstore" {
		t.Errorf("api = %v", resp.GetApi())
	}
	integrations, _ := e.ListIntegrations(e.ctx, &adminv1.ListIntegrationsRequest{ApiId: apiID})
	ids := map[string]string{}
	for _, i := range integrations.GetIntegrations() {
		ids[i.GetName()] = i.GetId()
	}
	routes, _ := e.ListRoutes(e.ctx, &adminv1.ListRoutesRequest{ApiId: apiID})
	for _, r := range routes.GetRoutes() {
		wantID := ids["pets-backend"]
		if r.GetPath() == "/health" {
			wantID = ids["health"]
		}
		if r.GetIntegrationId() != wantID {
			t.Errorf("route %s %s -> %s, want %s", r.GetMethod(), r.GetPath(), r.GetIntegrationId(), wantID)
		}
	}
	if e.stage(t, apiID, "dev").GetDeploymentId() == "" || e.stage(t, apiID, "prod").GetDeploymentId() != "" {
		t.Error("want the auto-deploy stage deployed and the manual one not")
	}

	before, rev := e.everything(t, apiID), e.revision(t)
	again := e.apply(t, &adminv1.ApplyApiRequest{Definition: def})
	if len(again.GetChanges()) != 0 || e.revision(t) != rev {
		t.Errorf("second apply changed %q", changeList(again.GetChanges()))
	}
	after := e.everything(t, apiID)
	if len(before) != len(after) {
		t.Fatalf("%d resources before, %d after", len(before), len(after))
	}
	for i := range before {
		if !proto.Equal(before[i], after[i]) {
			t.Errorf("resource changed by a no-op apply:\n%v\n%v", before[i], after[i])
		}
	}
	if !proto.Equal(again.GetApi(), before[0]) {
		t.Errorf("no-op apply returned api %v, want %v", again.GetApi(), before[0])
	}
}

func TestApplyChanges(t *testing.T) {
	e := newEnv(t)
	def := loadDefinition(t, "petstore.yaml")
	apiID := e.apply(t, &adminv1.ApplyApiRequest{Definition: def}).GetApi().GetId()
	tests := []struct {
		name   string
		edit   func(def *adminv1.ApiDefinition)
		prune  bool
		dryRun bool
		want   []string
	}{{
		name: "one route changed",
		edit: func(def *adminv1.ApiDefinition) { def.Routes[1].Description = "one pet" },
		want: []string{"deployment created *", "route updated GET /pets/{petId}", "stage updated dev"},
	}, {
		name: "parameter renamed keeps the route",
		edit: func(def *adminv1.ApiDefinition) { def.Routes[1].Path = "/pets/{id}" },
		want: []string{"deployment created *", "route updated GET /pets/{id}", "stage updated dev"},
	}, {
		name:   "dry run writes nothing",
		edit:   func(def *adminv1.ApiDefinition) { def.Description = "changed" },
		dryRun: true,
		want:   []string{"api updated petstore"},
	}, {
		name: "route and integration removed, stage dropped without prune",
		edit: func(def *adminv1.ApiDefinition) {
			def.Routes = def.Routes[:3]
			def.Integrations = def.Integrations[:1]
			def.Stages = def.Stages[1:]
		},
		want: []string{"deployment created *", "integration deleted health", "route deleted GET /health", "stage updated dev"},
	}, {
		name:  "stage pruned",
		edit:  func(*adminv1.ApiDefinition) {},
		prune: true,
		want:  []string{"stage deleted prod"},
	}, {
		name: "manual stage starts to auto-deploy",
		edit: func(def *adminv1.ApiDefinition) {
			def.Stages = append(def.Stages, &adminv1.StageDefinition{Name: "qa", AutoDeploy: true})
		},
		want: []string{"deployment created *", "stage created qa", "stage updated dev"},
	}}
	// Each step applies on top of the previous ones, except dry runs.
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			step := def
			if tc.dryRun {
				step = proto.CloneOf(def)
			}
			tc.edit(step)
			rev := e.revision(t)
			resp := e.apply(t, &adminv1.ApplyApiRequest{Definition: step, PruneStages: tc.prune, DryRun: tc.dryRun})
			if got := changeList(resp.GetChanges()); !slices.Equal(got, tc.want) {
				t.Errorf("changes = %q\nwant %q", got, tc.want)
			}
			if wrote := e.revision(t) != rev; wrote == tc.dryRun {
				t.Errorf("wrote = %v with dry_run = %v", wrote, tc.dryRun)
			}
			if resp.GetApi().GetId() != apiID {
				t.Errorf("applied to api %s, want %s", resp.GetApi().GetId(), apiID)
			}
		})
	}
}

func TestApplyDryRunNewAPI(t *testing.T) {
	e := newEnv(t)
	rev := e.revision(t)
	resp := e.apply(t, &adminv1.ApplyApiRequest{Definition: loadDefinition(t, "petstore.yaml"), DryRun: true})
	if len(resp.GetChanges()) != 10 || e.revision(t) != rev {
		t.Errorf("dry run of a new api: %d changes, revision %d -> %d", len(resp.GetChanges()), rev, e.revision(t))
	}
	list, err := e.ListApis(e.ctx, &adminv1.ListApisRequest{})
	if err != nil || len(list.GetApis()) != 0 {
		t.Errorf("ListApis after dry run = %v, %v", list, err)
	}
}

func TestApplyInvalid(t *testing.T) {
	e := newEnv(t)
	rev := e.revision(t)
	_, err := e.ApplyApi(e.ctx, &adminv1.ApplyApiRequest{Definition: loadDefinition(t, "invalid.yaml")})
	wantViolations(t, err,
		"definition.name",
		"definition.integrations[0].http_proxy.uri",
		"definition.integrations[1].mock.status_code",
		"definition.integrations[1].name",
		"definition.routes[1]",
		"definition.routes[2].method",
		"definition.routes[2].path",
		"definition.routes[2].integration",
		"definition.routes[3].integration",
		"definition.stages[0].name",
		`definition.stages[1].variables["my-var"]`,
		"definition.stages[2].name",
	)
	if e.revision(t) != rev {
		t.Error("invalid definition wrote")
	}
}

func TestConcurrentApplyOfNewAPI(t *testing.T) {
	e := newEnv(t)
	def := loadDefinition(t, "petstore.yaml")
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.ApplyApi(e.ctx, &adminv1.ApplyApiRequest{Definition: def})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("apply %d: %v", i, err)
		}
	}
	list, err := e.ListApis(e.ctx, &adminv1.ListApisRequest{})
	if err != nil || len(list.GetApis()) != 1 {
		t.Fatalf("ListApis = %v, %v; want exactly one api", list, err)
	}
	routes, err := e.ListRoutes(e.ctx, &adminv1.ListRoutesRequest{ApiId: list.GetApis()[0].GetId()})
	if err != nil || len(routes.GetRoutes()) != 4 {
		t.Errorf("api has %d routes (%v), want 4", len(routes.GetRoutes()), err)
	}
}
