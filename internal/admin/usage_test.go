package admin

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/ratelimit"
)

// setClock is a clock the test moves by hand.
type setClock struct{ unixNano atomic.Int64 }

func (c *setClock) set(t time.Time)             { c.unixNano.Store(t.UnixNano()) }
func (c *setClock) now() time.Time              { return time.Unix(0, c.unixNano.Load()).UTC() }
func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

// wantDays fails the test unless the usage holds exactly the days, as
// {date, used, remaining}.
func wantDays(t *testing.T, ku *adminv1.KeyUsage, want ...[3]any) {
	t.Helper()
	var got [][3]any
	for _, d := range ku.GetDays() {
		got = append(got, [3]any{d.GetDate(), d.GetUsed(), d.GetRemaining()})
	}
	if !slices.Equal(got, want) {
		t.Fatalf("days of key %s = %v, want %v", ku.GetKeyId(), got, want)
	}
}

func TestUsageAcrossAPeriod(t *testing.T) {
	clock := &setClock{}
	clock.set(date(2029, 12, 20)) // The plan, and its quota, start in an earlier week.
	counters := ratelimit.NewMemoryStore()
	e := newEnvWith(t, Options{Now: clock.now, Usage: counters})
	plan, err := e.CreateUsagePlan(e.ctx, &adminv1.CreateUsagePlanRequest{UsagePlan: &adminv1.UsagePlan{
		Name: "weekly", Quota: &adminv1.QuotaSettings{Limit: 100, Offset: 40, Period: adminv1.QuotaSettings_PERIOD_WEEK},
	}})
	if err != nil {
		t.Fatal(err)
	}
	free := e.mustPlan(t, "free")
	k, other := e.mustKey(t, "k", ""), e.mustKey(t, "other", "")
	e.mustLink(t, plan.GetId(), k.GetId())
	e.mustLink(t, free.GetId(), k.GetId())

	// What ext_authz would count: 2030-01-01 is a Tuesday, so the week
	// turns between the Sunday and the Monday.
	q := ratelimit.Quota{Limit: 100, Offset: 40, Period: ratelimit.Week, Start: plan.GetQuotaStartTime().AsTime()}
	for _, c := range []struct {
		at time.Time
		n  int64
	}{{date(2029, 12, 30), 5}, {date(2029, 12, 31), 10}, {date(2030, 1, 1), 20}, {date(2030, 1, 2), 1}} {
		for _, p := range []string{plan.GetId(), free.GetId()} {
			quota := q
			if p == free.GetId() {
				quota = ratelimit.Quota{Limit: ratelimit.Unlimited, Period: ratelimit.Day}
			}
			if _, err := counters.Consume(context.Background(), ratelimit.UsageKey(p, k.GetId()), quota, c.at, c.n); err != nil {
				t.Fatal(err)
			}
		}
	}
	clock.set(date(2030, 1, 2))
	resp, err := e.GetUsage(e.ctx, &adminv1.GetUsageRequest{UsagePlanId: plan.GetId(), StartDate: "2029-12-30", EndDate: "2030-01-02"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetItems()) != 1 {
		t.Fatalf("GetUsage items = %v", resp.GetItems())
	}
	wantDays(t, resp.GetItems()[0],
		[3]any{"2029-12-30", int64(5), int64(95)}, [3]any{"2029-12-31", int64(10), int64(90)},
		[3]any{"2030-01-01", int64(20), int64(70)}, [3]any{"2030-01-02", int64(1), int64(69)})

	free1, err := e.GetUsage(e.ctx, &adminv1.GetUsageRequest{UsagePlanId: free.GetId(), KeyId: k.GetId(), StartDate: "2030-01-01", EndDate: "2030-01-02"})
	if err != nil {
		t.Fatal(err)
	}
	wantDays(t, free1.GetItems()[0], [3]any{"2030-01-01", int64(20), int64(-1)}, [3]any{"2030-01-02", int64(1), int64(-1)})
	_, err = e.GetUsage(e.ctx, &adminv1.GetUsageRequest{UsagePlanId: plan.GetId(), KeyId: other.GetId(), StartDate: "2030-01-01", EndDate: "2030-01-01"})
	wantCode(t, err, codes.NotFound)

	for name, tc := range map[string]struct {
		req  *adminv1.UpdateUsageRequest
		want int64
	}{
		"remaining": {&adminv1.UpdateUsageRequest{Change: &adminv1.UpdateUsageRequest_Remaining{Remaining: 50}}, 50},
		"adjust":    {&adminv1.UpdateUsageRequest{Change: &adminv1.UpdateUsageRequest_Adjust{Adjust: 10}}, 40},
		"grant":     {&adminv1.UpdateUsageRequest{Change: &adminv1.UpdateUsageRequest_Adjust{Adjust: -15}}, 65},
		"reset":     {&adminv1.UpdateUsageRequest{Change: &adminv1.UpdateUsageRequest_Reset_{Reset_: true}}, 100},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := e.UpdateUsage(e.ctx, &adminv1.UpdateUsageRequest{
				UsagePlanId: plan.GetId(), KeyId: k.GetId(), Change: &adminv1.UpdateUsageRequest_Reset_{Reset_: true},
			}); err != nil {
				t.Fatal(err)
			}
			if name != "reset" {
				if _, err := e.UpdateUsage(e.ctx, &adminv1.UpdateUsageRequest{
					UsagePlanId: plan.GetId(), KeyId: k.GetId(), Change: &adminv1.UpdateUsageRequest_Remaining{Remaining: 50},
				}); err != nil {
					t.Fatal(err)
				}
			}
			tc.req.UsagePlanId, tc.req.KeyId = plan.GetId(), k.GetId()
			ku, err := e.UpdateUsage(e.ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			wantDays(t, ku, [3]any{"2030-01-02", int64(1), tc.want})
		})
	}
}

