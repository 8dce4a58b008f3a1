package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/internal/store/storetest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func createAPI(t *testing.T, s *store.Store, id, name string) *store.APIState {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateAPI(ctx, &adminv1.Api{Id: id, Name: name}, &store.Batch{}); err != nil {
		t.Fatalf("CreateAPI(%s): %v", name, err)
	}
	st, err := s.ReadAPI(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCRUD(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t).Store()
	st := createAPI(t, s, "a1", "pets")

	var b store.Batch
	b.Put(store.IntegrationKey("a1", "i1"), &adminv1.Integration{Id: "i1", ApiId: "a1", Name: "backend"})
	b.Put(store.RouteKey("a1", "r1"), &adminv1.Route{Id: "r1", ApiId: "a1", Method: "GET", Path: "/pets", IntegrationId: "i1", Etag: "ignored"})
	rev, err := s.CommitAPI(ctx, st, &b)
	if err != nil {
		t.Fatal(err)
	}

	route, err := s.GetRoute(ctx, "a1", "r1")
	if err != nil {
		t.Fatal(err)
	}
	want := &adminv1.Route{Id: "r1", ApiId: "a1", Method: "GET", Path: "/pets", IntegrationId: "i1", Etag: store.Etag(rev)}
	if diff := cmp.Diff(want, route, protocmp.Transform()); diff != "" {
		t.Errorf("GetRoute (-want +got):\n%s", diff)
	}

	st, err = s.ReadAPI(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Routes) != 1 || len(st.Integrations) != 1 || st.API.GetName() != "pets" {
		t.Fatalf("ReadAPI = %d routes, %d integrations, api %q", len(st.Routes), len(st.Integrations), st.API.GetName())
	}
	if id, err := s.APIIDByName(ctx, "pets"); err != nil || id != "a1" {
		t.Errorf("APIIDByName = %q, %v", id, err)
	}

	b = store.Batch{}
	b.Delete(store.RouteKey("a1", "r1"))
	if _, err := s.CommitAPI(ctx, st, &b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRoute(ctx, "a1", "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRoute after delete: %v, want ErrNotFound", err)
	}
}

func TestCreateAPINameTaken(t *testing.T) {
	s := storetest.New(t).Store()
	createAPI(t, s, "a1", "pets")
	_, err := s.CreateAPI(context.Background(), &adminv1.Api{Id: "a2", Name: "pets"}, &store.Batch{})
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second CreateAPI(pets) = %v, want ErrAlreadyExists", err)
	}
	if _, err := s.GetAPI(context.Background(), "a2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a2 was written despite the failed create: %v", err)
	}
}

// TestCommitAPIConflict checks the guard: a commit based on a stale read
// writes nothing, whatever key under the API changed in between.
func TestCommitAPIConflict(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t).Store()
	stale := createAPI(t, s, "a1", "pets")
	fresh, _ := s.ReadAPI(ctx, "a1")

	var b store.Batch
	b.Put(store.StageKey("a1", "prod"), &adminv1.Stage{ApiId: "a1", Name: "prod"})
	if _, err := s.CommitAPI(ctx, fresh, &b); err != nil {
		t.Fatal(err)
	}
	b = store.Batch{}
	b.Put(store.RouteKey("a1", "r1"), &adminv1.Route{Id: "r1"})
	if _, err := s.CommitAPI(ctx, stale, &b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("commit on stale read = %v, want ErrConflict", err)
	}
	if _, err := s.GetRoute(ctx, "a1", "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the conflicting commit wrote its route: %v", err)
	}
}

// TestCommitAPIConcurrent runs writers that each read, then commit, and
// retry on conflict: every write lands exactly once.
func TestCommitAPIConcurrent(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t).Store()
	createAPI(t, s, "a1", "pets")
	const writers = 8
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for {
				st, err := s.ReadAPI(ctx, "a1")
				if err != nil {
					t.Error(err)
					return
				}
				var b store.Batch
				id := fmt.Sprintf("r%d", i)
				b.Put(store.RouteKey("a1", id), &adminv1.Route{Id: id, Description: fmt.Sprint(len(st.Routes))})
				_, err = s.CommitAPI(ctx, st, &b)
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					t.Error(err)
				}
				return
			}
		})
	}
	wg.Wait()
	st, _ := s.ReadAPI(ctx, "a1")
	seen := map[string]bool{}
	for _, r := range st.Routes {
		seen[r.GetDescription()] = true
	}
	// Each writer saw a different number of routes: the writes serialized.
	if len(st.Routes) != writers || len(seen) != writers {
		t.Errorf("got %d routes with %d distinct views, want %d of each", len(st.Routes), len(seen), writers)
	}
}

func TestDeleteAPI(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t).Store()
	st := createAPI(t, s, "a1", "pets")
	var b store.Batch
	b.Put(store.RouteKey("a1", "r1"), &adminv1.Route{Id: "r1"})
	b.Put(store.DeploymentKey("a1", "d1"), &adminv1.Deployment{Id: "d1"})
	if _, err := s.CommitAPI(ctx, st, &b); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAPI(ctx, st); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("DeleteAPI with stale state = %v, want ErrConflict", err)
	}
	st, _ = s.ReadAPI(ctx, "a1")
	if err := s.DeleteAPI(ctx, st); err != nil {
		t.Fatal(err)
	}
	rev, kvs, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != 0 {
		t.Errorf("after DeleteAPI at rev %d, %d keys remain, first %s", rev, len(kvs), kvs[0].Key)
	}
	// The name is free again.
	createAPI(t, s, "a2", "pets")
}

