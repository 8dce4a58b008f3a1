package store

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Usage plans belong to the gateway, like API keys. A plan-key association
// is written twice, under the plan (usageplan-keys/{planId}/{keyId}, the
// UsagePlanKey) and under the key (apikey-plans/{keyId}/{planId}, the
// plan's id), always in one transaction, so each side lists its partners
// with one range read and neither index ever holds an entry the other
// lacks.
//
// The rule that a key meets each API stage through at most one plan spans
// several plans and keys. Writes that could break it carry a PlanGuard: the
// revision the caller read the plans at, and the collections that must not
// have changed since. Each guarded collection is one range comparison, so
// a transaction's comparisons stay few however many keys a plan has; the
// price is a retry when an unrelated plan changes at the same moment, and
// plans change rarely.

// UsagePlans is every usage plan, read at one revision.
type UsagePlans struct {
	// Revision is the etcd revision of the read.
	Revision int64
	// List holds the plans in id order.
	List []*adminv1.UsagePlan
}

// Get returns the plan with the id, or nil.
func (p *UsagePlans) Get(id string) *adminv1.UsagePlan {
	for _, plan := range p.List {
		if plan.GetId() == id {
			return plan
		}
	}
	return nil
}

// PlanGuard makes a write fail with ErrConflict if the plans or
// associations a caller checked changed after it read them at Revision.
type PlanGuard struct {
	Revision int64
	// AllPlans guards every plan record: none created, changed or deleted.
	AllPlans bool
	// PlanKeys lists plans whose sets of keys must be unchanged.
	PlanKeys []string
	// KeyPlans lists API keys whose sets of plans must be unchanged.
	KeyPlans []string
}

// cmps returns the comparisons of the guard. A range comparison holds
// while no key in the range has a ModRevision after the read; an empty
// range holds too.
func (g PlanGuard) cmps() []clientv3.Cmp {
	unchanged := func(prefix string) clientv3.Cmp {
		return clientv3.Compare(clientv3.ModRevision(prefix), "<", g.Revision+1).WithPrefix()
	}
	var out []clientv3.Cmp
	if g.AllPlans {
		out = append(out, unchanged(usagePlansPrefix))
	}
	for _, id := range g.PlanKeys {
		out = append(out, unchanged(UsagePlanKeysPrefix(id)))
	}
	for _, id := range g.KeyPlans {
		out = append(out, unchanged(APIKeyPlansPrefix(id)))
	}
	return out
}

func newUsagePlan() *adminv1.UsagePlan       { return &adminv1.UsagePlan{} }
func newUsagePlanKey() *adminv1.UsagePlanKey { return &adminv1.UsagePlanKey{} }

// ReadUsagePlans reads every usage plan at one revision.
func (s *Store) ReadUsagePlans(ctx context.Context) (*UsagePlans, error) {
	resp, err := s.cli.Get(ctx, usagePlansPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("read usage plans: %w", err)
	}
	list, err := decodeAll(resp.Kvs, newUsagePlan)
	if err != nil {
		return nil, err
	}
	return &UsagePlans{Revision: resp.Header.Revision, List: list}, nil
}

// CreateUsagePlan writes a new plan and reserves its name in one
// transaction. It returns the revision of the write, ErrAlreadyExists if
// the name is taken, or ErrConflict if the id is.
func (s *Store) CreateUsagePlan(ctx context.Context, p *adminv1.UsagePlan) (int64, error) {
	b := Batch{cmps: []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(UsagePlanRecord(p.GetId())), "=", 0)}}
	b.Put(UsagePlanRecord(p.GetId()), p)
	b.reserve(UsagePlanNameKey(p.GetName()), p.GetId())
	return s.commit(ctx, b.cmps, &b)
}

// GetUsagePlan reads one usage plan.
func (s *Store) GetUsagePlan(ctx context.Context, id string) (*adminv1.UsagePlan, error) {
	m := newUsagePlan()
	return m, s.get(ctx, UsagePlanRecord(id), m)
}

// ListUsagePlans reads one page of usage plans in id order.
func (s *Store) ListUsagePlans(ctx context.Context, p Page) ([]*adminv1.UsagePlan, string, error) {
	return list(ctx, s, usagePlansPrefix, p, newUsagePlan)
}

// CountUsagePlans returns how many usage plans exist.
func (s *Store) CountUsagePlans(ctx context.Context) (int64, error) {
	return s.count(ctx, usagePlansPrefix)
}

