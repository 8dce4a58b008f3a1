package ratelimit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestStoreMeter checks a usage plan's one-step decision on both stores:
// a refused token leaves the quota alone; a granted one counts, until the
// quota refuses; the daily history counts what the quota admitted; and
// without a bucket only the quota decides.
func TestStoreMeter(t *testing.T) {
	t0 := date(2024, 5, 1, 12, 0, 0)
	bucket := &Bucket{Rate: 1, Burst: 2}
	quota := Quota{Limit: 3, Period: Day}
	type step struct {
		at         time.Duration
		wantToken  bool
		wantQuota  bool
		wantUsed   int64
		wantTokens int64
	}
	tests := map[string]struct {
		bucket *Bucket
		steps  []step
		// history is what History reports for t0's day at the end.
		history int64
	}{
		"bucket then quota": {bucket, []step{
			{0, true, true, 1, 1},
			{0, true, true, 2, 0},
			{0, false, false, 0, 0}, // throttled: not counted
			{time.Second, true, true, 3, 0},
			{3 * time.Second, true, false, 3, 1}, // a token, but the quota is spent
		}, 3},
		"quota alone": {nil, []step{
			{0, true, true, 1, 0},
			{0, true, true, 2, 0},
			{0, true, true, 3, 0},
			{0, true, false, 3, 0},
		}, 3},
	}
	forEachStore(t, func(t *testing.T, s Store) {
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				m := Metering{BucketKey: "k", Bucket: tc.bucket, QuotaKey: "meter:" + name, Quota: quota}
				for i, st := range tc.steps {
					td, qd, err := s.Meter(t.Context(), m, t0.Add(st.at))
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if td.Allowed != st.wantToken || qd.Allowed != st.wantQuota || td.Allowed && qd.Used != st.wantUsed ||
						td.Remaining != st.wantTokens {
						t.Errorf("step %d: token %+v, quota %+v; want token %v (%d left), quota %v (used %d)",
							i, td, qd, st.wantToken, st.wantTokens, st.wantQuota, st.wantUsed)
					}
					if qd.Limit != quota.Limit || !qd.Reset.Equal(date(2024, 5, 2, 0, 0, 0)) {
						t.Errorf("step %d: quota limit %d reset %v, want the period's", i, qd.Limit, qd.Reset)
					}
				}
				h, err := s.History(t.Context(), m.QuotaKey, t0, t0)
				if err != nil || len(h) != 1 || h[0] != tc.history {
					t.Errorf("history = %v, %v; want [%d]", h, err, tc.history)
				}
			})
		}
		t.Run("invalid bucket", func(t *testing.T) {
			if _, _, err := s.Meter(t.Context(), Metering{Bucket: &Bucket{Rate: -1}, QuotaKey: "x", Quota: quota}, t0); err == nil {
				t.Error("a negative rate was accepted")
			}
		})
	})
}

// TestStoreMeterConcurrent checks that concurrent decisions never admit
// more than the bucket's burst, nor count more than they admit.
func TestStoreMeterConcurrent(t *testing.T) {
	now := date(2024, 5, 1, 12, 0, 0)
	m := Metering{BucketKey: "k", Bucket: &Bucket{Rate: 0, Burst: 25}, QuotaKey: "concurrent", Quota: Quota{Limit: 1000, Period: Day}}
	forEachStore(t, func(t *testing.T, s Store) {
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				for range 10 {
					td, qd, err := s.Meter(t.Context(), m, now)
					if err != nil {
						t.Error(err)
						return
					}
					if td.Allowed && qd.Allowed {
						admitted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		usage, err := s.Usage(t.Context(), m.QuotaKey, m.Quota, now)
		if err != nil {
			t.Fatal(err)
		}
		if admitted.Load() != 25 || usage.Used != 25 {
			t.Errorf("admitted %d, counted %d; want the burst, 25, both", admitted.Load(), usage.Used)
		}
	})
}
