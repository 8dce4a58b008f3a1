package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/ratelimit"
)

// meteredServer runs an admin API whose clock is testNow, the clock of
// in-process runs, with a memory counter store in which k1 of plan
// "metered" (100 a day) used 7 requests yesterday and 5 today.
func meteredServer(t *testing.T) (addr string, admin adminv1.AdminServiceClient, planID string) {
	t.Helper()
	counters := ratelimit.NewMemoryStore()
	addr, admin = startServer(t, serverOptions{now: func() time.Time { return testNow }, usage: counters})
	plan := &adminv1.UsagePlan{}
	unmarshal(t, mustRun(t, addr, "plans", "create", "metered", "--quota-limit", "100", "--quota-period", "DAY", "-o", "json"), plan)
	for _, k := range []string{"k1", "k2"} {
		mustRun(t, addr, "keys", "create", k)
		mustRun(t, addr, "plans", "add-key", "metered", k)
	}
	k1, err := resolveKey(t.Context(), admin, "k1")
	check(t, err)
	day := ratelimit.Quota{Limit: 100, Period: ratelimit.Day}
	for at, n := range map[time.Time]int64{testNow.AddDate(0, 0, -1): 7, testNow: 5} {
		_, err := counters.Consume(t.Context(), ratelimit.UsageKey(plan.GetId(), k1.GetId()), day, at, n)
		check(t, err)
	}
	return addr, admin, plan.GetId()
}

// TestUsage reads usage as a table over the default week and as JSON for
// one key and chosen days, with the CLI and the server on the same fixed
// clock.
func TestUsage(t *testing.T) {
	addr, _, planID := meteredServer(t)
	r := runCLI(t, nil, "", "--addr", addr, "usage", "metered")
	if r.code != 0 {
		t.Fatalf("usage: exit %d\n%s", r.code, r.err)
	}
	rows := tableRows(t, r.out)
	if !slices.Equal(rows[0], []string{"KEY", "DATE", "USED", "REMAINING"}) || len(rows) != 1+2*defaultUsageDays {
		t.Fatalf("usage printed:\n%s\nwant a header and 7 days of 2 keys", r.out)
	}
	for _, want := range [][]string{
		{"k1", "2026-02-23", "0", "100"},
		{"k1", "2026-02-28", "7", "93"},
		{"k1", "2026-03-01", "5", "95"},
		{"k2", "2026-02-23", "0", "100"},
		{"k2", "2026-03-01", "0", "100"},
	} {
		if !slices.ContainsFunc(rows, func(row []string) bool { return slices.Equal(row, want) }) {
			t.Errorf("usage table lacks the row %q:\n%s", want, r.out)
		}
	}

	resp := &adminv1.GetUsageResponse{}
	unmarshal(t, mustRun(t, addr, "usage", planID, "--key", "k1", "--from", "2026-02-28", "--to", "2026-02-28", "-o", "json"), resp)
	if items := resp.GetItems(); len(items) != 1 || len(items[0].GetDays()) != 1 ||
		items[0].GetDays()[0].GetUsed() != 7 || items[0].GetDays()[0].GetRemaining() != 93 {
		t.Errorf("usage --key k1 -o json = %v, want one day with 7 used and 93 remaining", resp)
	}
}

// TestUpdateUsage changes k1's use of today's quota and checks what
// remains after each change, as the command prints it.
func TestUpdateUsage(t *testing.T) {
	addr, _, _ := meteredServer(t)
	steps := []struct {
		args      []string
		remaining string
	}{
		{[]string{"usage", "adjust", "metered", "k1", "--", "-2"}, "97"},
		{[]string{"usage", "adjust", "metered", "k1", "10"}, "87"},
		{[]string{"usage", "set-remaining", "metered", "k1", "10"}, "10"},
		{[]string{"usage", "reset", "metered", "k1"}, "100"},
	}
	for _, s := range steps {
		r := runCLI(t, nil, "", append([]string{"--addr", addr}, s.args...)...)
		if r.code != 0 {
			t.Fatalf("archwayctl %s: exit %d\n%s", strings.Join(s.args, " "), r.code, r.err)
		}
		rows := tableRows(t, r.out)
		if len(rows) != 2 || rows[1][0] != "k1" || rows[1][1] != "2026-03-01" || rows[1][3] != s.remaining {
			t.Errorf("archwayctl %s printed:\n%s\nwant k1 with %s remaining on 2026-03-01", strings.Join(s.args, " "), r.out, s.remaining)
		}
	}
	r := runCLI(t, nil, "", "--addr", addr, "usage", "set-remaining", "metered", "k1", "1000")
	if r.code != exitFailure || !strings.Contains(r.err, "archwayctl: invalid request:\n  remaining: ") {
		t.Errorf("set-remaining above the limit: exit %d, stderr:\n%s\nwant exit 1 naming remaining", r.code, r.err)
	}
}
