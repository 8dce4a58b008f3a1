package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// memoryShards spreads keys over independent mutexes.
const memoryShards = 64

// sweepEvery is how many writes a shard takes between sweeps of expired entries.
const sweepEvery = 1024

// MemoryStore is a Store for a single Archway process. It starts no
// goroutines: idle entries are dropped lazily when their shard is written.
type MemoryStore struct {
	seed   maphash.Seed
	shards [memoryShards]memoryShard
}

type memoryShard struct {
	mu     sync.Mutex
	writes int
	// latest is the latest now any write to the shard gave; History, which
	// is given no now, treats entries expired by then as absent.
	latest time.Time
	items  map[string]*memoryEntry
}

// memoryEntry holds either a bucket, or a quota period's or a day's counter.
type memoryEntry struct {
	bucket  bucketState
	used    int64
	expires time.Time
}

// NewMemoryStore returns an empty in-process store.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].items = map[string]*memoryEntry{}
	}
	return s
}

func (s *MemoryStore) shard(key string) *memoryShard {
	return &s.shards[maphash.String(s.seed, key)%memoryShards]
}

// entry returns the live entry for key, creating it with init when it is
// missing or expired at now. The caller holds sh.mu.
func (sh *memoryShard) entry(key string, now time.Time, init func() *memoryEntry) *memoryEntry {
	sh.writes++
	if now.After(sh.latest) {
		sh.latest = now
	}
	if sh.writes%sweepEvery == 0 {
		sh.sweep(now)
	}
	e, ok := sh.items[key]
	if !ok || !now.Before(e.expires) {
		e = init()
		sh.items[key] = e
	}
	return e
}

func (sh *memoryShard) sweep(now time.Time) {
	for k, e := range sh.items {
		if !now.Before(e.expires) {
			delete(sh.items, k)
		}
	}
}

// Len returns the number of entries held, expired or not; for tests.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += len(s.shards[i].items)
		s.shards[i].mu.Unlock()
	}
	return n
}

// TakeToken implements Store.
func (s *MemoryStore) TakeToken(_ context.Context, key string, b Bucket, now time.Time) (Decision, error) {
	if err := b.Validate(); err != nil {
		return Decision{}, err
	}
	nowUs := now.UnixMicro()
	k := "b:" + key
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.entry(k, now, func() *memoryEntry {
		return &memoryEntry{bucket: bucketState{tokens: float64(b.Burst), lastUs: nowUs}}
	})
	var d Decision
	e.bucket, d = take(e.bucket, b, nowUs)
	e.expires = now.Add(idleTTL(b))
	return d, nil
}

// usageShard returns the shard that holds every quota period's counter and
// every day's history counter of key, so that Consume updates both under
// one lock.
func (s *MemoryStore) usageShard(key string) *memoryShard { return s.shard("q:" + key) }

// withPeriod runs f with the shard of key's counter for the quota period
// that holds now locked, passing f that counter, created if absent. A
// counter outlives its period by quotaTTLMargin, then the shard sweeps it.
func (s *MemoryStore) withPeriod(key string, q Quota, now time.Time, f func(sh *memoryShard, k string, e *memoryEntry, w Window)) {
	w := q.Window(now)
	k := "q:" + quotaKey(key, w)
	sh := s.usageShard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.entry(k, now, func() *memoryEntry {
		return &memoryEntry{expires: w.End.Add(quotaTTLMargin)}
	})
	f(sh, k, e, w)
}

// Consume implements Store.
func (s *MemoryStore) Consume(_ context.Context, key string, q Quota, now time.Time, n int64) (QuotaDecision, error) {
	if err := validateConsume(q, n); err != nil {
		return QuotaDecision{}, err
	}
	var d QuotaDecision
	s.withPeriod(key, q, now, func(sh *memoryShard, _ string, e *memoryEntry, w Window) {
		allowed := e.used+n <= w.Limit
		if allowed && n > 0 {
			e.used += n
			sh.countDay(key, now, n)
		}
		d = quotaDecision(allowed, e.used, w)
	})
	return d, nil
}

// Meter implements Store: a token, then the quota. The two are locked
// apart, which no caller can tell from one step: a request's token and
// count are its own, and concurrent requests each get theirs.
func (s *MemoryStore) Meter(ctx context.Context, m Metering, now time.Time) (Decision, QuotaDecision, error) {
	if err := m.validate(); err != nil {
		return Decision{}, QuotaDecision{}, err
	}
	td := Decision{Allowed: true}
	if m.Bucket != nil {
		td, _ = s.TakeToken(ctx, "m:"+m.QuotaKey+":"+m.BucketKey, *m.Bucket, now)
		if !td.Allowed {
			w := m.Quota.Window(now)
			return td, QuotaDecision{Limit: w.Limit, Reset: w.End}, nil
		}
	}
	qd, err := s.Consume(ctx, m.QuotaKey, m.Quota, now, 1)
	return td, qd, err
}

// Usage implements Store: it is Adjust by zero.
func (s *MemoryStore) Usage(ctx context.Context, key string, q Quota, now time.Time) (QuotaDecision, error) {
	return s.Adjust(ctx, key, q, now, 0)
}

// Reset implements Store.
func (s *MemoryStore) Reset(_ context.Context, key string, q Quota, now time.Time) error {
	if err := q.Validate(); err != nil {
		return err
	}
	s.withPeriod(key, q, now, func(sh *memoryShard, k string, _ *memoryEntry, _ Window) {
		delete(sh.items, k)
	})
	return nil
}

// Adjust implements Store.
func (s *MemoryStore) Adjust(_ context.Context, key string, q Quota, now time.Time, delta int64) (QuotaDecision, error) {
	if err := q.Validate(); err != nil {
		return QuotaDecision{}, err
	}
	var d QuotaDecision
	s.withPeriod(key, q, now, func(_ *memoryShard, _ string, e *memoryEntry, w Window) {
		e.used = max(e.used+delta, 0)
		d = quotaDecision(true, e.used, w)
	})
	return d, nil
}

// countDay adds n to the history counter of key for the UTC day holding
// now. The caller holds the lock of s.usageShard(key), which is sh.
func (sh *memoryShard) countDay(key string, now time.Time, n int64) {
	d := dayStart(now)
	e := sh.entry("h:"+historyKey(key, d), now, func() *memoryEntry {
		return &memoryEntry{expires: historyExpiry(d)}
	})
	e.used += n
}

// History implements Store. The memory store reads no clock: a day counts
// zero once it has expired at the latest time any caller wrote to the
// shard holding key.
func (s *MemoryStore) History(_ context.Context, key string, from, to time.Time) ([]int64, error) {
	first, n, err := historyRange(from, to)
	if err != nil {
		return nil, err
	}
	counts := make([]int64, n)
	sh := s.usageShard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i := range counts {
		e, ok := sh.items["h:"+historyKey(key, first.Add(time.Duration(i)*day))]
		if ok && sh.latest.Before(e.expires) {
			counts[i] = e.used
		}
	}
	return counts, nil
}
