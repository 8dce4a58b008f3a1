package model

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Deployment is an immutable snapshot of an API's routes, integrations and
// models, the unit a stage serves. Stages that serve the same deployment
// share it.
type Deployment struct {
	ID string
	// Routes are sorted by ID.
	Routes []*Route
	// Integrations are sorted by ID. Every route's integration is one of
	// them.
	Integrations []*Integration
	// Models are the API's named models as deployed, sorted by name. Every
	// model a route's validation names is one of them.
	Models []*Model
}

// Model is one of an API's named models, as API Gateway's Model resource:
// a JSON Schema (draft 4) document that routes name in their validation
// and that may refer to the other models of its deployment.
type Model struct {
	// Name is unique within the deployment.
	Name string
	// ContentType is the media type the model describes; it is informative,
	// as in AWS: a route's validation says which content type it checks.
	ContentType string
	Schema      string
}

// Route sends requests that match its method and path template to its
// integration.
type Route struct {
	ID string
	// Method is one of Methods(); MethodAny matches every method, after the
	// routes for the request's own method.
	Method string
	Path   PathTemplate
	// Integration is never nil and belongs to the route's deployment.
	Integration *Integration
	// APIKeyRequired makes requests carry an API key of a usage plan that
	// covers the stage.
	APIKeyRequired bool
	// Validation is what requests must look like before they reach the
	// integration; nil validates nothing.
	Validation *Validation

	// key caches Key; NewDeployment sets it, so that services looking up
	// per-route throttles on the request path allocate nothing.
	key string
}

// Validation is AWS's request validator of a route, with its required
// parameters and body models.
type Validation struct {
	// Parameters and Body say which checks run (validateRequestParameters,
	// validateRequestBody).
	Parameters, Body bool
	// Query, Header and Path are the required parameters' names.
	Query, Header, Path []string
	// Models maps content types (or "$default") to JSON Schema documents.
	// The map must only be read.
	Models map[string]string
	// RequestModels maps content types (or "$default") to the names of
	// models of the route's deployment, as AWS's requestModels; no content
	// type is also in Models. The map must only be read.
	RequestModels map[string]string
}

// NeedsBody reports whether validating a request needs its body.
func (v *Validation) NeedsBody() bool {
	return v != nil && v.Body && len(v.Models)+len(v.RequestModels) > 0
}

// Active reports whether the validation checks anything.
func (v *Validation) Active() bool {
	return v != nil && (v.Parameters && len(v.Query)+len(v.Header)+len(v.Path) > 0 || v.NeedsBody())
}

// Key returns the route key, "METHOD /path", by which stages and usage
// plans name the route in their per-route settings.
func (r *Route) Key() string {
	if r.key != "" {
		return r.key
	}
	return r.Method + " " + r.Path.String()
}

// Integration is where a route sends requests. Exactly one of its kinds is
// set; the services switch on which.
type Integration struct {
	ID string
	// Name is unique within the API; logs and status messages use it.
	Name      string
	HTTPProxy *HTTPProxy
	Mock      *Mock
	Function  *Function
	HTTP      *HTTP
}

// HTTP is API Gateway's non-proxy HTTP integration: ext_proc transforms the
// request with a template and parameter mappings on its way to the backend,
// and the backend's answer with the integration response its status
// selects.
type HTTP struct {
	// URI, Method and Timeout are as HTTPProxy's.
	URI     string
	Method  string
	Timeout time.Duration
	// RequestTemplates maps content types to VTL templates. The map must
	// only be read.
	RequestTemplates map[string]string
	Passthrough      Passthrough
	// RequestParameters maps what to set (integration.request.header.NAME,
	// .querystring.NAME, .path.NAME) to where it comes from. The map must
	// only be read.
	RequestParameters map[string]string
	// Responses are in the order they were defined; at most one has an
	// empty Pattern. None passes the backend's answer through.
	Responses []IntegrationResponse
}

// DefaultInvokePath is where the Lambda Runtime Interface Emulator takes
// invocations, so that containers built from AWS's Lambda base images run
// behind a Function integration unchanged.
const DefaultInvokePath = "/2015-03-31/functions/function/invocations"

