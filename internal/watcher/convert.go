package watcher

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/archway-gateway/archway/internal/model"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// buildAPI converts one API's records. What cannot be served (a stage whose
// deployment is missing or invalid) is logged and left out, so the rest of
// the API keeps working; nil means the API itself cannot be served. Log
// lines name records by id and never carry integration URIs, which may hold
// credentials.
func buildAPI(log *slog.Logger, id string, r *apiRecords) *model.API {
	if r.api == nil {
		// Records of an API whose own record is gone or not yet written.
		log.Debug("skipping records without their API", "api", id)
		return nil
	}
	log = log.With("api", id, "api_name", r.api.GetName())
	stages := make([]*model.Stage, 0, len(r.stages))
	for name, st := range r.stages {
		d, err := r.deployment(st.GetDeploymentId())
		if err != nil {
			log.Warn("skipping stage", "stage", name, "deployment", st.GetDeploymentId(), "err", err)
			continue
		}
		ms, err := convertStage(name, st, d)
		if err != nil {
			log.Warn("skipping stage", "stage", name, "err", err)
			continue
		}
		stages = append(stages, ms)
	}
	api, err := convertAPI(id, r.api, stages)
	if err != nil {
		log.Warn("skipping API", "err", err)
		return nil
	}
	return api
}

// convertAPI converts the record of the API id around its converted
// stages: the one conversion of an API's own settings, for the watcher's
// configurations and test invocations alike.
func convertAPI(id string, rec *adminv1.Api, stages []*model.Stage) (*model.API, error) {
	protocol, err := convertProtocol(rec.GetProtocol())
	if err != nil {
		return nil, err
	}
	api, err := model.NewAPI(id, rec.GetName(), protocol, stages)
	if err != nil {
		return nil, err
	}
	if rec.GetApiKeySource() == adminv1.ApiKeySource_API_KEY_SOURCE_AUTHORIZER {
		api.KeySource = model.KeySourceAuthorizer
	}
	api.GatewayResponses = convertGatewayResponses(rec.GetGatewayResponses())
	api.BinaryMediaTypes = slices.Clone(rec.GetBinaryMediaTypes())
	return api, nil
}

// convertGatewayResponses converts an API's customized gateway responses,
// keyed by type; nil when it has none. The admin API checked them.
func convertGatewayResponses(rs []*adminv1.GatewayResponse) map[string]*model.GatewayResponse {
	if len(rs) == 0 {
		return nil
	}
	out := make(map[string]*model.GatewayResponse, len(rs))
	for _, r := range rs {
		out[r.GetResponseType()] = &model.GatewayResponse{
			StatusCode: int(r.GetStatusCode()),
			Headers:    cloneMap(r.GetResponseParameters()),
			Templates:  cloneMap(r.GetResponseTemplates()),
		}
	}
	return out
}

// convertStage converts a stage record that serves d.
func convertStage(name string, st *adminv1.Stage, d *model.Deployment) (*model.Stage, error) {
	throttle, err := convertThrottle(st.GetThrottle())
	if err != nil {
		return nil, err
	}
	routes, err := convertRouteThrottles(st.GetRouteThrottles())
	if err != nil {
		return nil, err
	}
	return &model.Stage{
		Name:           name,
		Variables:      cloneMap(st.GetVariables()),
		AutoDeploy:     st.GetAutoDeploy(),
		Deployment:     d,
		Throttle:       throttle,
		RouteThrottles: routes,
	}, nil
}

// deployment returns the converted deployment a stage serves, converting it
// on first use; an empty id is a stage that serves nothing.
func (r *apiRecords) deployment(id string) (*model.Deployment, error) {
	if id == "" {
		return nil, nil
	}
	rec := r.deployments[id]
	if rec == nil {
		return nil, errors.New("the deployment does not exist")
	}
	if !rec.done {
		rec.converted, rec.err = convertDeployment(id, rec.msg)
		rec.done = true
	}
	return rec.converted, rec.err
}

