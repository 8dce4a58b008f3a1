// Package translate turns a *model.Config into the Envoy resources that serve
// it: one HTTP listener, one route configuration and a cluster per backend.
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
// A stage that cannot be translated (an unknown stage variable, a backend URI
// Envoy cannot express) is left out and reported as a Problem; it answers as
// if it had no routes, and the rest of the gateway is unaffected.
//
// Translator caches the translation of each *model.API by pointer: the
// watcher hands on unchanged APIs as the same pointers, so a change to one API
// costs the translation of that API plus the assembly of the snapshot.
package translate
