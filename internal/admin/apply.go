package admin

import (
	"context"
	"errors"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// ApplyApi makes an API look like its definition in one transaction. The
// API is found by name and created if missing. Integrations are matched by
// name, routes by method and path shape, stages by name; matched resources
// that already look as defined are not written at all, so they keep their
// ids, etags and timestamps, and applying a definition twice changes
// nothing. Integrations and routes the definition lacks are deleted;
// stages only with prune_stages, since deleting one takes traffic down.
//
// With dry_run, the changes are computed and returned but not written; the
// ids of resources a dry run would create are placeholders.
func (s *Server) ApplyApi(ctx context.Context, req *adminv1.ApplyApiRequest) (*adminv1.ApplyApiResponse, error) {
	def := req.GetDefinition()
	v := newViolations(req)
	validateDefinition(v, "definition", def)
	if err := v.err(); err != nil {
		return nil, err
	}
	var resp *adminv1.ApplyApiResponse
	err := s.retry(ctx, def.GetName(), func() error {
		d, err := s.draftNamed(ctx, def)
		if err != nil {
			return err
		}
		d.applyDefinition(def, req.GetPruneStages())
		if err := d.finish(); err != nil {
			return err
		}
		resp = &adminv1.ApplyApiResponse{Api: d.API, Changes: d.changes()}
		if req.GetDryRun() {
			return nil
		}
		err = s.commit(ctx, d)
		if d.creating && status.Code(err) == codes.AlreadyExists {
			return store.ErrConflict // Created meanwhile: apply to it.
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// draftNamed starts a change of the API with the definition's name, or of a
// new API if there is none.
func (s *Server) draftNamed(ctx context.Context, def *adminv1.ApiDefinition) (*draft, error) {
	id, err := s.store.APIIDByName(ctx, def.GetName())
	if errors.Is(err, store.ErrNotFound) {
		if err := s.checkAPICount(ctx); err != nil {
			return nil, err
		}
		now := s.timestamp()
		api := &adminv1.Api{
			Id:               newID(),
			Name:             def.GetName(),
			Description:      def.GetDescription(),
			Protocol:         normalizeProtocol(def.GetProtocol()),
			Tags:             def.GetTags(),
			ApiKeySource:     def.GetApiKeySource(),
			GatewayResponses: def.GetGatewayResponses(),
			BinaryMediaTypes: def.GetBinaryMediaTypes(),
			Models:           def.GetModels(),
			CreateTime:       now,
			UpdateTime:       now,
		}
		normalizeAPI(api)
		return newAPIDraft(api, now), nil
	}
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	st, err := s.store.ReadAPI(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, store.ErrConflict // Deleted since its name was read.
	case err != nil:
		return nil, s.storeError(ctx, err)
	case st.API.GetName() != def.GetName():
		return nil, store.ErrConflict // Renamed since its name was read.
	}
	return newDraft(st, s.timestamp()), nil
}

// applyDefinition changes the draft to match a validated definition.
func (d *draft) applyDefinition(def *adminv1.ApiDefinition, pruneStages bool) {
	if !d.creating {
		api := proto.CloneOf(d.API)
		api.Description, api.Protocol, api.Tags = def.GetDescription(), normalizeProtocol(def.GetProtocol()), def.GetTags()
		api.ApiKeySource = def.GetApiKeySource()
		api.GatewayResponses, api.BinaryMediaTypes = def.GetGatewayResponses(), def.GetBinaryMediaTypes()
		api.Models = def.GetModels()
		normalizeAPI(api)
		if !proto.Equal(api, d.API) {
			api.UpdateTime = d.now
			d.putAPI(api)
		}
	}
	ids := d.applyIntegrations(def.GetIntegrations())
	d.applyRoutes(def.GetRoutes(), ids)
	d.applyStages(def.GetStages(), pruneStages)
}

// applyIntegrations creates, updates and deletes integrations to match defs
// and returns the id of each by name.
func (d *draft) applyIntegrations(defs []*adminv1.IntegrationDefinition) map[string]string {
	ids := make(map[string]string, len(defs))
	for _, in := range defs {
		want := &adminv1.Integration{
			ApiId:       d.apiID(),
			Name:        in.GetName(),
			Description: in.GetDescription(),
			Tags:        in.GetTags(),
		}
		switch k := in.GetKind().(type) {
		case *adminv1.IntegrationDefinition_HttpProxy:
			want.Kind = &adminv1.Integration_HttpProxy{HttpProxy: k.HttpProxy}
		case *adminv1.IntegrationDefinition_Mock:
			want.Kind = &adminv1.Integration_Mock{Mock: k.Mock}
		case *adminv1.IntegrationDefinition_Function:
			want.Kind = &adminv1.Integration_Function{Function: k.Function}
		case *adminv1.IntegrationDefinition_Http:
			want.Kind = &adminv1.Integration_Http{Http: k.Http}
		}
		old := d.integrationNamed(in.GetName())
		if reuse(want, old, d.now) {
			d.putIntegration(want)
		}
		ids[in.GetName()] = want.GetId()
	}
	for _, old := range slices.Clone(d.Integrations) {
		if _, ok := ids[old.GetName()]; !ok {
			d.deleteIntegration(old)
		}
	}
	return ids
}

// applyRoutes creates, updates and deletes routes to match defs. A route is
// the same route if it has the same method and path shape; a changed
// parameter name or integration updates it.
func (d *draft) applyRoutes(defs []*adminv1.RouteDefinition, integrationIDs map[string]string) {
	kept := make(map[string]bool, len(defs))
	for _, in := range defs {
		want := &adminv1.Route{
			ApiId:             d.apiID(),
			Method:            in.GetMethod(),
			Path:              in.GetPath(),
			IntegrationId:     integrationIDs[in.GetIntegration()],
			Description:       in.GetDescription(),
			Tags:              in.GetTags(),
			ApiKeyRequired:    in.GetApiKeyRequired(),
			RequestValidation: in.GetRequestValidation(),
		}
		old := d.routeLike(want)
		if reuse(want, old, d.now) {
			d.putRoute(want)
		}
		kept[want.GetId()] = true
	}
	for _, old := range slices.Clone(d.Routes) {
		if !kept[old.GetId()] {
			d.deleteRoute(old)
		}
	}
}

// routeLike returns the route with the same method and path shape as r, or
// nil.
func (d *draft) routeLike(r *adminv1.Route) *adminv1.Route {
	shape := pathShape(r.GetPath())
	return find(d.Routes, func(o *adminv1.Route) bool {
		return o.GetMethod() == r.GetMethod() && pathShape(o.GetPath()) == shape
	})
}

func pathShape(p string) string {
	t, err := model.ParsePathTemplate(p)
	if err != nil {
		return "!" + p // Never equal to a valid shape.
	}
	return t.Shape()
}

// applyStages creates and updates the stages defs names, and deletes the
// others if prune is set. The deployment a stage serves is not part of a
// definition and is left alone, except that a stage that starts to
// auto-deploy is deployed to at once.
func (d *draft) applyStages(defs []*adminv1.StageDefinition, prune bool) {
	named := make(map[string]bool, len(defs))
	for _, in := range defs {
		named[in.GetName()] = true
		old := d.stage(in.GetName())
		want := &adminv1.Stage{
			ApiId:          d.apiID(),
			Name:           in.GetName(),
			Description:    in.GetDescription(),
			DeploymentId:   old.GetDeploymentId(),
			Variables:      in.GetVariables(),
			AutoDeploy:     in.GetAutoDeploy(),
			Tags:           in.GetTags(),
			Throttle:       in.GetThrottle(),
			RouteThrottles: in.GetRouteThrottles(),
		}
		if reuse(want, old, d.now) {
			d.putStage(want)
			d.forceDeploy = d.forceDeploy || want.GetAutoDeploy() && !old.GetAutoDeploy()
		}
	}
	for _, old := range slices.Clone(d.Stages) {
		if prune && !named[old.GetName()] {
			d.deleteStage(old)
		}
	}
}

// reuse completes want, the defined form of a resource, from old, the
// existing one (nil if none), and reports whether want must be written:
// a new resource gets an id and timestamps; an existing one keeps its id,
// creation time and etag, and is written, with a new update time, only if
// it differs.
func reuse[T proto.Message](want, old T, now *timestamppb.Timestamp) bool {
	w, o := want.ProtoReflect(), old.ProtoReflect()
	fields := w.Descriptor().Fields()
	if !o.IsValid() {
		if id := fields.ByName("id"); id != nil {
			w.Set(id, protoreflect.ValueOfString(newID()))
		}
		w.Set(fields.ByName("create_time"), protoreflect.ValueOfMessage(now.ProtoReflect()))
		w.Set(fields.ByName("update_time"), protoreflect.ValueOfMessage(now.ProtoReflect()))
		return true
	}
	for _, name := range []protoreflect.Name{"id", "create_time", "update_time", "etag"} {
		if fd := fields.ByName(name); fd != nil && o.Has(fd) {
			w.Set(fd, o.Get(fd))
		}
	}
	if proto.Equal(want, old) {
		return false
	}
	w.Set(fields.ByName("update_time"), protoreflect.ValueOfMessage(now.ProtoReflect()))
	return true
}

// validateDefinition checks a whole definition. Besides each resource's own
// fields, names must be unique within their kind, as must routes by method
// and path shape, and every route must name an integration, and only
// models, of the definition: a definition is complete in itself.
func validateDefinition(v *violations, field string, def *adminv1.ApiDefinition) {
	v.name(field+".name", def.GetName())
	v.description(field+".description", def.GetDescription())
	v.protocol(field+".protocol", normalizeProtocol(def.GetProtocol()))
	v.tags(field+".tags", def.GetTags())
	v.keySource(field+".api_key_source", def.GetApiKeySource())
	v.gatewayResponses(field+".gateway_responses", def.GetGatewayResponses())
	v.binaryMediaTypes(field+".binary_media_types", def.GetBinaryMediaTypes())
	v.models(field+".models", def.GetModels())
	integrations := make(map[string]int, len(def.GetIntegrations()))
	for i, in := range def.GetIntegrations() {
		f := listField(field+".integrations", i)
		v.name(f+".name", in.GetName())
		v.description(f+".description", in.GetDescription())
		v.tags(f+".tags", in.GetTags())
		v.integrationKind(f, integrationKinds{in.GetHttpProxy(), in.GetMock(), in.GetFunction(), in.GetHttp()})
		if j, dup := integrations[in.GetName()]; dup {
			v.add(f+".name", "integration %q is already defined at integrations[%d]", in.GetName(), j)
		} else {
			integrations[in.GetName()] = i
		}
	}
	validateRouteDefinitions(v, field+".routes", def.GetRoutes(), integrations, modelNames(def.GetModels()))
	stages := make(map[string]int, len(def.GetStages()))
	for i, in := range def.GetStages() {
		f := listField(field+".stages", i)
		v.stageName(f+".name", in.GetName())
		v.description(f+".description", in.GetDescription())
		v.variables(f+".variables", in.GetVariables())
		v.tags(f+".tags", in.GetTags())
		v.throttle(f+".throttle", in.GetThrottle())
		v.routeThrottles(f+".route_throttles", in.GetRouteThrottles())
		if j, dup := stages[in.GetName()]; dup {
			v.add(f+".name", "stage %q is already defined at stages[%d]", in.GetName(), j)
		} else {
			stages[in.GetName()] = i
		}
	}
}

// validateRouteDefinitions checks the routes of a definition, whose
// validations may name the definition's models.
func validateRouteDefinitions(v *violations, field string, defs []*adminv1.RouteDefinition, integrations map[string]int, models map[string]bool) {
	seen := make(map[string]int, len(defs))
	for i, in := range defs {
		f := listField(field, i)
		v.method(f+".method", in.GetMethod())
		t, ok := v.path(f+".path", in.GetPath())
		switch name := in.GetIntegration(); {
		case name == "":
			v.add(f+".integration", "required: the name of an integration of the definition")
		case !hasKey(integrations, name):
			v.add(f+".integration", "no integration %q in the definition", name)
		}
		v.description(f+".description", in.GetDescription())
		v.tags(f+".tags", in.GetTags())
		v.requestValidation(f+".request_validation", in.GetRequestValidation(), t, ok)
		v.namedModels(f+".request_validation.request_models", in.GetRequestValidation(), models, "the definition")
		if !ok || !model.ValidMethod(in.GetMethod()) {
			continue
		}
		key := routeName(in.GetMethod(), t.Shape())
		if j, dup := seen[key]; dup {
			v.add(f, "route %s matches the same requests as routes[%d]", routeName(in.GetMethod(), in.GetPath()), j)
		} else {
			seen[key] = i
		}
	}
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}
