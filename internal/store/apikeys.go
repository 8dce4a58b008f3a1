package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// API keys belong to the gateway, not to an API, so they live outside the
// API prefixes and every change to one is its own transaction, guarded by
// the ModRevision of the key's record. A record never holds the key's
// value, only its SHA-256 (value_hash); the hash index finds a key by the
// value a client presents and keeps values unique.

// APIKeyRecord is the key of an API key's record.
func APIKeyRecord(id string) string { return apiKeysPrefix + id }

// APIKeysPrefix is the prefix of every API key record.
func APIKeysPrefix() string { return apiKeysPrefix }

// APIKeyNameKey is the key that reserves an API key name for one key.
func APIKeyNameKey(name string) string { return apiKeyNamesPrefix + name }

// APIKeyHashKey is the key that maps the SHA-256 of a key's value to the
// key's id.
func APIKeyHashKey(hash []byte) string { return apiKeyHashesPrefix + hex.EncodeToString(hash) }

// TakenError says which API key of a create could not be written because
// its name or value belongs to another key. It matches ErrAlreadyExists.
type TakenError struct {
	// Index is the key's position in the create.
	Index int
	// Field is "name" or "value".
	Field string
}

func (e *TakenError) Error() string {
	return fmt.Sprintf("api key %d: %s is taken", e.Index, e.Field)
}

// Unwrap makes the error match ErrAlreadyExists.
func (e *TakenError) Unwrap() error { return ErrAlreadyExists }

func newAPIKey() *adminv1.ApiKey { return &adminv1.ApiKey{} }

// CreateAPIKeys writes new API keys, their name reservations and their hash
// index entries in one transaction, all or none. Each key must carry its
// value_hash and no value. It returns the revision of the write (every
// key's etag), a *TakenError if a name or value is taken, or ErrConflict if
// an id is.
func (s *Store) CreateAPIKeys(ctx context.Context, keys []*adminv1.ApiKey) (int64, error) {
	b, err := apiKeysBatch(keys)
	if err != nil {
		return 0, err
	}
	rev, err := s.commit(ctx, b.cmps, b)
	if errors.Is(err, ErrConflict) {
		return 0, s.whichTaken(ctx, keys)
	}
	return rev, err
}

// apiKeysBatch returns the writes and conditions that create keys.
func apiKeysBatch(keys []*adminv1.ApiKey) (*Batch, error) {
	var b Batch
	for _, k := range keys {
		if k.GetValue() != "" || len(k.GetValueHash()) == 0 {
			return nil, errors.New("create api keys: a key must have a hash and no value")
		}
		for _, key := range []string{APIKeyRecord(k.GetId()), APIKeyNameKey(k.GetName()), APIKeyHashKey(k.GetValueHash())} {
			b.cmps = append(b.cmps, clientv3.Compare(clientv3.CreateRevision(key), "=", 0))
		}
		b.Put(APIKeyRecord(k.GetId()), k)
		b.ops = append(b.ops, clientv3.OpPut(APIKeyNameKey(k.GetName()), k.GetId()),
			clientv3.OpPut(APIKeyHashKey(k.GetValueHash()), k.GetId()))
	}
	return &b, nil
}

// whichTaken finds the first key of a failed create whose name or value
// exists, or returns ErrConflict if none does (an id clash).
func (s *Store) whichTaken(ctx context.Context, keys []*adminv1.ApiKey) error {
	for i, k := range keys {
		fields := [...]struct{ field, key string }{
			{"name", APIKeyNameKey(k.GetName())}, {"value", APIKeyHashKey(k.GetValueHash())},
		}
		for _, f := range fields {
			resp, err := s.cli.Get(ctx, f.key, clientv3.WithCountOnly())
			if err != nil {
				return fmt.Errorf("create api keys: %w", err)
			}
			if resp.Count > 0 {
				return &TakenError{Index: i, Field: f.field}
			}
		}
	}
	return ErrConflict
}

