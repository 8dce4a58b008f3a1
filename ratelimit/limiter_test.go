package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/archway-gateway/archway/internal/testutil/testredis"
)

func TestLimiterFailurePolicy(t *testing.T) {
	now := date(2024, 5, 1, 12, 0, 0)
	clock := func() time.Time { return now }
	q := Quota{Limit: 5, Period: Day}
	b := Bucket{Rate: 1, Burst: 1}
	m := Metering{BucketKey: "k", Bucket: &b, QuotaKey: "k", Quota: q}
	tests := map[string]struct {
		policy      FailurePolicy
		wantAllowed bool
		wantErr     bool
		wantOpen    int64
	}{
		"open admits, logs and counts": {FailOpen, true, false, 2},
		"closed denies with the error": {FailClosed, false, true, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := testredis.Start(t)
			var logs bytes.Buffer
			l := NewLimiter(NewRedisStore(srv.Client()), tc.policy, clock, slog.New(slog.NewTextHandler(&logs, nil)))
			if _, d, err := l.Meter(t.Context(), m); err != nil || !d.Allowed {
				t.Fatalf("meter with Redis up: got %+v, %v", d, err)
			}
			srv.Stop()
			mtd, qd, qerr := l.Meter(t.Context(), m)
			td, terr := l.Throttle(t.Context(), "k", b)
			if qd.Allowed != tc.wantAllowed || mtd.Allowed != tc.wantAllowed || td.Allowed != tc.wantAllowed {
				t.Errorf("allowed: meter token %v quota %v, throttle %v; want %v", mtd.Allowed, qd.Allowed, td.Allowed, tc.wantAllowed)
			}
			if (qerr != nil) != tc.wantErr || (terr != nil) != tc.wantErr {
				t.Errorf("errors: quota %v, throttle %v; want error %v", qerr, terr, tc.wantErr)
			}
			if !qd.Reset.Equal(date(2024, 5, 2, 0, 0, 0)) {
				t.Errorf("reset: got %v, want the period end", qd.Reset)
			}
			if got := l.FailedOpen(); got != tc.wantOpen {
				t.Errorf("FailedOpen: got %d, want %d", got, tc.wantOpen)
			}
			if logged := strings.Count(logs.String(), "admitting request"); int64(logged) != tc.wantOpen {
				t.Errorf("logged %d fail-open lines, want %d:\n%s", logged, tc.wantOpen, logs.String())
			}
		})
	}
}

func TestLimiterNeverForgivesInvalidLimits(t *testing.T) {
	l := NewLimiter(NewMemoryStore(), FailOpen, nil, nil)
	_, err := l.Throttle(t.Context(), "k", Bucket{Rate: -1})
	if err == nil || errors.Is(err, ErrStoreUnavailable) {
		t.Errorf("invalid bucket under FailOpen: got %v, want a validation error", err)
	}
	if l.FailedOpen() != 0 {
		t.Errorf("FailedOpen: got %d, want 0", l.FailedOpen())
	}
}

// TestLimiterCancelledCall checks that a caller giving up is not a store
// failure: a fail-open limiter neither admits, logs nor counts it.
func TestLimiterCancelledCall(t *testing.T) {
	srv := testredis.Start(t)
	var logs bytes.Buffer
	l := NewLimiter(NewRedisStore(srv.Client()), FailOpen, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if d, err := l.Throttle(ctx, "k", Bucket{Rate: 1, Burst: 1}); d.Allowed || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled throttle = %+v, %v; want denied with context.Canceled", d, err)
	}
	m := Metering{BucketKey: "k", Bucket: &Bucket{Rate: 1, Burst: 1}, QuotaKey: "k", Quota: Quota{Limit: 5, Period: Day}}
	if td, qd, err := l.Meter(ctx, m); td.Allowed || qd.Allowed || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled meter = %+v, %+v, %v; want denied with context.Canceled", td, qd, err)
	}
	if l.FailedOpen() != 0 || logs.Len() != 0 {
		t.Errorf("a cancelled call counted as a store failure: %d, %q", l.FailedOpen(), logs.String())
	}
}
