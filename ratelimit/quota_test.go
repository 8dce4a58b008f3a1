package ratelimit

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/archway-gateway/archway/internal/testutil/testredis"
)

func TestQuotaWindow(t *testing.T) {
	tests := map[string]struct {
		q          Quota
		now        time.Time
		start, end time.Time
		limit      int64
	}{
		"day":                  {Quota{Limit: 9, Period: Day}, date(2024, 5, 1, 23, 59, 59), date(2024, 5, 1, 0, 0, 0), date(2024, 5, 2, 0, 0, 0), 9},
		"day in another zone":  {Quota{Limit: 9, Period: Day}, date(2024, 5, 1, 23, 0, 0).In(time.FixedZone("+02", 7200)), date(2024, 5, 1, 0, 0, 0), date(2024, 5, 2, 0, 0, 0), 9},
		"week from Sunday":     {Quota{Limit: 9, Period: Week}, date(2024, 1, 7, 23, 0, 0), date(2024, 1, 1, 0, 0, 0), date(2024, 1, 8, 0, 0, 0), 9},
		"week from Monday":     {Quota{Limit: 9, Period: Week}, date(2024, 1, 8, 0, 0, 0), date(2024, 1, 8, 0, 0, 0), date(2024, 1, 15, 0, 0, 0), 9},
		"week across new year": {Quota{Limit: 9, Period: Week}, date(2025, 12, 31, 8, 0, 0), date(2025, 12, 29, 0, 0, 0), date(2026, 1, 5, 0, 0, 0), 9},
		"month of 31 days":     {Quota{Limit: 9, Period: Month}, date(2023, 1, 31, 23, 0, 0), date(2023, 1, 1, 0, 0, 0), date(2023, 2, 1, 0, 0, 0), 9},
		"February":             {Quota{Limit: 9, Period: Month}, date(2023, 2, 28, 23, 0, 0), date(2023, 2, 1, 0, 0, 0), date(2023, 3, 1, 0, 0, 0), 9},
		"leap February":        {Quota{Limit: 9, Period: Month}, date(2024, 2, 29, 23, 0, 0), date(2024, 2, 1, 0, 0, 0), date(2024, 3, 1, 0, 0, 0), 9},
		"December":             {Quota{Limit: 9, Period: Month}, date(2023, 12, 31, 23, 59, 59), date(2023, 12, 1, 0, 0, 0), date(2024, 1, 1, 0, 0, 0), 9},
		"offset in initial period": {
			Quota{Limit: 10, Offset: 4, Period: Month, Start: date(2024, 2, 10, 0, 0, 0)},
			date(2024, 2, 29, 0, 0, 0), date(2024, 2, 1, 0, 0, 0), date(2024, 3, 1, 0, 0, 0), 6,
		},
		"offset not after initial period": {
			Quota{Limit: 10, Offset: 4, Period: Month, Start: date(2024, 2, 10, 0, 0, 0)},
			date(2024, 3, 1, 0, 0, 0), date(2024, 3, 1, 0, 0, 0), date(2024, 4, 1, 0, 0, 0), 10,
		},
		"offset above limit": {
			Quota{Limit: 10, Offset: 40, Period: Day, Start: date(2024, 2, 10, 1, 0, 0)},
			date(2024, 2, 10, 2, 0, 0), date(2024, 2, 10, 0, 0, 0), date(2024, 2, 11, 0, 0, 0), 0,
		},
		"offset without start": {
			Quota{Limit: 10, Offset: 4, Period: Day},
			date(2024, 2, 10, 2, 0, 0), date(2024, 2, 10, 0, 0, 0), date(2024, 2, 11, 0, 0, 0), 10,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := tc.q.Window(tc.now)
			if !w.Start.Equal(tc.start) || !w.End.Equal(tc.end) || w.Limit != tc.limit {
				t.Errorf("got [%v, %v) limit %d, want [%v, %v) limit %d", w.Start, w.End, w.Limit, tc.start, tc.end, tc.limit)
			}
		})
	}
}

type quotaStep struct {
	now  time.Time
	n    int64
	want QuotaDecision
}