// UpdateAPIKey replaces the API key old (as read, with its etag) by
// changed, moving the name reservation if the name changed. It returns the
// revision of the write, ErrConflict if the key changed since it was read,
// or a *TakenError if the new name is taken.
func (s *Store) UpdateAPIKey(ctx context.Context, old, changed *adminv1.ApiKey) (int64, error) {
	rev, err := strconv.ParseInt(old.GetEtag(), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("update api key %s: bad etag: %w", old.GetId(), err)
	}
	var b Batch
	b.cmps = append(b.cmps, clientv3.Compare(clientv3.ModRevision(APIKeyRecord(old.GetId())), "=", rev))
	if changed.GetName() != old.GetName() {
		b.cmps = append(b.cmps, clientv3.Compare(clientv3.CreateRevision(APIKeyNameKey(changed.GetName())), "=", 0))
		b.Delete(APIKeyNameKey(old.GetName()))
		b.ops = append(b.ops, clientv3.OpPut(APIKeyNameKey(changed.GetName()), old.GetId()))
	}
	b.Put(APIKeyRecord(old.GetId()), changed)
	wrote, err := s.commit(ctx, b.cmps, &b)
	if errors.Is(err, ErrConflict) && changed.GetName() != old.GetName() {
		resp, gerr := s.cli.Get(ctx, APIKeyNameKey(changed.GetName()))
		if gerr != nil {
			return 0, fmt.Errorf("update api key %s: %w", old.GetId(), gerr)
		}
		if len(resp.Kvs) > 0 && string(resp.Kvs[0].Value) != old.GetId() {
			return 0, &TakenError{Field: "name"}
		}
	}
	return wrote, err
}

// DeleteAPIKey deletes the API key k (as read, with its etag), its name
// reservation, its hash index entry and its usage plan associations (in
// both indexes), or returns ErrConflict if the key or its set of plans
// changed since it was read.
func (s *Store) DeleteAPIKey(ctx context.Context, k *adminv1.ApiKey) error {
	rev, err := strconv.ParseInt(k.GetEtag(), 10, 64)
	if err != nil {
		return fmt.Errorf("delete api key %s: bad etag: %w", k.GetId(), err)
	}
	plans, err := s.cli.Get(ctx, APIKeyPlansPrefix(k.GetId()), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return fmt.Errorf("delete api key %s: %w", k.GetId(), err)
	}
	var b Batch
	b.Delete(APIKeyRecord(k.GetId()))
	b.Delete(APIKeyNameKey(k.GetName()))
	b.Delete(APIKeyHashKey(k.GetValueHash()))
	b.ops = append(b.ops, clientv3.OpDelete(APIKeyPlansPrefix(k.GetId()), clientv3.WithPrefix()))
	for _, planID := range associated(plans.Kvs) {
		b.Delete(UsagePlanKeyKey(planID, k.GetId()))
	}
	g := PlanGuard{Revision: plans.Header.Revision, KeyPlans: []string{k.GetId()}}
	cmps := append(g.cmps(), clientv3.Compare(clientv3.ModRevision(APIKeyRecord(k.GetId())), "=", rev))
	_, err = s.commit(ctx, cmps, &b)
	return err
}

// GetAPIKey reads one API key record.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*adminv1.ApiKey, error) {
	m := newAPIKey()
	return m, s.get(ctx, APIKeyRecord(id), m)
}

// APIKeyIDByHash returns the id of the API key whose value has the given
// SHA-256.
func (s *Store) APIKeyIDByHash(ctx context.Context, hash []byte) (string, error) {
	resp, err := s.cli.Get(ctx, APIKeyHashKey(hash))
	if err != nil {
		return "", fmt.Errorf("get api key by hash: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return "", ErrNotFound
	}
	return string(resp.Kvs[0].Value), nil
}

// ListAPIKeys reads one page of API key records in id order.
func (s *Store) ListAPIKeys(ctx context.Context, p Page) ([]*adminv1.ApiKey, string, error) {
	return list(ctx, s, apiKeysPrefix, p, newAPIKey)
}

// CountAPIKeys returns how many API keys exist.
func (s *Store) CountAPIKeys(ctx context.Context) (int64, error) {
	resp, err := s.cli.Get(ctx, apiKeysPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("count api keys: %w", err)
	}
	return resp.Count, nil
}
