package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/archway-gateway/archway/internal/testutil/testredis"
)

// stores builds each Store under test; every suite below runs against all.
var stores = map[string]func(t *testing.T) Store{
	"memory": func(*testing.T) Store { return NewMemoryStore() },
	"redis":  func(t *testing.T) Store { return NewRedisStore(testredis.Start(t).Client()) },
}

func forEachStore(t *testing.T, fn func(t *testing.T, s Store)) {
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) { fn(t, mk(t)) })
	}
}

func date(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, time.UTC)
}

type tokenStep struct {
	at   time.Duration // since t0
	want Decision
}

func TestStoreTakeToken(t *testing.T) {
	t0 := date(2024, 5, 1, 12, 0, 0)
	tests := map[string]struct {
		bucket Bucket
		steps  []tokenStep
	}{
		"burst then refill": {
			bucket: Bucket{Rate: 1, Burst: 3},
			steps: []tokenStep{
				{0, Decision{Allowed: true, Remaining: 2}},
				{0, Decision{Allowed: true, Remaining: 1}},
				{0, Decision{Allowed: true, Remaining: 0}},
				{0, Decision{RetryAfter: time.Second}},
				{500 * time.Millisecond, Decision{RetryAfter: 500 * time.Millisecond}},
				{time.Second, Decision{Allowed: true, Remaining: 0}},
				{1250 * time.Millisecond, Decision{RetryAfter: 750 * time.Millisecond}},
			},
		},
		"refill never exceeds burst": {
			bucket: Bucket{Rate: 100, Burst: 2},
			steps: []tokenStep{
				{0, Decision{Allowed: true, Remaining: 1}},
				{time.Hour, Decision{Allowed: true, Remaining: 1}},
				{time.Hour, Decision{Allowed: true, Remaining: 0}},
				{time.Hour, Decision{RetryAfter: 10 * time.Millisecond}},
			},
		},
		"fractional rate": {
			bucket: Bucket{Rate: 0.5, Burst: 1},
			steps: []tokenStep{
				{0, Decision{Allowed: true}},
				{time.Second, Decision{RetryAfter: time.Second}},
				{2 * time.Second, Decision{Allowed: true}},
			},
		},
		"zero burst throttles everything": {
			bucket: Bucket{Rate: 10, Burst: 0},
			steps: []tokenStep{
				{0, Decision{RetryAfter: 100 * time.Millisecond}},
				{time.Minute, Decision{RetryAfter: 100 * time.Millisecond}},
			},
		},
		"zero rate never refills": {
			bucket: Bucket{Rate: 0, Burst: 1},
			steps: []tokenStep{
				{0, Decision{Allowed: true}},
				{time.Hour, Decision{}},
			},
		},
		"clock going backwards does not refill": {
			bucket: Bucket{Rate: 1, Burst: 1},
			steps: []tokenStep{
				{10 * time.Second, Decision{Allowed: true}},
				{0, Decision{RetryAfter: time.Second}},
			},
		},
	}
	forEachStore(t, func(t *testing.T, s Store) {
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				for i, st := range tc.steps {
					got, err := s.TakeToken(t.Context(), name, tc.bucket, t0.Add(st.at))
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if got != st.want {
						t.Errorf("step %d at +%v: got %+v, want %+v", i, st.at, got, st.want)
					}
				}
			})
		}
	})
}

func TestStoreTakeTokenConcurrent(t *testing.T) {
	const goroutines, perGoroutine, burst = 32, 50, 100
	now := date(2024, 5, 1, 12, 0, 0)
	forEachStore(t, func(t *testing.T, s Store) {
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for range perGoroutine {
					d, err := s.TakeToken(t.Context(), "shared", Bucket{Rate: 0, Burst: burst}, now)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						admitted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if got := admitted.Load(); got != burst {
			t.Errorf("admitted %d of %d requests, want exactly %d", got, goroutines*perGoroutine, burst)
		}
	})
}

func TestStoreValidation(t *testing.T) {
	now := date(2024, 5, 1, 12, 0, 0)
	forEachStore(t, func(t *testing.T, s Store) {
		if _, err := s.TakeToken(t.Context(), "k", Bucket{Rate: -1, Burst: 1}, now); err == nil {
			t.Error("negative rate: want error")
		}
		if _, err := s.Consume(t.Context(), "k", Quota{Limit: 1, Period: "YEAR"}, now, 1); err == nil {
			t.Error("period YEAR: want error")
		}
		if _, err := s.Consume(t.Context(), "k", Quota{Limit: 1, Period: Day}, now, -1); err == nil {
			t.Error("negative n: want error")
		}
	})
}

func TestStoreUsageAndReset(t *testing.T) {
	q := Quota{Limit: 5, Period: Day}
	now := date(2024, 5, 1, 12, 0, 0)
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := t.Context()
		mustConsume(t, s, "k", q, now, 3)
		got, err := s.Usage(ctx, "k", q, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got.Used != 3 || got.Remaining != 2 {
			t.Errorf("usage: got %+v, want used 3 remaining 2", got)
		}
		if d := mustConsume(t, s, "k", q, now, 3); d.Allowed || d.Used != 3 {
			t.Errorf("consume 3 over limit: got %+v, want denied with used 3", d)
		}
		if err := s.Reset(ctx, "k", q, now); err != nil {
			t.Fatal(err)
		}
		if d := mustConsume(t, s, "k", q, now, 5); !d.Allowed || d.Remaining != 0 {
			t.Errorf("consume 5 after reset: got %+v, want allowed with 0 remaining", d)
		}
		if d, err := s.Adjust(ctx, "k", q, now, -2); err != nil || d.Used != 3 || d.Remaining != 2 {
			t.Errorf("adjust by -2: got %+v, %v; want used 3 remaining 2", d, err)
		}
		if d := mustConsume(t, s, "k", q, now, 2); !d.Allowed || d.Used != 5 {
			t.Errorf("consume 2 after adjust: got %+v, want allowed with 5 used", d)
		}
		if d, err := s.Adjust(ctx, "k", q, now, -100); err != nil || d.Used != 0 {
			t.Errorf("adjust by -100: got %+v, %v; want used clamped to 0", d, err)
		}
		if d, err := s.Adjust(ctx, "k", q, now, 9); err != nil || d.Used != 9 || d.Remaining != 0 {
			t.Errorf("adjust by +9: got %+v, %v; want used 9 remaining 0", d, err)
		}
		if got, _ := s.Usage(ctx, "other", q, now); got.Used != 0 {
			t.Errorf("usage of unknown key: got %+v, want 0 used", got)
		}
	})
}

func mustConsume(t *testing.T, s Store, key string, q Quota, now time.Time, n int64) QuotaDecision {
	t.Helper()
	d, err := s.Consume(t.Context(), key, q, now, n)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func benchmarkTakeToken(b *testing.B, s Store) {
	ctx := context.Background()
	bucket := Bucket{Rate: 1e9, Burst: 1 << 30}
	now := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.TakeToken(ctx, "bench", bucket, now); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkMemoryTakeToken(b *testing.B) { benchmarkTakeToken(b, NewMemoryStore()) }

func BenchmarkRedisTakeToken(b *testing.B) {
	benchmarkTakeToken(b, NewRedisStore(testredis.Start(b).Client()))
}
