package xds

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/internal/model"
)

// snapshotKey is the one key every node's snapshot is stored under.
const snapshotKey = "archway"

// hashLength is how many hex digits of the content hash the snapshot
// version carries: 48 bits, so two different configurations of one
// revision never share a version in practice, and versions stay short
// enough to read in logs and `archwayctl get fleet`.
const hashLength = 12

// oneSnapshot is the cache's NodeHash: every node maps to snapshotKey,
// which serves one snapshot for all nodes. The gateway has one
// configuration, so per-node snapshots would only multiply memory and the
// cost of each change by the number of Envoys.
type oneSnapshot struct{}

// ID returns the key of the one snapshot, whatever the node.
func (oneSnapshot) ID(*corev3.Node) string { return snapshotKey }

// resourceTypes returns the resource types in the order they are hashed,
// the order Envoy applies them in.
func resourceTypes() []resource.Type {
	return []resource.Type{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType, resource.ScopedRouteType}
}

// apply translates cfg and hands the result to the rollout, which serves
// it make-before-break (see rollout.go). An unchanged model is not
// translated at all, and unchanged resources set no new snapshot; on error
// the last good snapshot stays.
func (s *Server) apply(ctx context.Context, cfg *model.Config) {
	if cfg == nil || (s.last != nil && sameAPIs(s.last, cfg)) {
		return
	}
	res, err := s.translator.Translate(cfg)
	if err != nil {
		s.log.Error("translation failed; still serving the last snapshot", "revision", cfg.Revision, "err", err)
		return
	}
	s.last = cfg
	s.rolled(s.rollout.offer(ctx, cfg.Revision, &res))
	s.report(cfg, res.Problems)
}

// rolled logs an error of the rollout, which then keeps serving the last
// snapshot it set.
func (s *Server) rolled(err error) {
	if err != nil {
		s.log.Error("snapshot not set; still serving the last one", "err", err)
	}
}

// served records that the snapshot of version is set.
func (s *Server) served(version string) {
	s.version.Store(&version)
	s.readyOnce.Do(func() { close(s.ready) })
}

// sameAPIs reports whether two Configs hold the same *model.API pointers.
// The watcher hands on an unchanged API as the same pointer, so equal
// pointers mean nothing to translate.
func sameAPIs(a, b *model.Config) bool {
	return slices.Equal(a.APIs, b.APIs)
}

// snapshotVersion is "<revision>-<hash prefix>": the revision says which
// state of etcd the snapshot reflects, the hash what it holds.
func snapshotVersion(rev int64, sum string) string {
	return fmt.Sprintf("%d-%s", rev, sum[:hashLength])
}

// resourceHasher hashes snapshots' contents. The translator hands on an
// unchanged API's protos as the same pointers, and they are never modified,
// so the hasher remembers each resource's digest from the previous call and
// marshals only what is new: the cost of a change is that of what changed,
// not of the whole gateway. It is used from one goroutine.
type resourceHasher struct {
	prev map[types.Resource][sha256.Size]byte
}

// hash returns the hex SHA-256 over every resource's digest, type by type
// in a fixed order and by name within a type, each resource marshaled
// deterministically.
func (h *resourceHasher) hash(byType map[resource.Type][]types.Resource) (string, error) {
	sum := sha256.New()
	next := make(map[types.Resource][sha256.Size]byte, len(h.prev))
	opts := proto.MarshalOptions{Deterministic: true}
	var buf []byte
	for _, typ := range resourceTypes() {
		rs := slices.SortedFunc(slices.Values(byType[typ]), func(a, b types.Resource) int {
			return cmp.Compare(cachev3.GetResourceName(a), cachev3.GetResourceName(b))
		})
		writeFramed(sum, []byte(typ))
		for _, r := range rs {
			d, ok := h.prev[r]
			if !ok {
				var err error
				if buf, err = opts.MarshalAppend(buf[:0], r); err != nil {
					return "", fmt.Errorf("hash %s %q: %w", typ, cachev3.GetResourceName(r), err)
				}
				d = sha256.Sum256(buf)
			}
			next[r] = d
			writeFramed(sum, d[:])
		}
	}
	h.prev = next
	return hex.EncodeToString(sum.Sum(nil)), nil
}

// writeFramed writes b with its length first, so that no two sequences of
// resources hash alike by shifting bytes from one into the next.
func writeFramed(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}
