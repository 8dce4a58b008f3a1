package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	commonrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// overLimitBody is API Gateway's body for a throttled request. Envoy's
// ratelimit filter sends raw_body as the body of its 429 local reply.
const overLimitBody = `{"message":"Too Many Requests"}`

// RLS is Envoy's rate-limit service (envoy.service.ratelimit.v3) for stage
// and route throttles. Envoy's ratelimit filter calls it once per request
// of a throttled route with one descriptor naming the API, stage and route;
// RLS looks the throttle up by those IDs in the current configuration and
// takes a token from the route's bucket, shared by every Envoy that uses
// the same Store.
type RLS struct {
	rlsv3.UnimplementedRateLimitServiceServer

	cfg func() *model.Config
	lim *Limiter
	log *slog.Logger
	// overLimitBody and overLimitHeaders are shared by every OVER_LIMIT
	// response; gRPC only reads them while marshalling.
	overLimitBody    []byte
	overLimitHeaders []*corev3.HeaderValue
}

// NewRLS returns the service. cfg returns the configuration in force and is
// called once per request; lim holds the bucket store and decides, through
// its FailurePolicy, what a store failure means.
func NewRLS(cfg func() *model.Config, lim *Limiter, log *slog.Logger) *RLS {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RLS{
		cfg:           cfg,
		lim:           lim,
		log:           log,
		overLimitBody: []byte(overLimitBody),
		overLimitHeaders: []*corev3.HeaderValue{
			{Key: "content-type", Value: "application/json"},
		},
	}
}

// Register registers the service on g, usually the server of the port that
// Envoy reaches through envoy.ServicesClusterName.
func (s *RLS) Register(g *grpc.Server) { rlsv3.RegisterRateLimitServiceServer(g, s) }

// ShouldRateLimit decides one request. The overall code is OVER_LIMIT if any
// descriptor is over its limit. A descriptor that names no throttle (an
// unknown API, stage or route, or one without a throttle, as happens while
// Envoy still runs a previous configuration) is OK. If the store fails and
// the Limiter's policy is FailClosed, the call fails with Unavailable, so
// the filter's failure_mode_deny decides; with FailOpen it is OK.
func (s *RLS) ShouldRateLimit(ctx context.Context, req *rlsv3.RateLimitRequest) (*rlsv3.RateLimitResponse, error) {
	resp := &rlsv3.RateLimitResponse{OverallCode: rlsv3.RateLimitResponse_OK}
	if req.GetDomain() != envoy.RateLimitDomain {
		return resp, nil
	}
	descs := req.GetDescriptors()
	resp.Statuses = make([]*rlsv3.RateLimitResponse_DescriptorStatus, len(descs))
	cfg := s.cfg()
	for i, d := range descs {
		st, err := s.decide(ctx, cfg, d)
		if err != nil {
			return nil, err
		}
		resp.Statuses[i] = st
		if st.Code == rlsv3.RateLimitResponse_OVER_LIMIT {
			resp.OverallCode = rlsv3.RateLimitResponse_OVER_LIMIT
		}
	}
	if resp.OverallCode == rlsv3.RateLimitResponse_OVER_LIMIT {
		resp.RawBody = s.overLimitBody
		resp.ResponseHeadersToAdd = s.overLimitHeaders
	}
	return resp, nil
}

// decide takes a token for one descriptor.
func (s *RLS) decide(ctx context.Context, cfg *model.Config, d *commonrlv3.RateLimitDescriptor) (*rlsv3.RateLimitResponse_DescriptorStatus, error) {
	value, th := routeThrottle(cfg, d)
	if th == nil {
		return &rlsv3.RateLimitResponse_DescriptorStatus{Code: rlsv3.RateLimitResponse_OK}, nil
	}
	b := Bucket{Rate: th.Rate, Burst: th.Burst}
	dec, err := s.lim.Throttle(ctx, RouteBucketKey(value), b)
	if err != nil {
		return nil, s.failure(ctx, value, err)
	}
	return descriptorStatus(dec, b), nil
}

// failure turns a Limiter error into the gRPC error Envoy's filter sees.
// Both count as a failed call, which the filter resolves with
// failure_mode_deny; the code only tells operators which one it was.
func (s *RLS) failure(ctx context.Context, value string, err error) error {
	if ctx.Err() != nil {
		// Envoy gave up on the call; the store did not fail.
		return status.FromContextError(ctx.Err()).Err()
	}
	if errors.Is(err, ErrStoreUnavailable) {
		return status.Error(codes.Unavailable, "rate limit store unavailable")
	}
	s.log.ErrorContext(ctx, "route throttle cannot be enforced", "route", value, "error", err)
	return status.Error(codes.Internal, "route throttle cannot be enforced")
}

// routeThrottle returns the descriptor's route value and the throttle in
// force for it, or a nil throttle when the descriptor is not Archway's or
// names nothing that is throttled in cfg. It allocates nothing: routes
// carry their keys (model.Route.Key).
func routeThrottle(cfg *model.Config, d *commonrlv3.RateLimitDescriptor) (string, *model.Throttle) {
	entries := d.GetEntries()
	if len(entries) != 1 || entries[0].GetKey() != envoy.RateLimitRouteKey {
		return "", nil
	}
	value := entries[0].GetValue()
	apiID, rest, ok := strings.Cut(value, "/")
	if !ok {
		return "", nil
	}
	stageName, routeID, ok := strings.Cut(rest, "/")
	if !ok {
		return "", nil
	}
	stage := cfg.API(apiID).Stage(stageName)
	if stage == nil {
		return "", nil
	}
	route := stage.Deployment.Route(routeID)
	if route == nil {
		return "", nil
	}
	return value, stage.RouteThrottle(route)
}

// descriptorStatus reports a decision in the terms of Envoy's x-ratelimit
// headers: the limit is the burst per second, the remaining count is the
// whole tokens left, and the reset is when a throttled request would be
// admitted or, for an admitted one, when the bucket is full again. Envoy
// sends only the whole seconds of duration_until_reset, so it is rounded
// up; a bucket that never refills has none.
func descriptorStatus(d Decision, b Bucket) *rlsv3.RateLimitResponse_DescriptorStatus {
	m := &statusMessages{}
	m.limit.RequestsPerUnit = clampUint32(b.Burst)
	m.limit.Unit = rlsv3.RateLimitResponse_RateLimit_SECOND
	st := &m.status
	st.Code = rlsv3.RateLimitResponse_OVER_LIMIT
	st.CurrentLimit = &m.limit
	st.LimitRemaining = clampUint32(d.Remaining)
	reset := d.RetryAfter.Seconds()
	if d.Allowed {
		st.Code = rlsv3.RateLimitResponse_OK
		reset = float64(b.Burst-d.Remaining) / b.Rate
	}
	if b.Rate > 0 {
		m.reset.Seconds = int64(math.Ceil(min(reset, maxResetSeconds)))
		st.DurationUntilReset = &m.reset
	}
	return st
}

// statusMessages are the messages of one DescriptorStatus, allocated
// together since they live and die together.
type statusMessages struct {
	status rlsv3.RateLimitResponse_DescriptorStatus
	limit  rlsv3.RateLimitResponse_RateLimit
	reset  durationpb.Duration
}

// maxResetSeconds bounds the reset reported for very slow buckets (a day).
const maxResetSeconds = 86400

// clampUint32 fits n into the uint32 fields of the RLS protocol.
func clampUint32(n int64) uint32 {
	return uint32(min(max(n, 0), math.MaxUint32))
}
