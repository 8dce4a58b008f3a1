package xds

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/xds/translate"
)

// Defaults for the zero rollout fields of Options.
const (
	// DefaultClusterAckTimeout bounds how long a change that adds clusters
	// waits for every Envoy to ACK them before it publishes the routes that
	// use them. An Envoy that never answers delays changes by this much at
	// most; the others have long ACKed by then (in milliseconds).
	DefaultClusterAckTimeout = 5 * time.Second
	// DefaultClusterGrace bounds how long clusters no route uses any more
	// stay in the snapshot: they go once every Envoy has ACKed the routes
	// that no longer use them, or after this long, or with the next
	// change, whichever comes first.
	DefaultClusterGrace = 5 * time.Second
)

// The steps of a rollout, as logged with each snapshot.
const (
	stepClusters = "clusters" // the served routes with the old and the new clusters
	stepRoutes   = "routes"   // the new configuration, still with the replaced routes' clusters
	stepCleanup  = "cleanup"  // the new configuration alone
)

// rollout publishes each translation make-before-break, as the xDS
// protocol's eventual consistency asks. Envoy applies each resource type
// on its own, so routes that name a cluster it does not have yet, or no
// longer has, answer 503 without a body (no_cluster). Ordered ADS orders
// the responses of one snapshot on one stream, but a snapshot that swaps
// routes and clusters at once still races, and delta has no order at all.
//
// So a change that adds clusters is served in two snapshots: first the
// served listeners and routes with the old and the new clusters; then,
// once every connected Envoy has ACKed those clusters, or ackTimeout
// passed, the new listeners and routes. The clusters of the routes they
// replace stay until every Envoy has ACKed the new routes, or for grace, or
// until the next change, whichever comes first. A change that adds no
// cluster is served in one snapshot.
//
// Only Run's goroutine calls a rollout.
type rollout struct {
	log        *slog.Logger
	cache      cachev3.SnapshotCache
	fleet      *fleet
	ackTimeout time.Duration
	grace      time.Duration
	// served is called with the version of every snapshot set.
	served func(version string)

	// serving is the snapshot set last; nil before the first.
	serving *servedSnapshot
	// hasher hashes each snapshot's content, remembering digests.
	hasher resourceHasher
	// live is the translation whose listeners and routes are served.
	live *change
	// ready names the served clusters that routes may use: every Envoy
	// took them, or was given ackTimeout to.
	ready map[string]bool
	// next is the newest translation not yet served whole; nil if none.
	next *change
	// awaiting is the version of the clusters step whose ACKs next waits
	// for, and awaited the clusters it serves; "" and nil if none.
	awaiting string
	awaited  map[string]bool
	// expired is set when the wait for awaiting has lasted ackTimeout.
	expired bool
	// draining is the version of the routes step whose ACKs, of the types
	// in drainTypes, let the clusters no route uses go; "" if none.
	draining   string
	drainTypes []string
	// timer ends the wait for ACKs, or the grace of unused clusters.
	timer *time.Timer
}

// change is a translation of one revision.
type change struct {
	rev int64
	res *translate.Resources
}

// servedSnapshot is what the cache serves.
type servedSnapshot struct {
	hash, version string
	clusters      []*clusterv3.Cluster
	endpoints     []*endpointv3.ClusterLoadAssignment
}

func newRollout(s *Server, ackTimeout, grace time.Duration) *rollout {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &rollout{
		log: s.log, cache: s.cache, fleet: s.fleet, ackTimeout: ackTimeout, grace: grace,
		served: s.served, ready: make(map[string]bool), timer: t,
	}
}

// offer makes res, translated at revision rev, the configuration to serve,
// in place of any not yet served whole, and publishes what it can at once.
func (r *rollout) offer(ctx context.Context, rev int64, res *translate.Resources) error {
	r.next = &change{rev, res}
	return r.advance(ctx)
}

// answered goes on with a rollout waiting for ACKs, after a node ACKed,
// NACKed or left.
func (r *rollout) answered(ctx context.Context) error {
	if r.awaiting != "" {
		return r.advance(ctx)
	}
	return r.drain(ctx)
}

// fire ends the wait for ACKs, or drops the clusters no route uses.
func (r *rollout) fire(ctx context.Context) error {
	if r.awaiting != "" {
		r.expired = true
		return r.advance(ctx)
	}
	return r.cleanup(ctx)
}

