package xds

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// fleet is this server's registry of connected Envoys, by node id. A node
// may hold several streams (one per type without ADS, or briefly two while
// it reconnects); it is in the fleet while any of them is open. Changes
// mark the node dirty and wake the persister, which writes the latest state
// of each dirty node at most once per flush interval.
type fleet struct {
	instance string
	now      func() time.Time

	mu    sync.Mutex
	nodes map[string]*fleetNode
	dirty map[string]struct{}
	wake  chan struct{}
	// answered is signalled whenever a node ACKs, NACKs or leaves: the
	// rollout waits on it for the fleet to take new clusters.
	answered chan struct{}
}

// fleetNode is one node and what is needed to log each NACK once and to
// know which version of each type it runs.
type fleetNode struct {
	msg     *adminv1.EnvoyNode
	streams int
	// acked is the last version the node accepted of each type URL.
	acked map[string]string
	// nacks is the last NACK of each type URL. Envoy NACKs every response
	// it rejects, so one bad version rejected again (after a reconnect, or
	// on another stream) is the same NACK.
	nacks map[string]nackKey
}

type nackKey struct{ version, err string }

func newFleet(instance string, now func() time.Time) *fleet {
	return &fleet{
		instance: instance,
		now:      now,
		nodes:    make(map[string]*fleetNode),
		dirty:    make(map[string]struct{}),
		wake:     make(chan struct{}, 1),
		answered: make(chan struct{}, 1),
	}
}

// connect records a stream of node.
func (f *fleet) connect(node *corev3.Node, delta bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[node.GetId()]
	if n == nil {
		n = &fleetNode{
			msg: &adminv1.EnvoyNode{
				Id:           node.GetId(),
				Cluster:      node.GetCluster(),
				EnvoyVersion: envoyVersion(node),
				ControlPlane: f.instance,
				ConnectTime:  timestamppb.New(f.now()),
			},
			acked: make(map[string]string),
			nacks: make(map[string]nackKey),
		}
		f.nodes[node.GetId()] = n
	}
	n.streams++
	n.msg.Delta = delta
	f.touch(node.GetId())
}

// disconnect records that a stream of the node closed.
func (f *fleet) disconnect(nodeID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[nodeID]
	if n == nil {
		return
	}
	if n.streams--; n.streams <= 0 {
		delete(f.nodes, nodeID)
		f.answer()
	}
	f.touch(nodeID)
}

// ack records that the node accepted version of typeURL.
func (f *fleet) ack(nodeID, typeURL, version string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[nodeID]
	if n == nil {
		return
	}
	n.acked[typeURL] = version
	n.msg.AckedVersion = version
	n.msg.AckTime = timestamppb.New(f.now())
	f.touch(nodeID)
	f.answer()
}

// nack records that the node rejected version of typeURL, and reports
// whether this NACK is new rather than the last one of the type again.
func (f *fleet) nack(nodeID, typeURL, version, msg string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nodes[nodeID]
	if n == nil {
		return false
	}
	key := nackKey{version, msg}
	if n.nacks[typeURL] == key {
		return false
	}
	n.nacks[typeURL] = key
	n.msg.LastNack = &adminv1.Nack{Version: version, TypeUrl: typeURL, Error: msg, Time: timestamppb.New(f.now())}
	f.touch(nodeID)
	f.answer()
	return true
}

// unanswered returns the connected nodes, ordered by id, that have neither
// accepted nor rejected version of typeURL. A node that rejected it will
// not accept it by being waited for.
func (f *fleet) unanswered(typeURL, version string) []string {
	return f.nodesWhere(func(n *fleetNode) bool {
		return n.acked[typeURL] != version && n.nacks[typeURL].version != version
	})
}

// unaccepted returns the connected nodes, ordered by id, that have not
// accepted version of every one of types.
func (f *fleet) unaccepted(version string, types []string) []string {
	return f.nodesWhere(func(n *fleetNode) bool {
		return slices.ContainsFunc(types, func(typeURL string) bool { return n.acked[typeURL] != version })
	})
}

// nodesWhere returns the ids of the nodes that match, ordered.
func (f *fleet) nodesWhere(match func(*fleetNode) bool) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id, n := range f.nodes {
		if match(n) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// answer wakes whoever waits on f.answered. f.mu must be held.
func (f *fleet) answer() {
	select {
	case f.answered <- struct{}{}:
	default:
	}
}

// touch marks a node dirty and wakes the persister. f.mu must be held.
func (f *fleet) touch(nodeID string) {
	f.dirty[nodeID] = struct{}{}
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// touchAll marks every node dirty, as when a new lease needs them all.
func (f *fleet) touchAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id := range f.nodes {
		f.touch(id)
	}
}

// takeDirty returns the dirty nodes, copied, and those that left since,
// and marks them clean.
func (f *fleet) takeDirty() (put []*adminv1.EnvoyNode, gone []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id := range f.dirty {
		if n := f.nodes[id]; n != nil {
			put = append(put, proto.CloneOf(n.msg))
		} else {
			gone = append(gone, id)
		}
	}
	clear(f.dirty)
	return put, gone
}

// markDirty marks nodes dirty again after a failed write, without waking
// the persister, which retries on its own schedule.
func (f *fleet) markDirty(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		f.dirty[id] = struct{}{}
	}
}

// list returns a copy of every node, ordered by id.
func (f *fleet) list() []*adminv1.EnvoyNode {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*adminv1.EnvoyNode, 0, len(f.nodes))
	for _, n := range f.nodes {
		out = append(out, proto.CloneOf(n.msg))
	}
	slices.SortFunc(out, func(a, b *adminv1.EnvoyNode) int { return cmp.Compare(a.GetId(), b.GetId()) })
	return out
}

func formatVersion(major, minor, patch uint32) string {
	return strconv.FormatUint(uint64(major), 10) + "." + strconv.FormatUint(uint64(minor), 10) + "." +
		strconv.FormatUint(uint64(patch), 10)
}
