// Package xds serves Envoy its configuration: it translates every
// *model.Config the watcher publishes into one go-control-plane snapshot and
// serves it over ADS, both state of the world and incremental (delta), and
// over the per-type LDS, RDS, CDS and EDS services.
//
// Every Envoy gets the same snapshot ("one snapshot for all nodes"): the
// gateway has one configuration, and per-node snapshots would multiply the
// memory and the work of every change by the size of the fleet. The
// snapshot version is "<etcd revision>-<content hash>", so a version names
// both when and what; a new model whose resources hash the same as the
// served ones sets no new snapshot, and Envoys see no update. Changes roll
// out make-before-break (see rollout.go): Envoy gets every new cluster, and
// ACKs it, before the routes that use it, and keeps every old cluster until
// it runs routes that no longer use it.
//
// What each Envoy accepted and rejected is tracked per node (see
// callbacks.go). A rejected (NACKed) version is logged once, recorded in
// the fleet that the admin API lists, and not sent again to the node that
// rejected it until the configuration changes (see nack.go). A stage that
// fails translation is left out by the translator and reported on its API's
// status in etcd (see status.go); everything else keeps being served, and
// on any other error the last good snapshot stays.
package xds

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	sotwv3 "github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/xds/translate"
)

// DefaultFleetFlushInterval is how often at most a node's record is written
// to etcd. An Envoy ACKs each resource type of every update separately, so
// one change makes several state changes per node within milliseconds;
// writing the latest state once per interval keeps etcd's write rate
// proportional to the fleet, not to the protocol's chattiness.
const DefaultFleetFlushInterval = 500 * time.Millisecond

// Options configures a Server. Only Translate is checked; the zero value of
// every other field is usable.
type Options struct {
	// Logger receives connections, NACKs, translation problems and etcd
	// trouble; nil discards.
	Logger *slog.Logger
	// Translate shapes the Envoy configuration (listener address, domains).
	Translate translate.Options
	// InstanceID names this server in the fleet; it must differ between the
	// xDS servers sharing one etcd. Empty means the host name.
	InstanceID string
	// Store receives API statuses and the fleet; nil keeps both in memory
	// only (see Fleet).
	Store *store.Store
	// Now is the clock of fleet and status timestamps; nil is time.Now.
	Now func() time.Time
	// FleetFlushInterval bounds how often a node's record is written;
	// zero means DefaultFleetFlushInterval.
	FleetFlushInterval time.Duration
	// FleetTTL is the lease TTL of the fleet records; zero means
	// store.DefaultFleetTTL.
	FleetTTL time.Duration
	// ClusterAckTimeout bounds how long a change that adds clusters waits
	// for every Envoy to ACK them before publishing its routes; zero means
	// DefaultClusterAckTimeout.
	ClusterAckTimeout time.Duration
	// ClusterGrace bounds how long clusters no route uses any more are
	// kept for Envoys that have not ACKed the routes that replaced them;
	// zero means DefaultClusterGrace.
	ClusterGrace time.Duration
}

// Server is the xDS server. Register it on a gRPC server, then Run it.
type Server struct {
	log        *slog.Logger
	translator *translate.Translator
	cache      *nackCache
	xds        serverv3.Server
	fleet      *fleet
	persister  *persister
	statuses   *statusReporter
	rollout    *rollout

	// streams ends every xDS stream when Run returns; go-control-plane
	// takes it when the server is made, before Run's ctx exists.
	streams     context.Context
	stopStreams context.CancelFunc

	ready     chan struct{}
	readyOnce sync.Once
	version   atomic.Pointer[string]
	running   atomic.Bool

	// Only Run's goroutine touches these.
	last   *model.Config
	states map[string]apiState
}

// NewServer checks opts and returns a Server with no snapshot yet: Envoys
// that connect before the first Config wait for it.
func NewServer(opts Options) (*Server, error) {
	opts = opts.withDefaults()
	tr, err := translate.NewTranslator(opts.Translate)
	if err != nil {
		return nil, err
	}
	s := &Server{
		log:        opts.Logger,
		translator: tr,
		cache:      newNackCache(opts.Logger),
		fleet:      newFleet(opts.InstanceID, opts.Now),
		ready:      make(chan struct{}),
	}
	s.rollout = newRollout(s, opts.ClusterAckTimeout, opts.ClusterGrace)
	t := newTracker(opts.Logger, s.fleet, s.cache)
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	// Ordered ADS sends every state-of-the-world response through one
	// channel, clusters before the listeners and routes that use them; the
	// rollout makes sure Envoy has applied new clusters before it gets
	// routes to them, over both protocols.
	s.xds = serverv3.NewServer(s.streams, s.cache, t.callbacks(),
		sotwv3.WithOrderedADS(), sotwv3.WithLogger(cacheLogger(opts.Logger)))
	if opts.Store != nil {
		s.persister = newPersister(s.fleet, opts.Store, opts.Logger, opts.FleetFlushInterval, opts.FleetTTL)
		s.statuses = newStatusReporter(opts.Store, opts.Logger, opts.Now)
	}
	return s, nil
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.InstanceID == "" {
		o.InstanceID, _ = os.Hostname()
	}
	if o.FleetFlushInterval <= 0 {
		o.FleetFlushInterval = DefaultFleetFlushInterval
	}
	if o.FleetTTL <= 0 {
		o.FleetTTL = store.DefaultFleetTTL
	}
	if o.ClusterAckTimeout <= 0 {
		o.ClusterAckTimeout = DefaultClusterAckTimeout
	}
	if o.ClusterGrace <= 0 {
		o.ClusterGrace = DefaultClusterGrace
	}
	return o
}

// Register registers ADS (state of the world and delta) and the per-type
// listener, route, cluster and endpoint discovery services on g.
func (s *Server) Register(g *grpc.Server) {
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, s.xds)
	listenerservice.RegisterListenerDiscoveryServiceServer(g, s.xds)
	routeservice.RegisterRouteDiscoveryServiceServer(g, s.xds)
	clusterservice.RegisterClusterDiscoveryServiceServer(g, s.xds)
	endpointservice.RegisterEndpointDiscoveryServiceServer(g, s.xds)
}

// Run serves every Config received from configs until ctx is done or
// configs is closed, then ends every xDS stream, stops writing the fleet
// and revokes its lease, so that the fleet records of this instance
// disappear at once. Run may be called once.
func (s *Server) Run(ctx context.Context, configs <-chan *model.Config) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("xds: Run called twice")
	}
	defer s.stopStreams()
	var wg sync.WaitGroup
	defer wg.Wait()
	bg, cancel := context.WithCancel(ctx)
	defer cancel()
	if s.persister != nil {
		wg.Go(func() { s.persister.run(bg) })
		wg.Go(func() { s.statuses.run(bg) })
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case cfg, ok := <-configs:
			if !ok {
				return nil
			}
			s.apply(ctx, cfg)
		case <-s.fleet.answered:
			s.rolled(s.rollout.answered(ctx))
		case <-s.rollout.timer.C:
			s.rolled(s.rollout.fire(ctx))
		}
	}
}

// Ready is closed once the first snapshot is set, from when on every Envoy
// that connects gets a configuration.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Version returns the version of the snapshot being served, or "" before
// the first one.
func (s *Server) Version() string {
	if v := s.version.Load(); v != nil {
		return *v
	}
	return ""
}

// Fleet returns the Envoys connected to this server, ordered by node id.
func (s *Server) Fleet() []*adminv1.EnvoyNode { return s.fleet.list() }
