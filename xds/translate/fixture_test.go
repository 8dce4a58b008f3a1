package translate

import (
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/archway-gateway/archway/internal/model"
)

// fixture is a golden test input: translator options and a model in a
// small YAML form, turned into a *model.Config through the model's own
// constructors so that fixtures obey the same invariants as real input.
type fixture struct {
	Options fixtureOptions `json:"options"`
	APIs    []fixtureAPI   `json:"apis"`
}

type fixtureOptions struct {
	GatewayAddr    string `json:"gatewayAddr"`
	BaseDomain     string `json:"baseDomain"`
	PathStyle      bool   `json:"pathStyle"`
	XFFTrustedHops uint32 `json:"xffTrustedHops"`
	CAFile         string `json:"caFile"`
}

type fixtureAPI struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Protocol    string              `json:"protocol"` // HTTP or REST
	Stages      []fixtureStage      `json:"stages"`
	Deployments []fixtureDeployment `json:"deployments"`
	// GatewayResponses are the API's customized gateway responses, by
	// type.
	GatewayResponses map[string]*model.GatewayResponse `json:"gatewayResponses"`
}

type fixtureStage struct {
	Name       string            `json:"name"`
	Variables  map[string]string `json:"variables"`
	Deployment string            `json:"deployment"` // a deployment id; empty serves nothing
	Throttle   *fixtureThrottle  `json:"throttle"`
	// RouteThrottles are keyed by route key ("GET /pets"); null removes
	// the stage's throttle from a route.
	RouteThrottles map[string]*fixtureThrottle `json:"routeThrottles"`
}

type fixtureThrottle struct {
	Rate  float64 `json:"rate"`
	Burst int64   `json:"burst"`
}

func (ft *fixtureThrottle) throttle() *model.Throttle {
	if ft == nil {
		return nil
	}
	return &model.Throttle{Rate: ft.Rate, Burst: ft.Burst}
}

type fixtureDeployment struct {
	ID           string               `json:"id"`
	Routes       []fixtureRoute       `json:"routes"`
	Integrations []fixtureIntegration `json:"integrations"`
}

type fixtureRoute struct {
	ID             string `json:"id"`
	Method         string `json:"method"`
	Path           string `json:"path"`
	Integration    string `json:"integration"`
	APIKeyRequired bool   `json:"apiKeyRequired"`
	// Validation is the route's request validator, as the model has it.
	Validation *fixtureValidation `json:"validation"`
}

type fixtureValidation struct {
	Parameters bool              `json:"parameters"`
	Body       bool              `json:"body"`
	Query      []string          `json:"query"`
	Header     []string          `json:"header"`
	Path       []string          `json:"path"`
	Models     map[string]string `json:"models"`
	// RequestModels name models of the deployment, which fixtures do not
	// have yet; the field keeps the conversion to model.Validation.
	RequestModels map[string]string `json:"requestModels"`
}

func (fv *fixtureValidation) validation() *model.Validation {
	if fv == nil {
		return nil
	}
	v := model.Validation(*fv)
	return &v
}

type fixtureIntegration struct {
	ID        string `json:"id"`
	HTTPProxy *struct {
		URI     string `json:"uri"`
		Method  string `json:"method"`
		Timeout string `json:"timeout"` // a Go duration; empty is model.DefaultTimeout
	} `json:"httpProxy"`
	Mock *struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
		// The template form: set when requestTemplates or responses are.
		RequestTemplates map[string]string            `json:"requestTemplates"`
		Passthrough      string                       `json:"passthrough"` // AWS's name; empty is WHEN_NO_MATCH
		Responses        []fixtureIntegrationResponse `json:"responses"`
	} `json:"mock"`
	Function *struct {
		URI            string `json:"uri"`
		InvokePath     string `json:"invokePath"`     // empty is model.DefaultInvokePath
		PayloadVersion string `json:"payloadVersion"` // empty is the API's default
		Timeout        string `json:"timeout"`        // a Go duration; empty is model.DefaultTimeout
	} `json:"function"`
	HTTP *fixtureHTTP `json:"http"`
}

// fixtureHTTP is a non-proxy HTTP integration.
type fixtureHTTP struct {
	URI               string                       `json:"uri"`
	Method            string                       `json:"method"`
	Timeout           string                       `json:"timeout"` // a Go duration; empty is model.DefaultTimeout
	RequestTemplates  map[string]string            `json:"requestTemplates"`
	Passthrough       string                       `json:"passthrough"` // AWS's name; empty is WHEN_NO_MATCH
	RequestParameters map[string]string            `json:"requestParameters"`
	Responses         []fixtureIntegrationResponse `json:"responses"`
}

type fixtureIntegrationResponse struct {
	Pattern    string            `json:"pattern"`
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Templates  map[string]string `json:"templates"`
}

// loadFixture reads a fixture file.
func loadFixture(path string) (*model.Config, Options, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Options{}, err
	}
	return parseFixture(data)
}

// parseFixture decodes a fixture, rejecting unknown fields.
func parseFixture(data []byte) (*model.Config, Options, error) {
	var f fixture
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, Options{}, err
	}
	cfg, err := f.config()
	return cfg, Options(f.Options), err
}

func (f *fixture) config() (*model.Config, error) {
	apis := make([]*model.API, 0, len(f.APIs))
	for _, a := range f.APIs {
		api, err := a.api()
		if err != nil {
			return nil, fmt.Errorf("API %s: %w", a.ID, err)
		}
		apis = append(apis, api)
	}
	return model.NewConfig(1, apis)
}

