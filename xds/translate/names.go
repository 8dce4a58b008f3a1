package translate

import "strconv"

// defaultStage is the stage API Gateway serves without a stage segment in
// the path (HTTP APIs).
const defaultStage = "$default"

// defaultVirtualHostName names the virtual host for requests whose Host
// names no API: path-style requests and unknown hosts.
const defaultVirtualHostName = "default"

// apiDomain is the host that serves one API, as {apiId}.execute-api.{region}
// .amazonaws.com does on AWS.
func apiDomain(apiID, baseDomain string) string { return apiID + "." + baseDomain }

// virtualHostName names the virtual host of one API.
func virtualHostName(apiID string) string { return "api_" + apiID }

// apiRouteConfigName names the route configuration of one API in the
// host-style layout, and the routing scope that selects it.
func apiRouteConfigName(apiID string) string { return "api_" + apiID }

// apiDomains are the Host values of one API's virtual host: its domain
// with and without a port, so that it matches whatever port the gateway
// listens on.
func apiDomains(apiID, baseDomain string) []string {
	d := apiDomain(apiID, baseDomain)
	return []string{d, d + ":*"}
}

// routeName names an Envoy route after what it serves, for stats, access
// logs and config dumps.
func routeName(apiID, stage, routeID string) string { return apiID + "/" + stage + "/" + routeID }

// notFoundRouteName names the catch-all route of an API, or of one of its
// stages when stage is not empty.
func notFoundRouteName(apiID, stage string) string {
	if stage == "" {
		return apiID + "/not_found"
	}
	return apiID + "/" + stage + "/not_found"
}

// stagePrefix is the path prefix of a stage's routes on the API's host.
func stagePrefix(stage string) string {
	if stage == defaultStage {
		return ""
	}
	return "/" + stage
}

// pathStylePrefix is the path prefix of an API's stages on the default host.
func pathStylePrefix(apiID string) string { return "/" + apiID }

// templateVariable names the i-th (from 1) path parameter of a route in
// Envoy's URI templates. API Gateway's parameter names may be longer than
// the 16 characters Envoy accepts or start with '_', so Envoy sees
// positional names instead; no one reads them but the rewrite.
func templateVariable(i int) string { return "p" + strconv.Itoa(i) }
