package admin

import (
	"context"
	"errors"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// ListFleet returns one page of the Envoys connected to the gateway's xDS
// servers, ordered by server instance and node id. Each xDS server writes
// its own nodes to etcd under a lease, so the list covers every instance
// sharing the store, whichever process serves the admin API, and the nodes
// of an instance that died drop out when its lease expires.
func (s *Server) ListFleet(ctx context.Context, req *adminv1.ListFleetRequest) (*adminv1.ListFleetResponse, error) {
	v := newViolations(req)
	size := v.pageSize("page_size", req.GetPageSize())
	after := v.pageToken("page_token", req.GetPageToken(), store.FleetPrefix())
	if err := v.err(); err != nil {
		return nil, err
	}
	nodes, next, err := s.store.ListFleet(ctx, store.Page{After: after, Limit: size})
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	return &adminv1.ListFleetResponse{Nodes: nodes, NextPageToken: pageTokenOf(next)}, nil
}

// fillStatus sets the status of each API, as the xDS servers reported it,
// in one read: apis must be in id order, as a page of ListApis is. An API
// no xDS server has reported on yet keeps an empty status.
func (s *Server) fillStatus(ctx context.Context, apis ...*adminv1.Api) error {
	if len(apis) == 0 {
		return nil
	}
	var statuses map[string]*adminv1.ApiStatus
	var err error
	if len(apis) == 1 {
		var st *adminv1.ApiStatus
		if st, err = s.store.GetStatus(ctx, apis[0].GetId()); err == nil {
			statuses = map[string]*adminv1.ApiStatus{apis[0].GetId(): st}
		} else if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
	} else {
		statuses, err = s.store.StatusesBetween(ctx, apis[0].GetId(), apis[len(apis)-1].GetId())
	}
	if err != nil {
		return s.storeError(ctx, err)
	}
	for _, api := range apis {
		api.Status = statuses[api.GetId()]
	}
	return nil
}
