package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisPrefix starts every key Archway writes to Redis.
const redisPrefix = "archway:rl:"

// takeLua refills and takes one token atomically. State is a hash {t =
// tokens, l = last refill in Unix microseconds}; the caller's clock is now,
// so every process and every test decides with the same time. It mirrors
// take in bucket.go and returns allowed (0 or 1), the whole tokens left and
// the retry-after in µs.
const takeLua = `
local function take(key, rate, burst, now, ttl)
  local st = redis.call('HMGET', key, 't', 'l')
  local tokens = tonumber(st[1])
  local last = tonumber(st[2])
  if tokens == nil or last == nil then
    tokens = burst
    last = now
  end
  local elapsed = now - last
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(burst, tokens + elapsed * rate / 1e6)
  if now > last then last = now end
  local allowed = 0
  local retry = 0
  if tokens >= 1 then
    tokens = tokens - 1
    allowed = 1
  elseif rate > 0 then
    retry = math.ceil((1 - tokens) / rate * 1e6)
  end
  redis.call('HSET', key, 't', string.format('%.17g', tokens), 'l', string.format('%d', last))
  redis.call('PEXPIRE', key, ttl)
  return allowed, math.floor(tokens), retry
end
`

// consumeLua counts n requests if they fit under the limit, and adds the n
// it admits to the counter of the current UTC day, so that the daily
// history never disagrees with the quota. It returns allowed (0 or 1) and
// the period's usage.
const consumeLua = `
local function consume(period, day, n, limit, ttl, dayTTL)
  local used = tonumber(redis.call('GET', period) or '0')
  if used + n > limit then
    return 0, used
  end
  used = redis.call('INCRBY', period, n)
  redis.call('PEXPIRE', period, ttl)
  if n > 0 then
    redis.call('INCRBY', day, n)
    redis.call('PEXPIRE', day, dayTTL)
  end
  return 1, used
end
`

// tokenScriptSource takes one token.
//
// KEYS[1] bucket key; ARGV: rate (tokens/s), burst, now (µs), ttl (ms).
// Returns {allowed, remaining whole tokens, retry after (µs)}.
const tokenScriptSource = takeLua + `
local a, r, w = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4])
return {a, r, w}
`

// consumeScriptSource counts n requests against a quota.
//
// KEYS[1] period counter, KEYS[2] day counter (same hash slot);
// ARGV: n, limit, period ttl (ms), day ttl (ms). Returns {allowed, used}.
const consumeScriptSource = consumeLua + `
local a, u = consume(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4])
return {a, u}
`

// meterScriptSource takes a token, if there is a bucket, and, if it got
// one, counts one request against the quota: a usage plan's whole decision
// in one round trip.
//
// KEYS[1] bucket, KEYS[2] period counter, KEYS[3] day counter (one hash
// slot); ARGV: has bucket (0 or 1), rate, burst, now (µs), bucket ttl (ms),
// limit, period ttl (ms), day ttl (ms). Returns {token allowed, tokens
// left, retry after (µs), quota allowed, used}, used being -1 when the
// bucket refused and the quota was not consulted.
const meterScriptSource = takeLua + consumeLua + `
local a, r, w = 1, 0, 0
if ARGV[1] == '1' then
  a, r, w = take(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5])
end
if a == 0 then
  return {0, r, w, 0, -1}
end
local qa, u = consume(KEYS[2], KEYS[3], 1, tonumber(ARGV[6]), ARGV[7], ARGV[8])
return {1, r, w, qa, u}
`

