package ratelimit

import (
	"fmt"
	"time"
)

// Period is a usage plan quota period. Periods are calendar-aligned in UTC.
type Period string

// The quota periods API Gateway supports.
const (
	Day   Period = "DAY"
	Week  Period = "WEEK"  // Monday 00:00 UTC to the next Monday.
	Month Period = "MONTH" // The 1st 00:00 UTC to the 1st of the next month.
)

// Quota is a usage plan quota: at most Limit requests per Period.
type Quota struct {
	Limit  int64
	Period Period
	// Offset is AWS's quota offset: "the number of requests subtracted from
	// the given limit in the initial time period". It applies only in the
	// period that contains Start; with a zero Start it is ignored.
	Offset int64
	// Start is when the quota took effect (the usage plan was created or the
	// quota last changed); it selects the initial period for Offset.
	Start time.Time
}

// Validate reports a quota that cannot be enforced.
func (q Quota) Validate() error {
	switch q.Period {
	case Day, Week, Month:
	default:
		return fmt.Errorf("quota period: must be DAY, WEEK or MONTH, got %q", q.Period)
	}
	if q.Limit < 0 {
		return fmt.Errorf("quota limit: must be >= 0, got %d", q.Limit)
	}
	if q.Offset < 0 {
		return fmt.Errorf("quota offset: must be >= 0, got %d", q.Offset)
	}
	return nil
}

// Window is one quota period and the limit in force during it.
type Window struct {
	Start, End time.Time
	Limit      int64
}

// Window returns the period containing now and its effective limit.
func (q Quota) Window(now time.Time) Window {
	start, end := periodBounds(q.Period, now)
	w := Window{Start: start, End: end, Limit: q.Limit}
	if !q.Start.IsZero() && q.Offset > 0 {
		if s, _ := periodBounds(q.Period, q.Start); s.Equal(start) {
			w.Limit = max(q.Limit-q.Offset, 0)
		}
	}
	return w
}

// periodBounds returns the UTC calendar period of p containing t.
func periodBounds(p Period, t time.Time) (time.Time, time.Time) {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch p {
	case Week:
		start := day.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
		return start, start.AddDate(0, 0, 7)
	case Month:
		start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	default:
		return day, day.AddDate(0, 0, 1)
	}
}

// QuotaDecision is the outcome of consuming from, or reading, a quota.
type QuotaDecision struct {
	// Allowed is true when the requests were counted.
	Allowed bool
	// Used is the number of requests counted in the current period.
	Used int64
	// Remaining is Limit minus Used, never negative.
	Remaining int64
	// Limit is the effective limit of the period (Offset applied).
	Limit int64
	// Reset is when the current period ends and the count starts over.
	Reset time.Time
}

func quotaDecision(allowed bool, used int64, w Window) QuotaDecision {
	return QuotaDecision{
		Allowed:   allowed,
		Used:      used,
		Remaining: max(w.Limit-used, 0),
		Limit:     w.Limit,
		Reset:     w.End,
	}
}

// quotaTTLMargin keeps a period's counter a little past its end, so that a
// caller whose clock lags still finds it.
const quotaTTLMargin = time.Hour

// validateConsume checks the arguments of Store.Consume.
func validateConsume(q Quota, n int64) error {
	if n < 0 {
		return fmt.Errorf("consume: n must be >= 0, got %d", n)
	}
	return q.Validate()
}
