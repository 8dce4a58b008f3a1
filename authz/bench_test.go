package authz

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/ratelimit"
)

// BenchmarkCheck measures Check in process, without gRPC, for a key that is
// admitted after both a throttle and a quota were metered in memory: the
// most expensive path of a request that gets through.
func BenchmarkCheck(b *testing.B) {
	cfg := fixture(b, 1)
	plan := &model.UsagePlan{
		ID: "bench", Throttle: &model.Throttle{Rate: 1e12, Burst: 1 << 40},
		Quota:  &model.Quota{Limit: 1 << 40, Period: model.QuotaMonth},
		Stages: map[string]*model.PlanStage{"a1/prod": {}},
	}
	key := &model.APIKey{ID: "bench", Enabled: true, Hash: sha256.Sum256([]byte(valueGold)), Plans: []*model.UsagePlan{plan}}
	cfg.Keys = model.NewKeys([]*model.APIKey{key})
	clock := newClock()
	s := New(Options{Config: func() *model.Config { return cfg }, Store: ratelimit.NewMemoryStore(), Now: clock.Now})
	req := call{api: "a1", stage: "prod", route: "rget", key: valueGold}.request()
	ctx := context.Background()
	resp, err := s.Check(ctx, req)
	if err != nil {
		b.Fatal(err)
	}
	if r := decodeResult(b, resp); r.Status != 200 {
		b.Fatalf("status %d, want 200", r.Status)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Check(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
