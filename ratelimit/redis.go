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

// tokenScriptSource refills and takes one token atomically. State is a hash
// {t = tokens, l = last refill in Unix microseconds}; the caller's clock is
// ARGV[3], so every process and every test decides with the same time. It
// mirrors take in bucket.go.
//
// KEYS[1] bucket key; ARGV: rate (tokens/s), burst, now (µs), ttl (ms).
// Returns {allowed, remaining whole tokens, retry after (µs)}.
const tokenScriptSource = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local st = redis.call('HMGET', KEYS[1], 't', 'l')
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
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'l', string.format('%d', last))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {allowed, math.floor(tokens), retry}
`

// consumeScriptSource counts n requests if they fit under the limit, and
// adds the n it admits to the counter of the current UTC day, so that the
// daily history never disagrees with the quota.
//
// KEYS[1] period counter, KEYS[2] day counter (same hash slot);
// ARGV: n, limit, period ttl (ms), day ttl (ms). Returns {allowed, used}.
const consumeScriptSource = `
local n = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + n > tonumber(ARGV[2]) then
  return {0, used}
end
used = redis.call('INCRBY', KEYS[1], n)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if n > 0 then
  redis.call('INCRBY', KEYS[2], n)
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return {1, used}
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
	client                       redis.UniversalClient
	tokenScript, consume, adjust *redis.Script
}

// NewRedisStore returns a store on client. The client's own options decide
// timeouts and retries.
func NewRedisStore(client redis.UniversalClient) *RedisStore {
	return &RedisStore{
		client:      client,
		tokenScript: redis.NewScript(tokenScriptSource),
		consume:     redis.NewScript(consumeScriptSource),
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
