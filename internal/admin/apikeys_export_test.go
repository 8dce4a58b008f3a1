package admin

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func TestExportImportRoundTrip(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "shop")
	e.mustStage(t, api.GetId(), "prod")
	e.mustStage(t, api.GetId(), "beta")
	prod, beta := e.mustPlan(t, "prod", apiStage(api.GetId(), "prod")), e.mustPlan(t, "beta", apiStage(api.GetId(), "beta"))
	k1 := e.mustKey(t, "both", "")
	k2, err := e.CreateApiKey(e.ctx, &adminv1.CreateApiKeyRequest{ApiKey: &adminv1.ApiKey{Name: "none", Description: "a, b"}})
	if err != nil {
		t.Fatal(err)
	}
	e.mustLink(t, prod.GetId(), k1.GetId())
	e.mustLink(t, beta.GetId(), k1.GetId())

	out, err := e.ExportApiKeys(e.ctx, &adminv1.ExportApiKeysRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out.GetCsv())).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, out.GetCsv())
	}
	plans := strings.Join(slices.Sorted(slices.Values([]string{prod.GetId(), beta.GetId()})), ",")
	want := map[string][]string{
		"Name": {"Name", "Key", "Description", "Enabled", "UsagePlanIds"},
		"both": {"both", "", "", "true", plans},
		"none": {"none", "", "a, b", "false", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("export has %d rows, want %d:\n%s", len(rows), len(want), out.GetCsv())
	}
	for _, row := range rows {
		if !slices.Equal(row, want[row[0]]) {
			t.Errorf("row %q, want %q", row, want[row[0]])
		}
	}

	// Fill the values in, drop the keys and import them back.
	values := map[string]string{"both": k1.GetValue(), "none": k2.GetValue()}
	for _, row := range rows[1:] {
		row[1] = values[row[0]]
	}
	for _, k := range []*adminv1.ApiKey{k1, k2} {
		if _, err := e.DeleteApiKey(e.ctx, &adminv1.DeleteApiKeyRequest{Id: k.GetId()}); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.WriteAll(rows)
	resp, err := e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{Csv: b.String(), FailOnWarnings: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range resp.GetApiKeys() {
		wantPlans := []string(nil)
		if k.GetName() == "both" {
			wantPlans = strings.Split(plans, ",")
		}
		if got := e.keyPlans(t, k.GetId()); !slices.Equal(got, wantPlans) || k.GetValue() != values[k.GetName()] {
			t.Errorf("imported key %s on plans %v, want %v", k.GetName(), got, wantPlans)
		}
	}
	again, err := e.ExportApiKeys(e.ctx, &adminv1.ExportApiKeysRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := csv.NewReader(strings.NewReader(again.GetCsv())).ReadAll(); len(got) != 3 {
		t.Errorf("second export:\n%s", again.GetCsv())
	}
}

func TestImportUsagePlanIDs(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "shop")
	e.mustStage(t, api.GetId(), "prod")
	a, b := e.mustPlan(t, "a", apiStage(api.GetId(), "prod")), e.mustPlan(t, "b", apiStage(api.GetId(), "prod"))
	free := e.mustPlan(t, "free")
	tests := violationCases{
		"overlapping and missing plans": {func() error {
			_, err := e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{Csv: "Name,Key,UsagePlanIds\n" +
				"one,import-value-aaaaaaaaaaaaaa,\"" + a.GetId() + "," + b.GetId() + "\"\n" +
				"two,import-value-bbbbbbbbbbbbbb,zzzzzzzzzz\n"})
			return err
		}, []string{"csv.line[2].usageplanids", "csv.line[3].usageplanids"}},
		"malformed plans": {func() error {
			_, err := e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{Csv: "Name,Key,UsagePlanIds\n" +
				"three,import-value-cccccccccccccc,\"" + a.GetId() + ",x," + a.GetId() + "\"\n"})
			return err
		}, []string{"csv.line[2].usageplanids", "csv.line[2].usageplanids"}},
	}
	tests.run(t, e)
	resp, err := e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{Csv: "Name,Key,UsagePlanIds\n" +
		"one,import-value-aaaaaaaaaaaaaa,'" + a.GetId() + "'\n" +
		"two,import-value-bbbbbbbbbbbbbb,\"" + free.GetId() + ", " + b.GetId() + "\"\n"})
	if err != nil {
		t.Fatal(err)
	}
	keys := resp.GetApiKeys()
	if got := e.keyPlans(t, keys[0].GetId()); !slices.Equal(got, []string{a.GetId()}) {
		t.Errorf("plans of one = %v", got)
	}
	if got, want := e.keyPlans(t, keys[1].GetId()), slices.Sorted(slices.Values([]string{free.GetId(), b.GetId()})); !slices.Equal(got, want) {
		t.Errorf("plans of two = %v, want %v", got, want)
	}
}
