package translate

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// maxTemplateVariables is how many variables Envoy accepts in one URI
// template. Only the parameters an integration URI uses are captured, so
// the limit binds only URIs that use more than five.
const maxTemplateVariables = 5

// routeTarget is an Envoy route without its match: what the route does and
// the IDs it carries. A stage's route is mounted under more than one path
// prefix (host-style and path-style), and the mounts share one target.
type routeTarget struct {
	// captured maps the route's path parameters that the integration URI
	// uses to the Envoy template variables that capture them.
	captured      map[string]string
	proxy         *routev3.RouteAction          // for HTTP proxies
	direct        *routev3.DirectResponseAction // for mocks
	addHeaders    []*corev3.HeaderValueOption
	removeHeaders []string
	metadata      *corev3.Metadata
	perFilter     map[string]*anypb.Any
	// bodyLimit, if not zero, is the route's request_body_buffer_limit:
	// how much of a request body Envoy buffers for a filter that needs it
	// whole, instead of the listener's per-connection limit.
	bodyLimit uint64
}

// setPerFilter configures, and so enables, the HTTP filter name on the
// target's routes.
func (t *routeTarget) setPerFilter(name string, config *anypb.Any) {
	if t.perFilter == nil {
		t.perFilter = make(map[string]*anypb.Any)
	}
	t.perFilter[name] = config
}

// enableExtProc enables the ext_proc filter on the target's routes with
// processing mode pm, Envoy sending ids as each stream's metadata (see
// extProcPerRoute).
func (t *routeTarget) enableExtProc(pm *extprocv3.ProcessingMode, ids map[string]string) error {
	a, err := extProcPerRoute(pm, ids)
	if err != nil {
		return err
	}
	t.setPerFilter(envoy.FilterExtProc, a)
	return nil
}

// routes mounts the target under prefix: one route per path match, each
// also matching method unless it is nil.
func (t *routeTarget) routes(name, prefix string, p model.PathTemplate, method *routev3.HeaderMatcher) ([]*routev3.Route, error) {
	matches, err := pathMatches(prefix, p, t.captured)
	if err != nil {
		return nil, err
	}
	out := make([]*routev3.Route, len(matches))
	for i, m := range matches {
		if method != nil {
			m.Headers = append(m.Headers, method)
		}
		r := &routev3.Route{
			Name:                    name,
			Match:                   m,
			Metadata:                t.metadata,
			TypedPerFilterConfig:    t.perFilter,
			ResponseHeadersToAdd:    t.addHeaders,
			ResponseHeadersToRemove: t.removeHeaders,
		}
		if t.bodyLimit > 0 {
			r.RequestBodyBufferLimit = wrapperspb.UInt64(t.bodyLimit)
		}
		if t.proxy != nil {
			r.Action = &routev3.Route_Route{Route: t.proxy}
		} else {
			r.Action = &routev3.Route_DirectResponse{DirectResponse: t.direct}
		}
		if err := r.ValidateAll(); err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// pathMatches returns the matches of template p under prefix. A path of
// literals is matched exactly; the root also with a trailing slash after
// a prefix (/prod and /prod/). Paths with parameters become Envoy URI
// templates in which the parameters the rewrite needs are named variables
// and the others anonymous globs: {param} is one segment (* or {pN}),
// {greedy+} the rest of the path (** or {pN=**}), which must not be empty.
func pathMatches(prefix string, p model.PathTemplate, captured map[string]string) ([]*routev3.RouteMatch, error) {
	switch {
	case len(p.Segments) == 0 && prefix == "":
		return []*routev3.RouteMatch{exactMatch("/")}, nil
	case len(p.Segments) == 0:
		return []*routev3.RouteMatch{exactMatch(prefix), exactMatch(prefix + "/")}, nil
	case !hasParams(p):
		return []*routev3.RouteMatch{exactMatch(prefix + p.String())}, nil
	}
	var b strings.Builder
	b.WriteString(prefix)
	for _, seg := range p.Segments {
		b.WriteByte('/')
		v, named := captured[seg.Value]
		switch {
		case seg.Kind == model.SegmentLiteral && !isTemplateLiteral(seg.Value):
			return nil, fmt.Errorf("segment %q: Envoy cannot match a literal starting with '*' next to parameters", seg.Value)
		case seg.Kind == model.SegmentLiteral:
			b.WriteString(seg.Value)
		case seg.Kind == model.SegmentParam && named:
			b.WriteString("{" + v + "}")
		case seg.Kind == model.SegmentParam:
			b.WriteString("*")
		case named:
			b.WriteString("{" + v + "=**}")
		default:
			b.WriteString("**")
		}
	}
	m, err := templateMatch(b.String())
	if err != nil {
		return nil, err
	}
	if p.Greedy() {
		m.Headers = []*routev3.HeaderMatcher{notEmptyRest(prefix, p)}
	}
	return []*routev3.RouteMatch{m}, nil
}

// notEmptyRest keeps a greedy template from matching an empty rest. Envoy's
// ** matches zero or more segments, so /prod/files/** also matches
// /prod/files/, which API Gateway's /files/{proxy+} does not: a greedy
// parameter is one or more segments. The matcher rejects the path that
// ends right after the segments before the greedy one, with or without a
// slash and a query. It is only evaluated once the template matched.
func notEmptyRest(prefix string, p model.PathTemplate) *routev3.HeaderMatcher {
	var b strings.Builder
	b.WriteString("^" + regexp.QuoteMeta(prefix))
	for _, seg := range p.Segments[:len(p.Segments)-1] {
		b.WriteByte('/')
		if seg.Kind == model.SegmentLiteral {
			b.WriteString(regexp.QuoteMeta(seg.Value))
		} else {
			b.WriteString("[^/?]+")
		}
	}
	b.WriteString(`/?(\?.*)?$`)
	return &routev3.HeaderMatcher{
		Name: ":path",
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: b.String()}},
		}},
		InvertMatch: true,
	}
}

