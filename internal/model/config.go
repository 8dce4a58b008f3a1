package model

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Config is everything deployed at one etcd revision. It is immutable once
// published: consumers share one *Config and must never modify it or
// anything it references.
type Config struct {
	// Revision is the etcd revision the Config reflects. Configs are
	// published in increasing revision order, and the xDS snapshot version
	// is derived from it.
	Revision int64
	// APIs are sorted by ID.
	APIs []*API
	// Keys are the API keys and, through them, the usage plans they are
	// associated with. Nil means no keys.
	Keys *Keys

	byID map[string]*API
}

// NewConfig returns the Config of apis at revision rev, sorted by ID and
// indexed for API. It copies the slice, not the APIs, which from then on
// belong to the Config and may also be shared with later Configs.
func NewConfig(rev int64, apis []*API) (*Config, error) {
	sorted := slices.Clone(apis)
	byID := make(map[string]*API, len(sorted))
	for _, a := range sorted {
		if a == nil {
			return nil, errors.New("nil API")
		}
		if _, dup := byID[a.ID]; dup {
			return nil, fmt.Errorf("API %q appears twice", a.ID)
		}
		byID[a.ID] = a
	}
	slices.SortFunc(sorted, func(a, b *API) int { return cmp.Compare(a.ID, b.ID) })
	return &Config{Revision: rev, APIs: sorted, byID: byID}, nil
}

// API returns the API with the given ID, or nil. Services find requests'
// APIs by the IDs the translator stamped into Envoy's route, so this lookup
// is on the request path and costs one map access.
func (c *Config) API(id string) *API {
	if c == nil {
		return nil
	}
	return c.byID[id]
}

// Protocol selects which Amazon API Gateway product an API behaves like.
// The zero value is invalid, so a missing protocol is caught rather than
// silently given one product's semantics.
type Protocol int

// The supported protocols.
const (
	// ProtocolHTTP has HTTP API (API Gateway v2) semantics: unmatched
	// requests get 404 {"message":"Not Found"}.
	ProtocolHTTP Protocol = iota + 1
	// ProtocolREST has REST API (API Gateway v1) semantics: unmatched
	// requests get 403 {"message":"Missing Authentication Token"}.
	ProtocolREST
)