// CountPlanKeys returns how many API keys are associated with a plan.
func (s *Store) CountPlanKeys(ctx context.Context, planID string) (int64, error) {
	return s.count(ctx, UsagePlanKeysPrefix(planID))
}

func (s *Store) count(ctx context.Context, prefix string) (int64, error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", prefix, err)
	}
	return resp.Count, nil
}

// UpdateUsagePlan replaces the plan old (as read, with its etag) by
// changed, moving the name reservation if the name changed, on the
// condition that g holds. It returns the revision of the write,
// ErrConflict if the plan or anything g guards changed, or
// ErrAlreadyExists if the new name is taken.
func (s *Store) UpdateUsagePlan(ctx context.Context, old, changed *adminv1.UsagePlan, g PlanGuard) (int64, error) {
	cmp, err := unchangedSince("update usage plan "+old.GetId(), UsagePlanRecord(old.GetId()), old.GetEtag())
	if err != nil {
		return 0, err
	}
	b := Batch{cmps: append(g.cmps(), cmp)}
	if changed.GetName() != old.GetName() {
		b.Delete(UsagePlanNameKey(old.GetName()))
		b.reserve(UsagePlanNameKey(changed.GetName()), old.GetId())
	}
	b.Put(UsagePlanRecord(old.GetId()), changed)
	return s.commit(ctx, b.cmps, &b)
}

// DeleteUsagePlan deletes the plan p (as read, with its etag), its name
// reservation and all its key associations, in both indexes, in one
// transaction. It returns ErrConflict if the plan or its set of keys
// changed since p was read.
func (s *Store) DeleteUsagePlan(ctx context.Context, p *adminv1.UsagePlan) error {
	cmp, err := unchangedSince("delete usage plan "+p.GetId(), UsagePlanRecord(p.GetId()), p.GetEtag())
	if err != nil {
		return err
	}
	resp, err := s.cli.Get(ctx, UsagePlanKeysPrefix(p.GetId()), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return fmt.Errorf("delete usage plan %s: %w", p.GetId(), err)
	}
	var b Batch
	b.Delete(UsagePlanRecord(p.GetId()))
	b.Delete(UsagePlanNameKey(p.GetName()))
	b.ops = append(b.ops, clientv3.OpDelete(UsagePlanKeysPrefix(p.GetId()), clientv3.WithPrefix()))
	for _, keyID := range associated(resp.Kvs) {
		b.Delete(APIKeyPlanKey(keyID, p.GetId()))
	}
	g := PlanGuard{Revision: resp.Header.Revision, PlanKeys: []string{p.GetId()}}
	_, err = s.commit(ctx, append(g.cmps(), cmp), &b)
	return err
}

// associated returns the last segment of each association key: the key
// ids of usageplan-keys/{planId}/ or the plan ids of apikey-plans/{keyId}/.
func associated(kvs []*mvccpb.KeyValue) []string {
	ids := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		if k, ok := ParseKey(string(kv.Key)); ok {
			if k.Kind == KindUsagePlanKey {
				ids = append(ids, k.Name)
			} else {
				ids = append(ids, k.PlanID)
			}
		}
	}
	return ids
}

// PlanKeyIDs returns the ids of the API keys associated with a plan, as
// they were at revision rev (0 is the latest).
func (s *Store) PlanKeyIDs(ctx context.Context, planID string, rev int64) ([]string, error) {
	return s.associations(ctx, UsagePlanKeysPrefix(planID), rev)
}

// KeyPlanIDs returns the ids of the usage plans an API key is associated
// with, as they were at revision rev (0 is the latest).
func (s *Store) KeyPlanIDs(ctx context.Context, keyID string, rev int64) ([]string, error) {
	return s.associations(ctx, APIKeyPlansPrefix(keyID), rev)
}

func (s *Store) associations(ctx context.Context, prefix string, rev int64) ([]string, error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithRev(rev))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	return associated(resp.Kvs), nil
}

// ListUsagePlanKeys reads one page of a plan's key associations in key id
// order.
func (s *Store) ListUsagePlanKeys(ctx context.Context, planID string, p Page) ([]*adminv1.UsagePlanKey, string, error) {
	return list(ctx, s, UsagePlanKeysPrefix(planID), p, newUsagePlanKey)
}

