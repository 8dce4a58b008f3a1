package xds

import (
	"fmt"
	"log/slog"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	gcplog "github.com/envoyproxy/go-control-plane/pkg/log"
	"google.golang.org/protobuf/proto"
)

// nackCache is go-control-plane's snapshot cache, changed in one respect:
// a state-of-the-world request that rejects (NACKs) the version the cache
// holds opens a watch for the next version instead of being answered.
//
// A NACK carries the version the node last accepted, not the one it
// rejected. The snapshot cache compares it with the current version, sees
// them differ, and answers with the current (rejected) resources at once;
// the node rejects them again, and the two loop thousands of times a
// second. Answering the NACK as if the node were up to date leaves the
// watch open until the next snapshot, which is the first version worth
// sending. Delta needs none of this: its subscription records the
// versions sent, rejected or not, so the cache finds nothing new to send.
type nackCache struct {
	cachev3.SnapshotCache

	mu sync.Mutex
	// rejected maps a NACK request, by identity, to the version it
	// rejected. The tracker adds it in OnStreamRequest, just before the
	// server passes the same request to CreateWatch, which takes it out.
	rejected map[*discoveryv3.DiscoveryRequest]string
}

func newNackCache(log *slog.Logger) *nackCache {
	return &nackCache{
		SnapshotCache: cachev3.NewSnapshotCache(true, oneSnapshot{}, cacheLogger(log)),
		rejected:      make(map[*discoveryv3.DiscoveryRequest]string),
	}
}

// reject records that req NACKs version.
func (c *nackCache) reject(req *discoveryv3.DiscoveryRequest, version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rejected[req] = version
}

// forget drops what reject recorded for req, if CreateWatch has not taken
// it: the server skips CreateWatch for a request with a stale nonce.
func (c *nackCache) forget(req *discoveryv3.DiscoveryRequest) {
	if req == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.rejected, req)
}

func (c *nackCache) take(req *discoveryv3.DiscoveryRequest) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.rejected[req]
	delete(c.rejected, req)
	return v, ok
}

// CreateWatch opens a watch for req. A request that NACKs the current
// version is passed on as a clone claiming that version, so the watch
// waits for the next snapshot; the server's request is left untouched.
func (c *nackCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	if v, ok := c.take(req); ok && v == c.currentVersion(req.GetTypeUrl()) {
		clone := proto.Clone(req).(*discoveryv3.DiscoveryRequest)
		clone.VersionInfo = v
		req = clone
	}
	return c.SnapshotCache.CreateWatch(req, sub, ch)
}

// currentVersion returns the version the cache holds for a type, or "".
func (c *nackCache) currentVersion(typeURL string) string {
	snap, err := c.GetSnapshot(snapshotKey)
	if err != nil {
		return ""
	}
	return snap.GetVersion(typeURL)
}

// cacheLogger hands go-control-plane's warnings and errors to slog. Its
// debug and info lines narrate every watch and are left out.
func cacheLogger(l *slog.Logger) gcplog.Logger {
	return gcplog.LoggerFuncs{
		WarnFunc:  func(format string, args ...any) { l.Warn(fmt.Sprintf(format, args...)) },
		ErrorFunc: func(format string, args ...any) { l.Error(fmt.Sprintf(format, args...)) },
	}
}
