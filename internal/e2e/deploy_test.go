package e2e

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestDeployAndRollback checks that a change to an API's routes and
// integrations reaches a stage only when deployed to it, and that a
// rollback brings the old behaviour back. Every check is made once Envoy
// runs a configuration that includes the change, proven by another stage
// that serves it.
func TestDeployAndRollback(t *testing.T) {
	a, b := startBackend(t, "a"), startBackend(t, "b")
	g := startGateway(t, gatewayOptions{})
	api := g.applyFile(t, "testdata/orders.yaml", backends(a, b)).GetId()
	first := g.deploy(t, api, "prod")
	g.waitAnswer(t, at(hostStyle, api, "prod", "GET", "/orders"), "a")
	g.expect(t, at(hostStyle, api, "staging", "GET", "/orders"), notFound())

	// An undeployed change: the integration moves to backend b, and a new
	// route appears.
	orders := g.integrationNamed(t, api, "orders")
	orders.GetHttpProxy().Uri = "http://" + b.addr + "/v2/orders"
	if _, err := g.admin.UpdateIntegration(t.Context(), &adminv1.UpdateIntegrationRequest{
		Integration: orders, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"http_proxy"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.admin.CreateRoute(t.Context(), &adminv1.CreateRouteRequest{ApiId: api, Route: &adminv1.Route{
		Method: "GET", Path: "/orders/{id}", IntegrationId: g.integrationNamed(t, api, "order").GetId(),
	}}); err != nil {
		t.Fatal(err)
	}
	g.deploy(t, api, "staging")
	g.waitAnswer(t, at(hostStyle, api, "staging", "GET", "/orders"), "b")
	g.expectEcho(t, at(hostStyle, api, "staging", "GET", "/orders/7"), "b", "/v2/orders/7")
	g.expectEcho(t, at(hostStyle, api, "prod", "GET", "/orders"), "a", "/v1/orders")
	g.expect(t, at(hostStyle, api, "prod", "GET", "/orders/7"), notFound())

	g.deploy(t, api, "prod")
	g.waitAnswer(t, at(hostStyle, api, "prod", "GET", "/orders"), "b")
	g.expectEcho(t, at(pathStyle, api, "prod", "GET", "/orders"), "b", "/v2/orders")
	g.expectEcho(t, at(pathStyle, api, "prod", "GET", "/orders/7"), "b", "/v2/orders/7")

	if _, err := g.admin.Rollback(t.Context(), &adminv1.RollbackRequest{ApiId: api, StageName: "prod", DeploymentId: first}); err != nil {
		t.Fatal(err)
	}
	g.waitAnswer(t, at(hostStyle, api, "prod", "GET", "/orders"), "a")
	g.expectEcho(t, at(pathStyle, api, "prod", "GET", "/orders"), "a", "/v1/orders")
	g.expect(t, at(pathStyle, api, "prod", "GET", "/orders/7"), notFound())
	g.expectEcho(t, at(pathStyle, api, "staging", "GET", "/orders/7"), "b", "/v2/orders/7")

	g.checkEnvoy(t, clusterOf(t, a.addr), clusterOf(t, b.addr))
	g.stop(t)
}

// TestTranslationFailure checks that a stage the xDS server cannot
// translate (its integration URI names a stage variable the stage does not
// define) is reported in the API's status and answers as if it had no
// routes, while the API's other stages and other APIs go on serving, and
// that fixing the stage brings it back.
func TestTranslationFailure(t *testing.T) {
	a, b := startBackend(t, "a"), startBackend(t, "b")
	g := startGateway(t, gatewayOptions{})
	orders := g.applyFile(t, "testdata/orders.yaml", backends(a, b)).GetId()
	g.deploy(t, orders, "prod")
	flaky := g.applyFile(t, "testdata/flaky.yaml", backends(a)).GetId()

	g.waitAnswer(t, at(hostStyle, flaky, "good", "GET", "/thing"), "a")
	g.waitAnswer(t, at(hostStyle, orders, "prod", "GET", "/orders"), "a")
	status := g.waitStatus(t, flaky, adminv1.ApiStatus_STATE_FAILED)
	for _, want := range []string{"stage bad", `"upstream"`} {
		if !strings.Contains(status.GetMessage(), want) {
			t.Errorf("status message %q does not mention %s", status.GetMessage(), want)
		}
	}
	g.expect(t, at(hostStyle, flaky, "bad", "GET", "/thing"), notFound())
	g.expectEcho(t, at(pathStyle, flaky, "good", "GET", "/thing"), "a", "/flaky")
	g.waitStatus(t, orders, adminv1.ApiStatus_STATE_SERVING)

	if _, err := g.admin.UpdateStage(t.Context(), &adminv1.UpdateStageRequest{
		Stage:      &adminv1.Stage{ApiId: flaky, Name: "bad", Variables: map[string]string{"upstream": b.addr}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"variables"}},
	}); err != nil {
		t.Fatal(err)
	}
	g.waitAnswer(t, at(hostStyle, flaky, "bad", "GET", "/thing"), "b")
	if s := g.waitStatus(t, flaky, adminv1.ApiStatus_STATE_SERVING); s.GetMessage() != "" {
		t.Errorf("status of a fully served API has message %q", s.GetMessage())
	}
	g.expectEcho(t, at(pathStyle, flaky, "good", "GET", "/thing"), "a", "/flaky")

	g.checkEnvoy(t, clusterOf(t, a.addr), clusterOf(t, b.addr))
	g.stop(t)
}

// deploy deploys the API's routes and integrations to stage and returns
// the deployment's id.
func (g *gateway) deploy(t *testing.T, apiID, stage string) string {
	t.Helper()
	resp, err := g.admin.Deploy(t.Context(), &adminv1.DeployRequest{ApiId: apiID, StageName: stage})
	if err != nil {
		t.Fatalf("Deploy(%s, %s): %v", apiID, stage, err)
	}
	return resp.GetDeployment().GetId()
}

// waitStatus waits until the API's status is state and returns it.
func (g *gateway) waitStatus(t *testing.T, apiID string, state adminv1.ApiStatus_State) *adminv1.ApiStatus {
	t.Helper()
	var status *adminv1.ApiStatus
	eventually(t, "API "+apiID+" to be "+state.String(), func() (bool, string) {
		api, err := g.admin.GetApi(t.Context(), &adminv1.GetApiRequest{Id: apiID})
		if err != nil {
			return false, err.Error()
		}
		status = api.GetStatus()
		return status.GetState() == state, status.String()
	})
	return status
}
