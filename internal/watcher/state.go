package watcher

import (
	"log/slog"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// state is the watcher's decoded copy of the records a Config is built
// from, as of etcd revision rev. Each changed key is decoded once, when its
// event arrives, and each API is converted again only when one of its
// records changed, so a rebuild costs in proportion to what changed. Only
// the Run goroutine touches a state.
type state struct {
	rev   int64
	apis  map[string]*apiRecords
	usage *usageRecords
}

// apiRecords are the records of one API that reach the data plane: the API,
// its stages and its deployments. Draft routes and integrations are not
// kept, since only deployed snapshots of them are served.
type apiRecords struct {
	api         *adminv1.Api
	stages      map[string]*adminv1.Stage
	deployments map[string]*deploymentRecord

	// built is the API as last converted, valid while dirty is false; nil
	// if the API could not be served.
	built *model.API
	dirty bool
}

// deploymentRecord is one deployment and, once a stage has needed it, its
// conversion. Deployments are immutable apart from their description and
// tags, so the conversion is reused by every rebuild, and shared by every
// stage and every Config, until the record changes.
type deploymentRecord struct {
	msg       *adminv1.Deployment
	converted *model.Deployment
	err       error
	done      bool
}

func newState(rev int64) *state {
	return &state{rev: rev, apis: make(map[string]*apiRecords), usage: newUsageRecords()}
}

// relevantKey parses key and reports whether it holds a record that a
// Config is built from.
func relevantKey(key []byte) (store.Key, bool) {
	k, ok := store.ParseKey(string(key))
	if !ok {
		return store.Key{}, false
	}
	switch k.Kind {
	case store.KindAPI, store.KindStage, store.KindDeployment:
		return k, true
	}
	if isUsageKind(k.Kind) {
		return k, true
	}
	return store.Key{}, false
}

// put records the new value of a key and reports whether the key is one a
// Config is built from. A value that does not decode is logged and treated
// as absent, so that one bad record takes out only what depends on it.
func (s *state) put(log *slog.Logger, kv *mvccpb.KeyValue) bool {
	key, ok := relevantKey(kv.Key)
	if !ok {
		return false
	}
	_, msg, err := store.Decode(kv)
	if err != nil {
		log.Warn("skipping a record that does not decode", "key", string(kv.Key), "err", err)
		s.remove(key)
		return true
	}
	if isUsageKind(key.Kind) {
		s.usage.put(key, msg)
		return true
	}
	r := s.records(key.APIID)
	r.dirty = true
	switch m := msg.(type) {
	case *adminv1.Api:
		r.api = m
	case *adminv1.Stage:
		r.stages[key.Name] = m
	case *adminv1.Deployment:
		r.deployments[key.Name] = &deploymentRecord{msg: m}
	}
	return true
}

// delete records that a key was deleted and reports whether the key is one
// a Config is built from.
func (s *state) delete(kv *mvccpb.KeyValue) bool {
	key, ok := relevantKey(kv.Key)
	if ok {
		s.remove(key)
	}
	return ok
}

func (s *state) remove(key store.Key) {
	if isUsageKind(key.Kind) {
		s.usage.remove(key)
		return
	}
	r := s.apis[key.APIID]
	if r == nil {
		return
	}
	r.dirty = true
	switch key.Kind {
	case store.KindAPI:
		r.api = nil
	case store.KindStage:
		delete(r.stages, key.Name)
	case store.KindDeployment:
		delete(r.deployments, key.Name)
	}
	if r.api == nil && len(r.stages) == 0 && len(r.deployments) == 0 {
		delete(s.apis, key.APIID)
	}
}

// records returns the records of an API, creating them on first use.
func (s *state) records(apiID string) *apiRecords {
	r := s.apis[apiID]
	if r == nil {
		r = &apiRecords{
			stages:      make(map[string]*adminv1.Stage),
			deployments: make(map[string]*deploymentRecord),
		}
		s.apis[apiID] = r
	}
	return r
}

// build returns the Config of the state, converting the APIs that changed
// since the last build and reusing the others. It returns nil, after
// logging why, if no Config can be made.
func (s *state) build(log *slog.Logger) *model.Config {
	apis := make([]*model.API, 0, len(s.apis))
	for id, r := range s.apis {
		if r.dirty {
			r.built = buildAPI(log, id, r)
			r.dirty = false
		}
		if r.built != nil {
			apis = append(apis, r.built)
		}
	}
	cfg, err := model.NewConfig(s.rev, apis)
	if err != nil {
		log.Error("building the config failed", "revision", s.rev, "err", err)
		return nil
	}
	cfg.Keys = s.usage.build(log)
	return cfg
}
