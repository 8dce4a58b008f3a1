package xds_test

import (
	"slices"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// noTeapots rejects route configurations in which a route answers 418, the
// way Envoy rejects a configuration it cannot apply.
func noTeapots(typeURL string, resources map[string]proto.Message) string {
	if typeURL != resource.RouteType {
		return ""
	}
	for _, m := range resources {
		for _, vh := range m.(*routev3.RouteConfiguration).GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if r.GetDirectResponse().GetStatus() == 418 {
					return "no teapots here"
				}
			}
		}
	}
	return ""
}

// TestRejectedVersionIsNotResent has a client reject a deployment. The NACK
// is logged once and listed in the fleet, the rejected version is not sent
// to the client again, and the next change reaches it as a new version.
func TestRejectedVersionIsNotResent(t *testing.T) {
	for name, delta := range protocols {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			c := dialADS(t, e.addr, "picky-"+name, delta, noTeapots)
			c.waitFor(t, "the first snapshot", serves)

			api := e.api(t, "tea")
			pot := e.integration(t, api.GetId(), mock("pot", 418))
			r := e.route(t, api.GetId(), "GET", "/tea", pot.GetId())
			e.stage(t, api.GetId(), "prod", nil)
			e.deploy(t, api.GetId(), "prod")

			node := waitFleet(t, e, "picky-"+name, func(n *adminv1.EnvoyNode) bool { return n.GetLastNack() != nil })
			nack := node.GetLastNack()
			if nack.GetTypeUrl() != resource.RouteType || nack.GetError() != "no teapots here" || nack.GetTime() == nil {
				t.Errorf("last NACK = %v, want the route configuration with Envoy's error", nack)
			}
			rejected := nack.GetVersion()
			if rejected != e.xds.Version() {
				t.Errorf("NACKed version %s, server serves %s", rejected, e.xds.Version())
			}

			e.setMockStatus(t, api.GetId(), pot.GetId(), 200)
			e.deploy(t, api.GetId(), "prod")
			c.waitFor(t, "the fixed deployment", func(c *adsClient) bool {
				return mockAnswers(api.GetId(), "prod", r.GetId(), 200)(c) && acceptedCurrent(e.xds)(c)
			})
			sent := versions(c.received(resource.RouteType))
			if n := count(sent, rejected); n != 1 {
				t.Errorf("the rejected version %s was sent %d times: %v", rejected, n, sent)
			}
			if i := slices.Index(sent, rejected); i+1 >= len(sent) || sent[i+1] == rejected {
				t.Errorf("after the rejected version, the client got %v", sent[i+1:])
			}
			if n := e.logs.count(nackLogMessage); n != 1 {
				t.Errorf("the NACK was logged %d times, want once", n)
			}
			waitFleet(t, e, "picky-"+name, func(n *adminv1.EnvoyNode) bool {
				return n.GetAckedVersion() == e.xds.Version() && n.GetLastNack().GetVersion() == rejected
			})
		})
	}
}

// nackLogMessage is what the server logs for a NACK.
const nackLogMessage = "envoy rejected a configuration; not sending it to this node again"

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// waitFleet waits until ListFleet lists the node in a state that cond
// accepts, and returns it.
func waitFleet(t *testing.T, e *env, nodeID string, cond func(*adminv1.EnvoyNode) bool) *adminv1.EnvoyNode {
	t.Helper()
	var found *adminv1.EnvoyNode
	poll(t, "node "+nodeID+" in the fleet", func() bool {
		resp, err := e.admin.ListFleet(e.ctx, &adminv1.ListFleetRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range resp.GetNodes() {
			if n.GetId() == nodeID && cond(n) {
				found = n
				return true
			}
		}
		return false
	})
	return found
}
