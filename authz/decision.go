package authz

import (
	"crypto/sha256"
	"crypto/subtle"

	"github.com/archway-gateway/archway/internal/model"
)

// verdict is what the key check concludes, before any metering.
type verdict int

const (
	// verdictAllow admits the request unmetered: its route requires no key.
	verdictAllow verdict = iota
	// verdictMeter admits the request if its key's plan has room for it.
	verdictMeter
	// verdictDeny refuses the request with 403 Forbidden.
	verdictDeny
)

// decision is the outcome of decide. For verdictMeter, key, plan and
// planStage are set; route is set whenever the route was found.
type decision struct {
	verdict verdict
	// reason says why a request was denied, for logs. It never holds the
	// key's value.
	reason string
	route  *model.Route
	// stageThrottle is the stage's throttle of a mock route, for all
	// clients: Envoy's rate-limit filter skips direct responses, so ext_authz
	// applies it (see routeThrottle).
	stageThrottle *model.Throttle
	key           *model.APIKey
	plan          *model.UsagePlan
	planStage     *model.PlanStage
}

// Reasons for denial, as logged.
const (
	reasonUnknownRoute = "unknown route"
	reasonMissingKey   = "missing API key"
	reasonUnknownKey   = "unknown API key"
	reasonDisabledKey  = "disabled API key"
	reasonNoPlan       = "API key has no usage plan for the stage"
)

// decide checks in against cfg. It is a pure function of its arguments, so
// a decision depends only on the Config Envoy's request arrived under.
//
// A request whose IDs are not in cfg (the configuration changed while Envoy
// still served the old routes) is denied, since Archway cannot tell that its
// route needs no key; a route that exists and requires no key is allowed.
func decide(cfg *model.Config, in input) decision {
	api := cfg.API(in.apiID)
	stage := api.Stage(in.stage)
	if stage == nil {
		return decision{verdict: verdictDeny, reason: reasonUnknownRoute}
	}
	route := stage.Deployment.Route(in.routeID)
	if route == nil {
		return decision{verdict: verdictDeny, reason: reasonUnknownRoute}
	}
	d := keyDecision(cfg, api, stage, route, in)
	d.route = route
	if route.Integration.Mock != nil {
		d.stageThrottle = stage.RouteThrottle(route)
	}
	return d
}

// keyDecision checks the API key of a request to a route that exists.
func keyDecision(cfg *model.Config, api *model.API, stage *model.Stage, route *model.Route, in input) decision {
	if !route.APIKeyRequired {
		return decision{verdict: verdictAllow}
	}
	value := in.apiKey
	if api.KeySource == model.KeySourceAuthorizer {
		value = in.usageIdentifier
	}
	if value == "" {
		return decision{verdict: verdictDeny, reason: reasonMissingKey}
	}
	key := findKey(cfg.Keys, value)
	switch {
	case key == nil:
		return decision{verdict: verdictDeny, reason: reasonUnknownKey}
	case !key.Enabled:
		return decision{verdict: verdictDeny, reason: reasonDisabledKey, key: key}
	}
	plan, ps := key.PlanFor(model.StageKey(api.ID, stage.Name))
	if plan == nil {
		return decision{verdict: verdictDeny, reason: reasonNoPlan, key: key}
	}
	return decision{verdict: verdictMeter, key: key, plan: plan, planStage: ps}
}

// findKey returns the key whose value is value, or nil. Keys are indexed by
// the SHA-256 of their values, so the lookup never touches a stored value;
// the final comparison of the hashes is in constant time all the same, so
// that no timing difference depends on how much of a stored hash matched.
func findKey(keys *model.Keys, value string) *model.APIKey {
	// Copying the value into a stack buffer spares the allocation of
	// []byte(value) for every key of ordinary length.
	var buf [128]byte
	h := sha256.Sum256(append(buf[:0], value...))
	k := keys.ByHash(h)
	if k == nil || subtle.ConstantTimeCompare(k.Hash[:], h[:]) != 1 {
		return nil
	}
	return k
}