// advance publishes what next is ready for. On error next is given up and
// the served snapshot stays; the grace timer then restores the live one.
func (r *rollout) advance(ctx context.Context) error {
	if r.next == nil {
		return nil
	}
	if err := r.step(ctx, r.next); err != nil {
		r.next, r.awaiting, r.awaited = nil, "", nil
		r.timer.Reset(r.grace)
		return err
	}
	return r.drain(ctx)
}

// step serves next's clusters first if routes may not use them yet, and
// next whole once they may.
func (r *rollout) step(ctx context.Context, next *change) error {
	if r.live == nil { // the first snapshot: there is nothing to break
		return r.publishRoutes(ctx, next)
	}
	missing := r.unready(next.res.Clusters)
	if len(missing) > 0 {
		if !subset(missing, r.awaited) {
			if err := r.publishClusters(ctx, next); err != nil {
				return err
			}
		}
		if !r.fleetTook() {
			return nil // an ACK, the timer or a newer change goes on
		}
	}
	return r.publishRoutes(ctx, next)
}

// publishClusters serves the live listeners and routes with the served
// clusters and next's, and starts waiting for every Envoy to ACK them.
func (r *rollout) publishClusters(ctx context.Context, next *change) error {
	clusters := unionClusters(next.res.Clusters, r.serving.clusters)
	endpoints := unionEndpoints(clusters, next.res.Endpoints, r.serving.endpoints)
	if err := r.publish(ctx, &change{next.rev, r.live.res}, clusters, endpoints, stepClusters); err != nil {
		return err
	}
	r.awaiting, r.awaited, r.expired = r.serving.version, names(clusters), false
	r.timer.Reset(r.ackTimeout)
	return nil
}

// fleetTook reports whether every connected Envoy ACKed (or NACKed) the
// awaited clusters, or the wait expired, and if so makes them ready.
func (r *rollout) fleetTook() bool {
	behind := r.fleet.unanswered(resource.ClusterType, r.awaiting)
	if len(behind) > 0 && !r.expired {
		return false
	}
	if len(behind) > 0 {
		r.log.Warn("envoys did not ACK new clusters in time; publishing the routes that use them anyway",
			"version", r.awaiting, "nodes", behind, "timeout", r.ackTimeout)
	}
	r.ready, r.awaiting, r.awaited = r.awaited, "", nil
	return true
}

// publishRoutes serves next whole, with the clusters of the routes it
// replaces, which go once every Envoy runs next's routes, or after grace.
func (r *rollout) publishRoutes(ctx context.Context, next *change) error {
	clusters, endpoints := next.res.Clusters, next.res.Endpoints
	var changed []string
	if r.live != nil {
		clusters = unionClusters(clusters, r.live.res.Clusters)
		endpoints = unionEndpoints(clusters, endpoints, r.live.res.Endpoints)
		changed = changedTypes(r.live.res, next.res)
	}
	if err := r.publish(ctx, next, clusters, endpoints, stepRoutes); err != nil {
		return err
	}
	r.live, r.next, r.ready = next, nil, names(clusters)
	r.awaiting, r.awaited, r.draining = "", nil, ""
	r.timer.Stop()
	if len(clusters) > len(next.res.Clusters) {
		r.draining, r.drainTypes = r.serving.version, changed
		r.timer.Reset(r.grace)
	}
	return nil
}

// drain drops the clusters no route uses once every Envoy has ACKed the
// routes that stopped using them. Without changed listeners or routes to
// ACK, the grace timer drops them.
func (r *rollout) drain(ctx context.Context) error {
	if r.draining == "" || len(r.drainTypes) == 0 || len(r.fleet.unaccepted(r.draining, r.drainTypes)) > 0 {
		return nil
	}
	return r.cleanup(ctx)
}

// cleanup serves the live translation alone.
func (r *rollout) cleanup(ctx context.Context) error {
	if r.next != nil || r.live == nil {
		return nil
	}
	r.draining = ""
	r.timer.Stop()
	if err := r.publish(ctx, r.live, r.live.res.Clusters, r.live.res.Endpoints, stepCleanup); err != nil {
		return err
	}
	r.ready = names(r.live.res.Clusters)
	return nil
}