func TestListPages(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t).Store()
	st := createAPI(t, s, "a1", "pets")
	var b store.Batch
	for i := range 25 {
		id := fmt.Sprintf("r%02d", i)
		b.Put(store.RouteKey("a1", id), &adminv1.Route{Id: id})
	}
	if _, err := s.CommitAPI(ctx, st, &b); err != nil {
		t.Fatal(err)
	}
	var got []string
	pages := 0
	for p := (store.Page{Limit: 10}); ; pages++ {
		routes, next, err := s.ListRoutes(ctx, "a1", p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range routes {
			got = append(got, r.GetId())
		}
		if next == "" {
			break
		}
		p.After = next
	}
	if len(got) != 25 || got[0] != "r00" || got[24] != "r24" || pages != 2 {
		t.Errorf("paged through %d routes in %d pages: %v", len(got), pages+1, got)
	}
}

// TestLoadPagesLargeDataSet checks that Load reads past its page size.
func TestLoadPagesLargeDataSet(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t).Store()
	st := createAPI(t, s, "a1", "pets")
	var b store.Batch
	for i := range 1200 {
		id := fmt.Sprintf("r%04d", i)
		b.Put(store.RouteKey("a1", id), &adminv1.Route{Id: id})
	}
	rev, err := s.CommitAPI(ctx, st, &b)
	if err != nil {
		t.Fatal(err)
	}
	gotRev, kvs, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// api, name index, seq and 1200 routes.
	if gotRev != rev || len(kvs) != 1203 {
		t.Errorf("Load = rev %d with %d keys, want rev %d with 1203", gotRev, len(kvs), rev)
	}
}

// TestWatchFromCompactedRevision shows what watchers rely on: a watch from a
// compacted revision reports the compaction, and Load then returns the
// whole current state, so nothing is lost.
func TestWatchFromCompactedRevision(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := storetest.New(t)
	s := e.Store()
	st := createAPI(t, s, "a1", "pets")
	start := st.Revision
	for i := range 5 {
		st, _ = s.ReadAPI(ctx, "a1")
		var b store.Batch
		b.Put(store.RouteKey("a1", fmt.Sprint(i)), &adminv1.Route{Id: fmt.Sprint(i)})
		if _, err := s.CommitAPI(ctx, st, &b); err != nil {
			t.Fatal(err)
		}
	}
	rev, _, _ := s.Load(ctx)
	if _, err := e.Client.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	resp := <-s.Watch(ctx, start)
	if resp.CompactRevision != rev || !errors.Is(resp.Err(), rpctypes.ErrCompacted) {
		t.Fatalf("watch from compacted rev: CompactRevision=%d err=%v, want %d and ErrCompacted", resp.CompactRevision, resp.Err(), rev)
	}
	// Resume: reload, then watch from after the reload.
	loadRev, kvs, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != 8 { // api, name, seq, 5 routes
		t.Fatalf("reload found %d keys, want 8", len(kvs))
	}
	w := s.Watch(ctx, loadRev+1)
	if _, err := e.Client.Put(ctx, store.RouteKey("a1", "late"), ""); err != nil {
		t.Fatal(err)
	}
	for resp := range w {
		if resp.IsProgressNotify() {
			continue
		}
		if len(resp.Events) != 1 || string(resp.Events[0].Kv.Key) != store.RouteKey("a1", "late") {
			t.Fatalf("watch after reload got %v, want exactly the late write", resp.Events)
		}
		return
	}
	t.Fatal("watch closed")
}

// TestSurvivesRestart checks that data lives in the data directory.
func TestSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	e := storetest.New(t)
	s := e.Store()
	createAPI(t, s, "a1", "pets")
	e.Restart(t)
	api, err := s.GetAPI(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if api.GetName() != "pets" {
		t.Errorf("after restart api name = %q", api.GetName())
	}
}

func TestDecode(t *testing.T) {
	ctx := context.Background()
	e := storetest.New(t)
	s := e.Store()
	createAPI(t, s, "a1", "pets")
	_, kvs, _ := s.Load(ctx)
	kinds := map[store.Kind]bool{}
	for _, kv := range kvs {
		key, m, err := store.Decode(kv)
		if err != nil {
			t.Fatal(err)
		}
		kinds[key.Kind] = true
		if key.Kind == store.KindAPI && !proto.Equal(m, &adminv1.Api{Id: "a1", Name: "pets", Etag: store.Etag(kv.ModRevision)}) {
			t.Errorf("Decode(api) = %v", m)
		}
		if key.Kind != store.KindAPI && m != nil {
			t.Errorf("Decode(%s) = %v, want no message", kv.Key, m)
		}
	}
	if len(kinds) != 3 {
		t.Errorf("decoded kinds %v, want api, api-name and seq", kinds)
	}
	if _, err := e.Client.Put(ctx, store.Root+"bogus", "x"); err != nil {
		t.Fatal(err)
	}
	resp, _ := e.Client.Get(ctx, store.Root+"bogus")
	if _, _, err := store.Decode(resp.Kvs[0]); err == nil {
		t.Error("Decode of a key outside the schema succeeded")
	}
}
