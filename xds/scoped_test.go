package xds_test

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/archway-gateway/archway/xds/translate"
)

// TestOneAPIChangeSendsOneRouteConfiguration serves three APIs host-style,
// where each has a route configuration and a scope of its own, and
// redeploys one of them. Over delta, the client then receives that API's
// route configuration and nothing else: no other API's routes, no scope,
// listener or cluster. Over state of the world it receives every route
// configuration it subscribes to again, as that protocol requires, which
// is why fleets at scale should use delta.
func TestOneAPIChangeSendsOneRouteConfiguration(t *testing.T) {
	for name, delta := range protocols {
		t.Run(name, func(t *testing.T) {
			e := newEnvTranslate(t, 5*time.Millisecond, 50*time.Millisecond, slog.LevelInfo, translate.Options{GatewayAddr: "127.0.0.1:10080"})
			type served struct{ api, integration, route string }
			var apis []served
			for _, n := range []string{"alpha", "beta", "gamma"} {
				api := e.api(t, n)
				ok := e.integration(t, api.GetId(), mock("ok", 200))
				r := e.route(t, api.GetId(), "GET", "/"+n, ok.GetId())
				e.stage(t, api.GetId(), "prod", nil)
				e.deploy(t, api.GetId(), "prod")
				apis = append(apis, served{api.GetId(), ok.GetId(), r.GetId()})
			}
			c := dialADS(t, e.addr, "node-"+name, delta, nil)
			for _, s := range apis {
				c.waitFor(t, "API "+s.api, scopedMockAnswers(s.api, "prod", s.route, 200))
			}
			c.waitFor(t, "the server's version", acceptedCurrent(e.xds))
			before := make(map[string]int)
			for _, typ := range []string{resource.ListenerType, resource.ClusterType, resource.ScopedRouteType, resource.RouteType} {
				before[typ] = len(c.received(typ))
			}

			beta := apis[1]
			e.setMockStatus(t, beta.api, beta.integration, 418)
			e.deploy(t, beta.api, "prod")
			c.waitFor(t, "beta's redeployed mock", scopedMockAnswers(beta.api, "prod", beta.route, 418))
			c.waitFor(t, "the server's version", acceptedCurrent(e.xds))

			want := []string{"api_" + beta.api}
			if !delta {
				want = sorted([]string{"api_" + apis[0].api, "api_" + apis[1].api, "api_" + apis[2].api})
			}
			routes := c.received(resource.RouteType)[before[resource.RouteType]:]
			if len(routes) == 0 {
				t.Fatal("no route configuration was sent")
			}
			for _, r := range routes {
				if !slices.Equal(r.sent, want) {
					t.Errorf("version %s sent route configurations %q, want %q", r.version, r.sent, want)
				}
			}
			for _, typ := range []string{resource.ListenerType, resource.ClusterType, resource.ScopedRouteType} {
				if got := c.received(typ)[before[typ]:]; delta && len(got) > 0 {
					t.Errorf("%s sent again: %v", typ, versions(got))
				}
			}
		})
	}
}

// scopedMockAnswers holds when, host-style, the client has an API's scope
// and a stage's route in the API's route configuration answers status
// itself.
func scopedMockAnswers(apiID, stage, routeID string, status uint32) func(*adsClient) bool {
	return func(c *adsClient) bool {
		name := "api_" + apiID
		scopes := c.state[resource.ScopedRouteType]
		if scopes == nil || scopes.resources[name] == nil {
			return false
		}
		r := stageRoutes(c.routeConfig(name), apiID, stage)[routeID]
		return r.GetDirectResponse().GetStatus() == status
	}
}
