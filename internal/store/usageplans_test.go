package store_test

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/internal/store/storetest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// createdPlan writes a plan and returns it with its etag.
func createdPlan(t *testing.T, s *store.Store, id, name string) *adminv1.UsagePlan {
	t.Helper()
	p := &adminv1.UsagePlan{Id: id, Name: name}
	rev, err := s.CreateUsagePlan(t.Context(), p)
	if err != nil {
		t.Fatalf("CreateUsagePlan(%s): %v", id, err)
	}
	store.SetEtag(p, rev)
	return p
}

// createdKey writes an API key and returns it with its etag.
func createdKey(t *testing.T, s *store.Store, id string) *adminv1.ApiKey {
	t.Helper()
	k := testKey(id, "name-"+id, "value-"+id)
	rev, err := s.CreateAPIKeys(t.Context(), []*adminv1.ApiKey{k}, nil, nil)
	if err != nil {
		t.Fatalf("CreateAPIKeys(%s): %v", id, err)
	}
	store.SetEtag(k, rev)
	return k
}

// link associates a key with a plan, both as given.
func link(ctx context.Context, s *store.Store, p *adminv1.UsagePlan, k *adminv1.ApiKey, g store.PlanGuard) error {
	_, err := s.CreateUsagePlanKey(ctx, p, k, &adminv1.UsagePlanKey{UsagePlanId: p.GetId(), KeyId: k.GetId()}, g)
	return err
}

