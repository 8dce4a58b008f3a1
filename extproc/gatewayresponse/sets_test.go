package gatewayresponse

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/internal/model"
)

func TestCustomizedAndRenderAs(t *testing.T) {
	set, err := Compile(map[Type]Override{
		Default5XX: {Templates: map[string]string{"application/json": `{"oops":"$context.error.message"}`}},
		Throttled:  {StatusCode: 503},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		typ        Type
		status     int
		customized bool
		wantStatus int
		wantBody   string
	}{
		"class override keeps the caller's status": {Default5XX, 503, true, 503, `{"oops":"Internal server error"}`},
		"class override keeps the type's status":   {IntegrationTimeout, 0, true, 504, `{"oops":"Endpoint request timed out"}`},
		"explicit status wins over the caller's":   {Throttled, 418, true, 503, `{"message":"Too Many Requests"}`},
		"no override: caller's status":             {QuotaExceeded, 402, false, 402, `{"message":"Limit Exceeded"}`},
		"no override: default":                     {InvalidAPIKey, 0, false, 403, `{"message":"Forbidden"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := set.Customized(tc.typ); got != tc.customized {
				t.Errorf("Customized(%s) = %v, want %v", tc.typ, got, tc.customized)
			}
			resp, err := set.RenderAs(tc.typ, tc.status, &mapping.Request{}, mapping.ErrorInfo{}, "")
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tc.wantStatus || string(resp.Body) != tc.wantBody {
				t.Errorf("RenderAs = %d %s, want %d %s", resp.Status, resp.Body, tc.wantStatus, tc.wantBody)
			}
		})
	}
	if set.Customized("NOPE") {
		t.Error("Customized(NOPE) = true")
	}
}

func TestSets(t *testing.T) {
	custom := &model.API{ID: "custom", GatewayResponses: map[string]*model.GatewayResponse{
		"THROTTLED": {StatusCode: 503, Headers: map[string]string{"gatewayresponse.header.x-why": "'busy'"}},
	}}
	plain := &model.API{ID: "plain"}
	broken := &model.API{ID: "broken", GatewayResponses: map[string]*model.GatewayResponse{
		"THROTTLED": {Templates: map[string]string{"application/json": "#if("}},
	}}
	cfg1 := &model.Config{Revision: 1, APIs: []*model.API{custom, plain, broken}}
	var logged bytes.Buffer
	sets := NewSets(slog.New(slog.NewTextHandler(&logged, nil)))
	failed := func() int { return strings.Count(logged.String(), "api_id=broken") }

	first := sets.For(cfg1, custom)
	resp, err := first.Render(Throttled, nil, mapping.ErrorInfo{}, "")
	if err != nil || resp.Status != 503 || resp.Headers.Get("x-why") != "busy" {
		t.Fatalf("custom API's THROTTLED = %+v, %v", resp, err)
	}
	if sets.For(cfg1, plain) != sets.Defaults() || sets.For(cfg1, nil) != sets.Defaults() {
		t.Error("an API without overrides did not get the defaults")
	}
	if sets.For(cfg1, broken) != sets.Defaults() || failed() != 1 || !strings.Contains(logged.String(), "THROTTLED") {
		t.Errorf("broken API: logged %q; want it reported once and answered with the defaults", logged.String())
	}
	if sets.For(cfg1, custom) != first {
		t.Error("the same configuration compiled again")
	}

	// A new configuration that shares the API keeps its Set; a changed API
	// is compiled anew.
	changed := &model.API{ID: "custom", GatewayResponses: map[string]*model.GatewayResponse{"THROTTLED": {StatusCode: 502}}}
	cfg2 := &model.Config{Revision: 2, APIs: []*model.API{custom, broken}}
	if sets.For(cfg2, custom) != first {
		t.Error("an unchanged API's responses were compiled again")
	}
	cfg3 := &model.Config{Revision: 3, APIs: []*model.API{changed}}
	resp, err = sets.For(cfg3, changed).Render(Throttled, nil, mapping.ErrorInfo{}, "")
	if err != nil || resp.Status != 502 {
		t.Errorf("changed API's THROTTLED = %+v, %v; want 502", resp, err)
	}
	if failed() != 1 {
		t.Errorf("the broken API was reported %d times, want once (reused in cfg2)", failed())
	}
}