func TestStoreConsume(t *testing.T) {
	tests := map[string]struct {
		q     Quota
		steps []quotaStep
	}{
		"day boundary": {
			q: Quota{Limit: 2, Period: Day},
			steps: []quotaStep{
				{date(2024, 3, 10, 0, 0, 0), 2, QuotaDecision{true, 2, 0, 2, date(2024, 3, 11, 0, 0, 0)}},
				{date(2024, 3, 10, 23, 59, 59), 1, QuotaDecision{false, 2, 0, 2, date(2024, 3, 11, 0, 0, 0)}},
				{date(2024, 3, 11, 0, 0, 0), 1, QuotaDecision{true, 1, 1, 2, date(2024, 3, 12, 0, 0, 0)}},
			},
		},
		"week starts Monday": {
			q: Quota{Limit: 1, Period: Week},
			steps: []quotaStep{
				{date(2024, 1, 1, 0, 0, 0), 1, QuotaDecision{true, 1, 0, 1, date(2024, 1, 8, 0, 0, 0)}},
				{date(2024, 1, 7, 23, 59, 59), 1, QuotaDecision{false, 1, 0, 1, date(2024, 1, 8, 0, 0, 0)}},
				{date(2024, 1, 8, 0, 0, 0), 1, QuotaDecision{true, 1, 0, 1, date(2024, 1, 15, 0, 0, 0)}},
			},
		},
		"January 31 to February": {
			q: Quota{Limit: 3, Period: Month},
			steps: []quotaStep{
				{date(2023, 1, 31, 23, 59, 59), 3, QuotaDecision{true, 3, 0, 3, date(2023, 2, 1, 0, 0, 0)}},
				{date(2023, 2, 1, 0, 0, 0), 1, QuotaDecision{true, 1, 2, 3, date(2023, 3, 1, 0, 0, 0)}},
				{date(2023, 2, 28, 23, 59, 59), 3, QuotaDecision{false, 1, 2, 3, date(2023, 3, 1, 0, 0, 0)}},
				{date(2023, 3, 1, 0, 0, 0), 3, QuotaDecision{true, 3, 0, 3, date(2023, 4, 1, 0, 0, 0)}},
			},
		},
		"February 29 in a leap year": {
			q: Quota{Limit: 1, Period: Day},
			steps: []quotaStep{
				{date(2024, 2, 28, 12, 0, 0), 1, QuotaDecision{true, 1, 0, 1, date(2024, 2, 29, 0, 0, 0)}},
				{date(2024, 2, 29, 12, 0, 0), 1, QuotaDecision{true, 1, 0, 1, date(2024, 3, 1, 0, 0, 0)}},
				{date(2024, 2, 29, 23, 0, 0), 1, QuotaDecision{false, 1, 0, 1, date(2024, 3, 1, 0, 0, 0)}},
				{date(2024, 3, 1, 0, 0, 0), 1, QuotaDecision{true, 1, 0, 1, date(2024, 3, 2, 0, 0, 0)}},
			},
		},
		"December to January": {
			q: Quota{Limit: 2, Period: Month},
			steps: []quotaStep{
				{date(2023, 12, 31, 23, 59, 59), 2, QuotaDecision{true, 2, 0, 2, date(2024, 1, 1, 0, 0, 0)}},
				{date(2023, 12, 31, 23, 59, 59), 1, QuotaDecision{false, 2, 0, 2, date(2024, 1, 1, 0, 0, 0)}},
				{date(2024, 1, 1, 0, 0, 0), 1, QuotaDecision{true, 1, 1, 2, date(2024, 2, 1, 0, 0, 0)}},
			},
		},
		"offset in the initial period only": {
			q: Quota{Limit: 10, Offset: 7, Period: Week, Start: date(2024, 1, 3, 9, 0, 0)},
			steps: []quotaStep{
				{date(2024, 1, 3, 9, 0, 0), 3, QuotaDecision{true, 3, 0, 3, date(2024, 1, 8, 0, 0, 0)}},
				{date(2024, 1, 7, 9, 0, 0), 1, QuotaDecision{false, 3, 0, 3, date(2024, 1, 8, 0, 0, 0)}},
				{date(2024, 1, 8, 0, 0, 0), 10, QuotaDecision{true, 10, 0, 10, date(2024, 1, 15, 0, 0, 0)}},
			},
		},
		"partial fit counts nothing": {
			q: Quota{Limit: 5, Period: Day},
			steps: []quotaStep{
				{date(2024, 6, 1, 0, 0, 0), 4, QuotaDecision{true, 4, 1, 5, date(2024, 6, 2, 0, 0, 0)}},
				{date(2024, 6, 1, 1, 0, 0), 2, QuotaDecision{false, 4, 1, 5, date(2024, 6, 2, 0, 0, 0)}},
				{date(2024, 6, 1, 2, 0, 0), 1, QuotaDecision{true, 5, 0, 5, date(2024, 6, 2, 0, 0, 0)}},
			},
		},
	}
	forEachStore(t, func(t *testing.T, s Store) {
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				for i, st := range tc.steps {
					got := mustConsume(t, s, name, tc.q, st.now, st.n)
					if got.Allowed != st.want.Allowed || got.Used != st.want.Used || got.Remaining != st.want.Remaining ||
						got.Limit != st.want.Limit || !got.Reset.Equal(st.want.Reset) {
						t.Errorf("step %d at %v: got %+v, want %+v", i, st.now, got, st.want)
					}
				}
			})
		}
	})
}