// Function is API Gateway's Lambda proxy integration, against a function
// served over HTTP: ext_proc turns the request into a proxy event POSTed to
// InvokePath, and the function's result into the response.
type Function struct {
	// URI is the function's http or https base URL; its path is ignored.
	URI string
	// InvokePath is never empty; producers resolve an unset one to
	// DefaultInvokePath.
	InvokePath string
	// PayloadVersion is "1.0", "2.0", or empty for the API's default
	// (see Version).
	PayloadVersion string
	// Timeout is within [MinTimeout, MaxTimeout].
	Timeout time.Duration
}

// Version returns the payload format version the function gets: its own,
// else AWS's default for the API's protocol, 1.0 for REST APIs and 2.0 for
// HTTP APIs.
func (f *Function) Version(p Protocol) string {
	switch {
	case f.PayloadVersion != "":
		return f.PayloadVersion
	case p == ProtocolREST:
		return "1.0"
	}
	return "2.0"
}

// HTTPProxy forwards requests unchanged to an HTTP(S) backend.
type HTTPProxy struct {
	// URI is an http or https URL. Its path may hold {param} route
	// parameters and ${stageVariables.name} references, substituted per
	// request. It may hold credentials, so it is never logged.
	URI string
	// Method is sent upstream; empty forwards the client's method.
	Method string
	// Timeout is how long Envoy waits for the backend before answering 504.
	// It is always within [MinTimeout, MaxTimeout]; producers resolve an
	// unset timeout to DefaultTimeout.
	Timeout time.Duration
}

// Mock answers requests from the gateway itself, as API Gateway's MOCK
// integration does, without calling any backend. In the simple form Envoy
// answers StatusCode, Headers and Body directly; in the template form
// (Templates set) ext_proc renders the answer.
type Mock struct {
	// StatusCode is within [100, 599] in the simple form, 0 otherwise.
	StatusCode int
	// Headers are added to the response. The map must only be read.
	Headers map[string]string
	Body    string
	// Templates is the template form; nil for the simple form.
	Templates *MockTemplates
}

// MockTemplates is API Gateway's MOCK integration: a request template
// renders {"statusCode": N}, and the integration response selected by N
// renders the answer.
type MockTemplates struct {
	// RequestTemplates maps content types to VTL templates. The map must
	// only be read.
	RequestTemplates map[string]string
	Passthrough      Passthrough
	// Responses are in the order they were defined; at most one has an
	// empty Pattern (the default).
	Responses []IntegrationResponse
}

// Passthrough is AWS's passthroughBehavior.
type Passthrough int

// The passthrough behaviours. The zero value is WHEN_NO_MATCH, AWS's
// default.
const (
	PassthroughWhenNoMatch Passthrough = iota
	PassthroughWhenNoTemplates
	PassthroughNever
)

// IntegrationResponse turns an integration's status into the method's
// response.
type IntegrationResponse struct {
	// Pattern is an RE2 regular expression the integration's status code
	// must match entirely; empty is the default response.
	Pattern string
	// StatusCode is within [100, 599].
	StatusCode int
	// Headers are static response headers. The map must only be read.
	Headers map[string]string
	// Templates maps content types to VTL templates rendering the body. The
	// map must only be read.
	Templates map[string]string
}

// NewDeployment returns a deployment with its routes and integrations sorted
// by ID. It fails unless IDs are unique, every route has a valid method and
// an integration from integrations, no two routes of one method have paths
// of the same shape (they would match the same requests, and Envoy would
// silently pick the first), and every integration is valid. The deployment
// has no models, so no route's validation may name one.
func NewDeployment(id string, routes []*Route, integrations []*Integration) (*Deployment, error) {
	return NewDeploymentWithModels(id, routes, integrations, nil)
}

