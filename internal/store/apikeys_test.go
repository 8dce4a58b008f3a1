package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/internal/store/storetest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func testKey(id, name, value string) *adminv1.ApiKey {
	h := sha256.Sum256([]byte(value))
	return &adminv1.ApiKey{Id: id, Name: name, ValueHash: h[:]}
}

func TestAPIKeys(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t).Store()
	k1, k2 := testKey("k1", "gold", "value-1"), testKey("k2", "silver", "value-2")
	if _, err := s.CreateAPIKeys(ctx, []*adminv1.ApiKey{k1, k2}); err != nil {
		t.Fatal(err)
	}
	if id, err := s.APIKeyIDByHash(ctx, k2.GetValueHash()); err != nil || id != "k2" {
		t.Errorf("APIKeyIDByHash = %q, %v", id, err)
	}

	// Taken names and values fail the whole create and say which key.
	var taken *store.TakenError
	_, err := s.CreateAPIKeys(ctx, []*adminv1.ApiKey{testKey("k3", "bronze", "value-3"), testKey("k4", "x", "value-1")})
	if !errors.As(err, &taken) || taken.Index != 1 || taken.Field != "value" || !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("create with a taken value: %v", err)
	}
	if _, err := s.GetAPIKey(ctx, "k3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed create wrote k3: %v", err)
	}
	_, err = s.CreateAPIKeys(ctx, []*adminv1.ApiKey{testKey("k5", "gold", "value-5")})
	if !errors.As(err, &taken) || taken.Field != "name" {
		t.Fatalf("create with a taken name: %v", err)
	}
	withValue := testKey("k6", "plain", "value-6")
	withValue.Value = "value-6"
	if _, err := s.CreateAPIKeys(ctx, []*adminv1.ApiKey{withValue}); err == nil {
		t.Fatal("CreateAPIKeys stored a key with its value")
	}

	// Renames move the reservation; a stale read conflicts.
	old, err := s.GetAPIKey(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	renamed := testKey("k1", "platinum", "value-1")
	if _, err := s.UpdateAPIKey(ctx, old, renamed); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateAPIKey(ctx, old, renamed); !errors.Is(err, store.ErrConflict) {
		t.Errorf("update from a stale read: %v", err)
	}
	if err := s.DeleteAPIKey(ctx, old); !errors.Is(err, store.ErrConflict) {
		t.Errorf("delete from a stale read: %v", err)
	}
	cur, err := s.GetAPIKey(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAPIKey(ctx, cur); err != nil {
		t.Fatal(err)
	}
	// Name and value are free again; the old name was freed by the rename.
	if _, err := s.CreateAPIKeys(ctx, []*adminv1.ApiKey{testKey("k7", "gold", "value-1"), testKey("k8", "platinum", "value-8")}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountAPIKeys(ctx); err != nil || n != 3 {
		t.Errorf("CountAPIKeys = %d, %v; want 3", n, err)
	}
}