// String returns the protocol's name as users write it.
func (p Protocol) String() string {
	switch p {
	case ProtocolHTTP:
		return "HTTP"
	case ProtocolREST:
		return "REST"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// API is one deployed API: a name, a protocol, and the stages through which
// its deployments are served.
type API struct {
	ID   string
	Name string
	// Protocol decides AWS behaviour that differs between products, such as
	// the response to a request no route matches.
	Protocol Protocol
	// KeySource is where routes that require an API key find it.
	KeySource KeySource
	// Stages are sorted by name.
	Stages []*Stage
	// GatewayResponses are the API's customized gateway responses, keyed
	// by response type ("THROTTLED", "DEFAULT_5XX"); types missing answer
	// with API Gateway's defaults. The map must only be read.
	GatewayResponses map[string]*GatewayResponse
	// BinaryMediaTypes are the media types ("image/png", "image/*",
	// "*/*") whose bodies the API treats as binary.
	BinaryMediaTypes []string
}

// NotFoundRouteID is the route ID by which Envoy names, to Archway's
// services, the requests no route of an API's stage matches. It cannot be
// the ID of a route, which is lowercase letters and digits.
const NotFoundRouteID = "$not_found"

// Customizes reports whether the API customizes any of the gateway
// response types.
func (a *API) Customizes(types ...string) bool {
	for _, t := range types {
		if _, ok := a.GatewayResponses[t]; ok {
			return true
		}
	}
	return false
}

// CustomizesEnvoyReplies reports whether the API customizes a gateway
// response type that stands for one of Envoy's own replies: an
// integration that timed out or failed, a request body over the limit, or
// their DEFAULT_4XX and DEFAULT_5XX fallbacks. Envoy's replies on the
// API's routes then go through the ext_proc service, which renders them.
func (a *API) CustomizesEnvoyReplies() bool {
	return a.Customizes("INTEGRATION_TIMEOUT", "INTEGRATION_FAILURE", "REQUEST_TOO_LARGE", "DEFAULT_4XX", "DEFAULT_5XX")
}

// CustomizesRouteReplies reports whether Envoy's own replies on route r
// of stage s go through the ext_proc service for the API's gateway
// responses: those of CustomizesEnvoyReplies, and the 429 of the route's
// throttle when the API customizes THROTTLED.
func (a *API) CustomizesRouteReplies(s *Stage, r *Route) bool {
	return a.CustomizesEnvoyReplies() || a.Customizes("THROTTLED") && s.RouteThrottle(r) != nil
}

// NotFoundType is the gateway response type of the API's answer to a
// request no route matches: MISSING_AUTHENTICATION_TOKEN for REST APIs,
// which do not reveal whether a resource exists, RESOURCE_NOT_FOUND for
// HTTP APIs.
func (a *API) NotFoundType() string {
	if a.Protocol == ProtocolREST {
		return "MISSING_AUTHENTICATION_TOKEN"
	}
	return "RESOURCE_NOT_FOUND"
}

// CustomizesNotFound reports whether the API customizes its answer to a
// request no route matches (NotFoundType, or DEFAULT_4XX).
func (a *API) CustomizesNotFound() bool {
	return a.Customizes(a.NotFoundType(), "DEFAULT_4XX")
}

// GatewayResponse is an API's customization of one gateway response type:
// the answer the gateway gives itself when it refuses or fails a request.
type GatewayResponse struct {
	// StatusCode replaces the type's default status; 0 keeps it.
	StatusCode int
	// Headers are AWS's responseParameters: gatewayresponse.header.NAME to
	// a mapping expression.
	Headers map[string]string
	// Templates are body templates by content type.
	Templates map[string]string
}

// Stage is a named entry point of an API, served under /{stage}/ (or
// without a prefix for "$default"). Its variables are substituted into
// integration URIs at request time.
type Stage struct {
	Name string
	// Variables are the ${stageVariables.name} values. The map is shared and
	// must only be read.
	Variables map[string]string
	// AutoDeploy reports whether every change to the API is deployed to
	// this stage at once (HTTP APIs).
	AutoDeploy bool
	// Deployment is what the stage serves; nil serves nothing. Stages that
	// serve the same deployment share one *Deployment.
	Deployment *Deployment
	// Throttle is the default throttle of each route of the stage, for all
	// clients together; nil means none.
	Throttle *Throttle
	// RouteThrottles replace Throttle for single routes, keyed by route key
	// ("GET /pets"). The map must only be read.
	RouteThrottles map[string]*Throttle
}

// RouteThrottle returns the throttle of a route of the stage for all
// clients: its own, else the stage default, else nil.
func (s *Stage) RouteThrottle(r *Route) *Throttle {
	if t, ok := s.RouteThrottles[r.Key()]; ok {
		return t
	}
	return s.Throttle
}

// NewAPI returns an API with its stages sorted by name. It fails if the
// protocol is unknown or a stage name is empty or repeated, since requests
// are matched to stages by name.
func NewAPI(id, name string, protocol Protocol, stages []*Stage) (*API, error) {
	if id == "" {
		return nil, errors.New("API id is empty")
	}
	if protocol != ProtocolHTTP && protocol != ProtocolREST {
		return nil, fmt.Errorf("API %q: unknown protocol %v", id, protocol)
	}
	sorted := slices.Clone(stages)
	seen := make(map[string]bool, len(sorted))
	for _, s := range sorted {
		switch {
		case s == nil:
			return nil, fmt.Errorf("API %q: nil stage", id)
		case s.Name == "":
			return nil, fmt.Errorf("API %q: stage name is empty", id)
		case seen[s.Name]:
			return nil, fmt.Errorf("API %q: stage %q appears twice", id, s.Name)
		}
		seen[s.Name] = true
	}
	slices.SortFunc(sorted, func(a, b *Stage) int { return cmp.Compare(a.Name, b.Name) })
	return &API{ID: id, Name: name, Protocol: protocol, Stages: sorted}, nil
}

// Stage returns the stage with the given name, or nil.
func (a *API) Stage(name string) *Stage {
	if a == nil {
		return nil
	}
	i, ok := slices.BinarySearchFunc(a.Stages, name, func(s *Stage, n string) int { return cmp.Compare(s.Name, n) })
	if !ok {
		return nil
	}
	return a.Stages[i]
}
