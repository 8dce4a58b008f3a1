package watcher

import (
	"fmt"
	"log/slog"
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// records makes key-values as the store writes them, with increasing
// revisions.
type records struct {
	t   testing.TB
	rev int64
}

func (r *records) kv(key string, m proto.Message) *mvccpb.KeyValue {
	r.rev++
	return &mvccpb.KeyValue{Key: []byte(key), Value: marshal(r.t, m), ModRevision: r.rev}
}

func (r *records) deleted(key string) *mvccpb.KeyValue {
	r.rev++
	return &mvccpb.KeyValue{Key: []byte(key), ModRevision: r.rev}
}

func testAPI(id string) *adminv1.Api {
	return &adminv1.Api{Id: id, Name: "name-" + id, Protocol: adminv1.Protocol_PROTOCOL_HTTP}
}

func testStage(apiID, name, deploymentID string) *adminv1.Stage {
	return &adminv1.Stage{ApiId: apiID, Name: name, DeploymentId: deploymentID}
}

// testDeployment has n routes GET /r{i} over one mock integration.
func testDeployment(apiID, id string, n int) *adminv1.Deployment {
	d := &adminv1.Deployment{Id: id, ApiId: apiID, Integrations: []*adminv1.Integration{{
		Id: "int0000001", ApiId: apiID, Name: "mock",
		Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200}},
	}}}
	for i := range n {
		d.Routes = append(d.Routes, &adminv1.Route{
			Id: fmt.Sprintf("rte%07d", i), ApiId: apiID, Method: "GET",
			Path: fmt.Sprintf("/r%d/{id}", i), IntegrationId: "int0000001",
		})
	}
	return d
}

func TestBuildSharesUnchangedValues(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	r := &records{t: t}
	s := newState(0)
	for _, kv := range []*mvccpb.KeyValue{
		r.kv(store.APIKey("aaaa000001"), testAPI("aaaa000001")),
		r.kv(store.DeploymentKey("aaaa000001", "dep0000001"), testDeployment("aaaa000001", "dep0000001", 3)),
		r.kv(store.StageKey("aaaa000001", "prod"), testStage("aaaa000001", "prod", "dep0000001")),
		r.kv(store.StageKey("aaaa000001", "beta"), testStage("aaaa000001", "beta", "dep0000001")),
		r.kv(store.APIKey("bbbb000001"), testAPI("bbbb000001")),
	} {
		s.put(log, kv)
	}
	first := s.build(log)
	a := first.API("aaaa000001")
	if a.Stage("prod").Deployment == nil || a.Stage("prod").Deployment != a.Stage("beta").Deployment {
		t.Fatal("stages serving one deployment do not share it")
	}

	s.put(log, r.kv(store.StageKey("bbbb000001", "dev"), testStage("bbbb000001", "dev", "")))
	second := s.build(log)
	if second.API("aaaa000001") != a {
		t.Error("an unchanged API was rebuilt")
	}
	if second.API("bbbb000001") == first.API("bbbb000001") || second.API("bbbb000001").Stage("dev") == nil {
		t.Error("a changed API was not rebuilt")
	}

	s.put(log, r.kv(store.StageKey("aaaa000001", "beta"), testStage("aaaa000001", "beta", "")))
	third := s.build(log).API("aaaa000001")
	if third == a || third.Stage("prod").Deployment != a.Stage("prod").Deployment {
		t.Error("a stage change did not rebuild the API, or converted its deployment again")
	}
	if third.Stage("beta").Deployment != nil {
		t.Error("beta still serves its old deployment")
	}
}

