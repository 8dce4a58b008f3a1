package integration

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/archway-gateway/archway/authz"
	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/extproc/vtl"
	"github.com/archway-gateway/archway/internal/model"
)

// Options configure the processors NewLookup returns.
type Options struct {
	// Logger receives a line when a configuration holds a template that
	// does not compile, and when a function fails or answers with a
	// result API Gateway would refuse; nil discards them. Other request
	// failures are logged by the extproc Server.
	Logger *slog.Logger
	// Now is the clock of $context.requestTime; nil means time.Now.
	Now func() time.Time
	// Limits bound every template rendering; zero fields take vtl's
	// defaults.
	Limits vtl.Limits
	// XFFTrustedHops is the HTTP connection manager's xff_num_trusted_hops:
	// how many addresses at the end of x-forwarded-for were appended by
	// proxies in front of Envoy, and so which one is the client
	// ($context.identity.sourceIp).
	XFFTrustedHops int
	// APIKeyIDHeader is the request header in which ext_authz names the
	// API key that admitted the request (authz.Options.KeyIDHeader), which
	// a function's payload 1.0 event carries as
	// requestContext.identity.apiKeyId and mapping templates as
	// $context.identity.apiKeyId; empty means authz.DefaultKeyIDHeader.
	APIKeyIDHeader string
	// GatewayResponses holds the APIs' compiled gateway responses, with
	// which processors answer the requests they refuse or fail; nil makes
	// the lookup its own. Share one with the ext_authz service to compile
	// them once.
	GatewayResponses *gatewayresponse.Sets
}

// NewLookup returns the function the ext_proc Server calls once per stream
// to find the route's processor in the current configuration (cfg is
// usually the watcher's Current). It returns nil for a route it does not
// know, or whose integration needs no processor and which validates
// nothing. It is safe for concurrent use.
func NewLookup(cfg func() *model.Config, o Options) func(extproc.RouteMetadata) extproc.Processor {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.APIKeyIDHeader == "" {
		o.APIKeyIDHeader = authz.DefaultKeyIDHeader
	}
	if o.GatewayResponses == nil {
		o.GatewayResponses = gatewayresponse.NewSets(o.Logger)
	}
	l := &lookup{cfg: cfg, opts: o, status: newRelaxedStatus()}
	return l.processor
}

// lookup finds routes' processors and keeps the compiled integrations of
// the latest configuration.
type lookup struct {
	cfg    func() *model.Config
	opts   Options
	status relaxedStatus
	// mu serializes rebuilds; readers only load gen.
	mu  sync.Mutex
	gen atomic.Pointer[generation]
}

// generation is what was compiled for one configuration.
type generation struct {
	cfg   *model.Config
	mocks map[*model.Integration]*compiledMock
	https map[*model.Integration]*compiledHTTP
	// validations are keyed by the route's validator, which the watcher
	// shares between Configs with the route.
	validations map[*model.Validation]*compiledValidation
	// models are the compiled named models of the deployments whose
	// routes name one.
	models map[*model.Deployment]*deploymentModels
	// processors are the processors of cfg's routes, by the IDs Envoy
	// sends; a route that needs none is absent.
	processors map[routeKey]extproc.Processor
}

// routeKey is a route of one stage of one API.
type routeKey struct{ api, stage, route string }

// processor returns the processor of the route md names. The processors
// are made when the configuration changes and shared by every stream of
// the route, so a stream costs one map lookup.
func (l *lookup) processor(md extproc.RouteMetadata) extproc.Processor {
	return l.generation(l.cfg()).processors[routeKey{md.APIID, md.Stage, md.RouteID}]
}

// routeProcessor returns the processor of rr, or nil when it validates
// nothing and Envoy carries out its integration alone. g holds the
// compiled integrations and validators of rr's deployment.
func (l *lookup) routeProcessor(g *generation, rr routeRequest) extproc.Processor {
	next := l.integrationProcessor(g, rr)
	if v := g.validations[rr.route.Validation]; v != nil {
		return &validatingProcessor{l: l, v: v, rr: rr, next: next}
	}
	return next
}

