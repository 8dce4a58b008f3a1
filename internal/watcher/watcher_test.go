package watcher

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/internal/store/storetest"
)

// stuck bounds how long a test waits for a config before failing instead
// of hanging; it guards against deadlocks and is not a latency assertion.
const stuck = time.Minute

// harness runs a Watcher against a real etcd and records what it
// publishes.
type harness struct {
	t    *testing.T
	etcd *storetest.Etcd
	w    *Watcher
	sub  <-chan *model.Config

	mu        sync.Mutex
	published []int64 // revisions, in publish order
}

// start runs a watcher over e; seam, if not nil, adjusts it before Run.
func start(t *testing.T, e *storetest.Etcd, opts Options, seam func(*Watcher)) *harness {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := &harness{t: t, etcd: e, w: New(e.Store(), opts)}
	h.w.onPublish = func(cfg *model.Config) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.published = append(h.published, cfg.Revision)
	}
	if seam != nil {
		seam(h.w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.sub = h.w.Subscribe(ctx)
	done := make(chan error, 1)
	go func() { done <- h.w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	})
	return h
}

// waitRevision returns the first published config at or after rev, and
// fails unless it is exactly at rev: the watcher must publish the revision
// of the change, not merely something later.
func (h *harness) waitRevision(rev int64) *model.Config {
	h.t.Helper()
	timeout := time.After(stuck)
	for {
		select {
		case cfg := <-h.sub:
			if cfg.Revision < rev {
				continue
			}
			if cfg.Revision != rev {
				h.t.Fatalf("published revision %d, want %d", cfg.Revision, rev)
			}
			return cfg
		case <-timeout:
			h.t.Fatalf("no config at revision %d; published %v", rev, h.publishedRevisions())
		}
	}
}

func (h *harness) publishedRevisions() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.published)
}