func TestRedisStoresShareQuota(t *testing.T) {
	srv := testredis.Start(t)
	a, b := NewRedisStore(srv.Client()), NewRedisStore(srv.Client())
	q := Quota{Limit: 10, Period: Day}
	now := date(2024, 5, 1, 12, 0, 0)
	admitted := 0
	for i := range 30 {
		s := a
		if i%2 == 1 {
			s = b
		}
		if mustConsume(t, s, "plan:key", q, now, 1).Allowed {
			admitted++
		}
	}
	if admitted != 10 {
		t.Errorf("two stores admitted %d requests, want 10 in total", admitted)
	}
	for name, s := range map[string]Store{"a": a, "b": b} {
		if d, err := s.Usage(t.Context(), "plan:key", q, now); err != nil || d.Used != 10 {
			t.Errorf("store %s usage: got %+v, %v; want 10 used", name, d, err)
		}
	}
}

func TestRedisStoppedThenRestarted(t *testing.T) {
	srv := testredis.Start(t)
	s := NewRedisStore(srv.Client())
	q := Quota{Limit: 5, Period: Day}
	b := Bucket{Rate: 1, Burst: 5}
	now := date(2024, 5, 1, 12, 0, 0)
	mustConsume(t, s, "k", q, now, 1)

	srv.Stop()
	if _, err := s.Consume(t.Context(), "k", q, now, 1); !errors.Is(err, ErrStoreUnavailable) {
		t.Errorf("consume with Redis stopped: got %v, want ErrStoreUnavailable", err)
	}
	if _, err := s.TakeToken(t.Context(), "k", b, now); !errors.Is(err, ErrStoreUnavailable) {
		t.Errorf("take token with Redis stopped: got %v, want ErrStoreUnavailable", err)
	}
	if _, err := s.Usage(t.Context(), "k", q, now); !errors.Is(err, ErrStoreUnavailable) {
		t.Errorf("usage with Redis stopped: got %v, want ErrStoreUnavailable", err)
	}

	srv.Restart() // No persistence: counting starts over.
	var d QuotaDecision
	var err error
	for range 50 { // The pool redials; allow it a moment.
		if d, err = s.Consume(t.Context(), "k", q, now, 1); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || !d.Allowed || d.Used != 1 {
		t.Fatalf("consume after restart: got %+v, %v; want allowed with 1 used", d, err)
	}
	if d := mustConsume(t, s, "k", q, now, 1); d.Used != 2 {
		t.Errorf("second consume after restart: got %+v, want 2 used", d)
	}
	if td, err := s.TakeToken(t.Context(), "k", b, now); err != nil || !td.Allowed {
		t.Errorf("take token after restart: got %+v, %v; want allowed", td, err)
	}
}

func TestMemoryStoreDropsIdleEntries(t *testing.T) {
	s := NewMemoryStore()
	now := date(2024, 5, 1, 12, 0, 0)
	q := Quota{Limit: 1, Period: Day}
	for i := range 2000 {
		mustConsume(t, s, string(rune('a'+i%26))+string(rune(i)), q, now, 1)
	}
	before := s.Len()
	// Write one live key per shard, often enough that every shard sweeps,
	// once the quota periods and the daily history have both expired.
	later := historyExpiry(dayStart(now))
	perShard := map[*memoryShard]string{}
	for i := 0; len(perShard) < memoryShards; i++ {
		k := "fresh" + strconv.Itoa(i)
		perShard[s.usageShard(k)] = k
	}
	for range sweepEvery {
		for _, k := range perShard {
			mustConsume(t, s, k, q, later, 0)
		}
	}
	if after := s.Len(); after != memoryShards {
		t.Errorf("entries: %d before, %d after every shard swept; want only the %d fresh ones", before, after, memoryShards)
	}
}
