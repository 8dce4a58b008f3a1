package translate

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	uritemplatematchv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/match/uri_template/v3"
	uritemplaterewritev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/path/rewrite/uri_template/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// defaultMaxDirectResponseBody is Envoy's limit on a direct response body
// unless the route configuration raises it.
const defaultMaxDirectResponseBody = 4096

// routeConfiguration returns a route configuration of the given virtual
// hosts, allowing direct response bodies of up to maxBody bytes.
func routeConfiguration(name string, vhosts []*routev3.VirtualHost, maxBody int) *routev3.RouteConfiguration {
	rc := &routev3.RouteConfiguration{Name: name, VirtualHosts: vhosts}
	if maxBody > defaultMaxDirectResponseBody {
		rc.MaxDirectResponseBodySizeBytes = wrapperspb.UInt32(uint32(maxBody))
	}
	return rc
}

// apiVirtualHost serves one API on its own host, on any port.
func apiVirtualHost(apiID, baseDomain string, routes []*routev3.Route) *routev3.VirtualHost {
	return &routev3.VirtualHost{
		Name:    virtualHostName(apiID),
		Domains: apiDomains(apiID, baseDomain),
		Routes:  routes,
	}
}

// defaultVirtualHost serves requests whose host names no API: path-style
// routes (/{apiId}/{stage}/...), then 404 for everything else. It appends
// to pathRoutes, which the caller must own.
func defaultVirtualHost(pathRoutes []*routev3.Route) *routev3.VirtualHost {
	return &routev3.VirtualHost{
		Name:    defaultVirtualHostName,
		Domains: []string{"*"},
		Routes:  append(pathRoutes, notFoundRoute("not_found", prefixMatch("/"), model.ProtocolHTTP, nil)),
	}
}

// notFoundRoute answers every request that matches m the way API Gateway
// answers a request no route matches: 404 {"message":"Not Found"} for HTTP
// APIs, 403 {"message":"Missing Authentication Token"} for REST APIs, which
// do not reveal whether a resource exists.
func notFoundRoute(name string, m *routev3.RouteMatch, p model.Protocol, meta *corev3.Metadata) *routev3.Route {
	status, body := uint32(404), `{"message":"Not Found"}`
	headers := []*corev3.HeaderValueOption{setHeader("content-type", "application/json")}
	if p == model.ProtocolREST {
		status, body = 403, `{"message":"Missing Authentication Token"}`
		headers = append(headers, setHeader("x-amzn-errortype", "MissingAuthenticationTokenException"))
	}
	return &routev3.Route{
		Name:  name,
		Match: m,
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
			Status: status,
			Body:   &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: body}},
		}},
		ResponseHeadersToAdd: headers,
		Metadata:             meta,
	}
}

// setHeader sets a header, replacing any value Envoy or the backend set.
func setHeader(name, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: name, Value: value},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}

// prefixMatch matches every path under prefix.
func prefixMatch(prefix string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}}
}

// segmentPrefixMatch matches prefix itself and every path below it, but not
// paths that merely start with the same text (/prod, /prod/x, not /products).
func segmentPrefixMatch(prefix string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: prefix}}
}

// exactMatch matches one path; the query string is ignored.
func exactMatch(path string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: path}}
}

// templateMatch matches an Envoy URI template, such as /prod/pets/{p1}.
func templateMatch(template string) (*routev3.RouteMatch, error) {
	a, err := toAny(&uritemplatematchv3.UriTemplateMatchConfig{PathTemplate: template})
	if err != nil {
		return nil, err
	}
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathMatchPolicy{PathMatchPolicy: &corev3.TypedExtensionConfig{
		Name:        envoy.PathMatchURITemplate,
		TypedConfig: a,
	}}}, nil
}

// templateRewrite rewrites the path to an Envoy URI template whose
// variables the route's match captured.
func templateRewrite(template string) (*corev3.TypedExtensionConfig, error) {
	a, err := toAny(&uritemplaterewritev3.UriTemplateRewriteConfig{PathTemplateRewrite: template})
	if err != nil {
		return nil, err
	}
	return &corev3.TypedExtensionConfig{Name: envoy.PathRewriteURITemplate, TypedConfig: a}, nil
}

// methodMatcher matches the request method of a route. GET routes of HTTP
// APIs also serve HEAD unless a HEAD route of the same path exists, as
// every HTTP server that serves GET is expected to (RFC 9110, section
// 9.3.2). ANY routes match every method and need no matcher.
func methodMatcher(method string, alsoHead bool) *routev3.HeaderMatcher {
	sm := &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: method}}
	if alsoHead {
		sm = &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{
			SafeRegex: &matcherv3.RegexMatcher{Regex: method + "|HEAD"},
		}}
	}
	return &routev3.HeaderMatcher{
		Name:                 ":method",
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm},
	}
}

// routeMetadata stamps a route with the IDs of what it serves; empty IDs
// are left out.
func routeMetadata(ids map[string]string) *corev3.Metadata {
	fields := make(map[string]*structpb.Value, len(ids))
	for k, v := range ids {
		if v != "" {
			fields[k] = structpb.NewStringValue(v)
		}
	}
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
		envoy.MetadataNamespace: {Fields: fields},
	}}
}

// isTemplateLiteral reports whether a literal path segment can appear in
// an Envoy URI template: one starting with '*' would read as an operator.
func isTemplateLiteral(s string) bool { return !strings.HasPrefix(s, "*") }
