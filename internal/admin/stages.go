package admin

import (
	"context"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// stageMutable lists the fields of a Stage that updates may change. The
// name is the stage's identity (and its URL prefix), so it never changes.
func stageMutable() []string {
	return []string{"description", "deployment_id", "variables", "auto_deploy", "tags", "throttle", "route_throttles"}
}

// validateStage checks the fields of a stage that need no other resource.
func validateStage(v *violations, field string, s *adminv1.Stage) {
	v.stageName(field+".name", s.GetName())
	v.description(field+".description", s.GetDescription())
	if id := s.GetDeploymentId(); id != "" {
		v.id(field+".deployment_id", id)
	}
	v.variables(field+".variables", s.GetVariables())
	v.tags(field+".tags", s.GetTags())
	v.throttle(field+".throttle", s.GetThrottle())
	v.routeThrottles(field+".route_throttles", s.GetRouteThrottles())
}

// checkStage checks that the deployment a stage serves is one of its API.
func (d *draft) checkStage(v *violations, field string, s *adminv1.Stage) {
	if id := s.GetDeploymentId(); validID(id) && !d.hasDeployment(id) {
		v.add(field+".deployment_id", "no deployment %s in api %s", id, d.apiID())
	}
}

// CreateStage adds a stage to an API. A stage created with auto_deploy
// serves a deployment of the API's current routes and integrations at
// once.
func (s *Server) CreateStage(ctx context.Context, req *adminv1.CreateStageRequest) (*adminv1.Stage, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	in := req.GetStage()
	st := &adminv1.Stage{
		ApiId:          req.GetApiId(),
		Name:           in.GetName(),
		Description:    in.GetDescription(),
		DeploymentId:   in.GetDeploymentId(),
		Variables:      in.GetVariables(),
		AutoDeploy:     in.GetAutoDeploy(),
		Tags:           in.GetTags(),
		Throttle:       in.GetThrottle(),
		RouteThrottles: in.GetRouteThrottles(),
	}
	validateStage(v, "stage", st)
	if !validID(req.GetApiId()) {
		return nil, v.err()
	}
	var out *adminv1.Stage
	_, err := s.changeAPI(ctx, req.GetApiId(), v, func(d *draft, v *violations) error {
		d.checkStage(v, "stage", st)
		if d.stage(st.GetName()) != nil {
			return alreadyExists("stage %s already exists in api %s", st.GetName(), d.apiID())
		}
		out = proto.CloneOf(st)
		out.CreateTime, out.UpdateTime = d.now, d.now
		d.putStage(out)
		d.forceDeploy = out.GetAutoDeploy()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetStage returns one stage.
func (s *Server) GetStage(ctx context.Context, req *adminv1.GetStageRequest) (*adminv1.Stage, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	v.stageName("name", req.GetName())
	if err := v.err(); err != nil {
		return nil, err
	}
	return getResource(ctx, s, s.store.GetStage, "stage", req.GetApiId(), req.GetName())
}

// ListStages returns one page of an API's stages in name order.
func (s *Server) ListStages(ctx context.Context, req *adminv1.ListStagesRequest) (*adminv1.ListStagesResponse, error) {
	list, next, err := listPage(ctx, s, req, req.GetApiId(), req.GetPageSize(), req.GetPageToken(),
		store.StagesPrefix, s.store.ListStages)
	if err != nil {
		return nil, err
	}
	return &adminv1.ListStagesResponse{Stages: list, NextPageToken: next}, nil
}

// UpdateStage changes a stage. Turning auto_deploy on deploys the API's
// current routes and integrations to the stage at once.
func (s *Server) UpdateStage(ctx context.Context, req *adminv1.UpdateStageRequest) (*adminv1.Stage, error) {
	v := newViolations(req)
	in := req.GetStage()
	v.id("stage.api_id", in.GetApiId())
	v.stageName("stage.name", in.GetName())
	paths := v.updatePaths("update_mask", req.GetUpdateMask(), in.ProtoReflect().Descriptor(), stageMutable())
	if !v.ok() {
		return nil, v.err()
	}
	return updateResource(ctx, s, v, resourceUpdate[*adminv1.Stage]{
		apiID: in.GetApiId(), kind: "stage", id: in.GetName(), in: in, paths: paths,
		find: func(d *draft) (*adminv1.Stage, error) { return d.stage(in.GetName()), nil },
		check: func(d *draft, v *violations, st *adminv1.Stage) error {
			validateStage(v, "stage", st)
			d.checkStage(v, "stage", st)
			return nil
		},
		put: func(d *draft, old, st *adminv1.Stage) {
			st.UpdateTime = d.now
			d.putStage(st)
			d.forceDeploy = st.GetAutoDeploy() && !old.GetAutoDeploy()
		},
	})
}

// DeleteStage removes a stage; the API stops being served under its name.
func (s *Server) DeleteStage(ctx context.Context, req *adminv1.DeleteStageRequest) (*emptypb.Empty, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	v.stageName("name", req.GetName())
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.deleteResource(ctx, req.GetApiId(), v, func(d *draft, _ *violations) error {
		old := d.stage(req.GetName())
		if err := existing(old, req.GetEtag(), "stage", req.GetName(), req.GetApiId()); err != nil {
			return err
		}
		d.deleteStage(old)
		return nil
	})
}
