package xds

import (
	"context"
	"log/slog"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
)

// tracker follows every xDS stream to learn which node is on it and what
// the node did with each response: the protocol acknowledges a response by
// echoing its nonce, without error_detail (ACK) or with it (NACK).
//
// Envoy sends its node only on a stream's first request (the bootstrap sets
// set_node_on_first_message_only), so the node is remembered per stream.
// go-control-plane numbers state-of-the-world and delta streams
// separately, so a stream is known by its kind and number.
type tracker struct {
	log   *slog.Logger
	fleet *fleet
	cache *nackCache

	mu      sync.Mutex
	streams map[streamKey]*streamState
}

type streamKey struct {
	delta bool
	id    int64
}

// streamState is what the tracker knows of one stream.
type streamState struct {
	nodeID string
	// sent is the last response sent for each type URL.
	sent map[string]sentResponse
	// rejected is the last NACK handed to the cache, to forget it should
	// the server never pass it on.
	rejected *discoveryv3.DiscoveryRequest
}

type sentResponse struct{ nonce, version string }

// reply is what a request says about the response it answers.
type reply struct {
	typeURL string
	nonce   string
	err     *statuspb.Status
}

func newTracker(log *slog.Logger, f *fleet, c *nackCache) *tracker {
	return &tracker{log: log, fleet: f, cache: c, streams: make(map[streamKey]*streamState)}
}

// callbacks returns the go-control-plane callbacks that feed the tracker.
func (t *tracker) callbacks() serverv3.CallbackFuncs {
	return serverv3.CallbackFuncs{
		StreamOpenFunc: func(_ context.Context, id int64, _ string) error {
			t.open(streamKey{id: id})
			return nil
		},
		StreamClosedFunc: func(id int64, _ *corev3.Node) { t.close(streamKey{id: id}) },
		DeltaStreamOpenFunc: func(_ context.Context, id int64, _ string) error {
			t.open(streamKey{delta: true, id: id})
			return nil
		},
		DeltaStreamClosedFunc: func(id int64, _ *corev3.Node) { t.close(streamKey{delta: true, id: id}) },
		StreamRequestFunc: func(id int64, req *discoveryv3.DiscoveryRequest) error {
			t.request(streamKey{id: id}, req.GetNode(), reply{req.GetTypeUrl(), req.GetResponseNonce(), req.GetErrorDetail()}, req)
			return nil
		},
		StreamResponseFunc: func(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
			t.sent(streamKey{id: id}, resp.GetTypeUrl(), sentResponse{resp.GetNonce(), resp.GetVersionInfo()})
		},
		StreamDeltaRequestFunc: func(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
			t.request(streamKey{delta: true, id: id}, req.GetNode(), reply{req.GetTypeUrl(), req.GetResponseNonce(), req.GetErrorDetail()}, nil)
			return nil
		},
		StreamDeltaResponseFunc: func(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
			t.sent(streamKey{delta: true, id: id}, resp.GetTypeUrl(), sentResponse{resp.GetNonce(), resp.GetSystemVersionInfo()})
		},
	}
}

func (t *tracker) open(key streamKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.streams[key] = &streamState{sent: make(map[string]sentResponse)}
}

func (t *tracker) close(key streamKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.streams[key]
	if st == nil {
		return
	}
	delete(t.streams, key)
	t.cache.forget(st.rejected)
	if st.nodeID != "" {
		t.fleet.disconnect(st.nodeID)
		t.log.Info("envoy disconnected", "node", st.nodeID, "delta", key.delta)
	}
}

func (t *tracker) sent(key streamKey, typeURL string, r sentResponse) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.streams[key]; st != nil {
		st.sent[typeURL] = r
	}
}

// request handles one request of a stream. sotw is the request itself on a
// state-of-the-world stream, whose NACKs the cache must hold back; nil on
// a delta stream.
func (t *tracker) request(key streamKey, node *corev3.Node, r reply, sotw *discoveryv3.DiscoveryRequest) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.streams[key]
	if st == nil {
		return
	}
	if st.nodeID == "" && node.GetId() != "" {
		st.nodeID = node.GetId()
		t.fleet.connect(node, key.delta)
		t.log.Info("envoy connected", "node", node.GetId(), "cluster", node.GetCluster(),
			"envoy", envoyVersion(node), "delta", key.delta)
	}
	t.cache.forget(st.rejected)
	st.rejected = nil
	sent, ok := st.sent[r.typeURL]
	if !ok || r.nonce == "" || r.nonce != sent.nonce || st.nodeID == "" {
		return // a first request, or one answering an older response
	}
	if r.err == nil {
		t.fleet.ack(st.nodeID, r.typeURL, sent.version)
		return
	}
	if t.fleet.nack(st.nodeID, r.typeURL, sent.version, r.err.GetMessage()) {
		t.log.Warn("envoy rejected a configuration; not sending it to this node again",
			"node", st.nodeID, "type", r.typeURL, "version", sent.version, "error", r.err.GetMessage())
	}
	if sotw != nil {
		t.cache.reject(sotw, sent.version)
		st.rejected = sotw
	}
}

// envoyVersion returns the Envoy build a node runs, as "1.40.0".
func envoyVersion(n *corev3.Node) string {
	if bv := n.GetUserAgentBuildVersion(); bv != nil {
		v := bv.GetVersion()
		return formatVersion(v.GetMajorNumber(), v.GetMinorNumber(), v.GetPatch())
	}
	return n.GetUserAgentVersion()
}
