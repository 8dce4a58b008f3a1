package admin

import (
	"context"
	"errors"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/ratelimit"
)

// Usage reports are per UTC day, as AWS's GetUsage.
const (
	dateLayout = "2006-01-02"
	// maxUsageDays is the longest range one GetUsage reports.
	maxUsageDays = 90
	day          = 24 * time.Hour
)

// errNoMetering is the answer of the usage calls on a server without a
// counter store.
func errNoMetering() error {
	return failedPrecondition(failureNotConfigured, "usage", "usage metering is not configured")
}

// planQuota returns the quota the data plane counts a plan's keys under,
// and whether the plan has one. A plan without a quota is still counted,
// against a limit never reached, so that its daily use is known.
func planQuota(p *adminv1.UsagePlan) (ratelimit.Quota, bool) {
	pq := p.GetQuota()
	if pq == nil {
		return ratelimit.Quota{Limit: ratelimit.Unlimited, Period: ratelimit.Day}, false
	}
	q := ratelimit.Quota{Limit: pq.GetLimit(), Offset: pq.GetOffset(), Period: ratelimit.Day}
	switch pq.GetPeriod() {
	case adminv1.QuotaSettings_PERIOD_WEEK:
		q.Period = ratelimit.Week
	case adminv1.QuotaSettings_PERIOD_MONTH:
		q.Period = ratelimit.Month
	}
	if ts := p.GetQuotaStartTime(); ts != nil {
		q.Start = ts.AsTime()
	}
	return q, true
}

// dayOf returns 00:00 UTC of the day that holds t.
func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// usageDates checks a GetUsage range against today: at most maxUsageDays
// days, none after today, none older than the counter stores keep.
func (v *violations) usageDates(start, end string, today time.Time) (from, to time.Time) {
	from, errFrom := time.Parse(dateLayout, start)
	to, errTo := time.Parse(dateLayout, end)
	for _, bad := range []struct {
		field, value string
		err          error
	}{{"start_date", start, errFrom}, {"end_date", end, errTo}} {
		if bad.err != nil {
			v.add(bad.field, "must be a date YYYY-MM-DD, got %q", bad.value)
		}
	}
	if errFrom != nil || errTo != nil {
		return from, to
	}
	oldest := today.AddDate(0, 0, -ratelimit.HistoryDays)
	switch n := int(to.Sub(from)/day) + 1; {
	case to.Before(from):
		v.add("end_date", "must not be before start_date %s", start)
	case n > maxUsageDays:
		v.add("end_date", "at most %d days may be reported at once, got %d", maxUsageDays, n)
	}
	if from.Before(oldest) {
		v.add("start_date", "usage is kept for %d days: must be %s or later", ratelimit.HistoryDays, oldest.Format(dateLayout))
	}
	if to.After(today) {
		v.add("end_date", "must not be after today, %s", today.Format(dateLayout))
	}
	return from, to
}

// GetUsage reports the daily use of a plan's quota by its keys, or by one
// of them.
func (s *Server) GetUsage(ctx context.Context, req *adminv1.GetUsageRequest) (*adminv1.GetUsageResponse, error) {
	v := newViolations(req)
	v.id("usage_plan_id", req.GetUsagePlanId())
	if req.GetKeyId() != "" {
		v.id("key_id", req.GetKeyId())
	}
	now := s.now()
	from, to := v.usageDates(req.GetStartDate(), req.GetEndDate(), dayOf(now))
	plan, keys, err := s.meteredPlan(ctx, v, req.GetUsagePlanId(), req.GetKeyId())
	if err != nil {
		return nil, err
	}
	resp := &adminv1.GetUsageResponse{UsagePlanId: plan.GetId(), StartDate: req.GetStartDate(), EndDate: req.GetEndDate()}
	for _, k := range keys {
		ku, err := s.keyUsage(ctx, plan, k, from, to, now)
		if err != nil {
			return nil, err
		}
		resp.Items = append(resp.Items, ku)
	}
	return resp, nil
}

// meteredPlan checks a usage request: its violations, that usage is
// metered, and that the plan exists and has the key (or, with an empty
// keyID, any keys). It returns the plan and the keys the request is about.
func (s *Server) meteredPlan(ctx context.Context, v *violations, planID, keyID string) (*adminv1.UsagePlan, []string, error) {
	if err := v.err(); err != nil {
		return nil, nil, err
	}
	if s.usage == nil {
		return nil, nil, errNoMetering()
	}
	plan, err := s.getUsagePlan(ctx, planID)
	if err != nil {
		return nil, nil, err
	}
	keys, err := s.usageKeys(ctx, plan.GetId(), keyID)
	return plan, keys, err
}

// usageKeys returns the keys of a plan to report: all, or keyID, which
// must be on the plan.
func (s *Server) usageKeys(ctx context.Context, planID, keyID string) ([]string, error) {
	if keyID == "" {
		keys, err := s.store.PlanKeyIDs(ctx, planID, 0)
		if err != nil {
			return nil, s.storeError(ctx, err)
		}
		return keys, nil
	}
	plans, err := s.store.KeyPlanIDs(ctx, keyID, 0)
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	if !slices.Contains(plans, planID) {
		return nil, status.Errorf(codes.NotFound, "api key %s is not on usage plan %s", keyID, planID)
	}
	return []string{keyID}, nil
}

