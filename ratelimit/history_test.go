package ratelimit

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/archway-gateway/archway/internal/testutil/testredis"
	"github.com/redis/go-redis/v9"
)

// historyStep is one store call of a history scenario.
type historyStep struct {
	op  string // "consume", "adjust" or "reset"
	key string // within the scenario; History reads "k"
	at  time.Time
	q   Quota
	n   int64
}

func TestStoreHistory(t *testing.T) {
	day1 := Quota{Limit: 10, Period: Day}
	week := Quota{Limit: 10, Period: Week}
	plus2 := time.FixedZone("+02", 2*3600)
	tests := map[string]struct {
		steps    []historyStep
		from, to time.Time
		want     []int64
	}{
		"across UTC midnight": {
			steps: []historyStep{
				{"consume", "k", date(2024, 5, 1, 23, 59, 59), day1, 2},
				{"consume", "k", date(2024, 5, 2, 0, 0, 0), day1, 3},
				{"consume", "k", date(2024, 5, 2, 0, 0, 1), day1, 1},
			},
			from: date(2024, 5, 1, 12, 0, 0), to: date(2024, 5, 2, 12, 0, 0),
			want: []int64{2, 4},
		},
		"days are UTC whatever the zone of from and to": {
			steps: []historyStep{
				{"consume", "k", date(2024, 5, 1, 23, 0, 0), day1, 1},
				{"consume", "k", date(2024, 5, 2, 1, 0, 0), day1, 1},
			},
			from: date(2024, 5, 2, 1, 0, 0).In(plus2), to: date(2024, 5, 2, 1, 0, 0).In(plus2),
			want: []int64{1},
		},
		"only admitted requests count": {
			steps: []historyStep{
				{"consume", "k", date(2024, 5, 1, 9, 0, 0), day1, 8},
				{"consume", "k", date(2024, 5, 1, 10, 0, 0), day1, 3},
				{"consume", "k", date(2024, 5, 1, 11, 0, 0), day1, 0},
				{"consume", "k", date(2024, 5, 1, 12, 0, 0), day1, 2},
			},
			from: date(2024, 5, 1, 0, 0, 0), to: date(2024, 5, 1, 0, 0, 0),
			want: []int64{10},
		},
		"a weekly quota is kept per day": {
			steps: []historyStep{
				{"consume", "k", date(2024, 5, 6, 9, 0, 0), week, 4}, // Monday
				{"consume", "k", date(2024, 5, 8, 9, 0, 0), week, 5},
				{"consume", "k", date(2024, 5, 9, 9, 0, 0), week, 5},  // over the week's 10
				{"consume", "k", date(2024, 5, 13, 9, 0, 0), week, 7}, // next week
			},
			from: date(2024, 5, 5, 0, 0, 0), to: date(2024, 5, 13, 0, 0, 0),
			want: []int64{0, 4, 0, 5, 0, 0, 0, 0, 7},
		},
		"adjust and reset leave history alone": {
			steps: []historyStep{
				{"consume", "k", date(2024, 5, 1, 9, 0, 0), day1, 10},
				{"adjust", "k", date(2024, 5, 1, 10, 0, 0), day1, -4},
				{"consume", "k", date(2024, 5, 1, 11, 0, 0), day1, 4},
				{"reset", "k", date(2024, 5, 1, 12, 0, 0), day1, 0},
				{"consume", "k", date(2024, 5, 1, 13, 0, 0), day1, 1},
			},
			from: date(2024, 5, 1, 0, 0, 0), to: date(2024, 5, 1, 23, 0, 0),
			want: []int64{15},
		},
		"an unlimited quota still counts": {
			steps: []historyStep{
				{"consume", "k", date(2024, 5, 1, 9, 0, 0), Quota{Limit: Unlimited, Period: Day}, 1 << 40},
				{"consume", "k", date(2024, 5, 1, 9, 0, 0), Quota{Limit: Unlimited, Period: Day}, 1},
			},
			from: date(2024, 5, 1, 0, 0, 0), to: date(2024, 5, 1, 0, 0, 0),
			want: []int64{1<<40 + 1},
		},
		"keys are separate": {
			steps: []historyStep{
				{"consume", "k", date(2024, 5, 1, 9, 0, 0), day1, 1},
				{"consume", "other", date(2024, 5, 1, 9, 0, 0), day1, 2},
			},
			from: date(2024, 5, 1, 0, 0, 0), to: date(2024, 5, 1, 0, 0, 0),
			want: []int64{1},
		},
	}
	forEachStore(t, func(t *testing.T, s Store) {
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				// Scenarios share the store, so their keys start with their names.
				for i, st := range tc.steps {
					if err := runHistoryStep(t.Context(), s, name+"/"+st.key, st); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				}
				got, err := s.History(t.Context(), name+"/k", tc.from, tc.to)
				if err != nil {
					t.Fatal(err)
				}
				if !equalCounts(got, tc.want) {
					t.Errorf("History: got %v, want %v", got, tc.want)
				}
			})
		}
	})
}

