// Package admin implements archway.admin.v1.AdminService: it validates
// every request in full, then writes it to the store in one etcd
// transaction per change.
//
// Every change under one API follows the same cycle: read a consistent
// snapshot of the API, apply and check the change against it in memory (a
// draft), then commit the draft's writes on the condition that nothing
// under the API changed since the read. If something did, the cycle starts
// again from a fresh read, so concurrent writers never lose each other's
// changes and validation always sees the state it is committed against.
package admin

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/ratelimit"
)

// maxAttempts bounds how often a change is retried after a concurrent
// change to the same API. Each failed attempt means another writer
// succeeded, so N writers racing on one API all finish within N attempts.
const maxAttempts = 8

// Server must serve every RPC; embedding the Unimplemented server only
// keeps it compiling when the service grows.
var _ adminv1.AdminServiceServer = (*Server)(nil)

// Options configures a Server.
type Options struct {
	// Logger receives one line per committed change; nil discards.
	Logger *slog.Logger
	// Now is the clock for create_time and update_time, and for the
	// quota periods of GetUsage and UpdateUsage; nil is time.Now.
	Now func() time.Time
	// Usage holds the counters the data plane meters usage plans with,
	// under ratelimit.UsageKey. Nil leaves GetUsage and UpdateUsage
	// without data: they fail with FAILED_PRECONDITION.
	Usage ratelimit.Store
	// TestInvoker runs TestInvokeRoute's requests; nil makes
	// TestInvokeRoute fail with FAILED_PRECONDITION.
	TestInvoker TestInvoker
}

// Server implements adminv1.AdminServiceServer over a store.
type Server struct {
	adminv1.UnimplementedAdminServiceServer

	store       *store.Store
	usage       ratelimit.Store
	testInvoker TestInvoker
	log         *slog.Logger
	now         func() time.Time
}

// NewServer returns an AdminService that keeps its data in st.
func NewServer(st *store.Store, opts Options) *Server {
	s := &Server{store: st, usage: opts.Usage, testInvoker: opts.TestInvoker, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// timestamp returns the current time for create_time and update_time.
func (s *Server) timestamp() *timestamppb.Timestamp { return timestamppb.New(s.now()) }

// change is one modification of an API. It applies the change to the draft,
// records bad fields in v and returns any other reason to refuse it. It
// may run more than once, each time against a fresh snapshot.
type change func(d *draft, v *violations) error

// retry runs attempt until it returns anything but store.ErrConflict, at
// most maxAttempts times.
func (s *Server) retry(ctx context.Context, apiID string, attempt func() error) error {
	for range maxAttempts {
		if err := attempt(); !errors.Is(err, store.ErrConflict) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return s.storeError(ctx, err)
		}
	}
	return status.Errorf(codes.Aborted, "api %s changed concurrently %d times in a row; try again", apiID, maxAttempts)
}

// changeAPI applies fn to the API apiID and commits the result. base holds
// the violations found before the API was read (in the request alone);
// they are reported together with those fn finds. It returns the committed
// draft, whose resources carry their new etags.
func (s *Server) changeAPI(ctx context.Context, apiID string, base *violations, fn change) (*draft, error) {
	var d *draft
	err := s.retry(ctx, apiID, func() error {
		st, err := s.store.ReadAPI(ctx, apiID)
		switch {
		case err == nil:
		case !base.ok():
			return base.err()
		case errors.Is(err, store.ErrNotFound):
			return notFound("api", apiID, "")
		default:
			return s.storeError(ctx, err)
		}
		d = newDraft(st, s.timestamp())
		if err := prepare(d, base, fn); err != nil {
			return err
		}
		return s.commit(ctx, d)
	})
	return d, err
}

// prepare runs fn on the draft and completes it, returning the first
// reason to refuse the change: bad fields first, as they are the client's
// to fix whatever the state, then conflicts with the state.
func prepare(d *draft, base *violations, fn change) error {
	v := base.clone()
	err := fn(d, v)
	if !v.ok() {
		return v.err()
	}
	if err != nil {
		return err
	}
	return d.finish()
}

// commit writes the draft, if it changes anything. It returns
// store.ErrConflict, for retry, if the API changed since it was read.
func (s *Server) commit(ctx context.Context, d *draft) error {
	if !d.written() {
		return nil
	}
	var (
		rev int64
		err error
	)
	if d.creating {
		rev, err = s.store.CreateAPI(ctx, d.API, d.batch())
	} else {
		rev, err = s.store.CommitAPI(ctx, d.APIState, d.batch())
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		return err
	case errors.Is(err, store.ErrAlreadyExists):
		return alreadyExists("api name %q is taken", d.API.GetName())
	case err != nil:
		return s.storeError(ctx, err)
	}
	d.committed(rev)
	s.logChanges(ctx, d, rev)
	return nil
}

// logChanges logs a committed change: one line at info level, and each
// resource it touched at debug level. Only names and ids are logged, never
// request bodies, which may hold secrets in headers or URLs.
func (s *Server) logChanges(ctx context.Context, d *draft, rev int64) {
	changes := d.changes()
	var counts [4]int
	for _, c := range changes {
		counts[c.GetAction()]++
		s.log.DebugContext(ctx, "resource changed", "api_id", d.apiID(), "kind", c.GetKind(),
			"name", c.GetName(), "id", c.GetId(), "action", c.GetAction().String())
	}
	s.log.InfoContext(ctx, "api changed", "api_id", d.apiID(), "revision", rev,
		"created", counts[adminv1.Change_ACTION_CREATED], "updated", counts[adminv1.Change_ACTION_UPDATED],
		"deleted", counts[adminv1.Change_ACTION_DELETED])
}

// clone returns a copy of v that can grow without changing v.
func (v *violations) clone() *violations {
	return &violations{request: v.request, list: slices.Clone(v.list)}
}