func convertProtocol(p adminv1.Protocol) (model.Protocol, error) {
	switch p {
	case adminv1.Protocol_PROTOCOL_HTTP:
		return model.ProtocolHTTP, nil
	case adminv1.Protocol_PROTOCOL_REST:
		return model.ProtocolREST, nil
	}
	return 0, fmt.Errorf("unsupported protocol %v", p)
}

// convertDeployment converts a deployment's snapshot of routes,
// integrations and models; the deployment is served whole or not at all.
func convertDeployment(id string, d *adminv1.Deployment) (*model.Deployment, error) {
	ints := make([]*model.Integration, 0, len(d.GetIntegrations()))
	byID := make(map[string]*model.Integration, len(d.GetIntegrations()))
	for _, in := range d.GetIntegrations() {
		mi, err := convertIntegration(in)
		if err != nil {
			return nil, err
		}
		ints = append(ints, mi)
		byID[mi.ID] = mi
	}
	routes := make([]*model.Route, 0, len(d.GetRoutes()))
	for _, r := range d.GetRoutes() {
		mr, err := convertRoute(r, byID)
		if err != nil {
			return nil, err
		}
		routes = append(routes, mr)
	}
	return model.NewDeploymentWithModels(id, routes, ints, convertModels(d.GetModels()))
}

// convertModels converts a deployment's snapshot of the API's models.
func convertModels(ms []*adminv1.Model) []*model.Model {
	if len(ms) == 0 {
		return nil
	}
	out := make([]*model.Model, len(ms))
	for i, m := range ms {
		out[i] = &model.Model{Name: m.GetName(), ContentType: m.GetContentType(), Schema: m.GetSchema()}
	}
	return out
}

func convertRoute(r *adminv1.Route, ints map[string]*model.Integration) (*model.Route, error) {
	path, err := model.ParsePathTemplate(r.GetPath())
	if err != nil {
		return nil, fmt.Errorf("route %q: %w", r.GetId(), err)
	}
	in := ints[r.GetIntegrationId()]
	if in == nil {
		return nil, fmt.Errorf("route %q: integration %q is not in the deployment", r.GetId(), r.GetIntegrationId())
	}
	return &model.Route{
		ID: r.GetId(), Method: r.GetMethod(), Path: path, Integration: in,
		APIKeyRequired: r.GetApiKeyRequired(),
		Validation:     convertValidation(r.GetRequestValidation()),
	}, nil
}

// convertValidation converts a route's request validation; nil stays nil.
func convertValidation(rv *adminv1.RequestValidation) *model.Validation {
	if rv == nil {
		return nil
	}
	v := &model.Validation{
		Parameters: rv.GetValidateParameters(),
		Body:       rv.GetValidateBody(),
		Models:     cloneMap(rv.GetBodyModels()),
		// Model names, resolved within the deployment's models.
		RequestModels: cloneMap(rv.GetRequestModels()),
	}
	for _, p := range rv.GetRequiredParameters() {
		if name, ok := strings.CutPrefix(p, "method.request.querystring."); ok {
			v.Query = append(v.Query, name)
		} else if name, ok := strings.CutPrefix(p, "method.request.header."); ok {
			v.Header = append(v.Header, name)
		} else if name, ok := strings.CutPrefix(p, "method.request.path."); ok {
			v.Path = append(v.Path, name)
		}
	}
	return v
}

