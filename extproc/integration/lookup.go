package integration

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/archway-gateway/archway/envoy"
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
	// requestContext.identity.apiKeyId; empty means DefaultAPIKeyIDHeader.
	APIKeyIDHeader string
}

// DefaultAPIKeyIDHeader is the header ext_authz names the admitting API
// key in unless configured otherwise.
const DefaultAPIKeyIDHeader = envoy.InternalHeaderPrefix + "api-key-id"

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
		o.APIKeyIDHeader = DefaultAPIKeyIDHeader
	}
	l := &lookup{cfg: cfg, opts: o, defaults: defaultGatewayResponses(), status: newRelaxedStatus()}
	return l.processor
}

// defaultGatewayResponses are API Gateway's own gateway responses, with
// no API's overrides.
func defaultGatewayResponses() *gatewayresponse.Set {
	set, err := gatewayresponse.Compile(nil)
	if err != nil {
		panic(err) // the defaults are fixed; they always compile
	}
	return set
}

// lookup finds routes' processors and keeps the compiled integrations of
// the latest configuration.
type lookup struct {
	cfg      func() *model.Config
	opts     Options
	defaults *gatewayresponse.Set
	status   relaxedStatus
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
}

// processor returns the processor of the route md names.
func (l *lookup) processor(md extproc.RouteMetadata) extproc.Processor {
	cfg := l.cfg()
	api := cfg.API(md.APIID)
	if api == nil {
		return nil
	}
	stage := api.Stage(md.Stage)
	if stage == nil {
		return nil
	}
	route := stage.Deployment.Route(md.RouteID)
	if route == nil {
		return nil
	}
	rr := routeRequest{api: api, stage: stage, route: route}
	next := l.integrationProcessor(cfg, rr)
	if route.Validation.Active() {
		if v := l.generation(cfg).validations[route.Validation]; v != nil {
			return &validatingProcessor{l: l, v: v, rr: rr, next: next}
		}
	}
	return next
}

// integrationProcessor returns the processor of rr's integration, or nil
// when Envoy carries it out alone (an HTTP proxy, a simple mock).
func (l *lookup) integrationProcessor(cfg *model.Config, rr routeRequest) extproc.Processor {
	switch in := rr.route.Integration; {
	case in.Function != nil:
		return &functionProcessor{l: l, fn: in.Function, rr: rr}
	case in.Mock != nil && in.Mock.Templates != nil:
		if m := l.generation(cfg).mocks[in]; m != nil {
			return &mockProcessor{l: l, m: m, api: rr.api, stage: rr.stage, route: rr.route}
		}
	case in.HTTP != nil:
		if h := l.generation(cfg).https[in]; h != nil {
			return &httpProcessor{l: l, h: h, rr: rr}
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
// with it.
func (l *lookup) compile(cfg *model.Config, prev *generation) *generation {
	g := &generation{
		cfg: cfg, mocks: map[*model.Integration]*compiledMock{}, https: map[*model.Integration]*compiledHTTP{},
		validations: map[*model.Validation]*compiledValidation{},
	}
	if cfg == nil {
		return g
	}
	if prev == nil {
		prev = &generation{}
	}
	for _, api := range cfg.APIs {
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
		}
	}
	return g
}

// compileValidations compiles the active request validators of d's
// routes into g, reusing prev's.
func (l *lookup) compileValidations(g, prev *generation, api *model.API, d *model.Deployment) {
	for _, r := range d.Routes {
		v := r.Validation
		if !v.Active() || g.validations[v] != nil {
			continue
		}
		if g.validations[v] = prev.validations[v]; g.validations[v] != nil {
			continue
		}
		cv := compileValidation(v)
		if cv.err != nil {
			l.opts.Logger.Error("request validation does not compile; the route's requests will get 500",
				slog.String("api_id", api.ID), slog.String("route_id", r.ID), slog.Any("error", cv.err))
		}
		g.validations[v] = cv
	}
}

// logBroken reports the templates and patterns of m that did not compile;
// the admin API refuses them, so one here is a bug worth a log line.
func (l *lookup) logBroken(api *model.API, in *model.Integration, m *compiledTemplates) {
	for _, err := range m.errs() {
		l.opts.Logger.Error("integration does not compile; its requests will get 500",
			slog.String("api_id", api.ID), slog.String("integration", in.Name), slog.Any("error", err))
	}
}

// render renders t for req, returning the variables it rendered with for
// the overrides ($context.requestOverride, .responseOverride) it may have
// set.
func (l *lookup) render(t *template, req *mapping.Request) (map[string]any, string, error) {
	if t.err != nil {
		return nil, "", t.err
	}
	vars := mapping.Vars(req)
	out, err := t.t.Render(vars, l.opts.Limits)
	if err != nil {
		return nil, "", fmt.Errorf("rendering %s template: %w", t.contentType, err)
	}
	return vars, out, nil
}

// unsupportedMediaType answers with API Gateway's UNSUPPORTED_MEDIA_TYPE
// gateway response: 415 {"message":"Unsupported Media Type"}.
func (l *lookup) unsupportedMediaType(req *mapping.Request, accept string) (*extproc.Decision, error) {
	resp, err := l.defaults.Render(gatewayresponse.UnsupportedMediaType, req, mapping.ErrorInfo{}, accept)
	if err != nil {
		return nil, errors.Join(errors.New("rendering the UNSUPPORTED_MEDIA_TYPE gateway response"), err)
	}
	return extproc.Respond(resp.Status, fromHTTPHeader(resp.Headers), resp.Body), nil
}
