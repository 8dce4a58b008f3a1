package testinvoke

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/extproc/integration"
	"github.com/archway-gateway/archway/internal/admin"
	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/watcher"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// DeploymentID is the deployment a test invocation's route is served
// from: the route as it is defined now, deployed or not.
const DeploymentID = "test-invoke"

// DefaultBaseDomain is the translator's default base domain, under which
// each API has its own host ({apiId}.execute-api.localhost): the
// :authority a test request has when it sets no Host header.
const DefaultBaseDomain = "execute-api.localhost"

// Options configure an Invoker.
type Options struct {
	// Logger receives an error line for each processor that fails (or
	// makes a decision the ext_proc Server could not carry out) during
	// an invocation, as the ext_proc Server logs it; nil discards. The
	// processors' own log lines (a function that failed, a template that
	// does not compile) go into the steps' details instead.
	Logger *slog.Logger
	// Now is the clock of $context.requestTime and of the latency; nil
	// means time.Now.
	Now func() time.Time
	// CAFile holds the certificates HTTPS endpoints are verified against,
	// as the translator's Options.CAFile; empty means the system's roots.
	CAFile string
	// BaseDomain is the translator's base domain; empty means
	// DefaultBaseDomain.
	BaseDomain string
	// APIKeyIDHeader is the header in which ext_authz names the API key of
	// a request (integration.Options.APIKeyIDHeader); test invocations
	// skip API keys, so only a header the client sends sets it.
	APIKeyIDHeader string
	// MaxBody bounds the request and every response body, as the
	// ext_proc Server's MaxBody; zero means extproc.DefaultMaxBody.
	MaxBody int
}

// Invoker runs test invocations. It implements admin.TestInvoker and is
// safe for concurrent use.
type Invoker struct {
	opts Options
	// defaults are API Gateway's own gateway responses, which Envoy's
	// local reply mappers answer a failed endpoint with.
	defaults *gatewayresponse.Set
}

var _ admin.TestInvoker = (*Invoker)(nil)

// New returns an Invoker.
func New(o Options) *Invoker {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BaseDomain == "" {
		o.BaseDomain = DefaultBaseDomain
	}
	if o.MaxBody <= 0 {
		o.MaxBody = extproc.DefaultMaxBody
	}
	defaults, err := gatewayresponse.Compile(nil)
	if err != nil {
		panic(err) // the defaults are fixed; they always compile
	}
	return &Invoker{opts: o, defaults: defaults}
}

// TestInvoke runs inv through its route and reports each stage. A route
// the gateway could not serve as defined (a stage variable its URI needs
// is missing, a definition that does not convert) fails with
// FAILED_PRECONDITION; anything the request meets on its way, a refusal
// or a failing endpoint included, is part of the response.
func (iv *Invoker) TestInvoke(ctx context.Context, inv *admin.TestInvocation) (*adminv1.TestInvokeRouteResponse, error) {
	start := iv.opts.Now()
	r, err := iv.prepare(inv)
	if err != nil {
		return nil, err
	}
	final := r.run(ctx)
	if err := ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	return &adminv1.TestInvokeRouteResponse{
		Status:    int32(final.status),
		Headers:   headerValues(final.headers),
		Body:      final.body,
		Steps:     r.steps,
		LatencyMs: iv.opts.Now().Sub(start).Milliseconds(),
	}, nil
}

// run is one test invocation under way: the route, its processors, the
// exchange as it changes, and the steps recorded so far.
type run struct {
	iv    *Invoker
	inv   *admin.TestInvocation
	api   *model.API
	stage *model.Stage
	route *model.Route
	// validator is the processor of the route's request validation
	// alone; nil when the route validates nothing. proc is the
	// processor of its integration, without validation; nil when Envoy
	// carries the integration out alone.
	validator, proc extproc.Processor
	// target is where the route sends the request; nil for a MOCK.
	target *target
	x      extproc.Exchange
	steps  []*adminv1.TestInvokeStep
	// logs collects the processors' log lines, which are drained into
	// the detail of the step during which they were written.
	logs *bytes.Buffer
}

