// Package ratelimit implements Archway's limiter core with Amazon API Gateway
// semantics: token buckets for throttles and calendar-aligned quotas for usage
// plans, behind one Store interface with an in-memory and a Redis backend.
package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Bucket is an API Gateway throttle: a bucket of Burst tokens refilled at Rate
// tokens per second. Every request takes one token; an empty bucket throttles
// (HTTP 429 in API Gateway) until the next token arrives.
type Bucket struct {
	// Rate is the steady-state refill rate in requests per second. Zero means
	// the bucket never refills.
	Rate float64
	// Burst is the bucket capacity. Zero throttles every request, as in AWS.
	Burst int64
}

// Validate reports a bucket that cannot be enforced.
func (b Bucket) Validate() error {
	switch {
	case math.IsNaN(b.Rate) || math.IsInf(b.Rate, 0) || b.Rate < 0:
		return fmt.Errorf("bucket rate: must be a finite number >= 0, got %v", b.Rate)
	case b.Burst < 0:
		return fmt.Errorf("bucket burst: must be >= 0, got %d", b.Burst)
	}
	return nil
}

// Decision is the outcome of taking one token from a bucket.
type Decision struct {
	// Allowed is true when a token was taken.
	Allowed bool
	// Remaining is the number of whole tokens left after this request.
	Remaining int64
	// RetryAfter is the time until the next token when Allowed is false. It is
	// zero when the bucket never refills (Rate 0).
	RetryAfter time.Duration
}

// ErrStoreUnavailable wraps every error a store returns for a backend failure,
// so callers can apply their FailurePolicy with errors.Is.
var ErrStoreUnavailable = errors.New("ratelimit: store unavailable")

// bucketState is the persisted state of a bucket: tokens at the last refill.
type bucketState struct {
	tokens float64
	lastUs int64
}

// take refills st up to nowUs and takes one token. It is the reference for the
// Lua script in redis.go; both use microseconds so they agree exactly.
func take(st bucketState, b Bucket, nowUs int64) (bucketState, Decision) {
	elapsed := max(nowUs-st.lastUs, 0)
	tokens := min(float64(b.Burst), st.tokens+float64(elapsed)*b.Rate/1e6)
	st = bucketState{tokens: tokens, lastUs: max(nowUs, st.lastUs)}
	if tokens >= 1 {
		st.tokens = tokens - 1
		return st, Decision{Allowed: true, Remaining: int64(math.Floor(st.tokens))}
	}
	return st, Decision{RetryAfter: retryAfter(tokens, b.Rate)}
}

// retryAfter is the time for a bucket holding tokens to reach one token.
func retryAfter(tokens, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(math.Ceil((1-tokens)/rate*1e6)) * time.Microsecond
}

// idleTTL is how long an untouched bucket must be kept before dropping it is
// the same as refilling it to full, capped at maxIdleTTL; buckets that never
// refill are kept for maxIdleTTL after their last use.
func idleTTL(b Bucket) time.Duration {
	const margin = time.Minute
	if b.Rate <= 0 {
		return maxIdleTTL
	}
	fill := float64(b.Burst) / b.Rate * float64(time.Second)
	if fill >= float64(maxIdleTTL-margin) {
		return maxIdleTTL
	}
	return time.Duration(fill) + margin
}

// maxIdleTTL bounds how long an idle bucket's state is kept.
const maxIdleTTL = 24 * time.Hour
