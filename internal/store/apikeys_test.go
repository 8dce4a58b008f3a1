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
	etcd := storetest.New(t)
	s, cli := etcd.Store(), etcd.Client
	k1, k2 := testKey("k1", "gold", "value-1"), testKey("k2", "silver", "value-2")
	if _, err := s.CreateAPIKeys(ctx, []*adminv1.ApiKey{k1, k2}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if resp, err := cli.Get(ctx, store.APIKeyHashKey(k2.GetValueHash())); err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "k2" {
		t.Errorf("hash index of k2 = %v, %v; want k2", resp, err)
	}

	// Taken names and values fail the whole create and say which key.
	var taken *store.TakenError
	_, err := s.CreateAPIKeys(ctx, []*adminv1.ApiKey{testKey("k3", "bronze", "value-3"), testKey("k4", "x", "value-1")}, nil, nil)
	if !errors.As(err, &taken) || taken.Index != 1 || taken.Field != "value" || !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("create with a taken value: %v", err)
	}
	if _, err := s.GetAPIKey(ctx, "k3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed create wrote k3: %v", err)
	}
	_, err = s.CreateAPIKeys(ctx, []*adminv1.ApiKey{testKey("k5", "gold", "value-5")}, nil, nil)
	if !errors.As(err, &taken) || taken.Field != "name" {
		t.Fatalf("create with a taken name: %v", err)
	}
	withValue := testKey("k6", "plain", "value-6")
	withValue.Value = "value-6"
	if _, err := s.CreateAPIKeys(ctx, []*adminv1.ApiKey{withValue}, nil, nil); err == nil {
		t.Fatal("CreateAPIKeys stored a key with its value")
	}

	// Renames move the reservation; a stale read conflicts.
	old, err := s.GetAPIKey(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateAPIKey(ctx, old, testKey("k1", "silver", "value-1")); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("rename to k2's name: %v", err)
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
	if _, err := s.CreateAPIKeys(ctx, []*adminv1.ApiKey{testKey("k7", "gold", "value-1"), testKey("k8", "platinum", "value-8")}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountAPIKeys(ctx); err != nil || n != 3 {
		t.Errorf("CountAPIKeys = %d, %v; want 3", n, err)
	}
}
