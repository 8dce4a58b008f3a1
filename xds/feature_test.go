package xds_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/archway-gateway/archway/envoy"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// These feature tests drive the whole control plane through the admin API
// and assert on the xDS responses an Envoy receives, over both protocols.

// protocols are the two flavours of ADS Envoy speaks.
var protocols = map[string]bool{"sotw": false, "delta": true}

// TestDeploymentsReachEnvoy follows an API through its life: only what is
// deployed to a stage reaches Envoy; a redeploy changes it, a rollback
// restores the old routes, and deleting the API removes them.
func TestDeploymentsReachEnvoy(t *testing.T) {
	for name, delta := range protocols {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			c := dialADS(t, e.addr, "node-"+name, delta, nil)
			c.waitFor(t, "the first snapshot", serves)

			pets := e.api(t, "pets")
			ok := e.integration(t, pets.GetId(), mock("ok", 200))
			list := e.route(t, pets.GetId(), "GET", "/pets", ok.GetId())
			e.stage(t, pets.GetId(), "prod", nil)
			first := e.deploy(t, pets.GetId(), "prod")
			c.waitFor(t, "prod to serve GET /pets", servesRoutes(pets.GetId(), "prod", list.GetId()))
			deployed := len(c.received(resource.RouteType))

			// A route that is not deployed makes no new version: every
			// route configuration sent from now on holds the barrier API,
			// created after the route.
			create := e.route(t, pets.GetId(), "POST", "/pets", ok.GetId())
			barrier := e.api(t, "barrier")
			c.waitFor(t, "the barrier API", hasAPI(barrier.GetId(), true))
			for _, r := range c.received(resource.RouteType)[deployed:] {
				if apiHost(r.resources[envoy.HTTPRouteConfigName].(*routev3.RouteConfiguration), barrier.GetId()) == nil {
					t.Errorf("version %s was sent for an undeployed change", r.version)
				}
			}
			c.mu.Lock()
			stillOld := servesRoutes(pets.GetId(), "prod", list.GetId())(c)
			c.mu.Unlock()
			if !stillOld {
				t.Error("the manual stage changed without a deployment")
			}

			e.deploy(t, pets.GetId(), "prod")
			c.waitFor(t, "the new route after deploying", servesRoutes(pets.GetId(), "prod", list.GetId(), create.GetId()))

			e.setMockStatus(t, pets.GetId(), ok.GetId(), 418)
			e.deploy(t, pets.GetId(), "prod")
			c.waitFor(t, "the updated mock after redeploying", mockAnswers(pets.GetId(), "prod", list.GetId(), 418))

			if _, err := e.admin.Rollback(e.ctx, &adminv1.RollbackRequest{ApiId: pets.GetId(), StageName: "prod", DeploymentId: first.GetId()}); err != nil {
				t.Fatal(err)
			}
			c.waitFor(t, "the first deployment after rolling back", func(c *adsClient) bool {
				return servesRoutes(pets.GetId(), "prod", list.GetId())(c) && mockAnswers(pets.GetId(), "prod", list.GetId(), 200)(c)
			})

			if _, err := e.admin.DeleteApi(e.ctx, &adminv1.DeleteApiRequest{Id: pets.GetId()}); err != nil {
				t.Fatal(err)
			}
			c.waitFor(t, "the API's routes to go", hasAPI(pets.GetId(), false))
			c.waitFor(t, "the server's version", acceptedCurrent(e.xds))
			if v := e.xds.Version(); !regexp.MustCompile(`^[1-9][0-9]*-[0-9a-f]{12}$`).MatchString(v) {
				t.Errorf("snapshot version %q is not <revision>-<12 hex digits>", v)
			}
		})
	}
}

// TestReconnectGetsCurrentState disconnects a client, changes what is
// deployed meanwhile, and checks that the reconnected client gets it all.
func TestReconnectGetsCurrentState(t *testing.T) {
	for name, delta := range protocols {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			c := dialADS(t, e.addr, "node-"+name, delta, nil)
			c.waitFor(t, "the first snapshot", serves)
			c.disconnect()

			api := e.api(t, "orders")
			ok := e.integration(t, api.GetId(), mock("ok", 200))
			r := e.route(t, api.GetId(), "GET", "/orders/{id}", ok.GetId())
			e.stage(t, api.GetId(), "v1", nil)
			e.deploy(t, api.GetId(), "v1")
			again := dialADS(t, e.addr, "node-"+name, delta, nil)
			again.waitFor(t, "the routes deployed while away", servesRoutes(api.GetId(), "v1", r.GetId()))
			again.waitFor(t, "the server's version", acceptedCurrent(e.xds))
		})
	}
}

