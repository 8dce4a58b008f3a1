package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func sampleKeys() []*adminv1.ApiKey {
	return []*adminv1.ApiKey{
		{
			Id: "k1", Name: "partner-a", Enabled: true, CustomerId: "cust-1", CreateTime: created,
			Value: "pa0123456789abcdefghij0123456789ABCDEFGH",
		},
		{Id: "k2", Name: "partner-b", CreateTime: created},
	}
}

func samplePlans() []*adminv1.UsagePlan {
	return []*adminv1.UsagePlan{
		{
			Id: "p1", Name: "gold", Throttle: &adminv1.ThrottleSettings{RateLimit: 0.5, BurstLimit: 1},
			Quota: &adminv1.QuotaSettings{Limit: 1000, Period: adminv1.QuotaSettings_PERIOD_MONTH, Offset: 10},
			ApiStages: []*adminv1.ApiStage{
				{ApiId: "a1b2c3d4e5", Stage: "prod", RouteThrottles: map[string]*adminv1.ThrottleSettings{
					"GET /pets": {RateLimit: 10, BurstLimit: 20},
				}},
				{ApiId: "gone000000", Stage: "$default"},
			},
			FailureMode: adminv1.FailureMode_FAILURE_MODE_FAIL_OPEN,
		},
		{Id: "p2", Name: "free"},
	}
}

func sampleUsage() []*adminv1.KeyUsage {
	return []*adminv1.KeyUsage{
		{KeyId: "k1", Days: []*adminv1.DailyUsage{
			{Date: "2026-02-28", Used: 12, Remaining: 988},
			{Date: "2026-03-01", Used: 0, Remaining: 988},
		}},
		{KeyId: "k9", Days: []*adminv1.DailyUsage{{Date: "2026-03-01", Used: 3, Remaining: -1}}},
	}
}

// TestPrintUsageResources compares the output of keys, plans and usage
// with golden files, as TestPrintResources does for the APIs' resources.
// Listing keys never shows a value, even one the message holds.
func TestPrintUsageResources(t *testing.T) {
	names := map[string]string{"a1b2c3d4e5": "petstore"}
	tests := map[string]func(*bytes.Buffer) error{
		"keys.table": func(b *bytes.Buffer) error {
			return printResources(b, formatTable, keyColumns(), sampleKeys(), true)
		},
		"key_values.table": func(b *bytes.Buffer) error {
			return printKeyValues(b, sampleKeys())
		},
		"plans.table": func(b *bytes.Buffer) error {
			return printResources(b, formatTable, planColumns(names), samplePlans(), true)
		},
		"plans.yaml": func(b *bytes.Buffer) error {
			return printResources(b, formatYAML, planColumns(names), samplePlans(), true)
		},
		"plan_keys.table": func(b *bytes.Buffer) error {
			keys := []*adminv1.UsagePlanKey{{UsagePlanId: "p1", KeyId: "k1", Name: "partner-a", CreateTime: created}}
			return printResources(b, formatTable, planKeyColumns(), keys, true)
		},
		"usage.table": func(b *bytes.Buffer) error {
			return writeUsage(b, sampleUsage(), map[string]string{"k1": "partner-a"})
		},
	}
	for name, print := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := print(&b); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "output", name+".golden")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Errorf("output:\n%s\nwant (%s):\n%s", b.String(), golden, want)
			}
		})
	}
}
