package admin

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func TestImportAPIKeys(t *testing.T) {
	e := newEnv(t)
	csv := "key,Name,enabled,Description,Colour\n" +
		"import-value-aaaaaaaaaaaaaa,first,true,the first,red\n" +
		"\"import-value-bbbbbbbbbbbbbb\",second,FALSE,,blue\n" +
		"import-value-eeeeeeeeeeeeee,third-of-three,,,green\n"
	resp, err := e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{Csv: csv})
	if err != nil {
		t.Fatal(err)
	}
	keys := resp.GetApiKeys()
	if len(keys) != 3 || len(resp.GetWarnings()) != 1 {
		t.Fatalf("ImportApiKeys = %v", resp)
	}
	if k := keys[0]; k.GetName() != "first" || !k.GetEnabled() || k.GetDescription() != "the first" ||
		k.GetValue() != "import-value-aaaaaaaaaaaaaa" || !validID(k.GetId()) || len(k.GetValueHash()) != 0 {
		t.Errorf("first key = %v", k)
	}
	if k := keys[1]; k.GetName() != "second" || k.GetEnabled() || k.GetValue() != "import-value-bbbbbbbbbbbbbb" {
		t.Errorf("second key = %v", k)
	}
	if k := keys[2]; k.GetName() != "third-of-three" || !k.GetEnabled() {
		t.Errorf("third key, without an Enabled cell = %v, want enabled as on AWS", k)
	}
	for _, k := range keys {
		got, err := e.GetApiKey(e.ctx, &adminv1.GetApiKeyRequest{Id: k.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetValue() != "" || got.GetEtag() != k.GetEtag() {
			t.Errorf("GetApiKey = %v", got)
		}
		e.wantNoSecret(t, k.GetValue())
	}

	// A value already in use fails the whole import, naming its line.
	before := e.revision(t)
	_, err = e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{
		Csv: "Name,Key\nthird,import-value-cccccccccccccc\nfourth,import-value-bbbbbbbbbbbbbb\n",
	})
	wantCode(t, err, codes.AlreadyExists)
	if !strings.Contains(err.Error(), "csv line 3") {
		t.Errorf("error does not name the line: %v", err)
	}
	e.wantNoWrite(t, before, "import of a taken value")
	_, err = e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{Csv: "Name,Key,Colour\nx,import-value-dddddddddddddd,red\n", FailOnWarnings: true})
	wantViolations(t, err, "csv")
	e.wantNoWrite(t, before, "import with warnings")
}

func TestImportAPIKeysViolations(t *testing.T) {
	e := newEnv(t)
	const good = "import-value-aaaaaaaaaaaaaa"
	tests := violationCases{
		"bad rows": {func() error {
			_, err := e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{Csv: "Name,Key,Enabled,UsagePlanIds\n" +
				"ok," + good + ",true,\n" +
				"bad name,short,maybe,\n" +
				"ok,import-value-eeeeeeeeeeeeee,,plan1\n" +
				"other," + good + ",,\n"})
			return err
		}, []string{
			"csv.line[3].name", "csv.line[3].key", "csv.line[3].enabled",
			"csv.line[4].usageplanids", "csv.line[4].name", "csv.line[5].key",
		}},
		"no key column": {func() error {
			_, err := e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{Csv: "Name,Description\na,b\n"})
			return err
		}, []string{"csv.line[1]"}},
		"empty": {func() error {
			_, err := e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{})
			return err
		}, []string{"csv"}},
		"header only": {func() error {
			_, err := e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{Csv: "Name,Key\n"})
			return err
		}, []string{"csv"}},
		"too many rows": {func() error {
			var b strings.Builder
			b.WriteString("Name,Key\n")
			for i := range maxImportRows + 1 {
				fmt.Fprintf(&b, "k%d,import-value-%014d\n", i, i)
			}
			_, err := e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{Csv: b.String()})
			return err
		}, []string{"csv"}},
	}
	tests.run(t, e)
	list, err := e.ListApiKeys(e.ctx, &adminv1.ListApiKeysRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.GetApiKeys()); n != 0 {
		t.Errorf("a failed import left %d keys", n)
	}
}

func TestImportAPIKeysMaxRows(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	b.WriteString("Name,Key\n")
	for i := range maxImportRows {
		fmt.Fprintf(&b, "k%d,import-value-%014d\n", i, i)
	}
	resp, err := e.ImportApiKeys(e.ctx, &adminv1.ImportApiKeysRequest{Csv: b.String()})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetApiKeys()); n != maxImportRows {
		t.Errorf("imported %d keys, want %d", n, maxImportRows)
	}
}
