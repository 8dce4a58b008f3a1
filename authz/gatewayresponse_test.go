package authz

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/testutil/testredis"
	"github.com/archway-gateway/archway/ratelimit"
)

// TestCustomGatewayResponses checks that refusals use the API's
// customized gateway responses, rendered for the request, and that other
// APIs keep API Gateway's answers.
func TestCustomGatewayResponses(t *testing.T) {
	cfg := fixture(t, 1)
	a1 := cfg.API("a1")
	a1.Stage("prod").Variables = map[string]string{"team": "pets"}
	a1.GatewayResponses = map[string]*model.GatewayResponse{
		"INVALID_API_KEY": {
			StatusCode: 401,
			Headers: map[string]string{
				"gatewayresponse.header.x-request-id": "method.request.header.x-request-id",
				"gatewayresponse.header.x-debug":      "method.request.querystring.debug",
				"gatewayresponse.header.x-team":       "stageVariables.team",
				"gatewayresponse.header.x-missing":    "method.request.header.x-nothing",
			},
			Templates: map[string]string{
				"application/json": `{"error":"$context.error.message","type":"$context.error.responseType","stage":"$context.stage","path":"$context.resourcePath"}`,
				"application/xml":  `<error>$context.error.message</error>`,
			},
		},
		"DEFAULT_4XX": {Templates: map[string]string{"application/json": `{"code":"$context.error.responseType"}`}},
		"DEFAULT_5XX": {Headers: map[string]string{"gatewayresponse.header.x-down": "'yes'"}},
	}
	redis := testredis.Start(t)
	clock := newClock()
	h := serve(t, cfg, Options{Store: ratelimit.NewRedisStore(redis.Client()), Now: clock.Now})

	noKey := call{api: "a1", stage: "prod", route: "rget", headers: map[string]string{":path": "/prod/pets?debug=on"}}
	got := h.check(t, noKey)
	want := result{
		Status: 401,
		Body:   `{"error":"Forbidden","type":"INVALID_API_KEY","stage":"prod","path":"/pets"}`,
		Downstream: map[string]string{
			"content-type": "application/json", "x-amzn-errortype": "ForbiddenException",
			"x-request-id": "3f1c9a8e-0d6b-4a59-9c3e-7d2b61f0a4c5", "x-debug": "on", "x-team": "pets",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("missing key (-want +got):\n%s", diff)
	}
	xml := noKey
	xml.headers = map[string]string{"accept": "application/xml"}
	if got := h.check(t, xml); got.Body != "<error>Forbidden</error>" || got.Downstream["content-type"] != "application/xml" {
		t.Errorf("Accept: application/xml got %+v", got)
	}

	// THROTTLED takes DEFAULT_4XX's template, its own status, and keeps
	// the rate-limit headers.
	gold := call{api: "a1", stage: "prod", route: "rget", key: valueGold}
	for range 2 {
		if got := h.check(t, gold); got.Status != 200 {
			t.Fatalf("gold: %+v", got)
		}
	}
	got = h.check(t, gold)
	if got.Status != 429 || got.Body != `{"code":"THROTTLED"}` || got.Downstream["retry-after"] != "1" ||
		got.Downstream["x-ratelimit-limit"] != "2" || got.Downstream["x-amzn-errortype"] != "TooManyRequestsException" {
		t.Errorf("throttled: %+v", got)
	}

	// The store down: DEFAULT_5XX's override without a status keeps 503.
	redis.Stop()
	clock.Advance(time.Second)
	got = h.check(t, gold)
	if got.Status != 503 || got.Body != `{"message":"Service Unavailable"}` || got.Downstream["x-down"] != "yes" {
		t.Errorf("store down: %+v", got)
	}

	// Another API keeps API Gateway's answer.
	if diff := cmp.Diff(refused(403, `{"message":"Forbidden"}`, "ForbiddenException", nil),
		h.check(t, call{api: "a2", stage: "prod", route: "rget"})); diff != "" {
		t.Errorf("uncustomized API (-want +got):\n%s", diff)
	}
}
