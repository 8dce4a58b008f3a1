package admin

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Integration limits.
const (
	maxURILen      = 2048
	maxMockHeaders = 50
	maxMockBody    = 64 << 10
	// stageVarPrefix opens a stage variable reference in an integration URI.
	stageVarPrefix = "${stageVariables."
	// stageVarStandIn replaces stage variable references while a URI is
	// parsed: it is a valid host name and path segment, so the URI is
	// checked as it will look once any plausible value is substituted.
	stageVarStandIn = "stagevar"
)

// integrationKind checks the oneof kind shared by Integration and
// IntegrationDefinition: exactly one kind must be set.
func (v *violations) integrationKind(field string, k integrationKinds) {
	switch {
	case k.proxy != nil:
		v.httpProxy(field+".http_proxy", k.proxy)
	case k.mock != nil:
		v.mock(field+".mock", k.mock)
	case k.function != nil:
		v.function(field+".function", k.function)
	case k.http != nil:
		v.httpIntegration(field+".http", k.http)
	default:
		v.add(field+".kind", "one of http_proxy, mock, function or http must be set")
	}
}

// integrationKinds is the oneof kind of an Integration or an
// IntegrationDefinition; at most one is set.
type integrationKinds struct {
	proxy    *adminv1.HttpProxyIntegration
	mock     *adminv1.MockIntegration
	function *adminv1.FunctionIntegration
	http     *adminv1.HttpIntegration
}

// function checks a Lambda-proxy function integration.
func (v *violations) function(field string, fn *adminv1.FunctionIntegration) {
	if err := checkFunctionURI(fn.GetUri()); err != "" {
		v.add(field+".uri", "%s", err)
	}
	if p := fn.GetInvokePath(); p != "" && (!strings.HasPrefix(p, "/") || len(p) > maxURILen ||
		strings.ContainsAny(p, "?#{}") || !httpguts.ValidHeaderFieldValue(p)) {
		v.add(field+".invoke_path", "must be an absolute path without query, fragment or parameters")
	}
	switch fn.GetPayloadFormatVersion() {
	case "", "1.0", "2.0":
	default:
		v.add(field+".payload_format_version", "must be 1.0 or 2.0, got %q", fn.GetPayloadFormatVersion())
	}
	v.timeout(field+".timeout", fn.GetTimeout())
}

// timeout checks an integration's timeout; nil is the default.
func (v *violations) timeout(field string, t *durationpb.Duration) {
	if t == nil {
		return
	}
	if d := t.AsDuration(); t.CheckValid() != nil || d < model.MinTimeout || d > model.MaxTimeout {
		v.add(field, "must be between %v and %v", model.MinTimeout, model.MaxTimeout)
	}
}

// checkFunctionURI checks a function's base URL: http or https, a host,
// no credentials, no query; the path is ignored.
func checkFunctionURI(raw string) string {
	if len(raw) > maxURILen {
		return "must be at most " + strconv.Itoa(maxURILen) + " bytes"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https":
		return "must be an http or https URL with a host"
	case u.User != nil:
		return "must not hold credentials"
	case u.RawQuery != "" || u.Fragment != "":
		return "must not have a query or fragment"
	}
	return ""
}

// httpProxy checks an HTTP proxy integration.
func (v *violations) httpProxy(field string, hp *adminv1.HttpProxyIntegration) {
	if err := checkProxyURI(hp.GetUri()); err != "" {
		v.add(field+".uri", "%s", err)
	}
	if m := hp.GetMethod(); m != "" && (m == model.MethodAny || !model.ValidMethod(m)) {
		v.add(field+".method", "must be empty (the client's method) or one of %s, got %q",
			strings.Join(proxyMethods(), ", "), m)
	}
	v.timeout(field+".timeout", hp.GetTimeout())
}

// proxyMethods returns the methods an integration may send upstream: every
// route method except ANY, which matches requests but is not a method.
func proxyMethods() []string {
	return slices.DeleteFunc(model.Methods(), func(m string) bool { return m == model.MethodAny })
}

