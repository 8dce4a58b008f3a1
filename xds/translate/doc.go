// Package translate turns a *model.Config into the Envoy resources that serve
// it: one HTTP listener, a route configuration and a routing scope per API,
// and a cluster per backend.
//
// Translation is pure: the same Config and Options always give the same
// resources, byte for byte, and nothing is read from the environment. Requests
// reach an API either on its own host, {apiId}.{baseDomain}/{stage}/..., as on
// Amazon API Gateway, or (Options.PathStyle) on any host as
// /{apiId}/{stage}/...; the "$default" stage is served without a stage
// segment. Within a stage, routes are ordered the way API Gateway picks them
// (see precedence.go), and a request no route matches gets the API's own
// not-found answer.
//
// Each API has a route configuration of its own, which the listener picks
// by scoped RDS from the first label of the Host, so that a change to one
// API changes one resource and delta xDS sends only that one (see
// scoped.go). Path-style access cannot be scoped by Host: with
// Options.PathStyle every API shares one route configuration instead,
// which is re-sent whole on every change.
//
// The listener's HTTP filters (filters.go) call Archway's services only where
// a route asks for them: routes that require an API key enable the otherwise
// disabled ext_authz filter (extauthz.go), and proxied routes that their
// stage throttles carry the rate-limit descriptor of the route (ratelimit.go).
//
// A stage that cannot be translated (an unknown stage variable, a backend URI
// Envoy cannot express) is left out and reported as a Problem; it answers as
// if it had no routes, and the rest of the gateway is unaffected.
//
// Translator caches the translation of each *model.API by pointer: the
// watcher hands on unchanged APIs as the same pointers, so a change to one API
// costs the translation of that API plus the assembly of the snapshot.
package translate
