package admin

import (
	"fmt"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func (e *env) stage(t *testing.T, apiID, name string) *adminv1.Stage {
	t.Helper()
	st, err := e.GetStage(e.ctx, &adminv1.GetStageRequest{ApiId: apiID, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *env) deploymentIDs(t *testing.T, apiID string) []string {
	t.Helper()
	var ids []string
	for token := ""; ; {
		resp, err := e.ListDeployments(e.ctx, &adminv1.ListDeploymentsRequest{ApiId: apiID, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.GetDeployments() {
			ids = append(ids, d.GetId())
		}
		if token = resp.GetNextPageToken(); token == "" {
			return ids
		}
	}
}

func TestDeployAndRollback(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "deploys")
	// An API without routes can be deployed; its stage serves nothing.
	empty, err := e.Deploy(e.ctx, &adminv1.DeployRequest{ApiId: api.GetId(), StageName: "prod", Description: "empty"})
	if err != nil {
		t.Fatal(err)
	}
	if empty.GetStage().GetDeploymentId() != empty.GetDeployment().GetId() || len(empty.GetDeployment().GetRoutes()) != 0 {
		t.Fatalf("Deploy = %v", empty)
	}
	i := e.mustMock(t, api.GetId(), "m")
	r := e.mustRoute(t, api.GetId(), "GET", "/pets", i.GetId())
	if got := e.stage(t, api.GetId(), "prod").GetDeploymentId(); got != empty.GetDeployment().GetId() {
		t.Errorf("manual stage moved to %s without a deploy", got)
	}
	second, err := e.Deploy(e.ctx, &adminv1.DeployRequest{ApiId: api.GetId(), StageName: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	dep, err := e.GetDeployment(e.ctx, &adminv1.GetDeploymentRequest{ApiId: api.GetId(), Id: second.GetDeployment().GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if len(dep.GetRoutes()) != 1 || dep.GetRoutes()[0].GetId() != r.GetId() || dep.GetRoutes()[0].GetEtag() != "" ||
		len(dep.GetIntegrations()) != 1 || dep.GetAutoDeployed() {
		t.Errorf("deployment = %v, want the route and integration without etags", dep)
	}
	rolled, err := e.Rollback(e.ctx, &adminv1.RollbackRequest{
		ApiId: api.GetId(), StageName: "prod", DeploymentId: empty.GetDeployment().GetId(), Etag: second.GetStage().GetEtag(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if rolled.GetDeploymentId() != empty.GetDeployment().GetId() {
		t.Errorf("rolled back stage serves %s", rolled.GetDeploymentId())
	}
	tests := map[string]struct {
		req  *adminv1.RollbackRequest
		code codes.Code
	}{
		"unknown deployment": {&adminv1.RollbackRequest{ApiId: api.GetId(), StageName: "prod", DeploymentId: "abcdefghij"}, codes.NotFound},
		"unknown stage":      {&adminv1.RollbackRequest{ApiId: api.GetId(), StageName: "dev", DeploymentId: dep.GetId()}, codes.NotFound},
		"stale etag": {&adminv1.RollbackRequest{
			ApiId: api.GetId(), StageName: "prod", DeploymentId: dep.GetId(), Etag: second.GetStage().GetEtag(),
		}, codes.FailedPrecondition},
		"bad id": {&adminv1.RollbackRequest{ApiId: api.GetId(), StageName: "prod", DeploymentId: "x"}, codes.InvalidArgument},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := e.Rollback(e.ctx, tc.req)
			wantCode(t, err, tc.code)
		})
	}
	// A deployment of another API is unknown here.
	other := e.mustAPI(t, "other")
	od, err := e.CreateDeployment(e.ctx, &adminv1.CreateDeploymentRequest{ApiId: other.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Rollback(e.ctx, &adminv1.RollbackRequest{ApiId: api.GetId(), StageName: "prod", DeploymentId: od.GetId()})
	wantCode(t, err, codes.NotFound)
}

func TestAutoDeploy(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "auto")
	i := e.mustMock(t, api.GetId(), "m")
	e.mustRoute(t, api.GetId(), "GET", "/a", i.GetId())
	manual, err := e.Deploy(e.ctx, &adminv1.DeployRequest{ApiId: api.GetId(), StageName: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	// A stage created with auto_deploy serves the current state at once.
	auto, err := e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{Name: "auto", AutoDeploy: true}})
	if err != nil {
		t.Fatal(err)
	}
	first := auto.GetDeploymentId()
	if first == "" || first == manual.GetDeployment().GetId() {
		t.Fatalf("auto stage serves %q, want a new deployment", first)
	}
	r := e.mustRoute(t, api.GetId(), "GET", "/b", i.GetId())
	second := e.stage(t, api.GetId(), "auto").GetDeploymentId()
	if second == first {
		t.Fatal("auto stage did not move on a route change")
	}
	dep, err := e.GetDeployment(e.ctx, &adminv1.GetDeploymentRequest{ApiId: api.GetId(), Id: second})
	if err != nil {
		t.Fatal(err)
	}
	if !dep.GetAutoDeployed() || len(dep.GetRoutes()) != 2 {
		t.Errorf("auto deployment = %v, want auto_deployed with both routes", dep)
	}
	if got := e.stage(t, api.GetId(), "manual").GetDeploymentId(); got != manual.GetDeployment().GetId() {
		t.Errorf("manual stage moved to %s", got)
	}
	// A rolled back auto stage keeps auto-deploying.
	if _, err := e.Rollback(e.ctx, &adminv1.RollbackRequest{ApiId: api.GetId(), StageName: "auto", DeploymentId: first}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteRoute(e.ctx, &adminv1.DeleteRouteRequest{ApiId: api.GetId(), Id: r.GetId()}); err != nil {
		t.Fatal(err)
	}
	third := e.stage(t, api.GetId(), "auto")
	if !third.GetAutoDeploy() || third.GetDeploymentId() == first || third.GetDeploymentId() == second {
		t.Errorf("after rollback and a change, auto stage = %v, want a third deployment", third)
	}
	// Changing only a stage deploys nothing.
	before := e.deploymentIDs(t, api.GetId())
	if _, err := e.UpdateStage(e.ctx, &adminv1.UpdateStageRequest{
		Stage:      &adminv1.Stage{ApiId: api.GetId(), Name: "auto", Description: "d"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}},
	}); err != nil {
		t.Fatal(err)
	}
	if after := e.deploymentIDs(t, api.GetId()); len(after) != len(before) {
		t.Errorf("stage update made a deployment: %d -> %d", len(before), len(after))
	}
	// Turning auto_deploy on deploys at once.
	on, err := e.UpdateStage(e.ctx, &adminv1.UpdateStageRequest{
		Stage:      &adminv1.Stage{ApiId: api.GetId(), Name: "manual", AutoDeploy: true},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"auto_deploy"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if on.GetDeploymentId() == manual.GetDeployment().GetId() || !slices.Contains(e.deploymentIDs(t, api.GetId()), on.GetDeploymentId()) {
		t.Errorf("stage switched to auto_deploy serves %s", on.GetDeploymentId())
	}
}

func TestDeploymentCRUD(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "deps")
	i := e.mustMock(t, api.GetId(), "m")
	e.mustRoute(t, api.GetId(), "GET", "/", i.GetId())
	dep, err := e.CreateDeployment(e.ctx, &adminv1.CreateDeploymentRequest{
		ApiId: api.GetId(), Description: "v1", StageName: "prod", Tags: map[string]string{"k": "v"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.stage(t, api.GetId(), "prod").GetDeploymentId(); got != dep.GetId() {
		t.Errorf("stage created by CreateDeployment serves %q, want %s", got, dep.GetId())
	}
	list, err := e.ListDeployments(e.ctx, &adminv1.ListDeploymentsRequest{ApiId: api.GetId()})
	if err != nil || len(list.GetDeployments()) != 1 {
		t.Fatalf("ListDeployments = %v, %v", list, err)
	}
	if l := list.GetDeployments()[0]; len(l.GetRoutes()) != 0 || len(l.GetIntegrations()) != 0 || l.GetDescription() != "v1" {
		t.Errorf("listed deployment = %v, want it without contents", l)
	}
	upd, err := e.UpdateDeployment(e.ctx, &adminv1.UpdateDeploymentRequest{
		Deployment: &adminv1.Deployment{ApiId: api.GetId(), Id: dep.GetId(), Description: "v1 final", Etag: dep.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if upd.GetDescription() != "v1 final" || len(upd.GetRoutes()) != 1 || upd.GetEtag() == dep.GetEtag() {
		t.Errorf("updated deployment = %v", upd)
	}
	_, err = e.UpdateDeployment(e.ctx, &adminv1.UpdateDeploymentRequest{
		Deployment: &adminv1.Deployment{ApiId: api.GetId(), Id: dep.GetId()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"routes"}},
	})
	wantViolations(t, err, "update_mask")
	_, err = e.UpdateDeployment(e.ctx, &adminv1.UpdateDeploymentRequest{
		Deployment: &adminv1.Deployment{ApiId: api.GetId(), Id: dep.GetId(), Description: "x", Etag: dep.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}},
	})
	wantPrecondition(t, err, failureEtag)

	// A served deployment cannot be deleted.
	before := e.revision(t)
	_, err = e.DeleteDeployment(e.ctx, &adminv1.DeleteDeploymentRequest{ApiId: api.GetId(), Id: dep.GetId()})
	wantPrecondition(t, err, failureInUse)
	_, err = e.DeleteDeployment(e.ctx, &adminv1.DeleteDeploymentRequest{ApiId: api.GetId(), Id: dep.GetId(), Etag: dep.GetEtag()})
	wantPrecondition(t, err, failureEtag)
	e.wantNoWrite(t, before, "refused delete")
	if _, err := e.DeleteStage(e.ctx, &adminv1.DeleteStageRequest{ApiId: api.GetId(), Name: "prod"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteDeployment(e.ctx, &adminv1.DeleteDeploymentRequest{ApiId: api.GetId(), Id: dep.GetId(), Etag: upd.GetEtag()}); err != nil {
		t.Fatal(err)
	}
	_, err = e.GetDeployment(e.ctx, &adminv1.GetDeploymentRequest{ApiId: api.GetId(), Id: dep.GetId()})
	wantCode(t, err, codes.NotFound)
}

func TestDeploymentPruning(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "prune")
	// The oldest deployment stays served by a stage: pruning must skip it.
	first, err := e.Deploy(e.ctx, &adminv1.DeployRequest{ApiId: api.GetId(), StageName: "pinned"})
	if err != nil {
		t.Fatal(err)
	}
	var created []string
	for range maxDeployments + 5 {
		d, err := e.CreateDeployment(e.ctx, &adminv1.CreateDeploymentRequest{ApiId: api.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, d.GetId())
	}
	ids := e.deploymentIDs(t, api.GetId())
	if len(ids) != maxDeployments {
		t.Fatalf("%d deployments kept, want %d", len(ids), maxDeployments)
	}
	if !slices.Contains(ids, first.GetDeployment().GetId()) {
		t.Error("the served deployment was pruned")
	}
	// The six oldest unserved ones are gone; the newest are all kept.
	for i, id := range created {
		if kept := slices.Contains(ids, id); kept != (i >= 6) {
			t.Errorf("deployment %d (%s) kept = %v", i, id, kept)
		}
	}
}

// TestPruneRefusesWhenAllServed builds, in memory, an API whose every
// deployment is served (possible only if the stage limit was once higher):
// a new deployment must then fail rather than drop a served one.
func TestPruneRefusesWhenAllServed(t *testing.T) {
	state := func(served int) *store.APIState {
		st := &store.APIState{API: &adminv1.Api{Id: "apiapiapi0", Name: "full"}}
		for i := range maxDeployments {
			id := fmt.Sprintf("dep%07d", i)
			st.Deployments = append(st.Deployments, store.DeploymentRef{ID: id, CreateRevision: int64(i + 1)})
			if i >= maxDeployments-served {
				st.Stages = append(st.Stages, &adminv1.Stage{Name: fmt.Sprintf("s%d", i), DeploymentId: id})
			}
		}
		return st
	}
	d := newDraft(state(maxDeployments), timestamppb.Now())
	d.newDeployment("", nil)
	wantPrecondition(t, d.finish(), failureLimit)

	// With one deployment unserved, that one is pruned instead.
	d = newDraft(state(maxDeployments-1), timestamppb.Now())
	dep := d.newDeployment("", nil)
	if err := d.finish(); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, c := range d.changes() {
		actions = append(actions, c.GetAction().String()+" "+c.GetName())
	}
	want := []string{"ACTION_CREATED " + dep.GetId(), "ACTION_DELETED dep0000000"}
	slices.Sort(want)
	slices.Sort(actions)
	if !slices.Equal(actions, want) {
		t.Errorf("changes = %q, want %q", actions, want)
	}
}
