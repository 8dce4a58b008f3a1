package admin

import (
	"context"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// deploymentMutable lists the fields of a Deployment that updates may
// change: a deployment is a snapshot, so only what describes it can.
func deploymentMutable() []string { return []string{"description", "tags"} }

// CreateDeployment snapshots an API's current routes, integrations and
// models. With stage_name set, the stage (created if missing) serves the
// new deployment in the same transaction.
func (s *Server) CreateDeployment(ctx context.Context, req *adminv1.CreateDeploymentRequest) (*adminv1.Deployment, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	v.description("description", req.GetDescription())
	v.tags("tags", req.GetTags())
	if req.GetStageName() != "" {
		v.stageName("stage_name", req.GetStageName())
	}
	if !validID(req.GetApiId()) {
		return nil, v.err()
	}
	var out *adminv1.Deployment
	_, err := s.changeAPI(ctx, req.GetApiId(), v, func(d *draft, _ *violations) error {
		out = d.newDeployment(req.GetDescription(), req.GetTags())
		if req.GetStageName() != "" {
			d.serve(req.GetStageName(), out.GetId())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Deploy makes a deployment of the API's current routes and integrations
// and points the stage at it, creating the stage if it does not exist. An
// API without routes can be deployed too; its stage then serves nothing.
func (s *Server) Deploy(ctx context.Context, req *adminv1.DeployRequest) (*adminv1.DeployResponse, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	v.stageName("stage_name", req.GetStageName())
	v.description("description", req.GetDescription())
	if !validID(req.GetApiId()) {
		return nil, v.err()
	}
	resp := &adminv1.DeployResponse{}
	_, err := s.changeAPI(ctx, req.GetApiId(), v, func(d *draft, _ *violations) error {
		resp.Deployment = d.newDeployment(req.GetDescription(), nil)
		resp.Stage = d.serve(req.GetStageName(), resp.Deployment.GetId())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// Rollback points a stage at an earlier deployment of the same API. A stage
// with auto_deploy keeps it: the next change to the routes or integrations
// deploys again, as in Amazon API Gateway's HTTP APIs.
func (s *Server) Rollback(ctx context.Context, req *adminv1.RollbackRequest) (*adminv1.Stage, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	v.stageName("stage_name", req.GetStageName())
	v.id("deployment_id", req.GetDeploymentId())
	if err := v.err(); err != nil {
		return nil, err
	}
	var out *adminv1.Stage
	_, err := s.changeAPI(ctx, req.GetApiId(), v, func(d *draft, _ *violations) error {
		old := d.stage(req.GetStageName())
		if old == nil {
			return notFound("stage", req.GetStageName(), req.GetApiId())
		}
		if !d.hasDeployment(req.GetDeploymentId()) {
			return notFound("deployment", req.GetDeploymentId(), req.GetApiId())
		}
		if err := checkEtag("stage "+old.GetName(), req.GetEtag(), old.GetEtag()); err != nil {
			return err
		}
		if out = old; old.GetDeploymentId() != req.GetDeploymentId() {
			out = d.serve(old.GetName(), req.GetDeploymentId())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetDeployment returns one deployment with its routes and integrations.
func (s *Server) GetDeployment(ctx context.Context, req *adminv1.GetDeploymentRequest) (*adminv1.Deployment, error) {
	return getByID(ctx, s, req, "deployment", s.store.GetDeployment)
}

// ListDeployments returns one page of an API's deployments in id order,
// without their routes, integrations and models.
func (s *Server) ListDeployments(ctx context.Context, req *adminv1.ListDeploymentsRequest) (*adminv1.ListDeploymentsResponse, error) {
	list, next, err := listPage(ctx, s, req, req.GetApiId(), req.GetPageSize(), req.GetPageToken(),
		store.DeploymentsPrefix, s.store.ListDeployments)
	if err != nil {
		return nil, err
	}
	for _, dep := range list {
		dep.Routes, dep.Integrations, dep.Models = nil, nil, nil
	}
	return &adminv1.ListDeploymentsResponse{Deployments: list, NextPageToken: next}, nil
}

// UpdateDeployment changes a deployment's description or tags.
func (s *Server) UpdateDeployment(ctx context.Context, req *adminv1.UpdateDeploymentRequest) (*adminv1.Deployment, error) {
	v := newViolations(req)
	in := req.GetDeployment()
	v.id("deployment.api_id", in.GetApiId())
	v.id("deployment.id", in.GetId())
	paths := v.updatePaths("update_mask", req.GetUpdateMask(), in.ProtoReflect().Descriptor(), deploymentMutable())
	if !validID(in.GetApiId()) || !validID(in.GetId()) {
		return nil, v.err()
	}
	return updateResource(ctx, s, v, resourceUpdate[*adminv1.Deployment]{
		apiID: in.GetApiId(), kind: "deployment", id: in.GetId(), in: in, paths: paths,
		find: func(d *draft) (*adminv1.Deployment, error) { return s.deploymentOf(ctx, d, in.GetId()) },
		check: func(_ *draft, v *violations, dep *adminv1.Deployment) error {
			v.description("deployment.description", dep.GetDescription())
			v.tags("deployment.tags", dep.GetTags())
			return nil
		},
		put: func(d *draft, _, dep *adminv1.Deployment) {
			dep.UpdateTime = d.now
			d.putDeployment(dep)
		},
	})
}

// deploymentOf reads a deployment of the API in the draft. The draft only
// lists deployment ids; the contents are read separately, and the commit's
// check that nothing under the API changed since the draft was read covers
// them too.
func (s *Server) deploymentOf(ctx context.Context, d *draft, id string) (*adminv1.Deployment, error) {
	if !d.hasDeployment(id) {
		return nil, notFound("deployment", id, d.apiID())
	}
	return getResource(ctx, s, s.store.GetDeployment, "deployment", d.apiID(), id)
}

// DeleteDeployment removes a deployment no stage serves.
func (s *Server) DeleteDeployment(ctx context.Context, req *adminv1.DeleteDeploymentRequest) (*emptypb.Empty, error) {
	v := idViolations(req)
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.deleteResource(ctx, req.GetApiId(), v, func(d *draft, _ *violations) error {
		if !d.hasDeployment(req.GetId()) {
			return notFound("deployment", req.GetId(), req.GetApiId())
		}
		if req.GetEtag() != "" {
			old, err := s.deploymentOf(ctx, d, req.GetId())
			if err != nil {
				return err
			}
			if err := checkEtag("deployment "+req.GetId(), req.GetEtag(), old.GetEtag()); err != nil {
				return err
			}
		}
		if stages := d.servedBy(req.GetId()); len(stages) > 0 {
			return inUse("deployment "+req.GetId(), prefixAll("stage ", stages))
		}
		d.deleteDeployment(req.GetId())
		return nil
	})
}

func prefixAll(prefix string, list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = prefix + s
	}
	return out
}
