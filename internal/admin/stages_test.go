package admin

import (
	"fmt"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func TestStageCRUD(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "stages")
	st, err := e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{
		ApiId: "ignored", Name: "prod", Variables: map[string]string{"host": "backend.internal:8080"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetApiId() != api.GetId() || st.GetEtag() == "" || st.GetDeploymentId() != "" {
		t.Errorf("created stage = %v", st)
	}
	_, err = e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{Name: "prod"}})
	wantCode(t, err, codes.AlreadyExists)
	got, err := e.GetStage(e.ctx, &adminv1.GetStageRequest{ApiId: api.GetId(), Name: "prod"})
	if err != nil || !proto.Equal(got, st) {
		t.Fatalf("GetStage = %v, %v; want %v", got, err, st)
	}
	upd, err := e.UpdateStage(e.ctx, &adminv1.UpdateStageRequest{
		Stage:      &adminv1.Stage{ApiId: api.GetId(), Name: "prod", Description: "production", Etag: st.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if upd.GetDescription() != "production" || upd.GetVariables()["host"] != "backend.internal:8080" {
		t.Errorf("updated stage = %v", upd)
	}
	list, err := e.ListStages(e.ctx, &adminv1.ListStagesRequest{ApiId: api.GetId()})
	if err != nil || len(list.GetStages()) != 1 || !proto.Equal(list.GetStages()[0], upd) {
		t.Fatalf("ListStages = %v, %v", list, err)
	}
	if _, err := e.DeleteStage(e.ctx, &adminv1.DeleteStageRequest{ApiId: api.GetId(), Name: "prod", Etag: upd.GetEtag()}); err != nil {
		t.Fatal(err)
	}
	_, err = e.GetStage(e.ctx, &adminv1.GetStageRequest{ApiId: api.GetId(), Name: "prod"})
	wantCode(t, err, codes.NotFound)
}

func TestStageValidation(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "valid")
	if _, err := e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{Name: "$default"}}); err != nil {
		t.Fatal(err)
	}
	tests := violationCases{
		"everything bad": {func() error {
			_, err := e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{
				Name:         "v1.0",
				DeploymentId: "abcdefghij",
				Variables:    map[string]string{"my-var": "ok", "ok": "not ok"},
				Tags:         map[string]string{"archway:managed": "yes"},
			}})
			return err
		}, []string{
			"stage.name", `stage.variables["my-var"]`, `stage.variables["ok"]`, `stage.tags["archway:managed"]`,
			"stage.deployment_id",
		}},
		"bad deployment id": {func() error {
			_, err := e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{
				Name: "dev", DeploymentId: "../x",
			}})
			return err
		}, []string{"stage.deployment_id"}},
		"update name": {func() error {
			_, err := e.UpdateStage(e.ctx, &adminv1.UpdateStageRequest{
				Stage:      &adminv1.Stage{ApiId: api.GetId(), Name: "$default"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
			})
			return err
		}, []string{"update_mask"}},
		"update unknown deployment": {func() error {
			_, err := e.UpdateStage(e.ctx, &adminv1.UpdateStageRequest{
				Stage:      &adminv1.Stage{ApiId: api.GetId(), Name: "$default", DeploymentId: "abcdefghij"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"deployment_id"}},
			})
			return err
		}, []string{"stage.deployment_id"}},
		"get bad name": {func() error {
			_, err := e.GetStage(e.ctx, &adminv1.GetStageRequest{ApiId: api.GetId(), Name: "a/b"})
			return err
		}, []string{"name"}},
	}
	tests.run(t, e)
}

func TestStageLimit(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "limits")
	for i := range maxStages {
		if _, err := e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{Name: fmt.Sprintf("s%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	before := e.revision(t)
	_, err := e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{Name: "eleventh"}})
	wantPrecondition(t, err, failureLimit)
	_, err = e.Deploy(e.ctx, &adminv1.DeployRequest{ApiId: api.GetId(), StageName: "eleventh"})
	wantPrecondition(t, err, failureLimit)
	e.wantNoWrite(t, before, "refused stage")
	// Deploying to an existing stage is still fine.
	if _, err := e.Deploy(e.ctx, &adminv1.DeployRequest{ApiId: api.GetId(), StageName: "s0"}); err != nil {
		t.Error(err)
	}
}

func TestConcurrentStageUpdatesSameEtag(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "race")
	st, err := e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{Name: "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.UpdateStage(e.ctx, &adminv1.UpdateStageRequest{
				Stage:      &adminv1.Stage{ApiId: api.GetId(), Name: "prod", Description: fmt.Sprint(i), Etag: st.GetEtag()},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}},
			})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch status.Code(err) {
		case codes.OK:
			if winner >= 0 {
				t.Errorf("updates %d and %d both succeeded", winner, i)
			}
			winner = i
		case codes.FailedPrecondition:
		default:
			t.Errorf("update %d: %v, want OK or FailedPrecondition", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no update succeeded")
	}
	got, err := e.GetStage(e.ctx, &adminv1.GetStageRequest{ApiId: api.GetId(), Name: "prod"})
	if err != nil || got.GetDescription() != fmt.Sprint(winner) {
		t.Errorf("stage = %v, %v; want the winner's description %d", got, err, winner)
	}
}