// NewDeploymentWithModels is NewDeployment for a deployment with the API's
// named models, sorted by name. It also fails unless model names are
// unique and not empty, and every model a route's validation names is one
// of models, for a content type the route does not also give an inline
// model.
func NewDeploymentWithModels(id string, routes []*Route, integrations []*Integration, models []*Model) (*Deployment, error) {
	if id == "" {
		return nil, errors.New("deployment id is empty")
	}
	ints, err := sortIntegrations(integrations)
	if err != nil {
		return nil, fmt.Errorf("deployment %q: %w", id, err)
	}
	rs, err := sortRoutes(routes, ints)
	if err != nil {
		return nil, fmt.Errorf("deployment %q: %w", id, err)
	}
	ms, err := sortModels(models)
	if err == nil {
		err = checkRequestModels(rs, ms)
	}
	if err != nil {
		return nil, fmt.Errorf("deployment %q: %w", id, err)
	}
	return &Deployment{ID: id, Routes: rs, Integrations: ints, Models: ms}, nil
}

// sortModels checks models and sorts them by name; none is nil, not
// an empty slice.
func sortModels(models []*Model) ([]*Model, error) {
	if len(models) == 0 {
		return nil, nil
	}
	sorted := slices.Clone(models)
	seen := make(map[string]bool, len(sorted))
	for _, m := range sorted {
		if m == nil || m.Name == "" {
			return nil, errors.New("nil model or model without a name")
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("model %q appears twice", m.Name)
		}
		seen[m.Name] = true
	}
	slices.SortFunc(sorted, func(a, b *Model) int { return cmp.Compare(a.Name, b.Name) })
	return sorted, nil
}

// checkRequestModels checks that every model a route of rs names is one of
// ms, sorted by name, and that no content type has two models.
func checkRequestModels(rs []*Route, ms []*Model) error {
	for _, r := range rs {
		if r.Validation == nil {
			continue
		}
		for _, ct := range slices.Sorted(maps.Keys(r.Validation.RequestModels)) {
			name := r.Validation.RequestModels[ct]
			if _, dup := r.Validation.Models[ct]; dup {
				return fmt.Errorf("route %q: content type %q has both an inline and a named model", r.ID, ct)
			}
			if _, ok := slices.BinarySearchFunc(ms, name, func(m *Model, n string) int { return cmp.Compare(m.Name, n) }); !ok {
				return fmt.Errorf("route %q: model %q for %q is not in the deployment", r.ID, name, ct)
			}
		}
	}
	return nil
}

func sortIntegrations(integrations []*Integration) ([]*Integration, error) {
	sorted := slices.Clone(integrations)
	seen := make(map[string]bool, len(sorted))
	for _, in := range sorted {
		if in == nil {
			return nil, errors.New("nil integration")
		}
		if seen[in.ID] {
			return nil, fmt.Errorf("integration %q appears twice", in.ID)
		}
		seen[in.ID] = true
		if err := in.validate(); err != nil {
			return nil, fmt.Errorf("integration %q: %w", in.ID, err)
		}
	}
	slices.SortFunc(sorted, func(a, b *Integration) int { return cmp.Compare(a.ID, b.ID) })
	return sorted, nil
}

// sortRoutes checks routes against the sorted integrations ints and caches
// their keys.
func sortRoutes(routes []*Route, ints []*Integration) ([]*Route, error) {
	sorted := slices.Clone(routes)
	seen := make(map[string]bool, len(sorted))
	shapes := make(map[string]string, len(sorted))
	for _, r := range sorted {
		if r == nil {
			return nil, errors.New("nil route")
		}
		if r.ID == "" || seen[r.ID] {
			return nil, fmt.Errorf("route id %q is empty or appears twice", r.ID)
		}
		seen[r.ID] = true
		if !ValidMethod(r.Method) {
			return nil, fmt.Errorf("route %q: invalid method %q", r.ID, r.Method)
		}
		if r.Integration == nil || findByID(ints, r.Integration.ID) != r.Integration {
			return nil, fmt.Errorf("route %q: integration is not part of the deployment", r.ID)
		}
		r.key = r.Method + " " + r.Path.String()
		match := r.Method + " " + r.Path.Shape()
		if other, dup := shapes[match]; dup {
			return nil, fmt.Errorf("routes %q and %q both match %s %s", other, r.ID, r.Method, r.Path.Shape())
		}
		shapes[match] = r.ID
	}
	slices.SortFunc(sorted, func(a, b *Route) int { return cmp.Compare(a.ID, b.ID) })
	return sorted, nil
}