func hasParams(p model.PathTemplate) bool {
	return slices.ContainsFunc(p.Segments, func(s model.Segment) bool { return s.Kind != model.SegmentLiteral })
}

// targetBuilder builds the targets of one stage's routes and the clusters
// they send to, one per backend however many routes use it.
type targetBuilder struct {
	s         settings
	api       *model.API
	stage     *model.Stage
	byCluster map[string]*clusterv3.Cluster
	maxBody   int
}

func newTargetBuilder(s settings, api *model.API, st *model.Stage) *targetBuilder {
	return &targetBuilder{s: s, api: api, stage: st, byCluster: make(map[string]*clusterv3.Cluster)}
}

// clusters returns the clusters the built targets send to.
func (b *targetBuilder) clusters() []*clusterv3.Cluster {
	return sortedClusters(slices.Collect(maps.Values(b.byCluster)))
}

// build returns the target of route r.
func (b *targetBuilder) build(r *model.Route) (*routeTarget, error) {
	ids := routeIDs(b.api, b.stage, r)
	t := &routeTarget{metadata: routeMetadata(ids)}
	if needsAuthz(b.stage, r) {
		authz, err := extAuthzPerRoute(ids)
		if err != nil {
			return nil, err
		}
		t.setPerFilter(envoy.FilterExtAuthz, authz)
	}
	var err error
	switch in := r.Integration; {
	case in.HTTPProxy != nil:
		if err = b.proxy(t, r, in.HTTPProxy); err == nil {
			err = b.envoyRouteProcessing(t, r, ids)
		}
	case in.Function != nil:
		err = b.function(t, r, ids, in.Function)
	case in.HTTP != nil:
		err = b.httpIntegration(t, r, ids, in.HTTP)
	case isTemplateMock(r):
		err = b.templateMock(t, ids)
	case in.Mock != nil:
		if err = b.mock(t, in.Mock); err == nil {
			err = b.envoyRouteProcessing(t, r, ids)
		}
	default:
		err = errors.New("integration has no kind Envoy can serve")
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// proxy makes t forward to an HTTP(S) backend: to its cluster, with the
// Host header the backend expects, the path of the integration URI (route
// parameters substituted; Envoy keeps the client's query string), and the
// integration's timeout for the whole exchange, after which the client
// gets 504; and the stage's throttle of the route, if any (routeRateLimits).
//
// HTTPProxy.Method is not applied here: Envoy cannot rewrite :method in
// configuration, so the method override belongs to ext_proc (see
// envoyRouteProcessing).
func (b *targetBuilder) proxy(t *routeTarget, r *model.Route, h *model.HTTPProxy) error {
	u, err := resolveUpstream(h.URI, b.stage.Variables)
	if err != nil {
		return err
	}
	if t.captured, err = captureParams(r.Path, u.path); err != nil {
		return err
	}
	a := &routev3.RouteAction{
		ClusterSpecifier:     &routev3.RouteAction_Cluster{Cluster: u.clusterName()},
		HostRewriteSpecifier: &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: u.hostHeader()},
		Timeout:              durationpb.New(h.Timeout),
		RateLimits:           routeRateLimits(b.api, b.stage, r),
	}
	rewrite := renderPath(u.path, t.captured)
	if hasParams(r.Path) {
		if a.PathRewritePolicy, err = templateRewrite(rewrite); err != nil {
			return err
		}
	} else {
		a.PrefixRewrite = rewrite // an exact path match rewrites the whole path
	}
	if err := b.addCluster(u); err != nil {
		return err
	}
	t.proxy = a
	return nil
}

// addCluster adds the cluster of backend u, unless a route built earlier
// already did: every route to one scheme, host and port shares it, be it
// an HTTP proxy's or a function's.
func (b *targetBuilder) addCluster(u upstream) error {
	if _, ok := b.byCluster[u.clusterName()]; ok {
		return nil
	}
	c, err := upstreamCluster(u, b.s.CAFile)
	if err != nil {
		return err
	}
	b.byCluster[c.GetName()] = c
	return nil
}

// captureParams names, for the rewrite, the route parameters the upstream
// path uses.
func captureParams(p model.PathTemplate, path []pathPart) (map[string]string, error) {
	params := p.Params()
	captured := make(map[string]string)
	for _, part := range path {
		if !part.param {
			continue
		}
		i := slices.Index(params, part.text)
		if i < 0 {
			return nil, fmt.Errorf("integration URI uses {%s}, which is not a parameter of the route's path", part.text)
		}
		captured[part.text] = templateVariable(i + 1)
	}
	if len(captured) > maxTemplateVariables {
		return nil, fmt.Errorf("integration URI uses %d path parameters; Envoy substitutes at most %d", len(captured), maxTemplateVariables)
	}
	return captured, nil
}

// renderPath writes an upstream path with each parameter replaced by its
// template variable.
func renderPath(path []pathPart, captured map[string]string) string {
	var b strings.Builder
	for _, part := range path {
		if part.param {
			b.WriteString("{" + captured[part.text] + "}")
		} else {
			b.WriteString(part.text)
		}
	}
	return b.String()
}

// mock makes t answer from Envoy itself, as API Gateway's MOCK integration
// in its simple form does (the template form is templateMock's): the
// mock's status, headers and body. The body is JSON unless the
// mock says otherwise (API Gateway's default content type). For 201 and
// 3xx, Envoy would add a Location header pointing at the request URL;
// API Gateway sends only what the mock sets.
//
// Stage throttles do not reach mocks: Envoy's rate-limit filter never
// calls the service for a direct response (see routeRateLimits).
func (b *targetBuilder) mock(t *routeTarget, m *model.Mock) error {
	t.direct = &routev3.DirectResponseAction{Status: uint32(m.StatusCode)}
	if m.Body != "" {
		t.direct.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: m.Body}}
		if !utf8.ValidString(m.Body) {
			t.direct.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte(m.Body)}}
		}
		b.maxBody = max(b.maxBody, len(m.Body))
	}
	headers, err := mockHeaders(m.Headers)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(headers, func(h *corev3.HeaderValueOption) bool { return h.GetHeader().GetKey() == "content-type" }) {
		headers = append([]*corev3.HeaderValueOption{setHeader("content-type", "application/json")}, headers...)
	}
	locating := m.StatusCode == 201 || m.StatusCode >= 300 && m.StatusCode < 400
	if locating && !slices.ContainsFunc(headers, func(h *corev3.HeaderValueOption) bool { return h.GetHeader().GetKey() == "location" }) {
		t.removeHeaders = []string{"location"}
	}
	t.addHeaders = headers
	return nil
}

// mockHeaders returns a mock's headers sorted by name, in the lower case
// HTTP/2 requires.
func mockHeaders(h map[string]string) ([]*corev3.HeaderValueOption, error) {
	names := make([]string, 0, len(h))
	values := make(map[string]string, len(h))
	for name, v := range h {
		lower := strings.ToLower(name)
		if _, dup := values[lower]; dup {
			return nil, fmt.Errorf("mock header %q appears twice", lower)
		}
		if !isToken(lower) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("mock header %q is not a valid HTTP header", name)
		}
		names, values[lower] = append(names, lower), v
	}
	slices.Sort(names)
	out := make([]*corev3.HeaderValueOption, len(names))
	for i, name := range names {
		out[i] = setHeader(name, values[name])
	}
	return out, nil
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2),
// the syntax of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && strings.IndexByte("!#$%&'*+-.^_`|~", s[i]) < 0 {
			return false
		}
	}
	return true
}
