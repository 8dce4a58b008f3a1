package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestKeys creates, imports, exports, lists, disables, enables and deletes
// API keys through the CLI, checking each step through the test's own
// client, and that no command but create and import prints a value.
func TestKeys(t *testing.T) {
	addr, admin := startServer(t, serverOptions{})

	created := &adminv1.ApiKey{}
	unmarshal(t, mustRun(t, addr, "keys", "create", "ci", "--description", "CI runs", "--customer-id", "cust-7",
		"--tag", "team=web", "-o", "json"), created)
	if len(created.GetValue()) != 40 || !created.GetEnabled() || created.GetCustomerId() != "cust-7" {
		t.Errorf("keys create -o json = %v, want an enabled key with a 40-character value", created)
	}
	out := mustRun(t, addr, "keys", "create", "manual", "--value", "manualKey0123456789abcdef", "--disabled")
	rows := tableRows(t, out)
	if !slices.Equal(rows[0], []string{"ID", "NAME", "ENABLED", "VALUE"}) ||
		!slices.Equal(rows[1][1:], []string{"manual", "false", "manualKey0123456789abcdef"}) ||
		!strings.Contains(out, "never show it again") {
		t.Errorf("keys create printed:\n%s\nwant the value in a table and the warning that it is shown once", out)
	}

	r := runBinary(t, nil, "", "--addr", addr, "keys", "import", "--fail-on-warnings", "testdata/keys.csv")
	if r.code != exitFailure || !strings.Contains(r.err, "  csv: ") || !strings.Contains(r.err, "fail_on_warnings") {
		t.Errorf("keys import --fail-on-warnings: exit %d, stderr:\n%s\nwant exit 1 and a csv violation", r.code, r.err)
	}
	csvText, err := os.ReadFile("testdata/keys.csv")
	check(t, err)
	r = runBinary(t, nil, string(csvText), "--addr", addr, "keys", "import", "-")
	if r.code != 0 || !strings.Contains(r.out, "partnerAkey0123456789abcdef") || !strings.Contains(r.out, "partnerBkey0123456789abcdef") {
		t.Fatalf("keys import -: exit %d, stdout:\n%s\nstderr:\n%s\nwant both values", r.code, r.out, r.err)
	}
	if !strings.HasPrefix(r.err, "archwayctl: warning: ") || !strings.Contains(r.err, "Color") {
		t.Errorf("keys import stderr = %q, want a warning about the unknown column", r.err)
	}

	keys, err := listKeys(t.Context(), admin)
	check(t, err)
	if len(keys) != 4 {
		t.Fatalf("%d keys, want 4", len(keys))
	}
	for _, args := range [][]string{{"keys", "list"}, {"get", "keys", "-o", "yaml"}, {"keys", "get", "partner-a", "-o", "json"}} {
		out := mustRun(t, addr, args...)
		for _, secret := range []string{created.GetValue(), "manualKey0123456789abcdef", "partnerAkey0123456789abcdef"} {
			if strings.Contains(out, secret) {
				t.Errorf("archwayctl %s printed a key's value:\n%s", strings.Join(args, " "), out)
			}
		}
	}
	list := tableRows(t, mustRun(t, addr, "keys", "list"))
	if !slices.Equal(list[0], []string{"ID", "NAME", "ENABLED", "CUSTOMER-ID", "CREATED"}) || len(list) != 5 {
		t.Errorf("keys list = %q, want a header and 4 keys", list)
	}

	exportKeys(t, addr)
	toggleAndDelete(t, addr, admin, created.GetId())
}

// exportKeys checks that export writes the same CSV to a file and to
// standard output, with every key and no value.
func exportKeys(t *testing.T, addr string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "keys.csv")
	if out := mustRun(t, addr, "keys", "export", "-f", file); out != "" {
		t.Errorf("keys export -f printed %q, want nothing", out)
	}
	written, err := os.ReadFile(file)
	check(t, err)
	if stdout := mustRun(t, addr, "keys", "export"); stdout != string(written) {
		t.Errorf("keys export wrote %q to standard output and %q to the file", stdout, written)
	}
	records, err := csv.NewReader(strings.NewReader(string(written))).ReadAll()
	check(t, err)
	if len(records) != 5 || !slices.Equal(records[0], []string{"Name", "Key", "Description", "Enabled", "UsagePlanIds"}) {
		t.Fatalf("export = %q, want the header and 4 keys", records)
	}
	for _, rec := range records[1:] {
		if rec[1] != "" {
			t.Errorf("export row %q holds a value", rec)
		}
	}
}

// toggleAndDelete disables and enables a key by id and deletes one by name.
func toggleAndDelete(t *testing.T, addr string, admin adminv1.AdminServiceClient, id string) {
	t.Helper()
	steps := []struct {
		args    []string
		want    string
		enabled bool
	}{
		{[]string{"keys", "disable", id}, "api key ci disabled\n", false},
		{[]string{"keys", "enable", "ci"}, "api key ci enabled\n", true},
	}
	for _, s := range steps {
		if out := mustRun(t, addr, s.args...); out != s.want {
			t.Errorf("archwayctl %s printed %q, want %q", strings.Join(s.args, " "), out, s.want)
		}
		k, err := admin.GetApiKey(t.Context(), &adminv1.GetApiKeyRequest{Id: id})
		check(t, err)
		if k.GetEnabled() != s.enabled {
			t.Errorf("after %s the key is enabled=%v", s.args[1], k.GetEnabled())
		}
	}
	if out := mustRun(t, addr, "keys", "delete", "partner-b"); out != "api key partner-b deleted\n" {
		t.Errorf("keys delete printed %q", out)
	}
	r := runBinary(t, nil, "", "--addr", addr, "keys", "get", "partner-b")
	if r.code != exitFailure || r.err != "archwayctl: api key \"partner-b\" not found\n" {
		t.Errorf("get a deleted key: exit %d, stderr %q", r.code, r.err)
	}
}

// TestKeyRejectedField checks that a value the admin API refuses exits 1
// naming the field, and without repeating the secret.
func TestKeyRejectedField(t *testing.T) {
	addr, _ := startServer(t, serverOptions{})
	r := runBinary(t, nil, "", "--addr", addr, "keys", "create", "short", "--value", "tooShortSecret")
	if r.code != exitFailure || !strings.Contains(r.err, "archwayctl: invalid request:\n  api_key.value: ") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 naming api_key.value", r.code, r.err)
	}
	if strings.Contains(r.err, "tooShortSecret") {
		t.Errorf("the error repeats the value: %s", r.err)
	}
}