// checkProxyURI checks an integration URI and returns what is wrong with it,
// or "" if nothing. The URI is parsed after stage variable references are
// replaced, so "http://${stageVariables.host}/pets/{id}" is accepted while
// a reference that no value could turn into a valid URI is not.
func checkProxyURI(raw string) string {
	if len(raw) > maxURILen {
		return "must be at most " + strconv.Itoa(maxURILen) + " bytes"
	}
	s, problem := substituteStageVars(raw)
	if problem != "" {
		return problem
	}
	u, err := url.Parse(s)
	if err != nil {
		return "not a valid URL: " + strings.TrimPrefix(err.Error(), "parse "+strconv.Quote(s)+": ")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an absolute http or https URL, got " + strconv.Quote(raw)
	case u.Hostname() == "":
		return "must name a host"
	case u.User != nil:
		return "must not hold user information; use an Authorization header instead"
	case strings.Contains(s, "#"):
		return "must not have a fragment: it is never sent to a server"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "port must be 1-65535, got " + p
		}
	}
	return checkParamRefs(s[len(u.Scheme+"://"+u.Host):])
}

// substituteStageVars replaces every ${stageVariables.name} in s with a
// stand-in, and reports a reference that is malformed.
func substituteStageVars(s string) (string, string) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), ""
		}
		if !strings.HasPrefix(s[i:], stageVarPrefix) {
			return "", "only ${stageVariables.name} references may be substituted"
		}
		rest := s[i+len(stageVarPrefix):]
		end := strings.IndexByte(rest, '}')
		if end < 0 || !validVariableName(rest[:end]) {
			return "", "a stage variable reference must be ${stageVariables.name} with a name of [A-Za-z0-9_]{1,64}"
		}
		b.WriteString(s[:i] + stageVarStandIn)
		s = rest[end+1:]
	}
}

// checkParamRefs checks the {name} route parameter references in the path
// and query of a URI: each must be a whole, well-formed reference.
func checkParamRefs(s string) string {
	for s != "" {
		open, shut := strings.IndexByte(s, '{'), strings.IndexByte(s, '}')
		switch {
		case open < 0 && shut < 0:
			return ""
		case open < 0 || shut < open:
			return "unbalanced \"}\""
		}
		if !validParamName(s[open+1 : shut]) {
			return "a route parameter reference must be {name} with a name of [A-Za-z_][A-Za-z0-9_]*, got " +
				strconv.Quote(s[open:shut+1])
		}
		s = s[shut+1:]
	}
	return ""
}

func validParamName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// mock checks a mock integration. Envoy sends the response itself, so the
// headers must be ones it can emit and the body is held in its
// configuration, which is why it is small.
func (v *violations) mock(field string, m *adminv1.MockIntegration) {
	if len(m.GetRequestTemplates()) > 0 || len(m.GetIntegrationResponses()) > 0 {
		v.mockTemplates(field, m)
		return
	}
	if c := m.GetStatusCode(); c < 100 || c > 599 {
		v.add(field+".status_code", "must be 100-599, got %d", c)
	}
	if len(m.GetHeaders()) > maxMockHeaders {
		v.add(field+".headers", "at most %d headers are allowed, got %d", maxMockHeaders, len(m.GetHeaders()))
	}
	for _, k := range slices.Sorted(maps.Keys(m.GetHeaders())) {
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			v.add(mapField(field+".headers", k), "not a valid HTTP header name")
		case !httpguts.ValidHeaderFieldValue(m.GetHeaders()[k]):
			v.add(mapField(field+".headers", k), "not a valid HTTP header value")
		}
	}
	if n := len(m.GetBody()); n > maxMockBody {
		v.add(field+".body", "must be at most %d bytes, got %d", maxMockBody, n)
	}
}

// integrationMutable lists the fields of an Integration that updates may
// change. Naming any kind in a mask replaces the kind as a whole.
func integrationMutable() []string {
	return []string{"name", "description", "tags", "http_proxy", "mock", "function", "http"}
}

// validateIntegration checks the fields of an integration that need no
// other resource.
func validateIntegration(v *violations, field string, i *adminv1.Integration) {
	v.name(field+".name", i.GetName())
	v.description(field+".description", i.GetDescription())
	v.tags(field+".tags", i.GetTags())
	v.integrationKind(field, integrationKinds{i.GetHttpProxy(), i.GetMock(), i.GetFunction(), i.GetHttp()})
}

