package authz

import (
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/archway-gateway/archway/envoy"
)

// APIKeyHeader is the request header clients send API keys in, as API
// Gateway's HEADER key source. Envoy gives ext_authz header names in lower
// case.
const APIKeyHeader = "x-api-key"

// input is what a decision is made on: the IDs the translator stamped into
// the route Envoy matched, and the credentials the request carries. It holds
// the API key's value, so it is never logged.
type input struct {
	apiID, stage, routeID, deploymentID string
	// apiKey is the x-api-key header, or "" when absent.
	apiKey string
	// usageIdentifier is the API key an authorizer of the API returned for
	// the request (API Gateway's usageIdentifierKey), used by APIs whose key
	// source is AUTHORIZER. Archway has no authorizers yet, so nothing sets
	// it and such APIs refuse every request to routes that require a key.
	usageIdentifier string
}

// decode reads the input from a CheckRequest as Envoy sends it: the route's
// context_extensions and the request headers, either as the headers map or,
// when Envoy is configured to encode raw headers, as the header_map list.
func decode(req *authv3.CheckRequest) input {
	attrs := req.GetAttributes()
	ext := attrs.GetContextExtensions()
	in := input{
		apiID:        ext[envoy.MetadataAPIID],
		stage:        ext[envoy.MetadataStage],
		routeID:      ext[envoy.MetadataRouteID],
		deploymentID: ext[envoy.MetadataDeploymentID],
	}
	http := attrs.GetRequest().GetHttp()
	if v, ok := http.GetHeaders()[APIKeyHeader]; ok {
		in.apiKey = v
		return in
	}
	for _, h := range http.GetHeaderMap().GetHeaders() {
		if h.GetKey() != APIKeyHeader {
			continue
		}
		if h.GetRawValue() != nil {
			in.apiKey = string(h.GetRawValue())
		} else {
			in.apiKey = h.GetValue()
		}
		break
	}
	return in
}
