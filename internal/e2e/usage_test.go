package e2e

import (
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/archway-gateway/archway/internal/testutil/testredis"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// AWS's answers to requests usage plans refuse.
func forbidden() answer {
	return answer{403, map[string]string{"Content-Type": "application/json"}, `{"message":"Forbidden"}`}
}

func tooManyRequests() answer {
	return answer{429, map[string]string{"Content-Type": "application/json"}, `{"message":"Too Many Requests"}`}
}

func limitExceeded() answer {
	return answer{429, map[string]string{"Content-Type": "application/json"}, `{"message":"Limit Exceeded"}`}
}

// meteredAPI applies testdata/metered.yaml with its integration sending to
// b, and returns the API's id.
func (g *gateway) meteredAPI(t *testing.T, b *backend) string {
	t.Helper()
	return g.applyFile(t, filepath.Join("testdata", "metered.yaml"), backends(b)).GetId()
}

// keyOnPlan creates an API key with the given value and a usage plan of
// quota requests per day over the API's prod stage, with the given
// failure mode, and associates them. It returns the key's and the plan's
// ids.
func (g *gateway) keyOnPlan(t *testing.T, apiID, value string, quota int64, mode adminv1.FailureMode) (string, string) {
	t.Helper()
	key, err := g.admin.CreateApiKey(t.Context(), &adminv1.CreateApiKeyRequest{ApiKey: &adminv1.ApiKey{
		Name: "key-" + value[:6], Enabled: true, Value: value,
	}})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := g.admin.CreateUsagePlan(t.Context(), &adminv1.CreateUsagePlanRequest{UsagePlan: &adminv1.UsagePlan{
		Name:        "plan-" + value[:6],
		Quota:       &adminv1.QuotaSettings{Limit: quota, Period: adminv1.QuotaSettings_PERIOD_DAY},
		ApiStages:   []*adminv1.ApiStage{{ApiId: apiID, Stage: "prod"}},
		FailureMode: mode,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.admin.CreateUsagePlanKey(t.Context(), &adminv1.CreateUsagePlanKeyRequest{
		UsagePlanId: plan.GetId(), KeyId: key.GetId(),
	}); err != nil {
		t.Fatal(err)
	}
	return key.GetId(), plan.GetId()
}

// resetUsage forgets what the key used of the plan's quota today.
func (g *gateway) resetUsage(t *testing.T, planID, keyID string) {
	t.Helper()
	if _, err := g.admin.UpdateUsage(t.Context(), &adminv1.UpdateUsageRequest{
		UsagePlanId: planID, KeyId: keyID, Change: &adminv1.UpdateUsageRequest_Reset_{Reset_: true},
	}); err != nil {
		t.Fatal(err)
	}
}

func withKey(req request, value string) request {
	req.header = http.Header{"X-Api-Key": {value}}
	return req
}

// TestUsagePlansThroughEnvoy drives API keys, a usage plan's quota and a
// stage's route throttle through the real Envoy: ext_authz and the
// rate-limit service are called by Envoy's own filters, and Envoy's stats
// show that they were.
func TestUsagePlansThroughEnvoy(t *testing.T) {
	b := startBackend(t, "a")
	g := startGateway(t, gatewayOptions{})
	apiID := g.meteredAPI(t, b)
	const value = "e2e-key-0123456789abcdef"
	keyID, planID := g.keyOnPlan(t, apiID, value, 3, adminv1.FailureMode_FAILURE_MODE_FAIL_CLOSED)

	pets := at(hostStyle, apiID, "prod", "GET", "/pets")
	g.waitAnswerStatus(t, withKey(pets, value), http.StatusOK)
	g.resetUsage(t, planID, keyID)

	g.expect(t, pets, forbidden())
	g.expect(t, withKey(pets, "not-a-key-of-this-gateway"), forbidden())
	for i := range 3 {
		resp := g.send(t, withKey(pets, value))
		e := resp.echo(t)
		if got := e.Headers["x-archway-api-key-id"]; len(got) != 1 || got[0] != keyID {
			t.Errorf("request %d: backend got key id %q, want %q", i, got, keyID)
		}
		if got := e.Headers["x-archway-usage-plan-id"]; len(got) != 1 || got[0] != planID {
			t.Errorf("request %d: backend got plan id %q, want %q", i, got, planID)
		}
		if got, want := resp.header.Get("X-Ratelimit-Remaining"), strconv.Itoa(2-i); got != want {
			t.Errorf("request %d: x-ratelimit-remaining %q, want %q", i, got, want)
		}
	}
	g.expect(t, withKey(pets, value), limitExceeded())

	// A client cannot pose as an admitted key on a route without one.
	free := at(hostStyle, apiID, "prod", "GET", "/free")
	free.header = http.Header{"X-Archway-Api-Key-Id": {keyID}}
	if e := g.send(t, free).echo(t); len(e.Headers["x-archway-api-key-id"]) != 0 {
		t.Errorf("a client's x-archway-api-key-id reached the backend: %q", e.Headers["x-archway-api-key-id"])
	}

	// The route throttle (burst 2, nearly no refill) applies to every
	// client; the unthrottled route next to it is never throttled.
	limited := at(hostStyle, apiID, "prod", "GET", "/limited")
	for i := range 2 {
		if resp := g.send(t, limited); resp.status != http.StatusOK {
			t.Fatalf("throttled route, request %d within the burst = %s", i, describe(resp))
		}
	}
	g.expect(t, limited, tooManyRequests())
	for range 5 {
		if resp := g.send(t, free); resp.status != http.StatusOK {
			t.Fatalf("unthrottled route = %s", describe(resp))
		}
	}

	// Disabling the key takes effect at once.
	g.resetUsage(t, planID, keyID)
	if _, err := g.admin.UpdateApiKey(t.Context(), &adminv1.UpdateApiKeyRequest{
		ApiKey:     &adminv1.ApiKey{Id: keyID, Enabled: false},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"enabled"}},
	}); err != nil {
		t.Fatal(err)
	}
	g.waitAnswerStatus(t, withKey(pets, value), http.StatusForbidden)

	g.checkStats(t)
	g.stop(t)
}

// TestSharedQuotaAcrossProcesses runs two gateways, each with its own
// Envoy, over one etcd and one Redis: a key's quota is one quota whichever
// gateway its requests go through. Then Redis goes away: a fail-closed
// plan refuses with 503 and a fail-open plan admits, and both meter again
// once Redis is back.
func TestSharedQuotaAcrossProcesses(t *testing.T) {
	redis := testredis.Start(t)
	b := startBackend(t, "a")
	g1 := startGateway(t, gatewayOptions{args: []string{"--redis-addr", redis.Addr()}})
	g2 := startGateway(t, gatewayOptions{args: []string{
		"--redis-addr", redis.Addr(), "--etcd-endpoints", g1.etcdURL,
	}})
	apiID := g1.meteredAPI(t, b)
	const closedKey, openKey = "closed-key-0123456789abcdef", "opened-key-0123456789abcdef"
	closedID, closedPlan := g1.keyOnPlan(t, apiID, closedKey, 4, adminv1.FailureMode_FAILURE_MODE_FAIL_CLOSED)
	openID, openPlan := g1.keyOnPlan(t, apiID, openKey, 1000, adminv1.FailureMode_FAILURE_MODE_FAIL_OPEN)

	pets := at(hostStyle, apiID, "prod", "GET", "/pets")
	for _, g := range []*gateway{g1, g2} {
		g.waitAnswerStatus(t, withKey(pets, closedKey), http.StatusOK)
		g.waitAnswerStatus(t, withKey(pets, openKey), http.StatusOK)
	}
	g1.resetUsage(t, closedPlan, closedID)
	for i, g := range []*gateway{g1, g2, g1, g2} {
		if resp := g.send(t, withKey(pets, closedKey)); resp.status != http.StatusOK {
			t.Fatalf("request %d within the shared quota = %s", i, describe(resp))
		}
	}
	g1.expect(t, withKey(pets, closedKey), limitExceeded())
	g2.expect(t, withKey(pets, closedKey), limitExceeded())

	redis.Stop()
	for _, g := range []*gateway{g1, g2} {
		g.expect(t, withKey(pets, closedKey), answer{
			503,
			map[string]string{"Content-Type": "application/json"},
			`{"message":"Service Unavailable"}`,
		})
		if resp := g.send(t, withKey(pets, openKey)); resp.status != http.StatusOK {
			t.Errorf("fail-open plan while Redis is down = %s", describe(resp))
		}
	}

	redis.Restart()
	// Redis comes back empty: the counters start again and keep counting,
	// whichever gateway counts.
	g2.waitAnswerStatus(t, withKey(pets, closedKey), http.StatusOK)
	for _, g := range []*gateway{g1, g2} {
		if resp := g.send(t, withKey(pets, openKey)); resp.status != http.StatusOK {
			t.Errorf("fail-open plan after Redis came back = %s", describe(resp))
		}
	}
	today := time.Now().UTC().Format(time.DateOnly)
	usage, err := g1.admin.GetUsage(t.Context(), &adminv1.GetUsageRequest{
		UsagePlanId: openPlan, KeyId: openID, StartDate: today, EndDate: today,
	})
	if err != nil {
		t.Fatal(err)
	}
	items := usage.GetItems()
	if len(items) != 1 || len(items[0].GetDays()) != 1 || items[0].GetDays()[0].GetUsed() != 2 {
		t.Errorf("usage of the fail-open key after Redis came back = %v, want 2 requests today", items)
	}
	g1.stop(t)
	g2.stop(t)
}
