package ratelimit

import (
	"context"
	"strconv"
	"time"
)

// Store keeps limiter state. Every operation is atomic for its key, so many
// goroutines and, with a shared backend, many Archway processes can enforce
// one limit. Time comes from the caller (now), never from the store, so
// clocks are injectable and all processes agree on period boundaries.
type Store interface {
	// TakeToken takes one token from the bucket named key.
	TakeToken(ctx context.Context, key string, b Bucket, now time.Time) (Decision, error)
	// Consume counts n requests against the quota named key in the period
	// containing now, if they fit; otherwise it counts nothing.
	Consume(ctx context.Context, key string, q Quota, now time.Time, n int64) (QuotaDecision, error)
	// Usage reads the quota named key in the period containing now.
	Usage(ctx context.Context, key string, q Quota, now time.Time) (QuotaDecision, error)
	// Reset forgets the usage of key in the period containing now.
	Reset(ctx context.Context, key string, q Quota, now time.Time) error
	// Adjust adds delta (negative grants more requests, as AWS's UpdateUsage
	// extension does) to the usage of key in the period containing now,
	// without checking the limit. Usage never goes below zero.
	Adjust(ctx context.Context, key string, q Quota, now time.Time, delta int64) (QuotaDecision, error)
	// Meter is a usage plan's decision on one request in one atomic step
	// (for Redis, one round trip): it takes a token from m's bucket, if it
	// has one, and, only if the bucket granted it, counts the request
	// against m's quota as Consume(m.QuotaKey, m.Quota, now, 1) would.
	// When the bucket refuses, the QuotaDecision holds only the period's
	// Limit and Reset.
	Meter(ctx context.Context, m Metering, now time.Time) (Decision, QuotaDecision, error)
	// History returns how many requests Consume admitted under key on each
	// UTC day from the day of from to the day of to, both included: one
	// count per day, oldest first. Days more than HistoryDays before now
	// are forgotten and count zero.
	History(ctx context.Context, key string, from, to time.Time) ([]int64, error)
}

// Metering is what Store.Meter decides on.
type Metering struct {
	// BucketKey names the token bucket, and Bucket is its limits; a nil
	// Bucket throttles nothing. Buckets of Meter live beside the quota they
	// guard and are not the buckets TakeToken names by the same key.
	BucketKey string
	Bucket    *Bucket
	// QuotaKey names the quota counter and its daily history.
	QuotaKey string
	Quota    Quota
}

func (m Metering) validate() error {
	if m.Bucket != nil {
		if err := m.Bucket.Validate(); err != nil {
			return err
		}
	}
	return m.Quota.Validate()
}

// HistoryDays is how long stores keep daily counts, as API Gateway keeps
// usage data: GetUsage reaches 90 days back.
const HistoryDays = 90

// Unlimited is a quota limit that is never reached, for counting the use of
// plans that have no quota: Consume(key, Quota{Limit: Unlimited, Period: Day})
// keeps the daily history without limiting anything. It is 2^53, the
// largest integer Redis's Lua numbers hold exactly.
const Unlimited = 1 << 53

// UsageKey names the quota counter and daily history of one API key on one
// usage plan. The admin API reads and resets what ext_authz counts under it.
func UsageKey(planID, keyID string) string { return "u:" + planID + ":" + keyID }

// quotaKey names one period's counter of a quota: counters of different
// periods never collide, so a new period starts at zero without a reset.
func quotaKey(key string, w Window) string {
	return key + ":" + strconv.FormatInt(w.Start.Unix(), 10)
}

// RouteBucketKey names the token bucket of a stage's throttle of one route,
// for all clients together; value is envoy.RateLimitRouteValue of the
// route. The rate-limit service and ext_authz (for routes Envoy's
// rate-limit filter skips) take from the same bucket.
func RouteBucketKey(value string) string { return "r:" + value }
