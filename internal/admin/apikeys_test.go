package admin

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/archway-gateway/archway/internal/store/storetest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

const testKeyValue = "secret-value-0123456789-abcdef"

// mustKey creates an API key with the given name and value ("" generates).
func (e *env) mustKey(t *testing.T, name, value string) *adminv1.ApiKey {
	t.Helper()
	k, err := e.CreateApiKey(e.ctx, &adminv1.CreateApiKeyRequest{ApiKey: &adminv1.ApiKey{Name: name, Value: value, Enabled: true}})
	if err != nil {
		t.Fatalf("CreateApiKey(%s): %v", name, err)
	}
	return k
}

// wantNoSecret fails the test if any key or value in etcd holds secret.
func (e *env) wantNoSecret(t *testing.T, secret string) {
	t.Helper()
	_, kvs, err := e.etcd.Store().Load(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range kvs {
		if bytes.Contains(kv.Key, []byte(secret)) || bytes.Contains(kv.Value, []byte(secret)) {
			t.Fatalf("etcd key %s holds an api key value in clear", kv.Key)
		}
	}
}

func TestAPIKeyCreateShowsValueOnce(t *testing.T) {
	e := newEnv(t)
	given := e.mustKey(t, "given", testKeyValue)
	generated := e.mustKey(t, "generated", "")
	if given.GetValue() != testKeyValue {
		t.Errorf("given value = %q", given.GetValue())
	}
	if v := generated.GetValue(); len(v) != generatedKeyLen || strings.Trim(v, keyValueAlphabet) != "" {
		t.Errorf("generated value %q is not %d characters of [A-Za-z0-9]", v, generatedKeyLen)
	}
	for _, k := range []*adminv1.ApiKey{given, generated} {
		if !validID(k.GetId()) || k.GetEtag() == "" || len(k.GetValueHash()) != 0 || !k.GetEnabled() {
			t.Errorf("created key = %v", k)
		}
		got, err := e.GetApiKey(e.ctx, &adminv1.GetApiKeyRequest{Id: k.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetValue() != "" || len(got.GetValueHash()) != 0 || got.GetEtag() != k.GetEtag() || got.GetName() != k.GetName() {
			t.Errorf("GetApiKey = %v", got)
		}
		e.wantNoSecret(t, k.GetValue())
	}
	list, err := e.ListApiKeys(e.ctx, &adminv1.ListApiKeysRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetApiKeys()) != 2 {
		t.Fatalf("listed %d keys, want 2", len(list.GetApiKeys()))
	}
	for _, k := range list.GetApiKeys() {
		if k.GetValue() != "" || len(k.GetValueHash()) != 0 {
			t.Errorf("ListApiKeys returned a value or hash: %v", k)
		}
	}
}

func TestAPIKeyDuplicates(t *testing.T) {
	e := newEnv(t)
	e.mustKey(t, "taken", testKeyValue)
	before := e.revision(t)
	_, err := e.CreateApiKey(e.ctx, &adminv1.CreateApiKeyRequest{ApiKey: &adminv1.ApiKey{Name: "taken"}})
	wantCode(t, err, codes.AlreadyExists)
	_, err = e.CreateApiKey(e.ctx, &adminv1.CreateApiKeyRequest{ApiKey: &adminv1.ApiKey{Name: "other", Value: testKeyValue}})
	wantCode(t, err, codes.AlreadyExists)
	if strings.Contains(err.Error(), testKeyValue) {
		t.Errorf("error repeats the value: %v", err)
	}
	e.wantNoWrite(t, before, "duplicate create")
	k := e.mustKey(t, "second", "")
	_, err = e.UpdateApiKey(e.ctx, &adminv1.UpdateApiKeyRequest{
		ApiKey: &adminv1.ApiKey{Id: k.GetId(), Name: "taken"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
	})
	wantCode(t, err, codes.AlreadyExists)
}

func TestAPIKeyUpdate(t *testing.T) {
	e := newEnv(t)
	k := e.mustKey(t, "old-name", testKeyValue)
	mask := &fieldmaskpb.FieldMask{Paths: []string{"name", "enabled"}}
	up, err := e.UpdateApiKey(e.ctx, &adminv1.UpdateApiKeyRequest{
		ApiKey: &adminv1.ApiKey{Id: k.GetId(), Name: "new-name", Enabled: false, Etag: k.GetEtag()}, UpdateMask: mask,
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.GetName() != "new-name" || up.GetEnabled() || up.GetEtag() == k.GetEtag() || up.GetValue() != "" || len(up.GetValueHash()) != 0 {
		t.Errorf("UpdateApiKey = %v", up)
	}
	// The old name is free again.
	e.mustKey(t, "old-name", "")

	before := e.revision(t)
	_, err = e.UpdateApiKey(e.ctx, &adminv1.UpdateApiKeyRequest{
		ApiKey: &adminv1.ApiKey{Id: k.GetId(), Name: "stale", Etag: k.GetEtag()}, UpdateMask: mask,
	})
	wantPrecondition(t, err, failureEtag)
	_, err = e.DeleteApiKey(e.ctx, &adminv1.DeleteApiKeyRequest{Id: k.GetId(), Etag: k.GetEtag()})
	wantPrecondition(t, err, failureEtag)
	e.wantNoWrite(t, before, "stale etag")

	same, err := e.UpdateApiKey(e.ctx, &adminv1.UpdateApiKeyRequest{ApiKey: up, UpdateMask: mask})
	if err != nil {
		t.Fatal(err)
	}
	e.wantNoWrite(t, before, "unchanged update")
	if same.GetEtag() != up.GetEtag() {
		t.Errorf("unchanged update moved the etag %s -> %s", up.GetEtag(), same.GetEtag())
	}
}

func TestAPIKeyDeleteFreesNameAndValue(t *testing.T) {
	e := newEnv(t)
	k := e.mustKey(t, "gone", testKeyValue)
	if _, err := e.DeleteApiKey(e.ctx, &adminv1.DeleteApiKeyRequest{Id: k.GetId(), Etag: k.GetEtag()}); err != nil {
		t.Fatal(err)
	}
	_, err := e.GetApiKey(e.ctx, &adminv1.GetApiKeyRequest{Id: k.GetId()})
	wantCode(t, err, codes.NotFound)
	_, err = e.DeleteApiKey(e.ctx, &adminv1.DeleteApiKeyRequest{Id: k.GetId()})
	wantCode(t, err, codes.NotFound)
	e.mustKey(t, "gone", testKeyValue)
}

func TestAPIKeyValidation(t *testing.T) {
	e := newEnv(t)
	k := e.mustKey(t, "valid", "")
	tests := violationCases{
		"create everything bad": {func() error {
			_, err := e.CreateApiKey(e.ctx, &adminv1.CreateApiKeyRequest{ApiKey: &adminv1.ApiKey{
				Name: "a b", Description: strings.Repeat("d", 1025), CustomerId: strings.Repeat("c", 257),
				Value: "short", Tags: map[string]string{"archway:x": ""},
			}})
			return err
		}, []string{"api_key.name", "api_key.description", "api_key.customer_id", `api_key.tags["archway:x"]`, "api_key.value"}},
		"create value with space": {func() error {
			_, err := e.CreateApiKey(e.ctx, &adminv1.CreateApiKeyRequest{ApiKey: &adminv1.ApiKey{
				Name: "x", Value: "has a space in it 0123456789",
			}})
			return err
		}, []string{"api_key.value"}},
		"get bad id": {func() error {
			_, err := e.GetApiKey(e.ctx, &adminv1.GetApiKeyRequest{Id: "../apis"})
			return err
		}, []string{"id"}},
		"update value": {func() error {
			_, err := e.UpdateApiKey(e.ctx, &adminv1.UpdateApiKeyRequest{
				ApiKey:     &adminv1.ApiKey{Id: k.GetId(), Value: testKeyValue},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"value", "value_hash", "id"}},
			})
			return err
		}, []string{"update_mask", "update_mask", "update_mask"}},
		"update to bad name": {func() error {
			_, err := e.UpdateApiKey(e.ctx, &adminv1.UpdateApiKeyRequest{ApiKey: &adminv1.ApiKey{Id: k.GetId()}})
			return err
		}, []string{"api_key.name"}},
		"list bad page": {func() error {
			_, err := e.ListApiKeys(e.ctx, &adminv1.ListApiKeysRequest{PageSize: -1, PageToken: "x"})
			return err
		}, []string{"page_size", "page_token"}},
	}
	tests.run(t, e)
}

func TestListAPIKeysPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 7 {
		e.mustKey(t, fmt.Sprintf("key-%d", i), "")
	}
	seen := map[string]bool{}
	token := ""
	for pages := 1; ; pages++ {
		resp, err := e.ListApiKeys(e.ctx, &adminv1.ListApiKeysRequest{PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range resp.GetApiKeys() {
			if seen[k.GetId()] {
				t.Errorf("key %s listed twice", k.GetId())
			}
			seen[k.GetId()] = true
		}
		if token = resp.GetNextPageToken(); token == "" {
			if pages != 3 {
				t.Errorf("%d pages, want 3", pages)
			}
			break
		}
	}
	if len(seen) != 7 {
		t.Errorf("listed %d keys, want 7", len(seen))
	}
}

func TestAPIKeyValueNeverLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := NewServer(storetest.New(t).Store(), Options{Logger: log})
	ctx := t.Context()
	k, err := s.CreateApiKey(ctx, &adminv1.CreateApiKeyRequest{ApiKey: &adminv1.ApiKey{Name: "logged", Value: testKeyValue}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ImportApiKeys(ctx, &adminv1.ImportApiKeysRequest{Csv: "Name,Key\nimported,import-value-zzzzzzzzzzzzzz\n"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.CreateApiKey(ctx, &adminv1.CreateApiKeyRequest{ApiKey: &adminv1.ApiKey{Name: "again", Value: testKeyValue}})
	if _, err := s.DeleteApiKey(ctx, &adminv1.DeleteApiKeyRequest{Id: k.GetId()}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() == 0 {
		t.Fatal("nothing was logged")
	}
	for _, secret := range []string{testKeyValue, "import-value-zzzzzzzzzzzzzz"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the log holds an api key value:\n%s", buf.String())
		}
	}
}