// TestTranslationFailureIsReported deploys a stage whose integration names
// a stage variable the stage does not define: the API's status says so,
// the stage is left out, and the other APIs are still served. Defining the
// variable makes the API serve again.
func TestTranslationFailureIsReported(t *testing.T) {
	e := newEnv(t)
	c := dialADS(t, e.addr, "node", false, nil)

	good := e.api(t, "good")
	ok := e.integration(t, good.GetId(), mock("ok", 200))
	goodRoute := e.route(t, good.GetId(), "GET", "/ok", ok.GetId())
	e.stage(t, good.GetId(), "prod", nil)
	e.deploy(t, good.GetId(), "prod")

	bad := e.api(t, "bad")
	backend := e.integration(t, bad.GetId(), proxy("backend", "http://${stageVariables.backend}/items"))
	badRoute := e.route(t, bad.GetId(), "GET", "/items", backend.GetId())
	e.stage(t, bad.GetId(), "prod", nil)
	e.deploy(t, bad.GetId(), "prod")

	st := waitStatus(t, e, bad.GetId(), adminv1.ApiStatus_STATE_FAILED)
	for _, want := range []string{"stage prod", `"backend"`} {
		if !strings.Contains(st.GetMessage(), want) {
			t.Errorf("status message %q does not mention %s", st.GetMessage(), want)
		}
	}
	c.waitFor(t, "the good API", servesRoutes(good.GetId(), "prod", goodRoute.GetId()))
	c.waitFor(t, "the bad stage left out", func(c *adsClient) bool {
		return hasAPI(bad.GetId(), true)(c) && servesRoutes(bad.GetId(), "prod")(c)
	})
	waitStatus(t, e, good.GetId(), adminv1.ApiStatus_STATE_SERVING)
	if n := e.logs.count("API partly not served: translation failed"); n != 1 {
		t.Errorf("the failure was logged %d times, want once", n)
	}

	if _, err := e.admin.UpdateStage(e.ctx, &adminv1.UpdateStageRequest{
		Stage:      &adminv1.Stage{ApiId: bad.GetId(), Name: "prod", Variables: map[string]string{"backend": "127.0.0.1:9"}},
		UpdateMask: fieldMask("variables"),
	}); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, "the fixed stage", servesRoutes(bad.GetId(), "prod", badRoute.GetId()))
	if st := waitStatus(t, e, bad.GetId(), adminv1.ApiStatus_STATE_SERVING); st.GetMessage() != "" {
		t.Errorf("serving API has status message %q", st.GetMessage())
	}
}

// waitStatus waits until GetApi reports the API in state, and returns the
// status.
func waitStatus(t *testing.T, e *env, apiID string, state adminv1.ApiStatus_State) *adminv1.ApiStatus {
	t.Helper()
	var last *adminv1.ApiStatus
	poll(t, "status "+state.String()+" of API "+apiID, func() bool {
		api, err := e.admin.GetApi(e.ctx, &adminv1.GetApiRequest{Id: apiID})
		if err != nil {
			t.Fatal(err)
		}
		last = api.GetStatus()
		return last.GetState() == state
	})
	return last
}

// TestOneSnapshotForAllNodes connects nodes of both protocols and checks
// that they converge on the one version the server serves.
func TestOneSnapshotForAllNodes(t *testing.T) {
	e := newEnv(t)
	api := e.api(t, "shared")
	ok := e.integration(t, api.GetId(), mock("ok", 200))
	r := e.route(t, api.GetId(), "ANY", "/{proxy+}", ok.GetId())
	e.stage(t, api.GetId(), "$default", nil)
	e.deploy(t, api.GetId(), "$default")
	var clients []*adsClient
	for i, delta := range []bool{false, true, false, true} {
		clients = append(clients, dialADS(t, e.addr, "node-"+string(rune('a'+i)), delta, nil))
	}
	for _, c := range clients {
		c.waitFor(t, "the shared API", servesRoutes(api.GetId(), "$default", r.GetId()))
		c.waitFor(t, "the server's version", acceptedCurrent(e.xds))
	}
	if got := versions(clients[0].received(resource.ClusterType)); slices.Contains(got, "") {
		t.Errorf("clusters sent without a version: %q", got)
	}
}
