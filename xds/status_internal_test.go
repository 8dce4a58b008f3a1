package xds

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/internal/store/storetest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestStatusSync checks that statuses are written when an API's state
// changes, left alone when it does not, and deleted with the API.
func TestStatusSync(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t).Store()
	for _, id := range []string{"a1", "a2"} {
		if _, err := st.CreateAPI(ctx, &adminv1.Api{Id: id, Name: id}, &store.Batch{}); err != nil {
			t.Fatal(err)
		}
	}
	r := newStatusReporter(st, slog.New(slog.DiscardHandler), func() time.Time { return time.Unix(1e9, 0) })
	serving := apiState{state: adminv1.ApiStatus_STATE_SERVING}
	failed := apiState{adminv1.ApiStatus_STATE_FAILED, "stage prod: no"}
	steps := []struct {
		update statusUpdate
		want   map[string]int64 // API id to the revision its status names
	}{
		{statusUpdate{5, map[string]apiState{"a1": serving, "a2": failed}}, map[string]int64{"a1": 5, "a2": 5}},
		{statusUpdate{6, map[string]apiState{"a1": serving, "a2": serving}}, map[string]int64{"a1": 5, "a2": 6}},
		// a2 left the model; ghost was never in etcd, so gets no status.
		{statusUpdate{7, map[string]apiState{"a1": serving, "ghost": failed}}, map[string]int64{"a1": 5}},
	}
	for i, step := range steps {
		if err := r.sync(ctx, step.update); err != nil {
			t.Fatal(err)
		}
		got, err := st.Statuses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ids := slices.Sorted(maps.Keys(got)); !slices.Equal(ids, slices.Sorted(maps.Keys(step.want))) {
			t.Fatalf("step %d: statuses of %v, want %v", i, ids, step.want)
		}
		for id, rev := range step.want {
			s := got[id]
			if s.GetRevision() != rev || s.GetState() != step.update.states[id].state || s.GetMessage() != step.update.states[id].message {
				t.Errorf("step %d: status of %s = %v, want %v at revision %d", i, id, s, step.update.states[id], rev)
			}
		}
	}
}