// CreateUsagePlanKey associates the API key key with the plan plan (both
// as read, with their etags) in both indexes, on the condition that g
// holds. The comparisons of both records make sure that an association
// never outlives its plan or key. It returns the revision of the write,
// ErrAlreadyExists if the association exists, or ErrConflict if anything
// else changed.
func (s *Store) CreateUsagePlanKey(ctx context.Context, plan *adminv1.UsagePlan, key *adminv1.ApiKey,
	pk *adminv1.UsagePlanKey, g PlanGuard,
) (int64, error) {
	var b Batch
	if err := b.linkRecords(plan, key); err != nil {
		return 0, err
	}
	b.link(pk)
	b.cmps = append(b.cmps, g.cmps()...)
	rev, err := s.commit(ctx, b.cmps, &b)
	if errors.Is(err, ErrConflict) {
		n, cerr := s.count(ctx, UsagePlanKeyKey(pk.GetUsagePlanId(), pk.GetKeyId()))
		if cerr != nil {
			return 0, cerr
		}
		if n > 0 {
			return 0, fmt.Errorf("usage plan key: %w", ErrAlreadyExists)
		}
	}
	return rev, err
}

// linkRecords makes the batch require that the plan and the key are still
// as read.
func (b *Batch) linkRecords(plan *adminv1.UsagePlan, key *adminv1.ApiKey) error {
	planCmp, err := unchangedSince("usage plan "+plan.GetId(), UsagePlanRecord(plan.GetId()), plan.GetEtag())
	if err != nil {
		return err
	}
	keyCmp, err := unchangedSince("api key "+key.GetId(), APIKeyRecord(key.GetId()), key.GetEtag())
	if err != nil {
		return err
	}
	b.cmps = append(b.cmps, planCmp, keyCmp)
	return nil
}

// link writes a new association in both indexes.
func (b *Batch) link(pk *adminv1.UsagePlanKey) {
	planKey := UsagePlanKeyKey(pk.GetUsagePlanId(), pk.GetKeyId())
	b.cmps = append(b.cmps, clientv3.Compare(clientv3.CreateRevision(planKey), "=", 0))
	stored := &adminv1.UsagePlanKey{UsagePlanId: pk.GetUsagePlanId(), KeyId: pk.GetKeyId(), CreateTime: pk.GetCreateTime()}
	b.Put(planKey, stored)
	b.ops = append(b.ops, clientv3.OpPut(APIKeyPlanKey(pk.GetKeyId(), pk.GetUsagePlanId()), pk.GetUsagePlanId()))
}

// DeleteUsagePlanKey removes an association from both indexes, or returns
// ErrNotFound if there is none.
func (s *Store) DeleteUsagePlanKey(ctx context.Context, planID, keyID string) error {
	planKey := UsagePlanKeyKey(planID, keyID)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(planKey), ">", 0)).
		Then(clientv3.OpDelete(planKey), clientv3.OpDelete(APIKeyPlanKey(keyID, planID))).
		Commit()
	if err != nil {
		return fmt.Errorf("delete usage plan key: %w", err)
	}
	if !resp.Succeeded {
		return ErrNotFound
	}
	return nil
}

// GetAPIKeys reads the API keys with the given ids in one transaction, in
// the same order; a key that does not exist is nil.
func (s *Store) GetAPIKeys(ctx context.Context, ids []string) ([]*adminv1.ApiKey, error) {
	ops := make([]clientv3.Op, len(ids))
	for i, id := range ids {
		ops[i] = clientv3.OpGet(APIKeyRecord(id))
	}
	resp, err := s.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, fmt.Errorf("get api keys: %w", err)
	}
	keys := make([]*adminv1.ApiKey, len(ids))
	for i, r := range resp.Responses {
		if kvs := r.GetResponseRange().GetKvs(); len(kvs) > 0 {
			keys[i] = newAPIKey()
			if err := unmarshal(kvs[0], keys[i]); err != nil {
				return nil, err
			}
		}
	}
	return keys, nil
}

// AllKeyPlans returns the ids of the plans of every API key that has any,
// by key id, from the index by key.
func (s *Store) AllKeyPlans(ctx context.Context) (map[string][]string, error) {
	resp, err := s.cli.Get(ctx, apiKeyPlansPrefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", apiKeyPlansPrefix, err)
	}
	out := map[string][]string{}
	for _, kv := range resp.Kvs {
		if k, ok := ParseKey(string(kv.Key)); ok {
			out[k.Name] = append(out[k.Name], k.PlanID)
		}
	}
	return out, nil
}
