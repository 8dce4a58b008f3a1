package store_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/internal/store/storetest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func TestStatuses(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t).Store()
	failed := &adminv1.ApiStatus{State: adminv1.ApiStatus_STATE_FAILED, Message: "stage prod: bad", Revision: 7}
	serving := &adminv1.ApiStatus{State: adminv1.ApiStatus_STATE_SERVING, Revision: 7}
	for _, id := range []string{"a1", "a2", "a3"} {
		createAPI(t, s, id, "name-"+id)
		if err := s.PutStatus(ctx, id, serving); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutStatus(ctx, "a2", failed); err != nil {
		t.Fatal(err)
	}
	if err := s.PutStatus(ctx, "gone", serving); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutStatus of a missing API: %v, want ErrNotFound", err)
	}

	got, err := s.GetStatus(ctx, "a2")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failed, got, protocmp.Transform()); diff != "" {
		t.Errorf("GetStatus (-want +got):\n%s", diff)
	}
	between, err := s.StatusesBetween(ctx, "a2", "a3")
	if err != nil {
		t.Fatal(err)
	}
	if ids := slices.Sorted(maps.Keys(between)); !slices.Equal(ids, []string{"a2", "a3"}) {
		t.Errorf("StatusesBetween(a2, a3) has %v", ids)
	}

	st, err := s.ReadAPI(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAPI(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStatus(ctx, "a3"); err != nil {
		t.Fatal(err)
	}
	all, err := s.Statuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ids := slices.Sorted(maps.Keys(all)); !slices.Equal(ids, []string{"a2"}) {
		t.Errorf("after deleting API a1 and the status of a3, statuses of %v remain", ids)
	}
}

func TestFleetLease(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t).Store()
	lease, err := s.GrantLease(ctx, store.DefaultFleetTTL)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.GrantLease(ctx, store.DefaultFleetTTL)
	if err != nil {
		t.Fatal(err)
	}
	nodes := []struct {
		lease    clientv3.LeaseID
		instance string
		node     *adminv1.EnvoyNode
	}{
		{lease, "host-a/127.0.0.1:18000", &adminv1.EnvoyNode{Id: "envoy/1", AckedVersion: "5-abc"}},
		{lease, "host-a/127.0.0.1:18000", &adminv1.EnvoyNode{Id: "envoy/2"}},
		{other, "host-b/127.0.0.1:18000", &adminv1.EnvoyNode{Id: "envoy/3"}},
	}
	for _, n := range nodes {
		if err := s.PutFleetNode(ctx, n.lease, n.instance, n.node); err != nil {
			t.Fatal(err)
		}
	}
	page, next, err := s.ListFleet(ctx, store.Page{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].GetId() != "envoy/1" || page[0].GetAckedVersion() != "5-abc" || next == "" {
		t.Fatalf("first page = %v, next %q", page, next)
	}
	rest, _, err := s.ListFleet(ctx, store.Page{After: next, Limit: 2})
	if err != nil || len(rest) != 1 || rest[0].GetId() != "envoy/3" {
		t.Fatalf("second page = %v, %v", rest, err)
	}

	// An instance that stops revokes its lease: its nodes go at once.
	if err := s.RevokeLease(ctx, lease); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFleetNode(ctx, "host-b/127.0.0.1:18000", "envoy/3"); err != nil {
		t.Fatal(err)
	}
	left, _, err := s.ListFleet(ctx, store.Page{Limit: 10})
	if err != nil || len(left) != 0 {
		t.Errorf("after revoking and deleting: %v, %v", left, err)
	}
}
