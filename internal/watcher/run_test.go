package watcher

import (
	"log/slog"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func TestHandle(t *testing.T) {
	r := &records{t: t, rev: 10}
	apiPut := &clientv3.Event{Type: clientv3.EventTypePut, Kv: r.kv(store.APIKey("aaaa000001"), testAPI("aaaa000001"))}
	routePut := &clientv3.Event{Type: clientv3.EventTypePut, Kv: r.kv(store.RouteKey("aaaa000001", "rte0000001"), &adminv1.Route{})}
	seqPut := &clientv3.Event{Type: clientv3.EventTypePut, Kv: &mvccpb.KeyValue{Key: []byte(store.SeqKey("aaaa000001")), ModRevision: 13}}
	stageDel := &clientv3.Event{Type: clientv3.EventTypeDelete, Kv: r.deleted(store.StageKey("aaaa000001", "prod"))}
	header := func(rev int64) *pb.ResponseHeader { return &pb.ResponseHeader{Revision: rev} }
	tests := map[string]struct {
		resp    clientv3.WatchResponse
		closed  bool
		want    outcome
		changed bool
		rev     int64 // the state's revision afterwards
		apis    int
	}{
		"channel closed":  {closed: true, want: outcomeRewatch, rev: 10},
		"compacted":       {resp: clientv3.WatchResponse{Header: header(50), CompactRevision: 40, Canceled: true}, want: outcomeReload, rev: 10},
		"future revision": {resp: clientv3.WatchResponse{Header: header(5), Canceled: true}, want: outcomeReload, rev: 10},
		"canceled":        {resp: clientv3.WatchResponse{Header: header(50), Canceled: true, CancelReason: "permission denied"}, want: outcomeRewatch, rev: 10},
		"created":         {resp: clientv3.WatchResponse{Header: header(10), Created: true}, want: outcomeWatching, rev: 10},
		"progress":        {resp: clientv3.WatchResponse{Header: header(30)}, want: outcomeWatching, rev: 30},
		"stale progress":  {resp: clientv3.WatchResponse{Header: header(8)}, want: outcomeWatching, rev: 10},
		"draft changes":   {resp: clientv3.WatchResponse{Header: header(13), Events: []*clientv3.Event{routePut, seqPut}}, want: outcomeWatching, rev: 13},
		"api put":         {resp: clientv3.WatchResponse{Header: header(40), Events: []*clientv3.Event{apiPut, seqPut}}, want: outcomeWatching, changed: true, rev: 13, apis: 1},
		"delete":          {resp: clientv3.WatchResponse{Header: header(14), Events: []*clientv3.Event{stageDel}}, want: outcomeWatching, changed: true, rev: 13},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := New(nil, Options{})
			s := newState(10)
			got, changed := w.handle(s, tc.resp, !tc.closed)
			if got != tc.want || changed != tc.changed {
				t.Errorf("handle = (%v, %v), want (%v, %v)", got, changed, tc.want, tc.changed)
			}
			if s.rev != tc.rev {
				t.Errorf("state revision = %d, want %d", s.rev, tc.rev)
			}
			if len(s.apis) != tc.apis {
				t.Errorf("state has %d APIs, want %d", len(s.apis), tc.apis)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	w := New(nil, Options{Logger: slog.Default()})
	if w.holdoff != DefaultHoldoff || w.maxDelay != DefaultMaxDelay {
		t.Errorf("defaults = (%v, %v), want (%v, %v)", w.holdoff, w.maxDelay, DefaultHoldoff, DefaultMaxDelay)
	}
	if w.Current() != nil {
		t.Error("a new watcher has a config")
	}
}