// publish sets a snapshot of c's listeners and routes with clusters and
// endpoints, unless its content is what is served. Its version is
// "<c.rev>-<hash>".
func (r *rollout) publish(ctx context.Context, c *change, clusters []*clusterv3.Cluster, endpoints []*endpointv3.ClusterLoadAssignment, step string) error {
	res := *c.res
	res.Clusters, res.Endpoints = clusters, endpoints
	byType := res.ByType()
	sum, err := r.hasher.hash(byType)
	if err != nil {
		return err
	}
	if r.serving != nil && sum == r.serving.hash {
		r.log.Debug("resources unchanged; keeping the snapshot", "revision", c.rev, "version", r.serving.version, "step", step)
		return nil
	}
	version := snapshotVersion(c.rev, sum)
	if err := r.set(ctx, version, byType); err != nil {
		return err
	}
	r.serving = &servedSnapshot{hash: sum, version: version, clusters: clusters, endpoints: endpoints}
	r.served(version)
	r.log.Info("serving snapshot", "version", version, "step", step, "listeners", len(res.Listeners),
		"routes", len(res.Routes), "clusters", len(clusters), "problems", len(res.Problems))
	return nil
}

// set checks a snapshot and hands it to the cache.
func (r *rollout) set(ctx context.Context, version string, byType map[resource.Type][]types.Resource) error {
	// Every type is in the snapshot even when empty: a state-of-the-world
	// Envoy otherwise waits out its initial fetch timeout for that type.
	snap, err := cachev3.NewSnapshot(version, byType)
	if err != nil {
		return err
	}
	if err := snap.Consistent(); err != nil {
		return fmt.Errorf("snapshot %s is inconsistent: %w", version, err)
	}
	if err := r.cache.SetSnapshot(ctx, snapshotKey, snap); err != nil {
		return fmt.Errorf("set snapshot %s: %w", version, err)
	}
	return nil
}

// changedTypes returns the types of listeners and routes that differ
// between two translations: those an Envoy must ACK to run after's routes.
// The translator hands unchanged resources on as the same protos, so most
// compare by pointer.
func changedTypes(before, after *translate.Resources) []string {
	var out []string
	if !sameProtos(before.Listeners, after.Listeners) {
		out = append(out, resource.ListenerType)
	}
	if !sameProtos(before.ScopedRoutes, after.ScopedRoutes) {
		out = append(out, resource.ScopedRouteType)
	}
	if !sameProtos(before.Routes, after.Routes) {
		out = append(out, resource.RouteType)
	}
	return out
}

func sameProtos[T proto.Message](a, b []T) bool {
	return slices.EqualFunc(a, b, func(x, y T) bool { return proto.Message(x) == proto.Message(y) || proto.Equal(x, y) })
}

// unready returns the names of clusters routes may not use yet.
func (r *rollout) unready(clusters []*clusterv3.Cluster) []string {
	var out []string
	for _, c := range clusters {
		if !r.ready[c.GetName()] {
			out = append(out, c.GetName())
		}
	}
	return out
}

// unionClusters returns first and the clusters of second that first has
// none of the name of: a cluster in both is first's.
func unionClusters(first, second []*clusterv3.Cluster) []*clusterv3.Cluster {
	have := names(first)
	out := append([]*clusterv3.Cluster(nil), first...)
	for _, c := range second {
		if !have[c.GetName()] {
			out = append(out, c)
		}
	}
	return out
}

// unionEndpoints returns the EDS assignments clusters use, taking first's
// over second's, so that the snapshot stays consistent.
func unionEndpoints(clusters []*clusterv3.Cluster, first, second []*endpointv3.ClusterLoadAssignment) []*endpointv3.ClusterLoadAssignment {
	used := make(map[string]bool)
	for _, c := range clusters {
		if name, ok := edsName(c); ok {
			used[name] = true
		}
	}
	var out []*endpointv3.ClusterLoadAssignment
	for _, la := range append(append([]*endpointv3.ClusterLoadAssignment(nil), first...), second...) {
		if used[la.GetClusterName()] {
			out = append(out, la)
			delete(used, la.GetClusterName())
		}
	}
	return out
}

// edsName returns the name of the assignment an EDS cluster fetches, as
// Consistent() resolves it.
func edsName(c *clusterv3.Cluster) (string, bool) {
	if c.GetType() != clusterv3.Cluster_EDS {
		return "", false
	}
	if n := c.GetEdsClusterConfig().GetServiceName(); n != "" {
		return n, true
	}
	return c.GetName(), true
}

func names(clusters []*clusterv3.Cluster) map[string]bool {
	out := make(map[string]bool, len(clusters))
	for _, c := range clusters {
		out[c.GetName()] = true
	}
	return out
}

// subset reports whether every name is in set.
func subset(names []string, set map[string]bool) bool {
	for _, n := range names {
		if !set[n] {
			return false
		}
	}
	return true
}
