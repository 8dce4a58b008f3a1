package authz

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/ratelimit"
)

// outcome is the answer a request gets once its key has been checked and
// metered.
type outcome int

const (
	outcomeAllowed outcome = iota
	// outcomeForbidden: no valid key for the stage (403).
	outcomeForbidden
	// outcomeThrottled: the key's token bucket is empty (429).
	outcomeThrottled
	// outcomeQuotaExceeded: the key used up its plan's quota (429).
	outcomeQuotaExceeded
	// outcomeUnavailable: the counter store failed and the plan fails
	// closed (503).
	outcomeUnavailable
	// outcomeInternal: the plan's limits cannot be enforced, which the
	// admin API's validation should have prevented (500).
	outcomeInternal
)

// limits describes the limit a response reports in its rate-limit headers.
type limits struct {
	// set is false when the plan has neither a throttle nor a quota.
	set       bool
	limit     int64
	remaining int64
	// reset is the time until the limit is fully available again: the end
	// of the quota period, or the time the bucket takes to refill.
	reset time.Duration
	// retryAfter is when a refused request may succeed, or zero.
	retryAfter time.Duration
}

// metering is what metering a request against its key's plan found.
type metering struct {
	outcome outcome
	limits  limits
	err     error
}

// meter takes a token from the key's bucket, if the plan throttles the
// route, then counts the request against the key's quota, in one step of the
// store (one round trip to Redis). Throttled requests do not count against
// the quota. Every key is counted, even on plans without a quota, so that
// the admin API's GetUsage reports it.
func meter(ctx context.Context, lim *ratelimit.Limiter, now time.Time, apiID, stage string, d decision) metering {
	m := ratelimit.Metering{QuotaKey: ratelimit.UsageKey(d.plan.ID, d.key.ID), Quota: quotaOf(d.plan.Quota)}
	var b ratelimit.Bucket
	if t, key := throttleOf(apiID, stage, d); t != nil {
		b = ratelimit.Bucket{Rate: t.Rate, Burst: t.Burst}
		m.Bucket, m.BucketKey = &b, key
	}
	td, qd, err := lim.Meter(ctx, m)
	if err != nil {
		return failed(err)
	}
	var out metering
	if m.Bucket != nil {
		out.limits = bucketLimits(b, td)
		if !td.Allowed {
			out.outcome = outcomeThrottled
			return out
		}
	}
	if d.plan.Quota != nil {
		out.limits = quotaLimits(qd, now)
	}
	if !qd.Allowed {
		out.outcome = outcomeQuotaExceeded
		out.limits.remaining = 0
		out.limits.retryAfter = out.limits.reset
	}
	return out
}

// throttleOf returns the throttle the plan applies to the route and the name
// of the key's bucket for it. A plan's own throttle is one bucket per key
// shared by all the stages the plan covers, as in API Gateway; a route's
// override has a bucket per key and route.
func throttleOf(apiID, stage string, d decision) (*model.Throttle, string) {
	rk := d.route.Key()
	t, override := d.plan.RouteThrottle(d.planStage, rk)
	switch {
	case t == nil:
		return nil, ""
	case override:
		return t, "k:" + d.plan.ID + ":" + d.key.ID + ":" + model.StageKey(apiID, stage) + ":" + rk
	}
	return t, "k:" + d.plan.ID + ":" + d.key.ID
}

// quotaOf converts a plan's quota for the limiter. A plan without a quota
// gets an unlimited daily one, which only counts.
func quotaOf(q *model.Quota) ratelimit.Quota {
	if q == nil {
		return ratelimit.Quota{Limit: ratelimit.Unlimited, Period: ratelimit.Day}
	}
	return ratelimit.Quota{Limit: q.Limit, Period: ratelimit.Period(q.Period), Offset: q.Offset, Start: q.Start}
}

// bucketLimits reports a token bucket: its limit is the burst, and it is
// fully available again once the missing tokens have been refilled.
func bucketLimits(b ratelimit.Bucket, d ratelimit.Decision) limits {
	l := limits{set: true, limit: b.Burst, remaining: d.Remaining, retryAfter: d.RetryAfter}
	if b.Rate > 0 {
		missing := float64(b.Burst - d.Remaining)
		l.reset = time.Duration(math.Ceil(missing / b.Rate * float64(time.Second)))
	}
	return l
}

// quotaLimits reports a quota period.
func quotaLimits(d ratelimit.QuotaDecision, now time.Time) limits {
	return limits{set: true, limit: d.Limit, remaining: d.Remaining, reset: max(d.Reset.Sub(now), 0)}
}

// failed turns a limiter error into the outcome the plan's failure policy
// left: the store was down under FailClosed, or the limits were invalid.
func failed(err error) metering {
	if errors.Is(err, ratelimit.ErrStoreUnavailable) {
		return metering{outcome: outcomeUnavailable, err: err}
	}
	return metering{outcome: outcomeInternal, err: err}
}
