package admin

import (
	"context"
	"errors"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/archway-gateway/archway/internal/store"
)

// The Get, Update and Delete calls of every kind of resource follow one
// cycle; the helpers here hold it once, and each call says only what is
// particular to its kind: how its request is checked, how the resource is
// found in a draft, validated and stored.

// resource is a stored message with an etag, held by pointer, so that its
// zero value is nil: "none found".
type resource interface {
	proto.Message
	comparable
	GetEtag() string
}

// idRequest is a request that names one resource of an API by id.
type idRequest interface {
	proto.Message
	GetApiId() string
	GetId() string
}

// idViolations starts the violations of req with a check of both its ids.
func idViolations(req idRequest) *violations {
	v := newViolations(req)
	v.id("api_id", req.GetApiId())
	v.id("id", req.GetId())
	return v
}

// getter reads one resource from the store: one of the API apiID by id or
// name or, with apiID empty, an API by id.
type getter[T resource] func(ctx context.Context, apiID, id string) (T, error)

// getByID serves a Get call for a resource of an API named by id.
func getByID[T resource](ctx context.Context, s *Server, req idRequest, kind string, get getter[T]) (T, error) {
	if err := idViolations(req).err(); err != nil {
		var none T
		return none, err
	}
	return getResource(ctx, s, get, kind, req.GetApiId(), req.GetId())
}

// getResource reads a resource from the store. A missing one is NOT_FOUND
// of kind, in the API apiID unless it is empty.
func getResource[T resource](ctx context.Context, s *Server, get getter[T], kind, apiID, id string) (T, error) {
	r, err := get(ctx, apiID, id)
	if err == nil {
		return r, nil
	}
	var none T
	if errors.Is(err, store.ErrNotFound) {
		return none, notFound(kind, id, apiID)
	}
	return none, s.storeError(ctx, err)
}

// existing checks the resource a change starts from, as found in the
// draft: it must exist, and the etag the client sent, if any, must be its
// current one, so that no client overwrites or deletes a change it did
// not see.
func existing[T resource](old T, etag, kind, id, apiID string) error {
	var none T
	if old == none {
		return notFound(kind, id, apiID)
	}
	return checkEtag(kind+" "+id, etag, old.GetEtag())
}

// resourceUpdate is one Update call: the resource of an API it changes,
// and how resources of that kind are found, checked and stored.
type resourceUpdate[T resource] struct {
	apiID, kind, id string
	// in holds the client's values and etag; paths names the fields to
	// take from it.
	in    T
	paths []string
	// find returns the resource as the draft has it, or nil if it has none.
	find func(d *draft) (T, error)
	// check completes and validates the changed resource, recording bad
	// fields in v and returning any other reason to refuse the change.
	check func(d *draft, v *violations, changed T) error
	// put stores the changed resource, which differs from old, in the draft.
	put func(d *draft, old, changed T)
}

// updateResource serves an Update call and returns the resource as the
// API now has it. An update that changes nothing writes nothing, and the
// resource keeps its etag.
func updateResource[T resource](ctx context.Context, s *Server, v *violations, u resourceUpdate[T]) (T, error) {
	var out T
	_, err := s.changeAPI(ctx, u.apiID, v, func(d *draft, v *violations) (err error) {
		out, err = u.apply(d, v)
		return err
	})
	if err != nil {
		var none T
		return none, err
	}
	return out, nil
}

// apply changes the resource in the draft and returns it as changed, or
// as it was if the change leaves it as it is or is refused.
func (u resourceUpdate[T]) apply(d *draft, v *violations) (T, error) {
	old, err := u.find(d)
	if err == nil {
		err = existing(old, u.in.GetEtag(), u.kind, u.id, u.apiID)
	}
	if err != nil {
		return old, err
	}
	changed := proto.CloneOf(old)
	applyPaths(changed, u.in, u.paths)
	if err := u.check(d, v, changed); err != nil || proto.Equal(changed, old) {
		return old, err
	}
	u.put(d, old, changed)
	return changed, nil
}

// deleteResource serves a Delete call: del removes one resource from a
// draft of the API apiID, or returns why it may not.
func (s *Server) deleteResource(ctx context.Context, apiID string, v *violations, del change) (*emptypb.Empty, error) {
	if _, err := s.changeAPI(ctx, apiID, v, del); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}