// put writes m at key as the store does and returns the revision.
func put(t testing.TB, cli *clientv3.Client, key string, m proto.Message) int64 {
	t.Helper()
	resp, err := cli.Put(context.Background(), key, string(marshal(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

// putAPI writes an API with one deployment of n routes served by stage
// "prod", in one transaction as the admin API would, and returns the
// revision.
func putAPI(t testing.TB, cli *clientv3.Client, id string, n int) int64 {
	t.Helper()
	rev, err := tryPutAPI(t, cli, id, n)
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// tryPutAPI is putAPI for goroutines other than the test's own.
func tryPutAPI(t testing.TB, cli *clientv3.Client, id string, n int) (int64, error) {
	resp, err := cli.Txn(context.Background()).Then(
		clientv3.OpPut(store.APIKey(id), string(marshal(t, testAPI(id)))),
		clientv3.OpPut(store.DeploymentKey(id, "dep0000001"), string(marshal(t, testDeployment(id, "dep0000001", n)))),
		clientv3.OpPut(store.StageKey(id, "prod"), string(marshal(t, testStage(id, "prod", "dep0000001")))),
		clientv3.OpPut(store.SeqKey(id), ""),
	).Commit()
	if err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}

// deleteAPI removes an API and everything under it in one transaction.
func deleteAPI(t testing.TB, cli *clientv3.Client, id string) int64 {
	t.Helper()
	resp, err := cli.Txn(context.Background()).Then(
		clientv3.OpDelete(store.APIKey(id)),
		clientv3.OpDelete(store.APIDataPrefix(id), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

func apiIDs(cfg *model.Config) []string {
	var ids []string
	for _, a := range cfg.APIs {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestInitialLoad(t *testing.T) {
	e := storetest.New(t)
	putAPI(t, e.Client, "aaaa000001", 3)
	rev := putAPI(t, e.Client, "bbbb000001", 2)

	h := start(t, e, Options{}, nil)
	cfg := h.waitRevision(rev)
	if h.w.Current() != cfg {
		t.Error("Current() is not the published config")
	}
	if got := apiIDs(cfg); !slices.Equal(got, []string{"aaaa000001", "bbbb000001"}) {
		t.Fatalf("APIs = %v", got)
	}
	d := cfg.API("aaaa000001").Stage("prod").Deployment
	if d == nil || len(d.Routes) != 3 || d.Route("rte0000002").Path.String() != "/r2/{id}" {
		t.Errorf("deployment of aaaa000001/prod = %+v, want 3 routes", d)
	}
}

func TestPublishesChanges(t *testing.T) {
	e := storetest.New(t)
	h := start(t, e, Options{}, nil)
	empty := h.waitRevision(mustRevision(t, e.Client))
	if len(empty.APIs) != 0 {
		t.Fatalf("empty store gave APIs %v", apiIDs(empty))
	}

	cfg := h.waitRevision(putAPI(t, e.Client, "aaaa000001", 1))
	if cfg.API("aaaa000001").Stage("prod") == nil {
		t.Fatal("new API's stage is not served")
	}
	cfg = h.waitRevision(put(t, e.Client, store.StageKey("aaaa000001", "beta"), testStage("aaaa000001", "beta", "dep0000001")))
	if a := cfg.API("aaaa000001"); a.Stage("beta") == nil || a.Stage("beta").Deployment != a.Stage("prod").Deployment {
		t.Fatal("new stage does not serve the shared deployment")
	}
	if empty.API("aaaa000001") != nil {
		t.Error("a published config changed after publication")
	}
}

func TestDeleteAPI(t *testing.T) {
	e := storetest.New(t)
	putAPI(t, e.Client, "aaaa000001", 1)
	h := start(t, e, Options{}, nil)
	h.waitRevision(putAPI(t, e.Client, "bbbb000001", 1))

	cfg := h.waitRevision(deleteAPI(t, e.Client, "aaaa000001"))
	if got := apiIDs(cfg); !slices.Equal(got, []string{"bbbb000001"}) {
		t.Fatalf("APIs after delete = %v, want [bbbb000001]", got)
	}
}

func TestMissingDeploymentSkipsOnlyItsStage(t *testing.T) {
	e := storetest.New(t)
	putAPI(t, e.Client, "aaaa000001", 1)
	putAPI(t, e.Client, "bbbb000001", 1)
	rev := put(t, e.Client, store.StageKey("aaaa000001", "dev"), testStage("aaaa000001", "dev", "dep0000002"))

	h := start(t, e, Options{}, nil)
	cfg := h.waitRevision(rev)
	if a := cfg.API("aaaa000001"); a == nil || a.Stage("dev") != nil || a.Stage("prod") == nil {
		t.Fatalf("want aaaa000001 served without its dev stage, got %+v", a)
	}
	if cfg.API("bbbb000001") == nil {
		t.Fatal("another API was taken out")
	}

	cfg = h.waitRevision(put(t, e.Client, store.DeploymentKey("aaaa000001", "dep0000002"), testDeployment("aaaa000001", "dep0000002", 2)))
	if dev := cfg.API("aaaa000001").Stage("dev"); dev == nil || len(dev.Deployment.Routes) != 2 {
		t.Fatalf("dev stage not served once its deployment exists: %+v", dev)
	}
}

func TestBurstIsDebounced(t *testing.T) {
	e := storetest.New(t)
	// A generous holdoff keeps this test deterministic on a slow disk; the
	// mechanism is the same at the default.
	h := start(t, e, Options{Holdoff: 500 * time.Millisecond, MaxDelay: 10 * stuck}, nil)
	h.waitRevision(mustRevision(t, e.Client))
	before := len(h.publishedRevisions())

	var last int64
	for i := range 40 {
		last = put(t, e.Client, store.APIKey(apiID(i)), testAPI(apiID(i)))
	}
	for i := range 10 {
		last = deleteAPI(t, e.Client, apiID(i*4))
	}
	cfg := h.waitRevision(last)

	var want []string
	for i := range 40 {
		if i%4 != 0 {
			want = append(want, apiID(i))
		}
	}
	if got := apiIDs(cfg); !slices.Equal(got, want) {
		t.Fatalf("APIs after the burst = %v, want %v", got, want)
	}
	if n := len(h.publishedRevisions()) - before; n >= 50 {
		t.Errorf("50 writes published %d configs, want fewer", n)
	}
}

func TestMaxDelayBoundsTheHoldoff(t *testing.T) {
	e := storetest.New(t)
	// The store never goes quiet for this long, as in a continuous burst:
	// only MaxDelay can publish.
	h := start(t, e, Options{Holdoff: 10 * stuck, MaxDelay: 50 * time.Millisecond}, nil)
	h.waitRevision(mustRevision(t, e.Client))
	h.waitRevision(putAPI(t, e.Client, "aaaa000001", 1))
}

func apiID(i int) string { return fmt.Sprintf("api%07d", i) }

func mustRevision(t testing.TB, cli *clientv3.Client) int64 {
	t.Helper()
	resp, err := cli.Get(context.Background(), "/", clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

func TestResumeAfterCompaction(t *testing.T) {
	e := storetest.New(t)
	putAPI(t, e.Client, "aaaa000001", 1)
	var loads []int64 // written by Run before it publishes
	compacted := make(chan int64, 1)
	// Between the first Load and its Watch, write twice and compact both
	// revisions away: the watch then starts at a compacted revision, as it
	// does when etcd compacts while the watcher is disconnected.
	h := start(t, e, Options{}, func(w *Watcher) {
		w.afterLoad = func(loaded int64) {
			loads = append(loads, loaded)
			if len(loads) > 1 {
				return
			}
			var rev int64
			_, err := tryPutAPI(t, e.Client, "bbbb000001", 1)
			if err == nil {
				rev, err = tryPutAPI(t, e.Client, "cccc000001", 1)
			}
			if err == nil {
				_, err = e.Client.Compact(context.Background(), rev, clientv3.WithCompactPhysical())
			}
			if err != nil {
				t.Error(err)
			}
			compacted <- rev
		}
	})
	var rev int64
	select {
	case rev = <-compacted:
	case <-time.After(stuck):
		t.Fatal("the watcher never loaded")
	}
	cfg := h.waitRevision(rev)
	if got := apiIDs(cfg); !slices.Equal(got, []string{"aaaa000001", "bbbb000001", "cccc000001"}) {
		t.Fatalf("after compaction APIs = %v", got)
	}
	if !slices.Equal(loads, []int64{loads[0], rev}) {
		t.Fatalf("loads at revisions %v, want a second load at %d", loads, rev)
	}
	if got := h.publishedRevisions(); !slices.Equal(got, loads) {
		t.Fatalf("published revisions %v, want one per load %v", got, loads)
	}

	// Following resumes after the reload.
	cfg = h.waitRevision(deleteAPI(t, e.Client, "bbbb000001"))
	if got := apiIDs(cfg); !slices.Equal(got, []string{"aaaa000001", "cccc000001"}) {
		t.Fatalf("after resuming APIs = %v", got)
	}
}

func TestResumeAfterEtcdRestart(t *testing.T) {
	e := storetest.New(t)
	putAPI(t, e.Client, "aaaa000001", 1)
	h := start(t, e, Options{}, nil)
	h.waitRevision(mustRevision(t, e.Client))

	e.Stop()
	e.Restart(t)
	cfg := h.waitRevision(putAPI(t, e.Client, "bbbb000001", 1))
	if got := apiIDs(cfg); !slices.Equal(got, []string{"aaaa000001", "bbbb000001"}) {
		t.Fatalf("after restart APIs = %v", got)
	}
	assertIncreasing(t, h.publishedRevisions())
}

func TestStartsWhileEtcdIsDown(t *testing.T) {
	e := storetest.New(t)
	putAPI(t, e.Client, "aaaa000001", 1)
	e.Stop()
	h := start(t, e, Options{}, nil)
	if h.w.Current() != nil {
		t.Fatal("a config was published without etcd")
	}
	e.Restart(t)
	cfg := h.waitRevision(mustRevision(t, e.Client))
	if cfg.API("aaaa000001") == nil {
		t.Fatal("API missing after etcd came up")
	}
}

func assertIncreasing(t *testing.T, revs []int64) {
	t.Helper()
	for i := 1; i < len(revs); i++ {
		if revs[i] <= revs[i-1] {
			t.Fatalf("published revisions %v do not increase", revs)
		}
	}
}