func convertIntegration(in *adminv1.Integration) (*model.Integration, error) {
	mi := &model.Integration{ID: in.GetId(), Name: in.GetName()}
	switch k := in.GetKind().(type) {
	case *adminv1.Integration_HttpProxy:
		timeout, err := convertTimeout(k.HttpProxy.GetTimeout())
		if err != nil {
			return nil, fmt.Errorf("integration %q: %w", in.GetId(), err)
		}
		mi.HTTPProxy = &model.HTTPProxy{URI: k.HttpProxy.GetUri(), Method: k.HttpProxy.GetMethod(), Timeout: timeout}
	case *adminv1.Integration_Mock:
		mi.Mock = &model.Mock{
			StatusCode: int(k.Mock.GetStatusCode()),
			Headers:    cloneMap(k.Mock.GetHeaders()),
			Body:       k.Mock.GetBody(),
			Templates:  convertMockTemplates(k.Mock),
		}
	case *adminv1.Integration_Function:
		timeout, err := convertTimeout(k.Function.GetTimeout())
		if err != nil {
			return nil, fmt.Errorf("integration %q: %w", in.GetId(), err)
		}
		path := k.Function.GetInvokePath()
		if path == "" {
			path = model.DefaultInvokePath
		}
		mi.Function = &model.Function{
			URI: k.Function.GetUri(), InvokePath: path,
			PayloadVersion: k.Function.GetPayloadFormatVersion(), Timeout: timeout,
		}
	case *adminv1.Integration_Http:
		h, err := convertHTTP(k.Http)
		if err != nil {
			return nil, fmt.Errorf("integration %q: %w", in.GetId(), err)
		}
		mi.HTTP = h
	default:
		return nil, fmt.Errorf("integration %q: no supported kind is set", in.GetId())
	}
	return mi, nil
}

// convertMockTemplates returns the template form of a mock, or nil for the
// simple form.
func convertMockTemplates(m *adminv1.MockIntegration) *model.MockTemplates {
	if len(m.GetRequestTemplates()) == 0 && len(m.GetIntegrationResponses()) == 0 {
		return nil
	}
	t := &model.MockTemplates{
		RequestTemplates: cloneMap(m.GetRequestTemplates()),
		Passthrough:      convertPassthrough(m.GetPassthroughBehavior()),
	}
	t.Responses = convertResponses(m.GetIntegrationResponses())
	return t
}

func convertResponses(rs []*adminv1.IntegrationResponse) []model.IntegrationResponse {
	out := make([]model.IntegrationResponse, 0, len(rs))
	for _, r := range rs {
		out = append(out, model.IntegrationResponse{
			Pattern:    r.GetSelectionPattern(),
			StatusCode: int(r.GetStatusCode()),
			Headers:    cloneMap(r.GetResponseHeaders()),
			Templates:  cloneMap(r.GetResponseTemplates()),
		})
	}
	return out
}

func convertPassthrough(pb adminv1.PassthroughBehavior) model.Passthrough {
	switch pb {
	case adminv1.PassthroughBehavior_PASSTHROUGH_BEHAVIOR_WHEN_NO_TEMPLATES:
		return model.PassthroughWhenNoTemplates
	case adminv1.PassthroughBehavior_PASSTHROUGH_BEHAVIOR_NEVER:
		return model.PassthroughNever
	}
	return model.PassthroughWhenNoMatch
}

// convertHTTP converts a non-proxy HTTP integration.
func convertHTTP(h *adminv1.HttpIntegration) (*model.HTTP, error) {
	timeout, err := convertTimeout(h.GetTimeout())
	if err != nil {
		return nil, err
	}
	return &model.HTTP{
		URI: h.GetUri(), Method: h.GetMethod(), Timeout: timeout,
		RequestTemplates:  cloneMap(h.GetRequestTemplates()),
		Passthrough:       convertPassthrough(h.GetPassthroughBehavior()),
		RequestParameters: cloneMap(h.GetRequestParameters()),
		Responses:         convertResponses(h.GetIntegrationResponses()),
	}, nil
}

// convertTimeout resolves an unset timeout to API Gateway's default; the
// model checks the bounds.
func convertTimeout(d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return model.DefaultTimeout, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, fmt.Errorf("timeout: %w", err)
	}
	if t := d.AsDuration(); t != 0 {
		return t, nil
	}
	return model.DefaultTimeout, nil
}

// cloneMap copies a map out of a record, so that a published Config shares
// nothing with the watcher's records; empty maps become nil.
func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