func TestDeletesForgetRecords(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	r := &records{t: t}
	s := newState(0)
	s.put(log, r.kv(store.APIKey("aaaa000001"), testAPI("aaaa000001")))
	s.put(log, r.kv(store.StageKey("aaaa000001", "prod"), testStage("aaaa000001", "prod", "")))
	s.put(log, r.kv(store.RouteKey("aaaa000001", "rte0000001"), &adminv1.Route{Id: "rte0000001"}))

	s.delete(r.deleted(store.APIKey("aaaa000001")))
	if cfg := s.build(log); len(cfg.APIs) != 0 {
		t.Fatalf("deleted API is still served: %v", cfg.APIs)
	}
	s.delete(r.deleted(store.StageKey("aaaa000001", "prod")))
	if len(s.apis) != 0 {
		t.Errorf("records of a deleted API are kept: %v", s.apis)
	}
	s.delete(r.deleted(store.StageKey("cccc000001", "prod"))) // never seen
	s.delete(r.deleted("/elsewhere/key"))
	if len(s.apis) != 0 {
		t.Errorf("deleting unknown keys created records: %v", s.apis)
	}
}

// BenchmarkRebuild measures building the Config of 100 APIs, each with two
// stages serving one deployment of 50 routes: "cold" converts everything,
// as after a load; "one-api" rebuilds after one stage changed.
func BenchmarkRebuild(b *testing.B) {
	log := slog.New(slog.DiscardHandler)
	r := &records{t: b}
	s := newState(0)
	for i := range 100 {
		id := fmt.Sprintf("api%07d", i)
		s.put(log, r.kv(store.APIKey(id), testAPI(id)))
		s.put(log, r.kv(store.DeploymentKey(id, "dep0000001"), testDeployment(id, "dep0000001", 50)))
		s.put(log, r.kv(store.StageKey(id, "prod"), testStage(id, "prod", "dep0000001")))
		s.put(log, r.kv(store.StageKey(id, "beta"), testStage(id, "beta", "dep0000001")))
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			for _, a := range s.apis {
				a.dirty = true
				for _, d := range a.deployments {
					d.done = false
				}
			}
			if s.build(log) == nil {
				b.Fatal("no config")
			}
		}
	})
	b.Run("one-api", func(b *testing.B) {
		stage := r.kv(store.StageKey("api0000042", "beta"), testStage("api0000042", "beta", "dep0000001"))
		for b.Loop() {
			s.put(log, stage)
			if s.build(log) == nil {
				b.Fatal("no config")
			}
		}
	})
}

// API key, usage plan and association records feed ext_authz, so they
// rebuild the Config; the indexes that only keep names and values unique,
// or find a key's plans for the admin API, never do.
func TestUsageRecordsAreRelevantIndexesAreNot(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	r := &records{t: t}
	hash := []byte{0xab, 0xcd}
	relevant := map[string]*mvccpb.KeyValue{
		"key":   r.kv(store.APIKeyRecord("key0000001"), &adminv1.ApiKey{Id: "key0000001", Name: "gold", ValueHash: hash}),
		"plan":  r.kv(store.UsagePlanRecord("plan000001"), &adminv1.UsagePlan{Id: "plan000001", Name: "gold"}),
		"assoc": r.kv(store.UsagePlanKeyKey("plan000001", "key0000001"), &adminv1.UsagePlanKey{}),
	}
	ignored := map[string]*mvccpb.KeyValue{
		"key name":    {Key: []byte(store.APIKeyNameKey("gold")), Value: []byte("key0000001")},
		"key hash":    {Key: []byte(store.APIKeyHashKey(hash)), Value: []byte("key0000001")},
		"plan name":   {Key: []byte(store.UsagePlanNameKey("gold")), Value: []byte("plan000001")},
		"key's plans": {Key: []byte(store.APIKeyPlanKey("key0000001", "plan000001")), Value: []byte("plan000001")},
	}
	for name, kv := range relevant {
		s := newState(0)
		if !s.put(log, kv) || !s.delete(kv) {
			t.Errorf("%s: put or delete reported an irrelevant key", name)
		}
	}
	for name, kv := range ignored {
		s := newState(0)
		if s.put(log, kv) || s.delete(kv) {
			t.Errorf("%s: put or delete reported a relevant key", name)
		}
		if len(s.apis) != 0 {
			t.Errorf("%s: created api records: %v", name, s.apis)
		}
	}
}
