package main

import (
	"context"
	"strings"
	"testing"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestGetFleetAndStatus runs `get fleet` and `get apis` against what the
// xDS servers report through etcd: the connected Envoys, and each API's
// status.
func TestGetFleetAndStatus(t *testing.T) {
	var st *store.Store
	addr, admin := startServer(t, serverOptions{store: func(s *store.Store) { st = s }})
	ctx := context.Background()
	api, err := admin.CreateApi(ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{Name: "orders"}})
	if err != nil {
		t.Fatal(err)
	}
	failed := &adminv1.ApiStatus{State: adminv1.ApiStatus_STATE_FAILED, Message: "stage prod: no backend", Revision: 9}
	if err := st.PutStatus(ctx, api.GetId(), failed); err != nil {
		t.Fatal(err)
	}
	lease, err := st.GrantLease(ctx, store.DefaultFleetTTL)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range sampleFleet() {
		if err := st.PutFleetNode(ctx, lease, n.GetControlPlane(), n); err != nil {
			t.Fatal(err)
		}
	}

	apis := mustRun(t, addr, "get", "apis")
	if fields := strings.Fields(strings.Split(apis, "\n")[1]); len(fields) < 4 || fields[1] != "orders" || fields[3] != "FAILED" {
		t.Errorf("get apis printed:\n%s\nwant orders FAILED", apis)
	}
	yaml := mustRun(t, addr, "get", "api", "orders", "-o", "yaml")
	if !strings.Contains(yaml, "message: 'stage prod: no backend'") {
		t.Errorf("get api -o yaml lacks the status message:\n%s", yaml)
	}

	fleet := mustRun(t, addr, "get", "fleet")
	lines := strings.Split(strings.TrimSpace(fleet), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NODE ") {
		t.Fatalf("get fleet printed:\n%s", fleet)
	}
	for i, want := range [][]string{
		{"edge-1", "archway", "1.40.0", "cp-1/10.0.0.7:18000", "sotw", "42-0123456789ab", "-"},
		{"edge-2", "archway", "1.40.0", "cp-1/10.0.0.7:18000", "delta", "41-ba9876543210", "42-0123456789ab", "Listener:"},
	} {
		if got := strings.Fields(lines[i+1]); len(got) < len(want) || strings.Join(got[:len(want)], " ") != strings.Join(want, " ") {
			t.Errorf("row %d = %q, want it to start with %q", i+1, got, want)
		}
	}
	js := mustRun(t, addr, "get", "fleet", "-o", "json")
	if !strings.Contains(js, `"error": "Error adding/updating listener(s) archway_http: cannot bind`) {
		t.Errorf("get fleet -o json lacks the NACK's error:\n%s", js)
	}
}