// integrationProcessor returns the processor of rr's integration, or nil
// when Envoy carries it out alone (an HTTP proxy, a simple mock).
func (l *lookup) integrationProcessor(g *generation, rr routeRequest) extproc.Processor {
	switch in := rr.route.Integration; {
	case in.Function != nil:
		return &functionProcessor{l: l, fn: in.Function, version: in.Function.Version(rr.api.Protocol), rr: rr}
	case in.Mock != nil && in.Mock.Templates != nil:
		if m := g.mocks[in]; m != nil {
			return &mockProcessor{l: l, m: m, rr: rr}
		}
	case in.HTTP != nil:
		if h := g.https[in]; h != nil {
			return &httpProcessor{l: l, h: h, rr: rr}
		}
	case in.HTTPProxy != nil:
		replies := rr.api.CustomizesRouteReplies(rr.stage, rr.route)
		if in.HTTPProxy.Method != "" || replies {
			return &proxyProcessor{l: l, rr: rr, method: in.HTTPProxy.Method, replies: replies}
		}
	}
	return nil
}

// generation returns the compiled integrations of cfg, compiling them if
// cfg is not the configuration last compiled.
func (l *lookup) generation(cfg *model.Config) *generation {
	if g := l.gen.Load(); g != nil && g.cfg == cfg {
		return g
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	prev := l.gen.Load()
	if prev != nil && prev.cfg == cfg {
		return prev
	}
	g := l.compile(cfg, prev)
	l.gen.Store(g)
	return g
}

// compile compiles every template-form mock and non-proxy HTTP
// integration of cfg, and every route's active request validator, reusing
// what prev compiled for the integrations and validators cfg still shares
// with it, and makes the processor of every route that needs one.
func (l *lookup) compile(cfg *model.Config, prev *generation) *generation {
	g := &generation{
		cfg: cfg, mocks: map[*model.Integration]*compiledMock{}, https: map[*model.Integration]*compiledHTTP{},
		validations: map[*model.Validation]*compiledValidation{}, processors: map[routeKey]extproc.Processor{},
		models: map[*model.Deployment]*deploymentModels{},
	}
	if cfg == nil {
		return g
	}
	if prev == nil {
		prev = &generation{}
	}
	for _, api := range cfg.APIs {
		responses := l.opts.GatewayResponses.For(cfg, api)
		if api.CustomizesNotFound() {
			// Requests of no stage, then of each stage, that no route matches.
			g.processors[routeKey{api.ID, "", model.NotFoundRouteID}] = l.newNotFoundProcessor(api, &model.Stage{}, responses)
			for _, st := range api.Stages {
				g.processors[routeKey{api.ID, st.Name, model.NotFoundRouteID}] = l.newNotFoundProcessor(api, st, responses)
			}
		}
		for _, st := range api.Stages {
			if st.Deployment == nil {
				continue
			}
			l.compileValidations(g, prev, api, st.Deployment)
			for _, in := range st.Deployment.Integrations {
				switch {
				case in.Mock != nil && in.Mock.Templates != nil && g.mocks[in] == nil:
					g.mocks[in] = prev.mocks[in]
					if g.mocks[in] == nil {
						g.mocks[in] = compileMock(in.ID, in.Mock.Templates)
						l.logBroken(api, in, &g.mocks[in].compiledTemplates)
					}
				case in.HTTP != nil && g.https[in] == nil:
					g.https[in] = prev.https[in]
					if g.https[in] == nil {
						g.https[in] = compileHTTP(in.ID, in.HTTP)
						l.logBroken(api, in, &g.https[in].compiledTemplates)
					}
				}
			}
			for _, r := range st.Deployment.Routes {
				if p := l.routeProcessor(g, newRouteRequest(api, st, r, responses)); p != nil {
					g.processors[routeKey{api.ID, st.Name, r.ID}] = p
				}
			}
		}
	}
	return g
}

// compileValidations compiles the active request validators of d's
// routes into g, reusing prev's. The watcher gives each deployment
// validators of its own, so a validator that names models is compiled
// against its deployment's.
func (l *lookup) compileValidations(g, prev *generation, api *model.API, d *model.Deployment) {
	if dm := prev.models[d]; dm != nil {
		g.models[d] = dm // kept, compiled once, while d is served
	}
	for _, r := range d.Routes {
		v := r.Validation
		if !v.Active() || g.validations[v] != nil {
			continue
		}
		if g.validations[v] = prev.validations[v]; g.validations[v] != nil {
			continue
		}
		var dm *deploymentModels
		if v.Body && len(v.RequestModels) > 0 {
			dm = l.deploymentModels(g, api, d)
		}
		cv := compileValidation(v, dm)
		if cv.err != nil {
			l.opts.Logger.Error("request validation does not compile; the route's requests will get 500",
				slog.String("api_id", api.ID), slog.String("route_id", r.ID), slog.Any("error", cv.err))
		}
		g.validations[v] = cv
	}
}

// deploymentModels returns d's compiled models, compiling them into g on
// first use (compileValidations has put the earlier generation's there).
func (l *lookup) deploymentModels(g *generation, api *model.API, d *model.Deployment) *deploymentModels {
	if dm := g.models[d]; dm != nil {
		return dm
	}
	dm := compileModels(d)
	if dm.err != nil {
		l.opts.Logger.Error("models do not compile; requests of routes that name one will get 500",
			slog.String("api_id", api.ID), slog.String("deployment_id", d.ID), slog.Any("error", dm.err))
	}
	g.models[d] = dm
	return dm
}

// logBroken reports the templates and patterns of m that did not compile;
// the admin API refuses them, so one here is a bug worth a log line.
func (l *lookup) logBroken(api *model.API, in *model.Integration, m *compiledTemplates) {
	for _, err := range m.errs() {
		l.opts.Logger.Error("integration does not compile; its requests will get 500",
			slog.String("api_id", api.ID), slog.String("integration", in.Name), slog.Any("error", err))
	}
}

// render renders t with vars (mapping.Vars of the request it describes).
// The template may set overrides ($context.requestOverride,
// .responseOverride) in vars, which mapping.ReadOverrides reads.
func (l *lookup) render(t *template, vars map[string]any) (string, error) {
	if t.err != nil {
		return "", t.err
	}
	out, err := t.t.Render(vars, l.opts.Limits)
	if err != nil {
		return "", fmt.Errorf("rendering %s template: %w", t.contentType, err)
	}
	return out, nil
}

// methodResponse is the method response an integration response makes of
// the integration's answer.
type methodResponse struct {
	status  int
	headers extproc.Headers
	// body is the response template's output; rendered says there was a
	// template, without which the integration's body stays.
	body     []byte
	rendered bool
}

// methodResponse renders r as the method response to req: r's status and
// header mappings (a mapping from the backend's header is left out when
// backend does not have it), then the template chosen by accept, rendered
// with $input over body (the integration's answer, none for a mock) and
// the method request's parameters, whose $context.responseOverride
// replaces status and headers, and a Content-Type: the template's,
// application/json without one, unless a mapping set it.
func (l *lookup) methodResponse(r *compiledResponse, req *mapping.Request, backend extproc.Headers, body []byte, accept string) (methodResponse, error) {
	m := methodResponse{status: r.statusCode, headers: make(extproc.Headers, 0, len(r.headers)+1)}
	for _, h := range r.headers {
		v := h.value
		if h.from != "" {
			if !backend.Has(h.from) {
				continue
			}
			v = backend.Get(h.from)
		}
		m.headers = setHeader(m.headers, h.name, v)
	}
	contentType := defaultContentType
	if t := r.responseTemplate(accept); t != nil {
		resp := *req
		resp.Body = body
		vars := mapping.Vars(&resp)
		out, err := l.render(t, vars)
		if err != nil {
			return m, err
		}
		m.body, m.rendered, contentType = []byte(out), true, t.contentType
		o := mapping.ReadOverrides(vars)
		if o.Status != 0 {
			m.status = o.Status
		}
		for _, h := range o.ResponseHeader {
			m.headers = setHeader(m.headers, strings.ToLower(h.Name), h.Value)
		}
	}
	if !m.headers.Has(headerContentType) {
		m.headers = append(m.headers, extproc.Header{Name: headerContentType, Value: contentType})
	}
	return m, nil
}

// setHeader replaces every value of name in h with value.
func setHeader(h extproc.Headers, name, value string) extproc.Headers {
	out := h[:0]
	for _, f := range h {
		if f.Name != name {
			out = append(out, f)
		}
	}
	return append(out, extproc.Header{Name: name, Value: value})
}

// dropHeaders returns, once each, the names in h that keep refuses: the
// headers a processor removes from the message.
func dropHeaders(h extproc.Headers, keep func(name string) bool) []string {
	var out []string
	for _, f := range h {
		if !keep(f.Name) && !slices.Contains(out, f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// unsupportedMediaType answers with API Gateway's UNSUPPORTED_MEDIA_TYPE
// gateway response: 415 {"message":"Unsupported Media Type"}.
func (rr routeRequest) unsupportedMediaType(req *mapping.Request, accept string) (*extproc.Decision, error) {
	return rr.gatewayReply(gatewayresponse.UnsupportedMediaType, 0, req, mapping.ErrorInfo{}, accept)
}
