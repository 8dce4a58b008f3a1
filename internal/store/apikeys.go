package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

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
// index entries in one transaction, all or none, together with their
// associations with usage plans (links, none for nil), as an import that
// names plans makes them. Each key must carry its value_hash and no value.
// plans are the plans of links as read, with their etags. It returns the
// revision of the write (every key's etag), a *TakenError if a name or
// value is taken, or ErrConflict if an id is or one of the plans changed.
func (s *Store) CreateAPIKeys(ctx context.Context, keys []*adminv1.ApiKey,
	links []*adminv1.UsagePlanKey, plans []*adminv1.UsagePlan,
) (int64, error) {
	b, err := apiKeysBatch(keys)
	if err != nil {
		return 0, err
	}
	for _, p := range plans {
		cmp, err := unchangedSince("usage plan "+p.GetId(), UsagePlanRecord(p.GetId()), p.GetEtag())
		if err != nil {
			return 0, err
		}
		b.cmps = append(b.cmps, cmp)
	}
	for _, pk := range links {
		b.link(pk)
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
// or ErrAlreadyExists if the new name is taken.
func (s *Store) UpdateAPIKey(ctx context.Context, old, changed *adminv1.ApiKey) (int64, error) {
	cmp, err := unchangedSince("update api key "+old.GetId(), APIKeyRecord(old.GetId()), old.GetEtag())
	if err != nil {
		return 0, err
	}
	b := Batch{cmps: []clientv3.Cmp{cmp}}
	if changed.GetName() != old.GetName() {
		b.Delete(APIKeyNameKey(old.GetName()))
		b.reserve(APIKeyNameKey(changed.GetName()), old.GetId())
	}
	b.Put(APIKeyRecord(old.GetId()), changed)
	return s.commit(ctx, b.cmps, &b)
}

// DeleteAPIKey deletes the API key k (as read, with its etag), its name
// reservation, its hash index entry and its usage plan associations (in
// both indexes), or returns ErrConflict if the key or its set of plans
// changed since it was read.
func (s *Store) DeleteAPIKey(ctx context.Context, k *adminv1.ApiKey) error {
	cmp, err := unchangedSince("delete api key "+k.GetId(), APIKeyRecord(k.GetId()), k.GetEtag())
	if err != nil {
		return err
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
	_, err = s.commit(ctx, append(g.cmps(), cmp), &b)
	return err
}

// GetAPIKey reads one API key record.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*adminv1.ApiKey, error) {
	m := newAPIKey()
	return m, s.get(ctx, APIKeyRecord(id), m)
}

// ListAPIKeys reads one page of API key records in id order.
func (s *Store) ListAPIKeys(ctx context.Context, p Page) ([]*adminv1.ApiKey, string, error) {
	return list(ctx, s, apiKeysPrefix, p, newAPIKey)
}

// CountAPIKeys returns how many API keys exist.
func (s *Store) CountAPIKeys(ctx context.Context) (int64, error) {
	return s.count(ctx, apiKeysPrefix)
}