// adjustScriptSource adds a delta to a period counter, never going below zero.
//
// KEYS[1] period counter; ARGV: delta, ttl (ms). Returns the new usage.
const adjustScriptSource = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1])
if used < 0 then used = 0 end
redis.call('SET', KEYS[1], used, 'PX', ARGV[2])
return used
`

// redisQuotaKey names the Redis counter of key's quota period w. Key is a
// hash tag ({key}) that it shares with redisHistoryKey, so a Consume script
// may touch both on a Redis Cluster, and one MGET reads a key's history.
func redisQuotaKey(key string, w Window) string {
	return redisPrefix + "q:{" + key + "}:" + strconv.FormatInt(w.Start.Unix(), 10)
}

// redisHistoryKey names the Redis counter of key for the UTC day starting at d.
func redisHistoryKey(key string, d time.Time) string {
	return redisPrefix + "h:{" + key + "}:" + strconv.FormatInt(d.Unix(), 10)
}

// RedisStore is a Store shared by every Archway process that uses the same
// Redis. Each operation is one Lua script (EVALSHA, falling back to EVAL
// once when Redis has not cached the script), so it is atomic.
type RedisStore struct {
	client                              redis.UniversalClient
	tokenScript, consume, meter, adjust *redis.Script
}

// NewRedisStore returns a store on client. The client's own options decide
// timeouts and retries.
func NewRedisStore(client redis.UniversalClient) *RedisStore {
	return &RedisStore{
		client:      client,
		tokenScript: redis.NewScript(tokenScriptSource),
		consume:     redis.NewScript(consumeScriptSource),
		meter:       redis.NewScript(meterScriptSource),
		adjust:      redis.NewScript(adjustScriptSource),
	}
}

func unavailable(err error) error {
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}

// TakeToken implements Store.
func (s *RedisStore) TakeToken(ctx context.Context, key string, b Bucket, now time.Time) (Decision, error) {
	if err := b.Validate(); err != nil {
		return Decision{}, err
	}
	ttl := idleTTL(b).Milliseconds()
	r, err := s.tokenScript.Run(ctx, s.client, []string{redisPrefix + "b:" + key},
		strconv.FormatFloat(b.Rate, 'g', -1, 64), b.Burst, now.UnixMicro(), ttl).Int64Slice()
	if err != nil {
		return Decision{}, unavailable(err)
	}
	if len(r) != 3 {
		return Decision{}, unavailable(errors.New("token script: unexpected reply"))
	}
	return Decision{Allowed: r[0] == 1, Remaining: r[1], RetryAfter: time.Duration(r[2]) * time.Microsecond}, nil
}

// Consume implements Store.
func (s *RedisStore) Consume(ctx context.Context, key string, q Quota, now time.Time, n int64) (QuotaDecision, error) {
	if err := validateConsume(q, n); err != nil {
		return QuotaDecision{}, err
	}
	w := q.Window(now)
	ttl := w.End.Add(quotaTTLMargin).Sub(now).Milliseconds()
	d := dayStart(now)
	dayTTL := historyExpiry(d).Sub(now).Milliseconds()
	r, err := s.consume.Run(ctx, s.client, []string{redisQuotaKey(key, w), redisHistoryKey(key, d)},
		n, w.Limit, ttl, dayTTL).Int64Slice()
	if err != nil {
		return QuotaDecision{}, unavailable(err)
	}
	if len(r) != 2 {
		return QuotaDecision{}, unavailable(errors.New("consume script: unexpected reply"))
	}
	return quotaDecision(r[0] == 1, r[1], w), nil
}

// redisMeterBucketKey names the bucket of a Meter call. It carries the
// quota's hash tag, so that one script may touch the bucket and the quota's
// counters on a Redis Cluster too; it is therefore not the bucket TakeToken
// names by the same key.
func redisMeterBucketKey(quotaKey, bucketKey string) string {
	return redisPrefix + "b:{" + quotaKey + "}:" + bucketKey
}

// Meter implements Store with one script.
func (s *RedisStore) Meter(ctx context.Context, m Metering, now time.Time) (Decision, QuotaDecision, error) {
	if err := m.validate(); err != nil {
		return Decision{}, QuotaDecision{}, err
	}
	w := m.Quota.Window(now)
	d := dayStart(now)
	args := []any{
		0, 0, 0, now.UnixMicro(), 0, w.Limit,
		w.End.Add(quotaTTLMargin).Sub(now).Milliseconds(), historyExpiry(d).Sub(now).Milliseconds(),
	}
	if b := m.Bucket; b != nil {
		args[0], args[1], args[2], args[4] = 1, strconv.FormatFloat(b.Rate, 'g', -1, 64), b.Burst, idleTTL(*b).Milliseconds()
	}
	keys := []string{
		redisMeterBucketKey(m.QuotaKey, m.BucketKey), redisQuotaKey(m.QuotaKey, w), redisHistoryKey(m.QuotaKey, d),
	}
	r, err := s.meter.Run(ctx, s.client, keys, args...).Int64Slice()
	if err != nil {
		return Decision{}, QuotaDecision{}, unavailable(err)
	}
	if len(r) != 5 {
		return Decision{}, QuotaDecision{}, unavailable(errors.New("meter script: unexpected reply"))
	}
	td := Decision{Allowed: r[0] == 1, Remaining: r[1], RetryAfter: time.Duration(r[2]) * time.Microsecond}
	if !td.Allowed {
		return td, QuotaDecision{Limit: w.Limit, Reset: w.End}, nil
	}
	return td, quotaDecision(r[3] == 1, r[4], w), nil
}

// Usage implements Store.
func (s *RedisStore) Usage(ctx context.Context, key string, q Quota, now time.Time) (QuotaDecision, error) {
	if err := q.Validate(); err != nil {
		return QuotaDecision{}, err
	}
	w := q.Window(now)
	used, err := s.client.Get(ctx, redisQuotaKey(key, w)).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return QuotaDecision{}, unavailable(err)
	}
	return quotaDecision(true, used, w), nil
}

// Reset implements Store.
func (s *RedisStore) Reset(ctx context.Context, key string, q Quota, now time.Time) error {
	if err := q.Validate(); err != nil {
		return err
	}
	if err := s.client.Del(ctx, redisQuotaKey(key, q.Window(now))).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Adjust implements Store.
func (s *RedisStore) Adjust(ctx context.Context, key string, q Quota, now time.Time, delta int64) (QuotaDecision, error) {
	if err := q.Validate(); err != nil {
		return QuotaDecision{}, err
	}
	w := q.Window(now)
	ttl := w.End.Add(quotaTTLMargin).Sub(now).Milliseconds()
	used, err := s.adjust.Run(ctx, s.client, []string{redisQuotaKey(key, w)}, delta, ttl).Int64()
	if err != nil {
		return QuotaDecision{}, unavailable(err)
	}
	return quotaDecision(true, used, w), nil
}

// History implements Store with one MGET: a key's day counters share a
// hash slot, so this holds on a Redis Cluster too. Redis expires old days
// by their TTL, in Redis's own time.
func (s *RedisStore) History(ctx context.Context, key string, from, to time.Time) ([]int64, error) {
	first, n, err := historyRange(from, to)
	if err != nil {
		return nil, err
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = redisHistoryKey(key, first.Add(time.Duration(i)*day))
	}
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	if len(vals) != n {
		return nil, unavailable(errors.New("history: unexpected MGET reply"))
	}
	counts := make([]int64, n)
	for i, v := range vals {
		if v == nil {
			continue
		}
		str, ok := v.(string)
		if !ok {
			return nil, unavailable(fmt.Errorf("history: day counter %q is %T", keys[i], v))
		}
		if counts[i], err = strconv.ParseInt(str, 10, 64); err != nil {
			return nil, unavailable(fmt.Errorf("history: day counter %q: %w", keys[i], err))
		}
	}
	return counts, nil
}
