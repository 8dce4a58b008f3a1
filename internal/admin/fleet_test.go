package admin

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestListFleetPages lists what xDS servers wrote under their leases, page
// by page and across instances.
func TestListFleetPages(t *testing.T) {
	e := newEnv(t)
	st := e.etcd.Store()
	var want []*adminv1.EnvoyNode
	for i, inst := range []string{"host-a/127.0.0.1:18000", "host-b/127.0.0.1:18000"} {
		lease, err := st.GrantLease(e.ctx, store.DefaultFleetTTL)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"envoy-1", "envoy-2"} {
			n := &adminv1.EnvoyNode{Id: id, ControlPlane: inst, Delta: i == 1, AckedVersion: "7-0123456789ab"}
			if err := st.PutFleetNode(e.ctx, lease, inst, n); err != nil {
				t.Fatal(err)
			}
			want = append(want, n)
		}
	}
	var got []*adminv1.EnvoyNode
	token := ""
	for range 3 {
		resp, err := e.ListFleet(e.ctx, &adminv1.ListFleetRequest{PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.GetNodes()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("fleet (-want +got):\n%s", diff)
	}

	// A token of another collection is refused.
	_, err := e.ListFleet(e.ctx, &adminv1.ListFleetRequest{PageToken: encodePageToken(store.APIKey("a1")), PageSize: -1})
	wantViolations(t, err, "page_size", "page_token")
}

// TestAPIStatus shows each API with the status the xDS servers reported,
// in Get and in every form of List.
func TestAPIStatus(t *testing.T) {
	e := newEnv(t)
	st := e.etcd.Store()
	a, b, c := e.mustAPI(t, "a"), e.mustAPI(t, "b"), e.mustAPI(t, "c")
	statuses := map[string]*adminv1.ApiStatus{
		a.GetId(): {State: adminv1.ApiStatus_STATE_SERVING, Revision: 4},
		b.GetId(): {State: adminv1.ApiStatus_STATE_FAILED, Message: "stage prod: no", Revision: 5},
	}
	for id, s := range statuses {
		if err := st.PutStatus(e.ctx, id, s); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, apis ...*adminv1.Api) {
		t.Helper()
		for _, api := range apis {
			if diff := cmp.Diff(statuses[api.GetId()], api.GetStatus(), protocmp.Transform()); diff != "" {
				t.Errorf("status of %s (-want +got):\n%s", api.GetName(), diff)
			}
		}
	}
	for _, api := range []*adminv1.Api{a, b, c} {
		got, err := e.GetApi(e.ctx, &adminv1.GetApiRequest{Id: api.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		check(t, got)
		named, err := e.ListApis(e.ctx, &adminv1.ListApisRequest{Name: api.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		check(t, named.GetApis()...)
	}
	all, err := e.ListApis(e.ctx, &adminv1.ListApisRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.GetApis()) != 3 {
		t.Fatalf("ListApis = %d APIs, want 3", len(all.GetApis()))
	}
	check(t, all.GetApis()...)
}
