package translate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// apiUnit is the translation of one API, the unit Translator caches: its
// virtual host, and either its own route configuration and scope
// (host-style) or its path-style routes for the default virtual host; the
// clusters its routes use and what could not be translated. Every proto of
// an unchanged API is handed on as is, so that the xDS server finds its
// bytes, and so its version, unchanged.
type apiUnit struct {
	vhost      *routev3.VirtualHost // nil when the whole API was left out
	routes     *routev3.RouteConfiguration
	scope      *routev3.ScopedRouteConfiguration
	pathRoutes []*routev3.Route
	clusters   []*clusterv3.Cluster // sorted by name
	maxBody    int                  // longest direct response body
	problems   []Problem
}

// translateAPI translates one API. A stage that fails is left out with a
// Problem; its requests get the API's not-found answer.
func translateAPI(s settings, api *model.API) *apiUnit {
	u := &apiUnit{}
	if !isDNSLabel(api.ID) {
		u.problems = []Problem{{APIID: api.ID, Err: errors.New("API id must be a DNS label: lower-case letters, digits, '-' and '_'")}}
		return u
	}
	var host, path []*routev3.Route
	clusters := make(map[string]*clusterv3.Cluster)
	// With a $default stage, /prod/x is still stage prod's: API Gateway
	// picks the stage from the first segment before any route, so a stage's
	// unmatched requests must not fall through to $default's routes.
	guard := hasDeployment(api.Stage(defaultStage))
	for _, st := range stagesInOrder(api.Stages) {
		sr, err := translateStage(s, api, st)
		if err != nil {
			u.problems = append(u.problems, Problem{APIID: api.ID, Stage: st.Name, Err: err})
		} else {
			host, path = append(host, sr.host...), append(path, sr.path...)
			u.maxBody = max(u.maxBody, sr.maxBody)
			for _, c := range sr.clusters {
				clusters[c.GetName()] = c
			}
		}
		if guard && st.Name != defaultStage && isStageName(st.Name) {
			h, p, err := notFoundRoutes(s, api, st.Name)
			if err != nil {
				u.problems = append(u.problems, Problem{APIID: api.ID, Stage: st.Name, Err: err})
				return u
			}
			host, path = append(host, h), append(path, p...)
		}
	}
	notFound, p, err := notFoundRoutes(s, api, "")
	if err != nil {
		u.problems = append(u.problems, Problem{APIID: api.ID, Err: err})
		return u
	}
	host, path = append(host, notFound), append(path, p...)
	u.vhost = apiVirtualHost(api.ID, s.BaseDomain, host)
	if s.PathStyle {
		u.pathRoutes = path
	} else {
		u.routes, u.scope = apiRouteConfiguration(api.ID, u.vhost, notFound, u.maxBody), apiScope(api.ID)
	}
	u.clusters = sortedClusters(slices.Collect(maps.Values(clusters)))
	return u
}

// stagesInOrder puts $default last: its routes have no stage segment, so
// they would otherwise catch other stages' requests.
func stagesInOrder(stages []*model.Stage) []*model.Stage {
	i := slices.IndexFunc(stages, func(s *model.Stage) bool { return s.Name == defaultStage })
	if i < 0 {
		return stages
	}
	out := slices.Concat(stages[:i], stages[i+1:])
	return append(out, stages[i])
}

