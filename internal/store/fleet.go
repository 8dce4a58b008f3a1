package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// The fleet is the set of Envoys connected to the xDS servers. Each xDS
// server instance writes the nodes connected to it under an etcd lease it
// keeps alive, so that an admin API in any process can list the whole
// fleet, and the nodes of an instance that dies disappear with its lease
// instead of being listed forever.

// DefaultFleetTTL is the lease TTL of fleet records: the nodes of an
// instance that died stop being listed at most this long after its last
// keep-alive.
const DefaultFleetTTL = 30 * time.Second

// FleetPrefix is the prefix of every fleet record.
func FleetPrefix() string { return fleetPrefix }

// FleetKey is the key of one Envoy node connected to one xDS server
// instance. Instance ids ("host/addr") and node ids may contain slashes,
// so both are path-escaped into single segments.
func FleetKey(instance, nodeID string) string {
	return fleetPrefix + url.PathEscape(instance) + "/" + url.PathEscape(nodeID)
}

func parseFleetKey(rest string) (Key, bool) {
	inst, node, ok := strings.Cut(rest, "/")
	if !ok || !validSegment(inst) || !validSegment(node) {
		return Key{}, false
	}
	instance, err1 := url.PathUnescape(inst)
	nodeID, err2 := url.PathUnescape(node)
	if err1 != nil || err2 != nil {
		return Key{}, false
	}
	return Key{Kind: KindFleet, Instance: instance, Name: nodeID}, true
}

// GrantLease creates a lease that expires ttl after its last keep-alive.
func (s *Store) GrantLease(ctx context.Context, ttl time.Duration) (clientv3.LeaseID, error) {
	resp, err := s.cli.Grant(ctx, int64(max(ttl/time.Second, 1)))
	if err != nil {
		return 0, fmt.Errorf("grant lease: %w", err)
	}
	return resp.ID, nil
}

// KeepAlive keeps a lease alive until ctx is done. The channel must be
// drained; it closes when ctx is done or the lease can no longer be kept
// alive (it expired, or etcd was unreachable for longer than its TTL).
func (s *Store) KeepAlive(ctx context.Context, id clientv3.LeaseID) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	ch, err := s.cli.KeepAlive(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("keep lease %x alive: %w", id, err)
	}
	return ch, nil
}

// RevokeLease ends a lease at once, deleting every key attached to it.
func (s *Store) RevokeLease(ctx context.Context, id clientv3.LeaseID) error {
	if _, err := s.cli.Revoke(ctx, id); err != nil {
		return fmt.Errorf("revoke lease %x: %w", id, err)
	}
	return nil
}

// PutFleetNode writes what an xDS server instance knows of one connected
// Envoy, attached to the instance's lease.
func (s *Store) PutFleetNode(ctx context.Context, lease clientv3.LeaseID, instance string, n *adminv1.EnvoyNode) error {
	if instance == "" || n.GetId() == "" {
		return errors.New("put fleet node: empty instance or node id")
	}
	v, err := marshal(n)
	if err != nil {
		return err
	}
	key := FleetKey(instance, n.GetId())
	if _, err := s.cli.Put(ctx, key, string(v), clientv3.WithLease(lease)); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// DeleteFleetNode removes a node that disconnected from an instance.
func (s *Store) DeleteFleetNode(ctx context.Context, instance, nodeID string) error {
	key := FleetKey(instance, nodeID)
	if _, err := s.cli.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// ListFleet reads one page of connected Envoys, ordered by instance and
// then node id.
func (s *Store) ListFleet(ctx context.Context, p Page) ([]*adminv1.EnvoyNode, string, error) {
	return list(ctx, s, fleetPrefix, p, func() *adminv1.EnvoyNode { return &adminv1.EnvoyNode{} })
}