func TestUsageRefusals(t *testing.T) {
	clock := &setClock{}
	clock.set(date(2030, 6, 15))
	e := newEnvWith(t, Options{Now: clock.now, Usage: ratelimit.NewMemoryStore()})
	plan := e.mustPlan(t, "free")
	k := e.mustKey(t, "k", "")
	e.mustLink(t, plan.GetId(), k.GetId())
	tests := violationCases{
		"bad dates": {func() error {
			_, err := e.GetUsage(e.ctx, &adminv1.GetUsageRequest{UsagePlanId: plan.GetId(), StartDate: "2030-6-1", EndDate: "tomorrow"})
			return err
		}, []string{"start_date", "end_date"}},
		"reversed": {func() error {
			_, err := e.GetUsage(e.ctx, &adminv1.GetUsageRequest{UsagePlanId: plan.GetId(), StartDate: "2030-06-10", EndDate: "2030-06-09"})
			return err
		}, []string{"end_date"}},
		"too long, too old, in the future": {func() error {
			_, err := e.GetUsage(e.ctx, &adminv1.GetUsageRequest{UsagePlanId: plan.GetId(), StartDate: "2030-03-01", EndDate: "2030-06-16"})
			return err
		}, []string{"end_date", "start_date", "end_date"}},
		"no change": {func() error {
			_, err := e.UpdateUsage(e.ctx, &adminv1.UpdateUsageRequest{UsagePlanId: plan.GetId(), KeyId: k.GetId()})
			return err
		}, []string{"change"}},
		"reset false, bad ids": {func() error {
			_, err := e.UpdateUsage(e.ctx, &adminv1.UpdateUsageRequest{KeyId: "x", Change: &adminv1.UpdateUsageRequest_Reset_{}})
			return err
		}, []string{"usage_plan_id", "key_id", "reset"}},
		"remaining without a quota": {func() error {
			_, err := e.UpdateUsage(e.ctx, &adminv1.UpdateUsageRequest{
				UsagePlanId: plan.GetId(), KeyId: k.GetId(), Change: &adminv1.UpdateUsageRequest_Remaining{Remaining: 5},
			})
			return err
		}, []string{"remaining"}},
	}
	tests.run(t, e)
	// 90 days up to today are fine.
	if _, err := e.GetUsage(e.ctx, &adminv1.GetUsageRequest{UsagePlanId: plan.GetId(), StartDate: "2030-03-18", EndDate: "2030-06-15"}); err != nil {
		t.Fatal(err)
	}

	bare := newEnv(t)
	_, err := bare.GetUsage(bare.ctx, &adminv1.GetUsageRequest{UsagePlanId: plan.GetId(), StartDate: "2030-01-01", EndDate: "2030-01-01"})
	wantPrecondition(t, err, failureNotConfigured)
	_, err = bare.UpdateUsage(bare.ctx, &adminv1.UpdateUsageRequest{
		UsagePlanId: plan.GetId(), KeyId: k.GetId(), Change: &adminv1.UpdateUsageRequest_Adjust{Adjust: 1},
	})
	wantPrecondition(t, err, failureNotConfigured)
}