// keyUsage reports one key's use of a plan from the day of from to the day
// of to. What remained at the end of a past day is the period's limit less
// the use from the period's start through that day; for today it is what
// the counter says now, which also reflects UpdateUsage's changes.
func (s *Server) keyUsage(ctx context.Context, plan *adminv1.UsagePlan, keyID string, from, to, now time.Time) (*adminv1.KeyUsage, error) {
	q, hasQuota := planQuota(plan)
	counter := ratelimit.UsageKey(plan.GetId(), keyID)
	today := dayOf(now)
	// The first period may start before from; days older than the stores
	// keep count zero.
	first := q.Window(from).Start
	if oldest := today.AddDate(0, 0, -ratelimit.HistoryDays); first.Before(oldest) {
		first = oldest
	}
	used, err := s.usage.History(ctx, counter, first, to)
	if err != nil {
		return nil, s.usageError(ctx, err)
	}
	if want := int(to.Sub(first)/day) + 1; len(used) != want {
		s.log.ErrorContext(ctx, "usage store returned a short history", "days", len(used), "want", want)
		return nil, status.Error(codes.Internal, "internal error")
	}
	var current ratelimit.QuotaDecision
	if hasQuota && !to.Before(today) {
		if current, err = s.usage.Usage(ctx, counter, q, now); err != nil {
			return nil, s.usageError(ctx, err)
		}
	}
	ku := &adminv1.KeyUsage{KeyId: keyID}
	var period time.Time
	var sum int64
	for i, d := 0, first; !d.After(to); i, d = i+1, d.Add(day) {
		w := q.Window(d)
		if !w.Start.Equal(period) {
			period, sum = w.Start, 0
		}
		sum += used[i]
		if d.Before(from) {
			continue
		}
		remaining := int64(-1)
		switch {
		case !hasQuota:
		case d.Equal(today):
			remaining = current.Remaining
		default:
			remaining = max(w.Limit-sum, 0)
		}
		ku.Days = append(ku.Days, &adminv1.DailyUsage{Date: d.Format(dateLayout), Used: used[i], Remaining: remaining})
	}
	return ku, nil
}

// UpdateUsage resets or adjusts a key's use of a plan's quota in the
// current period, and reports the key's usage today.
func (s *Server) UpdateUsage(ctx context.Context, req *adminv1.UpdateUsageRequest) (*adminv1.KeyUsage, error) {
	v := newViolations(req)
	v.id("usage_plan_id", req.GetUsagePlanId())
	v.id("key_id", req.GetKeyId())
	switch c := req.GetChange().(type) {
	case nil:
		v.add("change", "one of reset, adjust or remaining is required")
	case *adminv1.UpdateUsageRequest_Reset_:
		if !c.Reset_ {
			v.add("reset", "must be true to reset")
		}
	case *adminv1.UpdateUsageRequest_Remaining:
		if c.Remaining < 0 {
			v.add("remaining", "must be >= 0, got %d", c.Remaining)
		}
	}
	plan, _, err := s.meteredPlan(ctx, v, req.GetUsagePlanId(), req.GetKeyId())
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.changeUsage(ctx, req, plan, now); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "usage updated", "usage_plan_id", plan.GetId(), "api_key_id", req.GetKeyId())
	return s.keyUsage(ctx, plan, req.GetKeyId(), dayOf(now), dayOf(now), now)
}

// changeUsage applies the change of an UpdateUsage to the key's counter.
func (s *Server) changeUsage(ctx context.Context, req *adminv1.UpdateUsageRequest, plan *adminv1.UsagePlan, now time.Time) error {
	q, hasQuota := planQuota(plan)
	counter := ratelimit.UsageKey(plan.GetId(), req.GetKeyId())
	var err error
	switch c := req.GetChange().(type) {
	case *adminv1.UpdateUsageRequest_Reset_:
		err = s.usage.Reset(ctx, counter, q, now)
	case *adminv1.UpdateUsageRequest_Adjust:
		_, err = s.usage.Adjust(ctx, counter, q, now, c.Adjust)
	case *adminv1.UpdateUsageRequest_Remaining:
		v := newViolations(req)
		if !hasQuota {
			v.add("remaining", "usage plan %s has no quota", plan.GetId())
			return v.err()
		}
		var cur ratelimit.QuotaDecision
		if cur, err = s.usage.Usage(ctx, counter, q, now); err != nil {
			break
		}
		if c.Remaining > cur.Limit {
			v.add("remaining", "must be at most the period's limit, %d, got %d", cur.Limit, c.Remaining)
			return v.err()
		}
		// Remaining is Limit-Used: move Used so that it becomes the value.
		_, err = s.usage.Adjust(ctx, counter, q, now, cur.Limit-cur.Used-c.Remaining)
	}
	if err != nil {
		return s.usageError(ctx, err)
	}
	return nil
}

// usageError turns a failure of the counter store into a status: the
// store may be a Redis that is down, which is worth retrying.
func (s *Server) usageError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	s.log.ErrorContext(ctx, "usage store request failed", "error", err)
	return status.Error(codes.Unavailable, "usage store unavailable; try again")
}