func runHistoryStep(ctx context.Context, s Store, key string, st historyStep) error {
	var err error
	switch st.op {
	case "consume":
		_, err = s.Consume(ctx, key, st.q, st.at, st.n)
	case "adjust":
		_, err = s.Adjust(ctx, key, st.q, st.at, st.n)
	case "reset":
		err = s.Reset(ctx, key, st.q, st.at)
	default:
		panic("unknown op " + st.op)
	}
	return err
}

func equalCounts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStoreHistoryRange(t *testing.T) {
	now := date(2024, 5, 1, 12, 0, 0)
	q := Quota{Limit: Unlimited, Period: Day}
	forEachStore(t, func(t *testing.T, s Store) {
		ctx := t.Context()
		if _, err := s.History(ctx, "k", now, now.Add(-time.Second)); err == nil {
			t.Error("from after to: want an error")
		}
		mustConsume(t, s, "k", q, now, 3)
		mustConsume(t, s, "k", q, now.Add(-HistoryDays*day), 2)
		mustConsume(t, s, "k", q, now.Add(-(HistoryDays+1)*day), 1)
		got, err := s.History(ctx, "k", now.AddDate(-10, 0, 0), now)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != HistoryDays+1 || got[0] != 2 || got[HistoryDays] != 3 {
			t.Errorf("ten years of history: got %d days, first %d, last %d; want %d days, the oldest kept (2) first and today (3) last",
				len(got), got[0], got[len(got)-1], HistoryDays+1)
		}
	})
}

func TestMemoryHistoryForgetsOldDays(t *testing.T) {
	s := NewMemoryStore()
	q := Quota{Limit: Unlimited, Period: Day}
	day0 := date(2024, 5, 1, 12, 0, 0)
	mustConsume(t, s, "k", q, day0, 1)
	mustConsume(t, s, "k", q, day0.Add(HistoryDays*day), 1)
	if got, _ := s.History(t.Context(), "k", day0, day0); !equalCounts(got, []int64{1}) {
		t.Errorf("day 0 seen %d days later: got %v, want [1]", HistoryDays, got)
	}
	mustConsume(t, s, "k", q, day0.Add((HistoryDays+1)*day), 1)
	if got, _ := s.History(t.Context(), "k", day0, day0); !equalCounts(got, []int64{0}) {
		t.Errorf("day 0 seen %d days later: got %v, want [0]", HistoryDays+1, got)
	}
}

func TestRedisHistoryExpiry(t *testing.T) {
	srv := testredis.Start(t)
	c := srv.Client()
	s := NewRedisStore(c)
	now := date(2024, 5, 1, 18, 0, 0)
	mustConsume(t, s, "k", Quota{Limit: 5, Period: Day}, now, 1)
	ttl, err := c.PTTL(t.Context(), redisHistoryKey("k", dayStart(now))).Result()
	if err != nil {
		t.Fatal(err)
	}
	// The day ends HistoryDays+1 days after it began; 18 h of it are gone.
	want := (HistoryDays+1)*day - 18*time.Hour
	if ttl > want || ttl < want-time.Minute {
		t.Errorf("day counter TTL: got %v, want about %v", ttl, want)
	}
}

// commandCounter counts the commands a Redis client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

func TestRedisOneRoundTripPerCall(t *testing.T) {
	c := testredis.Start(t).Client()
	var counter commandCounter
	c.AddHook(&counter)
	s := NewRedisStore(c)
	now := date(2024, 5, 1, 12, 0, 0)
	q := Quota{Limit: 100, Period: Week}
	mustConsume(t, s, "k", q, now, 1) // Loads the script (EVALSHA, then EVAL).
	calls := map[string]func() error{
		"consume": func() error { _, err := s.Consume(t.Context(), "k", q, now, 1); return err },
		"history": func() error { _, err := s.History(t.Context(), "k", now.Add(-30*day), now); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			before := counter.n.Load()
			if err := call(); err != nil {
				t.Fatal(err)
			}
			if got := counter.n.Load() - before; got != 1 {
				t.Errorf("round trips: got %d, want 1", got)
			}
		})
	}
}