// notFoundRoutes returns the routes that answer the requests of stage, or
// of the whole API when stage is empty, that none of its routes match:
// API Gateway's default answer, or, when the API customizes it, the
// ext_proc service's (see notFoundExtProc). host is the route on the API's
// host; path, path-style only, the route under /{apiId}.
func notFoundRoutes(s settings, api *model.API, stage string) (host *routev3.Route, path []*routev3.Route, err error) {
	ids := map[string]string{envoy.MetadataAPIID: api.ID}
	hostMatch, pathPrefix := prefixMatch("/"), pathStylePrefix(api.ID)
	if stage != "" {
		ids[envoy.MetadataStage] = stage
		hostMatch, pathPrefix = segmentPrefixMatch(stagePrefix(stage)), pathPrefix+stagePrefix(stage)
	}
	matches := []*routev3.RouteMatch{hostMatch}
	if s.PathStyle {
		matches = append(matches, segmentPrefixMatch(pathPrefix))
	}
	meta := routeMetadata(ids)
	routes := make([]*routev3.Route, len(matches))
	for i, m := range matches {
		routes[i] = notFoundRoute(notFoundRouteName(api.ID, stage), m, api.Protocol, meta)
		if err := notFoundExtProc(routes[i], api, stage); err != nil {
			return nil, nil, fmt.Errorf("route %s: %w", routes[i].GetName(), err)
		}
	}
	return routes[0], routes[1:], nil
}

// isStageName reports whether name is a stage name API Gateway accepts:
// letters, digits, '-' and '_', at most 128 of them. Any other stage name
// could not be a path segment.
func isStageName(name string) bool {
	return len(name) <= 128 && model.IsVariableName(strings.ReplaceAll(name, "-", "_"))
}

// stageRoutes is the translation of one stage.
type stageRoutes struct {
	host, path []*routev3.Route // on the API's host, and path-style
	clusters   []*clusterv3.Cluster
	maxBody    int
}

// translateStage translates the routes of the deployment a stage serves,
// most specific first, under the stage's prefix on the API's host and, for
// path-style access, under /{apiId} on the default host.
func translateStage(s settings, api *model.API, st *model.Stage) (*stageRoutes, error) {
	if st.Name != defaultStage && !isStageName(st.Name) {
		return nil, errors.New("stage name must be $default or letters, digits, '-' and '_'")
	}
	out := &stageRoutes{}
	d := st.Deployment
	if d == nil {
		return out, nil
	}
	prefixes := []string{stagePrefix(st.Name)}
	if s.PathStyle {
		prefixes = append(prefixes, pathStylePrefix(api.ID)+stagePrefix(st.Name))
	}
	targets := newTargetBuilder(s, api, st)
	head := headShapes(api, d)
	for _, r := range byPrecedence(d.Routes) {
		t, err := targets.build(r)
		if err != nil {
			return nil, fmt.Errorf("route %s (%s %s): %w", r.ID, r.Method, r.Path, err)
		}
		var method *routev3.HeaderMatcher
		if r.Method != model.MethodAny {
			method = methodMatcher(r.Method, r.Method == "GET" && head != nil && !head[r.Path.Shape()])
		}
		for i, prefix := range prefixes {
			routes, err := t.routes(routeName(api.ID, st.Name, r.ID), prefix, r.Path, method)
			if err != nil {
				return nil, fmt.Errorf("route %s (%s %s): %w", r.ID, r.Method, r.Path, err)
			}
			if i == 0 {
				out.host = append(out.host, routes...)
			} else {
				out.path = append(out.path, routes...)
			}
		}
	}
	out.clusters, out.maxBody = targets.clusters(), targets.maxBody
	return out, nil
}

// headShapes returns, for an HTTP API, the path shapes of the deployment's
// HEAD routes, where GET routes must not also serve HEAD; nil for a REST
// API, whose GET routes never serve HEAD.
func headShapes(api *model.API, d *model.Deployment) map[string]bool {
	if api.Protocol != model.ProtocolHTTP {
		return nil
	}
	shapes := make(map[string]bool)
	for _, r := range d.Routes {
		if r.Method == "HEAD" {
			shapes[r.Path.Shape()] = true
		}
	}
	return shapes
}

// routeIDs are the IDs a route is stamped with.
func routeIDs(api *model.API, st *model.Stage, r *model.Route) map[string]string {
	return map[string]string{
		envoy.MetadataAPIID:        api.ID,
		envoy.MetadataStage:        st.Name,
		envoy.MetadataRouteID:      r.ID,
		envoy.MetadataDeploymentID: st.Deployment.ID,
	}
}

func hasDeployment(st *model.Stage) bool { return st != nil && st.Deployment != nil }