func (a *fixtureAPI) api() (*model.API, error) {
	deployments := make(map[string]*model.Deployment, len(a.Deployments))
	for _, fd := range a.Deployments {
		d, err := fd.deployment()
		if err != nil {
			return nil, err
		}
		deployments[d.ID] = d
	}
	stages := make([]*model.Stage, 0, len(a.Stages))
	for _, fs := range a.Stages {
		st := &model.Stage{Name: fs.Name, Variables: fs.Variables, Throttle: fs.Throttle.throttle()}
		if fs.RouteThrottles != nil {
			st.RouteThrottles = make(map[string]*model.Throttle, len(fs.RouteThrottles))
			for key, t := range fs.RouteThrottles {
				st.RouteThrottles[key] = t.throttle()
			}
		}
		if fs.Deployment != "" {
			if st.Deployment = deployments[fs.Deployment]; st.Deployment == nil {
				return nil, fmt.Errorf("stage %s: no deployment %s", fs.Name, fs.Deployment)
			}
		}
		stages = append(stages, st)
	}
	protocol := map[string]model.Protocol{"HTTP": model.ProtocolHTTP, "REST": model.ProtocolREST}[a.Protocol]
	api, err := model.NewAPI(a.ID, a.Name, protocol, stages)
	if err != nil {
		return nil, err
	}
	api.GatewayResponses = a.GatewayResponses
	return api, nil
}

func (fd *fixtureDeployment) deployment() (*model.Deployment, error) {
	ints := make([]*model.Integration, 0, len(fd.Integrations))
	byID := make(map[string]*model.Integration, len(fd.Integrations))
	for _, fi := range fd.Integrations {
		in, err := fi.integration()
		if err != nil {
			return nil, err
		}
		ints, byID[in.ID] = append(ints, in), in
	}
	routes := make([]*model.Route, 0, len(fd.Routes))
	for _, fr := range fd.Routes {
		p, err := model.ParsePathTemplate(fr.Path)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", fr.ID, err)
		}
		routes = append(routes, &model.Route{
			ID: fr.ID, Method: fr.Method, Path: p, Integration: byID[fr.Integration], APIKeyRequired: fr.APIKeyRequired,
			Validation: fr.Validation.validation(),
		})
	}
	return model.NewDeployment(fd.ID, routes, ints)
}

func (fi *fixtureIntegration) integration() (*model.Integration, error) {
	in := &model.Integration{ID: fi.ID, Name: "integration-" + fi.ID}
	if m := fi.Mock; m != nil {
		in.Mock = &model.Mock{StatusCode: m.StatusCode, Headers: m.Headers, Body: m.Body}
		if m.RequestTemplates != nil || m.Responses != nil {
			t, err := fi.mockTemplates()
			if err != nil {
				return nil, err
			}
			in.Mock.Templates = t
		}
	}
	if h := fi.HTTPProxy; h != nil {
		timeout, err := fixtureTimeout(h.Timeout)
		if err != nil {
			return nil, fmt.Errorf("integration %s: %w", fi.ID, err)
		}
		in.HTTPProxy = &model.HTTPProxy{URI: h.URI, Method: h.Method, Timeout: timeout}
	}
	if f := fi.Function; f != nil {
		timeout, err := fixtureTimeout(f.Timeout)
		if err != nil {
			return nil, fmt.Errorf("integration %s: %w", fi.ID, err)
		}
		in.Function = &model.Function{URI: f.URI, InvokePath: f.InvokePath, PayloadVersion: f.PayloadVersion, Timeout: timeout}
		if f.InvokePath == "" {
			in.Function.InvokePath = model.DefaultInvokePath
		}
	}
	if h := fi.HTTP; h != nil {
		var err error
		if in.HTTP, err = h.http(); err != nil {
			return nil, fmt.Errorf("integration %s: %w", fi.ID, err)
		}
	}
	return in, nil
}

func (h *fixtureHTTP) http() (*model.HTTP, error) {
	timeout, err := fixtureTimeout(h.Timeout)
	if err != nil {
		return nil, err
	}
	passthrough, err := fixturePassthrough(h.Passthrough)
	if err != nil {
		return nil, err
	}
	out := &model.HTTP{
		URI: h.URI, Method: h.Method, Timeout: timeout,
		RequestTemplates: h.RequestTemplates, Passthrough: passthrough, RequestParameters: h.RequestParameters,
	}
	for _, r := range h.Responses {
		out.Responses = append(out.Responses, model.IntegrationResponse(r))
	}
	return out, nil
}

// fixturePassthrough parses AWS's name of a passthrough behaviour,
// WHEN_NO_MATCH when empty.
func fixturePassthrough(s string) (model.Passthrough, error) {
	p, ok := map[string]model.Passthrough{
		"":                  model.PassthroughWhenNoMatch,
		"WHEN_NO_MATCH":     model.PassthroughWhenNoMatch,
		"WHEN_NO_TEMPLATES": model.PassthroughWhenNoTemplates,
		"NEVER":             model.PassthroughNever,
	}[s]
	if !ok {
		return 0, fmt.Errorf("passthrough %q", s)
	}
	return p, nil
}

// fixtureTimeout parses an integration timeout, model.DefaultTimeout when
// empty.
func fixtureTimeout(s string) (time.Duration, error) {
	if s == "" {
		return model.DefaultTimeout, nil
	}
	return time.ParseDuration(s)
}

func (fi *fixtureIntegration) mockTemplates() (*model.MockTemplates, error) {
	passthrough, err := fixturePassthrough(fi.Mock.Passthrough)
	if err != nil {
		return nil, fmt.Errorf("integration %s: %w", fi.ID, err)
	}
	t := &model.MockTemplates{RequestTemplates: fi.Mock.RequestTemplates, Passthrough: passthrough}
	for _, r := range fi.Mock.Responses {
		t.Responses = append(t.Responses, model.IntegrationResponse(r))
	}
	return t, nil
}
