// Package authz is Archway's Envoy external authorization service. Envoy
// calls it for every request to a route that requires an API key; it checks
// the key and meters the request against the key's usage plan, with the
// semantics of Amazon API Gateway's API keys, usage plans, throttles and
// quotas.
//
// Check is a thin handler: it decodes Envoy's CheckRequest into an input,
// makes a pure decision on it against the current *model.Config, meters an
// admitted key through the ratelimit package, and encodes the answer as the
// CheckResponse Envoy turns into the client's response or the upstream
// request.
package authz

import (
	"context"
	"log/slog"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/ratelimit"
)

// Default names of the request headers through which the upstream learns
// which key and plan admitted a request. Envoy strips x-archway-* headers
// from client requests before ext_authz runs, so clients cannot forge them.
const (
	DefaultKeyIDHeader  = envoy.InternalHeaderPrefix + "api-key-id"
	DefaultPlanIDHeader = envoy.InternalHeaderPrefix + "usage-plan-id"
)

// Options configure a Server.
type Options struct {
	// Config returns the Config to decide on: the latest one published. It
	// is called once per request and may return nil before the first.
	Config func() *model.Config
	// Store keeps the throttle buckets and quota counters. Servers that
	// share a store (Redis) enforce one set of limits.
	Store ratelimit.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the reasons for refusals and store failures at debug
	// and warning level; nil discards them.
	Logger *slog.Logger
	// KeyIDHeader and PlanIDHeader name the request headers the upstream
	// gets the admitting key's and plan's IDs in; empty means the defaults.
	KeyIDHeader, PlanIDHeader string
	// GatewayResponses holds the APIs' compiled gateway responses, which
	// refusals use when an API customizes them; nil makes the Server its
	// own. Share one with the ext_proc service to compile them once.
	GatewayResponses *gatewayresponse.Sets
}

// Server implements envoy.service.auth.v3.Authorization.
type Server struct {
	authv3.UnimplementedAuthorizationServer

	config func() *model.Config
	// open and closed apply the two failure policies usage plans choose
	// between to the one store.
	open, closed *ratelimit.Limiter
	now          func() time.Time
	log          *slog.Logger
	keyIDHeader  string
	planIDHeader string
	responses    *gatewayresponse.Sets
	// okStatus, allowed and forbidden are shared by every response that
	// needs them; they are never modified.
	okStatus  *rpcstatus.Status
	allowed   *authv3.CheckResponse
	forbidden *authv3.CheckResponse
}

// New returns a Server. Options.Config and Options.Store are required.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.KeyIDHeader == "" {
		o.KeyIDHeader = DefaultKeyIDHeader
	}
	if o.PlanIDHeader == "" {
		o.PlanIDHeader = DefaultPlanIDHeader
	}
	if o.GatewayResponses == nil {
		o.GatewayResponses = gatewayresponse.NewSets(o.Logger)
	}
	okStatus := &rpcstatus.Status{Code: int32(codes.OK)}
	return &Server{
		responses:    o.GatewayResponses,
		config:       o.Config,
		open:         ratelimit.NewLimiter(o.Store, ratelimit.FailOpen, o.Now, o.Logger),
		closed:       ratelimit.NewLimiter(o.Store, ratelimit.FailClosed, o.Now, o.Logger),
		now:          o.Now,
		log:          o.Logger,
		keyIDHeader:  o.KeyIDHeader,
		planIDHeader: o.PlanIDHeader,
		okStatus:     okStatus,
		allowed: &authv3.CheckResponse{
			Status:       okStatus,
			HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{}},
		},
		forbidden: deniedResponse(outcomeForbidden, limits{}),
	}
}

// FailedOpen returns how many requests fail-open plans admitted unmetered
// because the counter store failed.
func (s *Server) FailedOpen() int64 { return s.open.FailedOpen() }

// Register registers the authorization service on g.
func (s *Server) Register(g *grpc.Server) { authv3.RegisterAuthorizationServer(g, s) }

// Check decides one request. Refusals are CheckResponses carrying the HTTP
// answer for Envoy to send, never gRPC errors: an error would make Envoy
// apply its own failure_mode_allow instead of the usage plan's policy.
func (s *Server) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	in := decode(req)
	cfg := s.config()
	d := decide(cfg, in)
	if d.stageThrottle != nil && d.verdict != verdictDeny {
		if m := s.routeThrottle(ctx, in, d.stageThrottle); m.err != nil && ctx.Err() != nil {
			return nil, status.FromContextError(ctx.Err()).Err()
		} else if m.outcome != outcomeAllowed {
			return s.refuse(cfg, req, in, m.outcome, m.limits), nil
		}
	}
	switch d.verdict {
	case verdictAllow:
		return s.allowed, nil
	case verdictDeny:
		s.logDenied(ctx, in, d)
		return s.refuse(cfg, req, in, outcomeForbidden, limits{}), nil
	}
	lim := s.closed
	if d.plan.FailOpen {
		lim = s.open
	}
	m := meter(ctx, lim, s.now(), in.apiID, in.stage, d)
	if m.err != nil && ctx.Err() != nil {
		// Envoy gave up on the call (its client went away, or the
		// filter's timeout passed): nobody reads the answer, and the
		// store did not fail.
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if m.outcome != outcomeAllowed {
		s.logRefused(ctx, in, d, m)
		return s.refuse(cfg, req, in, m.outcome, m.limits), nil
	}
	return okResponse(s.okStatus, s.keyIDHeader, d.key.ID, s.planIDHeader, d.plan.ID, m.limits), nil
}

// routeThrottle applies a stage's throttle of a mock route, for all clients,
// from the same bucket the rate-limit service would use. Like the
// rate-limit filter it stands in for, it fails open.
func (s *Server) routeThrottle(ctx context.Context, in input, t *model.Throttle) metering {
	b := ratelimit.Bucket{Rate: t.Rate, Burst: t.Burst}
	key := ratelimit.RouteBucketKey(envoy.RateLimitRouteValue(in.apiID, in.stage, in.routeID))
	td, err := s.open.Throttle(ctx, key, b)
	if err != nil {
		return failed(err)
	}
	m := metering{limits: bucketLimits(b, td)}
	if !td.Allowed {
		m.outcome = outcomeThrottled
	}
	return m
}

// logDenied logs why a request got 403, naming the key by its ID only.
func (s *Server) logDenied(ctx context.Context, in input, d decision) {
	if !s.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("reason", d.reason),
		slog.String("api_id", in.apiID), slog.String("stage", in.stage), slog.String("route_id", in.routeID),
		slog.String("deployment_id", in.deploymentID),
	}
	if d.key != nil {
		attrs = append(attrs, slog.String("key_id", d.key.ID))
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "request denied", attrs...)
}

// logRefused logs a metered request that was refused: at debug level when a
// limit was reached, as a warning when limits could not be enforced.
func (s *Server) logRefused(ctx context.Context, in input, d decision, m metering) {
	level := slog.LevelDebug
	if m.err != nil {
		level = slog.LevelWarn
	}
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.Int("status", int(refusalOf(m.outcome).status)),
		slog.String("api_id", in.apiID), slog.String("stage", in.stage), slog.String("route_id", in.routeID),
		slog.String("key_id", d.key.ID), slog.String("plan_id", d.plan.ID),
	}
	if m.err != nil {
		attrs = append(attrs, slog.Any("error", m.err))
	}
	s.log.LogAttrs(ctx, level, "request refused", attrs...)
}
