package admin

import (
	"context"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// routeMutable lists the fields of a Route that updates may change.
func routeMutable() []string {
	return []string{"method", "path", "integration_id", "description", "tags", "api_key_required", "request_validation"}
}

// validateRoute checks the fields of a route that need no other resource.
func validateRoute(v *violations, field string, r *adminv1.Route) {
	v.method(field+".method", r.GetMethod())
	t, ok := v.path(field+".path", r.GetPath())
	v.requestValidation(field+".request_validation", r.GetRequestValidation(), t, ok)
	if r.GetIntegrationId() == "" {
		v.add(field+".integration_id", "required: the id of an integration of the API")
	}
	v.description(field+".description", r.GetDescription())
	v.tags(field+".tags", r.GetTags())
}

// checkRoute checks a route against the rest of the API: its integration
// and the models its validation names must exist, and no other route may
// have the same method and path shape, since two such routes would match
// exactly the same requests.
func (d *draft) checkRoute(v *violations, field string, r *adminv1.Route) error {
	if id := r.GetIntegrationId(); id != "" && d.integration(id) == nil {
		v.add(field+".integration_id", "no integration %s in api %s", id, d.apiID())
	}
	v.namedModels(field+".request_validation.request_models", r.GetRequestValidation(),
		modelNames(d.API.GetModels()), "api "+d.apiID())
	t, err := model.ParsePathTemplate(r.GetPath())
	if err != nil {
		return nil // validateRoute reported it.
	}
	for _, o := range d.Routes {
		if o.GetId() == r.GetId() || o.GetMethod() != r.GetMethod() {
			continue
		}
		if ot, err := model.ParsePathTemplate(o.GetPath()); err == nil && ot.Shape() == t.Shape() {
			return alreadyExists("route %s conflicts with route %s (%s): they match the same requests",
				routeName(r.GetMethod(), r.GetPath()), o.GetId(), routeName(o.GetMethod(), o.GetPath()))
		}
	}
	return nil
}

// CreateRoute adds a route to an API.
func (s *Server) CreateRoute(ctx context.Context, req *adminv1.CreateRouteRequest) (*adminv1.Route, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	in := req.GetRoute()
	r := &adminv1.Route{
		Id:                newID(),
		ApiId:             req.GetApiId(),
		Method:            in.GetMethod(),
		Path:              in.GetPath(),
		IntegrationId:     in.GetIntegrationId(),
		Description:       in.GetDescription(),
		Tags:              in.GetTags(),
		ApiKeyRequired:    in.GetApiKeyRequired(),
		RequestValidation: in.GetRequestValidation(),
	}
	validateRoute(v, "route", r)
	if !validID(req.GetApiId()) {
		return nil, v.err()
	}
	_, err := s.changeAPI(ctx, req.GetApiId(), v, func(d *draft, v *violations) error {
		r.CreateTime, r.UpdateTime = d.now, d.now
		if err := d.checkRoute(v, "route", r); err != nil {
			return err
		}
		d.putRoute(r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// GetRoute returns one route.
func (s *Server) GetRoute(ctx context.Context, req *adminv1.GetRouteRequest) (*adminv1.Route, error) {
	return getByID(ctx, s, req, "route", s.store.GetRoute)
}

// ListRoutes returns one page of an API's routes in id order.
func (s *Server) ListRoutes(ctx context.Context, req *adminv1.ListRoutesRequest) (*adminv1.ListRoutesResponse, error) {
	routes, next, err := listPage(ctx, s, req, req.GetApiId(), req.GetPageSize(), req.GetPageToken(),
		store.RoutesPrefix, s.store.ListRoutes)
	if err != nil {
		return nil, err
	}
	return &adminv1.ListRoutesResponse{Routes: routes, NextPageToken: next}, nil
}

// UpdateRoute changes a route.
func (s *Server) UpdateRoute(ctx context.Context, req *adminv1.UpdateRouteRequest) (*adminv1.Route, error) {
	v := newViolations(req)
	in := req.GetRoute()
	v.id("route.api_id", in.GetApiId())
	v.id("route.id", in.GetId())
	paths := v.updatePaths("update_mask", req.GetUpdateMask(), in.ProtoReflect().Descriptor(), routeMutable())
	if !validID(in.GetApiId()) || !validID(in.GetId()) {
		return nil, v.err()
	}
	return updateResource(ctx, s, v, resourceUpdate[*adminv1.Route]{
		apiID: in.GetApiId(), kind: "route", id: in.GetId(), in: in, paths: paths,
		find: func(d *draft) (*adminv1.Route, error) { return d.route(in.GetId()), nil },
		check: func(d *draft, v *violations, r *adminv1.Route) error {
			validateRoute(v, "route", r)
			return d.checkRoute(v, "route", r)
		},
		put: func(d *draft, _, r *adminv1.Route) {
			r.UpdateTime = d.now
			d.putRoute(r)
		},
	})
}

// DeleteRoute removes a route.
func (s *Server) DeleteRoute(ctx context.Context, req *adminv1.DeleteRouteRequest) (*emptypb.Empty, error) {
	v := idViolations(req)
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.deleteResource(ctx, req.GetApiId(), v, func(d *draft, _ *violations) error {
		old := d.route(req.GetId())
		if err := existing(old, req.GetEtag(), "route", req.GetId(), req.GetApiId()); err != nil {
			return err
		}
		d.deleteRoute(old)
		return nil
	})
}