// Route returns the route with the given ID, or nil. Services find a
// request's route by the ID the translator stamped into Envoy's route.
func (d *Deployment) Route(id string) *Route {
	if d == nil {
		return nil
	}
	return findByID(d.Routes, id)
}

// Integration returns the integration with the given ID, or nil.
func (d *Deployment) Integration(id string) *Integration {
	if d == nil {
		return nil
	}
	return findByID(d.Integrations, id)
}

// identified is what findByID needs of an element.
type identified interface{ identity() string }

func (r *Route) identity() string        { return r.ID }
func (in *Integration) identity() string { return in.ID }

// findByID binary-searches a slice sorted by ID.
func findByID[T identified](s []T, id string) T {
	i, ok := slices.BinarySearchFunc(s, id, func(e T, id string) int { return cmp.Compare(e.identity(), id) })
	if !ok {
		var zero T
		return zero
	}
	return s[i]
}

func (in *Integration) validate() error {
	if in.ID == "" {
		return errors.New("id is empty")
	}
	kinds := 0
	for _, set := range []bool{in.HTTPProxy != nil, in.Mock != nil, in.Function != nil, in.HTTP != nil} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		return errors.New("more than one kind is set")
	case in.HTTPProxy != nil:
		return in.HTTPProxy.validate()
	case in.Mock != nil:
		return in.Mock.validate()
	case in.Function != nil:
		return in.Function.validate()
	case in.HTTP != nil:
		return in.HTTP.validate()
	}
	return errors.New("no kind is set")
}

// validate never puts the URI into its error: it may hold credentials.
func (h *HTTPProxy) validate() error {
	scheme, _, ok := strings.Cut(h.URI, "://")
	if !ok || !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
		return errors.New("http proxy uri must be an http or https URL")
	}
	if h.Method != "" && (h.Method == MethodAny || !ValidMethod(h.Method)) {
		return fmt.Errorf("http proxy method %q is not an HTTP method", h.Method)
	}
	if h.Timeout < MinTimeout || h.Timeout > MaxTimeout {
		return fmt.Errorf("http proxy timeout %v is outside [%v, %v]", h.Timeout, MinTimeout, MaxTimeout)
	}
	return nil
}

// validate never puts the URI into its error, as HTTPProxy's.
func (f *Function) validate() error {
	scheme, _, ok := strings.Cut(f.URI, "://")
	if !ok || !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
		return errors.New("function uri must be an http or https URL")
	}
	if !strings.HasPrefix(f.InvokePath, "/") {
		return errors.New("function invoke path must be absolute")
	}
	switch f.PayloadVersion {
	case "", "1.0", "2.0":
	default:
		return fmt.Errorf("function payload format version %q is not 1.0 or 2.0", f.PayloadVersion)
	}
	if f.Timeout < MinTimeout || f.Timeout > MaxTimeout {
		return fmt.Errorf("function timeout %v is outside [%v, %v]", f.Timeout, MinTimeout, MaxTimeout)
	}
	return nil
}

func (h *HTTP) validate() error {
	if err := (&HTTPProxy{URI: h.URI, Method: h.Method, Timeout: h.Timeout}).validate(); err != nil {
		return fmt.Errorf("http integration: %w", err)
	}
	return validateResponses(h.Responses)
}

func (m *Mock) validate() error {
	if m.Templates != nil {
		return m.Templates.validate()
	}
	if m.StatusCode < 100 || m.StatusCode > 599 {
		return fmt.Errorf("mock status code %d is outside [100, 599]", m.StatusCode)
	}
	return nil
}

func (t *MockTemplates) validate() error {
	if len(t.Responses) == 0 {
		return errors.New("mock templates have no integration response")
	}
	return validateResponses(t.Responses)
}

// validateResponses checks integration responses: valid statuses, at most
// one default.
func validateResponses(rs []IntegrationResponse) error {
	defaults := 0
	for i, r := range rs {
		if r.StatusCode < 100 || r.StatusCode > 599 {
			return fmt.Errorf("integration response %d: status code %d is outside [100, 599]", i, r.StatusCode)
		}
		if r.Pattern == "" {
			defaults++
		}
	}
	if defaults > 1 {
		return errors.New("more than one default integration response")
	}
	return nil
}
