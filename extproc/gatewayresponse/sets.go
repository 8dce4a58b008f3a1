package gatewayresponse

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/archway-gateway/archway/internal/model"
)

// FromModel compiles an API's customized gateway responses, as the model
// holds them (model.API.GatewayResponses).
func FromModel(rs map[string]*model.GatewayResponse) (*Set, error) {
	overrides := make(map[Type]Override, len(rs))
	for t, r := range rs {
		overrides[Type(t)] = Override{StatusCode: r.StatusCode, Headers: r.Headers, Templates: r.Templates}
	}
	return Compile(overrides)
}

// Sets keeps the compiled gateway responses of the APIs of the latest
// configuration, compiled once per configuration change and shared by
// every request. An API whose definition a change leaves alone (the
// watcher shares its *model.API) keeps its Set. It is safe for concurrent
// use.
type Sets struct {
	defaults *Set
	// log is told of an API whose responses do not compile; the API
	// answers with the defaults.
	log *slog.Logger
	// mu serializes rebuilds; readers only load gen.
	mu  sync.Mutex
	gen atomic.Pointer[setsGeneration]
}

// setsGeneration is the Sets of one configuration.
type setsGeneration struct {
	cfg   *model.Config
	byAPI map[*model.API]*Set
}

// NewSets returns an empty Sets. An API whose responses do not compile
// (the admin API refuses them, so this is a bug) is logged to log, which
// may be nil, and answers with API Gateway's defaults.
func NewSets(log *slog.Logger) *Sets {
	def, err := Compile(nil)
	if err != nil {
		panic(err) // the defaults are fixed; they always compile
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sets{defaults: def, log: log}
}

// Defaults returns API Gateway's gateway responses, without any API's
// overrides.
func (s *Sets) Defaults() *Set { return s.defaults }

// For returns the gateway responses of api, which must belong to cfg: its
// compiled overrides, or the defaults when it has none (or api is nil).
func (s *Sets) For(cfg *model.Config, api *model.API) *Set {
	if api == nil || len(api.GatewayResponses) == 0 {
		return s.defaults
	}
	g := s.gen.Load()
	if g == nil || g.cfg != cfg {
		g = s.rebuild(cfg)
	}
	if set := g.byAPI[api]; set != nil {
		return set
	}
	return s.defaults
}

// rebuild compiles the responses of cfg's APIs, reusing the previous
// generation's for the APIs cfg shares with it.
func (s *Sets) rebuild(cfg *model.Config) *setsGeneration {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.gen.Load()
	if prev != nil && prev.cfg == cfg {
		return prev
	}
	g := &setsGeneration{cfg: cfg, byAPI: map[*model.API]*Set{}}
	if cfg != nil {
		for _, api := range cfg.APIs {
			if len(api.GatewayResponses) == 0 {
				continue
			}
			if prev != nil && prev.byAPI[api] != nil {
				g.byAPI[api] = prev.byAPI[api]
				continue
			}
			set, err := FromModel(api.GatewayResponses)
			if err != nil {
				s.log.Error("gateway responses do not compile; the API answers with the defaults",
					slog.String("api_id", api.ID), slog.Any("error", err))
				set = s.defaults
			}
			g.byAPI[api] = set
		}
	}
	s.gen.Store(g)
	return g
}