// wantLinks fails the test unless both indexes hold exactly the pairs
// (plan id, key id), sorted.
func wantLinks(t *testing.T, cli *clientv3.Client, want ...[2]string) {
	t.Helper()
	var byPlan, byKey [][2]string
	for _, idx := range []struct {
		prefix string
		out    *[][2]string
	}{{store.UsagePlanKeysPrefix(""), &byPlan}, {store.Root + "apikey-plans/", &byKey}} {
		resp, err := cli.Get(t.Context(), idx.prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range resp.Kvs {
			k, ok := store.ParseKey(string(kv.Key))
			if !ok {
				t.Fatalf("unparsable key %s", kv.Key)
			}
			*idx.out = append(*idx.out, [2]string{k.PlanID, k.Name})
		}
	}
	slices.SortFunc(byKey, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	if !slices.Equal(byPlan, want) || !slices.Equal(byKey, want) {
		t.Fatalf("associations by plan %v, by key %v, want %v", byPlan, byKey, want)
	}
}

func TestUsagePlanNames(t *testing.T) {
	ctx := t.Context()
	s := storetest.New(t).Store()
	p := createdPlan(t, s, "p1", "gold")
	if _, err := s.CreateUsagePlan(ctx, &adminv1.UsagePlan{Id: "p2", Name: "gold"}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("create with a taken name: %v", err)
	}
	other := createdPlan(t, s, "p2", "silver")
	renamed := &adminv1.UsagePlan{Id: "p1", Name: "silver"}
	if _, err := s.UpdateUsagePlan(ctx, p, renamed, store.PlanGuard{}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("rename to a taken name: %v", err)
	}
	renamed.Name = "platinum"
	if _, err := s.UpdateUsagePlan(ctx, p, renamed, store.PlanGuard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUsagePlan(ctx, p, renamed, store.PlanGuard{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update from a stale read: %v", err)
	}
	createdPlan(t, s, "p3", "gold") // The old name is free.
	if n, err := s.CountUsagePlans(ctx); err != nil || n != 3 {
		t.Fatalf("CountUsagePlans = %d, %v", n, err)
	}
	if err := s.DeleteUsagePlan(ctx, other); err != nil {
		t.Fatal(err)
	}
	createdPlan(t, s, "p4", "silver")
}

func TestUsagePlanKeys(t *testing.T) {
	ctx := t.Context()
	etcd := storetest.New(t)
	s := etcd.Store()
	p1, p2 := createdPlan(t, s, "p1", "one"), createdPlan(t, s, "p2", "two")
	k1, k2 := createdKey(t, s, "k1"), createdKey(t, s, "k2")
	for _, l := range []struct {
		p *adminv1.UsagePlan
		k *adminv1.ApiKey
	}{{p1, k1}, {p1, k2}, {p2, k1}} {
		if err := link(ctx, s, l.p, l.k, store.PlanGuard{}); err != nil {
			t.Fatalf("link %s %s: %v", l.p.GetId(), l.k.GetId(), err)
		}
	}
	wantLinks(t, etcd.Client, [2]string{"p1", "k1"}, [2]string{"p1", "k2"}, [2]string{"p2", "k1"})
	if err := link(ctx, s, p1, k1, store.PlanGuard{}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second link: %v", err)
	}
	if ids, err := s.KeyPlanIDs(ctx, "k1", 0); err != nil || !slices.Equal(ids, []string{"p1", "p2"}) {
		t.Fatalf("KeyPlanIDs = %v, %v", ids, err)
	}
	if n, err := s.CountPlanKeys(ctx, "p1"); err != nil || n != 2 {
		t.Fatalf("CountPlanKeys = %d, %v", n, err)
	}
	list, next, err := s.ListUsagePlanKeys(ctx, "p1", store.Page{Limit: 1})
	if err != nil || len(list) != 1 || list[0].GetKeyId() != "k1" || next == "" {
		t.Fatalf("ListUsagePlanKeys = %v, %q, %v", list, next, err)
	}

	// Deleting a key drops its associations in both indexes.
	if err := s.DeleteAPIKey(ctx, k1); err != nil {
		t.Fatal(err)
	}
	wantLinks(t, etcd.Client, [2]string{"p1", "k2"})
	// A deleted key can never be linked again: its record's revision is gone.
	if err := link(ctx, s, p2, k1, store.PlanGuard{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("link of a deleted key: %v", err)
	}
	if err := s.DeleteUsagePlanKey(ctx, "p2", "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteUsagePlanKey of no association: %v", err)
	}
	if err := s.DeleteUsagePlanKey(ctx, "p1", "k2"); err != nil {
		t.Fatal(err)
	}
	wantLinks(t, etcd.Client)

	// Deleting a plan drops its associations, and the plan cannot be linked.
	if err := link(ctx, s, p2, k2, store.PlanGuard{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUsagePlan(ctx, p2); err != nil {
		t.Fatal(err)
	}
	wantLinks(t, etcd.Client)
	if err := link(ctx, s, p2, k2, store.PlanGuard{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("link to a deleted plan: %v", err)
	}
}

func TestPlanGuard(t *testing.T) {
	ctx := t.Context()
	s := storetest.New(t).Store()
	p1, p2 := createdPlan(t, s, "p1", "one"), createdPlan(t, s, "p2", "two")
	k1 := createdKey(t, s, "k1")
	plans, err := s.ReadUsagePlans(ctx)
	if err != nil || len(plans.List) != 2 || plans.Get("p2") == nil {
		t.Fatalf("ReadUsagePlans = %v, %v", plans, err)
	}
	// k1 gains a plan after the read: a write guarding k1's plans fails.
	if err := link(ctx, s, p2, k1, store.PlanGuard{}); err != nil {
		t.Fatal(err)
	}
	stale := store.PlanGuard{Revision: plans.Revision, KeyPlans: []string{"k1"}}
	if err := link(ctx, s, p1, k1, stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("link under a stale key guard: %v", err)
	}
	renamed := &adminv1.UsagePlan{Id: "p1", Name: "renamed"}
	g := store.PlanGuard{Revision: plans.Revision, PlanKeys: []string{"p2"}}
	if _, err := s.UpdateUsagePlan(ctx, p1, renamed, g); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update under a stale plan keys guard: %v", err)
	}
	// p2 changes after the read: a write guarding all plans fails.
	if _, err := s.UpdateUsagePlan(ctx, p2, &adminv1.UsagePlan{Id: "p2", Name: "two", Description: "x"}, store.PlanGuard{}); err != nil {
		t.Fatal(err)
	}
	g = store.PlanGuard{Revision: plans.Revision, AllPlans: true}
	if _, err := s.UpdateUsagePlan(ctx, p1, renamed, g); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update under a stale all plans guard: %v", err)
	}
	fresh, err := s.ReadUsagePlans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g = store.PlanGuard{Revision: fresh.Revision, AllPlans: true, PlanKeys: []string{"p1", "p2"}, KeyPlans: []string{"k1"}}
	if err := link(ctx, s, p1, k1, g); err != nil {
		t.Fatalf("link under a fresh guard: %v", err)
	}
}

func TestCreateAPIKeysOnPlans(t *testing.T) {
	ctx := t.Context()
	etcd := storetest.New(t)
	s := etcd.Store()
	p := createdPlan(t, s, "p1", "one")
	keys := []*adminv1.ApiKey{testKey("k1", "a", "value-1"), testKey("k2", "b", "value-2")}
	links := []*adminv1.UsagePlanKey{{UsagePlanId: "p1", KeyId: "k1"}, {UsagePlanId: "p1", KeyId: "k2"}}
	stale := &adminv1.UsagePlan{Id: "p1", Name: "one", Etag: "1"}
	if _, err := s.CreateAPIKeys(ctx, keys, links, []*adminv1.UsagePlan{stale}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("import onto a changed plan: %v", err)
	}
	if _, err := s.CreateAPIKeys(ctx, keys, links, []*adminv1.UsagePlan{p}); err != nil {
		t.Fatal(err)
	}
	wantLinks(t, etcd.Client, [2]string{"p1", "k1"}, [2]string{"p1", "k2"})
	var taken *store.TakenError
	_, err := s.CreateAPIKeys(ctx, []*adminv1.ApiKey{testKey("k3", "a", "value-3")}, nil, nil)
	if !errors.As(err, &taken) || taken.Field != "name" {
		t.Fatalf("import of a taken name: %v", err)
	}
}
