package xds_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestFleet lists the connected Envoys through the admin API: who they
// are, which protocol they speak and what they accepted. A node that
// disconnects leaves the list, and a server that stops takes its nodes
// with it.
func TestFleet(t *testing.T) {
	e := newEnv(t)
	sotw := dialADS(t, e.addr, "edge/sotw", false, nil)
	delta := dialADS(t, e.addr, "edge/delta", true, nil)
	for _, c := range []*adsClient{sotw, delta} {
		c.waitFor(t, "the server's version", acceptedCurrent(e.xds))
	}
	version := e.xds.Version()
	for _, c := range []*adsClient{sotw, delta} {
		got := waitFleet(t, e, c.node.GetId(), func(n *adminv1.EnvoyNode) bool { return n.GetAckedVersion() == version })
		want := &adminv1.EnvoyNode{
			Id: c.node.GetId(), Cluster: "test", EnvoyVersion: "1.40.0", ControlPlane: "test-host/xds",
			Delta: c.delta, AckedVersion: version,
		}
		if got.GetConnectTime() == nil || got.GetAckTime() == nil {
			t.Errorf("node %s: connect time %v, ack time %v; want both", got.GetId(), got.GetConnectTime(), got.GetAckTime())
		}
		got.ConnectTime, got.AckTime = nil, nil
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("fleet node (-want +got):\n%s", diff)
		}
	}
	if got := e.xds.Fleet(); len(got) != 2 || got[0].GetId() != "edge/delta" || got[1].GetId() != "edge/sotw" {
		t.Errorf("Fleet() = %v, want edge/delta and edge/sotw", got)
	}

	sotw.disconnect()
	poll(t, "edge/sotw to leave the fleet", func() bool {
		resp, err := e.admin.ListFleet(e.ctx, &adminv1.ListFleetRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return len(resp.GetNodes()) == 1 && resp.GetNodes()[0].GetId() == "edge/delta"
	})

	e.stop()
	nodes, _, err := e.store.ListFleet(e.ctx, store.Page{Limit: 10})
	if err != nil || len(nodes) != 0 {
		t.Errorf("after the server stopped, the fleet lists %v (%v)", nodes, err)
	}
}

// TestFleetSurvivesLostLease revokes the server's fleet lease behind its
// back, as etcd does when the server was cut off for longer than the TTL:
// the server takes a new lease and writes its nodes again.
func TestFleetSurvivesLostLease(t *testing.T) {
	e := newEnv(t)
	c := dialADS(t, e.addr, "edge", false, nil)
	c.waitFor(t, "the server's version", acceptedCurrent(e.xds))
	waitFleet(t, e, "edge", func(*adminv1.EnvoyNode) bool { return true })
	key := store.FleetKey("test-host/xds", "edge")
	cli := e.store.Client()
	before, err := cli.Get(e.ctx, key)
	if err != nil || len(before.Kvs) != 1 {
		t.Fatalf("fleet record: %v, %v", before, err)
	}
	lost := clientv3.LeaseID(before.Kvs[0].Lease)
	if _, err := cli.Revoke(e.ctx, lost); err != nil {
		t.Fatal(err)
	}
	poll(t, "the node written under a new lease", func() bool {
		resp, err := cli.Get(e.ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return len(resp.Kvs) == 1 && resp.Kvs[0].Lease != 0 && clientv3.LeaseID(resp.Kvs[0].Lease) != lost
	})
}