// prepare converts inv's records and makes the route's processors.
func (iv *Invoker) prepare(inv *admin.TestInvocation) (*run, error) {
	api, err := watcher.RouteAPI(inv.API, inv.Route, inv.Integration, inv.Stage, inv.StageVariables, DeploymentID)
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "route %s cannot be served as defined: %v", inv.Route.GetId(), err)
	}
	r := &run{iv: iv, inv: inv, api: api, stage: api.Stages[0], logs: &bytes.Buffer{}}
	r.route = r.stage.Deployment.Routes[0]
	logger := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	md := extproc.RouteMetadata{APIID: api.ID, Stage: r.stage.Name, RouteID: r.route.ID, DeploymentID: DeploymentID}
	if r.route.Validation.Active() {
		vr := &model.Route{ID: r.route.ID, Method: r.route.Method, Path: r.route.Path, Validation: r.route.Validation}
		vr.Integration = &model.Integration{ID: r.route.Integration.ID, Name: r.route.Integration.Name, Mock: &model.Mock{StatusCode: http.StatusOK}}
		if r.validator, err = iv.processor(api, vr, md, logger); err != nil {
			return nil, err
		}
	}
	ir := *r.route
	ir.Validation = nil
	if r.proc, err = iv.processor(api, &ir, md, logger); err != nil {
		return nil, err
	}
	if r.target, err = endpointTarget(r.route, r.stage, inv.PathWithQueryString); err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "route %s cannot be served on stage %s: %v", r.route.ID, r.stage.Name, err)
	}
	r.x = iv.exchange(inv, r.stage, md)
	return r, nil
}

// processor returns the processor the ext_proc service would run for
// route, served alone by a copy of api's stage.
func (iv *Invoker) processor(api *model.API, route *model.Route, md extproc.RouteMetadata, logger *slog.Logger) (extproc.Processor, error) {
	d, err := model.NewDeploymentWithModels(DeploymentID, []*model.Route{route}, []*model.Integration{route.Integration},
		api.Stages[0].Deployment.Models)
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "route %s cannot be served as defined: %v", route.ID, err)
	}
	st := *api.Stages[0]
	st.Deployment = d
	a := *api
	a.Stages = []*model.Stage{&st}
	cfg, err := model.NewConfig(0, []*model.API{&a})
	if err != nil {
		return nil, err
	}
	lookup := integration.NewLookup(func() *model.Config { return cfg }, integration.Options{
		Logger: logger, Now: iv.opts.Now, APIKeyIDHeader: iv.opts.APIKeyIDHeader,
	})
	return lookup(md), nil
}

// drainLogs returns the processors' log lines since the last call.
func (r *run) drainLogs() string {
	s := r.logs.String()
	r.logs.Reset()
	return s
}

// response is a response on its way to the client.
type response struct {
	status  int
	headers extproc.Headers
	body    []byte
	// localReply is the response code details of Envoy's own reply; empty
	// for an endpoint's response.
	localReply string
	// cut is set when the endpoint's body was over Options.MaxBody and
	// body holds its first MaxBody bytes.
	cut bool
}

// fromReply is the response an immediate reply sends.
func fromReply(rp *extproc.Reply) response {
	return response{status: rp.Status, headers: rp.Headers, body: rp.Body}
}

// run runs the exchange: the method request, validation, the
// integration request, the endpoint, the integration response. It
// returns the method response.
func (r *run) run(ctx context.Context) response {
	r.methodRequest()
	if r.validator != nil {
		if reply, refused := r.validate(ctx); refused {
			return r.methodResponse(reply, "the request failed validation; the integration was not called")
		}
	}
	if r.proc != nil {
		reply, answered := r.integrationRequest(ctx)
		if answered {
			return r.methodResponse(reply, "answered in the integration request by Archway's ext_proc service; no endpoint was called")
		}
	}
	resp := r.endpoint(ctx)
	if r.proc == nil {
		return r.methodResponse(resp, "the endpoint's response, unchanged")
	}
	return r.integrationResponse(ctx, resp)
}

// methodRequest records the request as the client sends it.
func (r *run) methodRequest() {
	detail := fmt.Sprintf("route %s (integration %s, %s); stage %s", r.route.Key(), r.route.Integration.Name,
		integrationKind(r.route.Integration), r.stage.Name)
	if params := rawParams(r.route.Path, pathOnly(r.inv.PathWithQueryString)); len(params) > 0 {
		detail += "; path parameters " + formatPairs(params, r.route.Path.Params())
	}
	if len(r.stage.Variables) > 0 {
		detail += "; stage variables " + formatMap(r.stage.Variables)
	}
	r.steps = append(r.steps, &adminv1.TestInvokeStep{
		Name: "method request", Method: r.inv.Method, Url: r.inv.PathWithQueryString,
		Headers: r.inv.Headers, Body: r.inv.Body, Detail: detail,
	})
}

// methodResponse records the response the client gets, and returns it.
func (r *run) methodResponse(resp response, detail string) response {
	fixLength(&resp.headers, len(resp.body), false)
	r.steps = append(r.steps, &adminv1.TestInvokeStep{
		Name: "method response", Status: int32(resp.status), Headers: headerValues(resp.headers),
		Body: resp.body, Detail: joinDetail(detail, r.drainLogs()),
	})
	return resp
}
