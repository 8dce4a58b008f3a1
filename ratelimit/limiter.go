package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"
)

// FailurePolicy decides what a Limiter does when its Store fails. API Gateway
// has no equivalent (its limiter never fails visibly); each usage plan picks.
type FailurePolicy int

const (
	// FailClosed rejects requests while the store is unavailable.
	FailClosed FailurePolicy = iota
	// FailOpen admits requests while the store is unavailable, logging and
	// counting each one.
	FailOpen
)

// Limiter applies a FailurePolicy to a Store and reads time from an injected
// clock.
type Limiter struct {
	store    Store
	policy   FailurePolicy
	clock    func() time.Time
	log      *slog.Logger
	failOpen atomic.Int64
}

// NewLimiter returns a Limiter over store. A nil clock means time.Now.
func NewLimiter(store Store, policy FailurePolicy, clock func() time.Time, log *slog.Logger) *Limiter {
	if clock == nil {
		clock = time.Now
	}
	return &Limiter{store: store, policy: policy, clock: clock, log: log}
}

// FailedOpen returns how many decisions were admitted because the store failed.
func (l *Limiter) FailedOpen() int64 { return l.failOpen.Load() }

// Throttle takes a token from the bucket named key. With FailOpen a store
// error becomes an allowed decision and a nil error; with FailClosed the
// error is returned with a denied decision.
func (l *Limiter) Throttle(ctx context.Context, key string, b Bucket) (Decision, error) {
	d, err := l.store.TakeToken(ctx, key, b, l.clock())
	if err == nil {
		return d, nil
	}
	if l.open(ctx, "throttle", key, err) {
		return Decision{Allowed: true}, nil
	}
	return Decision{}, err
}

// Meter decides on one request of a usage plan (see Store.Meter), applying
// the policy as Throttle does: with FailOpen a store failure admits the
// request unmetered.
func (l *Limiter) Meter(ctx context.Context, m Metering) (Decision, QuotaDecision, error) {
	now := l.clock()
	td, qd, err := l.store.Meter(ctx, m, now)
	if err == nil {
		return td, qd, nil
	}
	w := m.Quota.Window(now)
	if l.open(ctx, "meter", m.QuotaKey, err) {
		return Decision{Allowed: true}, QuotaDecision{Allowed: true, Limit: w.Limit, Remaining: w.Limit, Reset: w.End}, nil
	}
	return Decision{}, QuotaDecision{Limit: w.Limit, Reset: w.End}, err
}

// open reports whether err is forgiven by the policy, logging when it is.
// Only backend failures are forgiven; invalid limits are always errors, and
// so is the caller giving up (ctx done: Envoy cancelled the call, its client
// went away), which says nothing about the store. Keys are logged, so they
// must name keys (IDs), never carry API key values.
func (l *Limiter) open(ctx context.Context, op, key string, err error) bool {
	if l.policy != FailOpen || !errors.Is(err, ErrStoreUnavailable) || ctx.Err() != nil {
		return false
	}
	l.failOpen.Add(1)
	if l.log != nil {
		l.log.WarnContext(ctx, "rate limit store failed; admitting request",
			"op", op, "key", key, "error", err)
	}
	return true
}