// checkIntegration checks that no other integration of the API has the
// same name: declarative definitions refer to integrations by name.
func (d *draft) checkIntegration(i *adminv1.Integration) error {
	if o := d.integrationNamed(i.GetName()); o != nil && o.GetId() != i.GetId() {
		return alreadyExists("integration name %q is taken by integration %s in api %s", i.GetName(), o.GetId(), d.apiID())
	}
	return nil
}

// CreateIntegration adds an integration to an API.
func (s *Server) CreateIntegration(ctx context.Context, req *adminv1.CreateIntegrationRequest) (*adminv1.Integration, error) {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	i := proto.CloneOf(req.GetIntegration())
	if i == nil {
		i = &adminv1.Integration{}
	}
	i.Id, i.ApiId, i.Etag = newID(), req.GetApiId(), ""
	validateIntegration(v, "integration", i)
	if !validID(req.GetApiId()) {
		return nil, v.err()
	}
	_, err := s.changeAPI(ctx, req.GetApiId(), v, func(d *draft, _ *violations) error {
		i.CreateTime, i.UpdateTime = d.now, d.now
		if err := d.checkIntegration(i); err != nil {
			return err
		}
		d.putIntegration(i)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return i, nil
}

// GetIntegration returns one integration.
func (s *Server) GetIntegration(ctx context.Context, req *adminv1.GetIntegrationRequest) (*adminv1.Integration, error) {
	return getByID(ctx, s, req, "integration", s.store.GetIntegration)
}

// ListIntegrations returns one page of an API's integrations in id order.
func (s *Server) ListIntegrations(ctx context.Context, req *adminv1.ListIntegrationsRequest) (*adminv1.ListIntegrationsResponse, error) {
	list, next, err := listPage(ctx, s, req, req.GetApiId(), req.GetPageSize(), req.GetPageToken(),
		store.IntegrationsPrefix, s.store.ListIntegrations)
	if err != nil {
		return nil, err
	}
	return &adminv1.ListIntegrationsResponse{Integrations: list, NextPageToken: next}, nil
}

// UpdateIntegration changes an integration.
func (s *Server) UpdateIntegration(ctx context.Context, req *adminv1.UpdateIntegrationRequest) (*adminv1.Integration, error) {
	v := newViolations(req)
	in := req.GetIntegration()
	v.id("integration.api_id", in.GetApiId())
	v.id("integration.id", in.GetId())
	paths := v.updatePaths("update_mask", req.GetUpdateMask(), in.ProtoReflect().Descriptor(), integrationMutable())
	if !validID(in.GetApiId()) || !validID(in.GetId()) {
		return nil, v.err()
	}
	return updateResource(ctx, s, v, resourceUpdate[*adminv1.Integration]{
		apiID: in.GetApiId(), kind: "integration", id: in.GetId(), in: in, paths: paths,
		find: func(d *draft) (*adminv1.Integration, error) { return d.integration(in.GetId()), nil },
		check: func(d *draft, v *violations, i *adminv1.Integration) error {
			validateIntegration(v, "integration", i)
			return d.checkIntegration(i)
		},
		put: func(d *draft, _, i *adminv1.Integration) {
			i.UpdateTime = d.now
			d.putIntegration(i)
		},
	})
}

// DeleteIntegration removes an integration no route refers to.
func (s *Server) DeleteIntegration(ctx context.Context, req *adminv1.DeleteIntegrationRequest) (*emptypb.Empty, error) {
	v := idViolations(req)
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.deleteResource(ctx, req.GetApiId(), v, func(d *draft, _ *violations) error {
		old := d.integration(req.GetId())
		if err := existing(old, req.GetEtag(), "integration", req.GetId(), req.GetApiId()); err != nil {
			return err
		}
		var users []string
		for _, r := range d.Routes {
			if r.GetIntegrationId() == old.GetId() {
				users = append(users, "route "+r.GetId()+" ("+routeName(r.GetMethod(), r.GetPath())+")")
			}
		}
		if len(users) > 0 {
			return inUse("integration "+old.GetId(), users)
		}
		d.deleteIntegration(old)
		return nil
	})
}
