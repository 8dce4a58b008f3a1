package xds

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/xds/translate"
)

// apiState is the part of an API's status that says how it is served; the
// revision and time say since when.
type apiState struct {
	state   adminv1.ApiStatus_State
	message string
}

// statesOf returns the state of every API of cfg: SERVING, or FAILED with
// a message joining the problems that left parts of it out.
func statesOf(cfg *model.Config, problems []translate.Problem) map[string]apiState {
	messages := make(map[string][]string)
	for _, p := range problems {
		msg := p.Err.Error()
		if p.Stage != "" {
			msg = "stage " + p.Stage + ": " + msg
		}
		messages[p.APIID] = append(messages[p.APIID], msg)
	}
	out := make(map[string]apiState, len(cfg.APIs))
	for _, api := range cfg.APIs {
		if m := messages[api.ID]; len(m) > 0 {
			out[api.ID] = apiState{adminv1.ApiStatus_STATE_FAILED, strings.Join(m, "; ")}
		} else {
			out[api.ID] = apiState{state: adminv1.ApiStatus_STATE_SERVING}
		}
	}
	return out
}

// report logs the APIs whose state changed with cfg and hands every state
// to the status reporter.
func (s *Server) report(cfg *model.Config, problems []translate.Problem) {
	states := statesOf(cfg, problems)
	for id, st := range states {
		old, known := s.states[id]
		switch {
		case st.state == adminv1.ApiStatus_STATE_FAILED && old != st:
			s.log.Warn("API partly not served: translation failed", "api", id, "revision", cfg.Revision, "problem", st.message)
		case st.state == adminv1.ApiStatus_STATE_SERVING && known && old.state != st.state:
			s.log.Info("API fully served again", "api", id, "revision", cfg.Revision)
		}
	}
	s.states = states
	if s.statuses != nil {
		s.statuses.offer(statusUpdate{revision: cfg.Revision, states: states})
	}
}

// statusUpdate is the state of every API at one revision.
type statusUpdate struct {
	revision int64
	states   map[string]apiState
}

// statusReporter makes the statuses in etcd match the latest update: it
// writes the statuses that changed and deletes those of APIs that are gone.
// It runs apart from the snapshot loop, so that a slow or unreachable etcd
// never delays Envoy's configuration, and it skips updates that a newer one
// replaced before it got to them.
type statusReporter struct {
	store   *store.Store
	log     *slog.Logger
	now     func() time.Time
	updates chan statusUpdate // holds only the latest update
}

func newStatusReporter(st *store.Store, log *slog.Logger, now func() time.Time) *statusReporter {
	return &statusReporter{store: st, log: log, now: now, updates: make(chan statusUpdate, 1)}
}

// offer replaces any update not yet taken with u. Only the snapshot loop
// offers, so the send never blocks.
func (r *statusReporter) offer(u statusUpdate) {
	select {
	case <-r.updates:
	default:
	}
	r.updates <- u
}

// run syncs etcd with every update until ctx is done. After a failure it
// retries with the latest update, which may have replaced the failed one.
func (r *statusReporter) run(ctx context.Context) {
	backoff := newBackoff()
	var (
		u        statusUpdate
		retrying bool
	)
	for {
		if retrying {
			select {
			case u = <-r.updates:
			default:
			}
		} else {
			select {
			case <-ctx.Done():
				return
			case u = <-r.updates:
			}
		}
		retrying = false
		if err := r.sync(ctx, u); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("writing API statuses failed; retrying", "revision", u.revision, "err", err)
			retrying = true
			backoff.wait(ctx)
			continue
		}
		backoff.reset()
	}
}

// sync reads the statuses in etcd and writes the difference to u. A
// status is rewritten only when its state or message changed, so its
// revision and time say since when the API has been in that state.
func (r *statusReporter) sync(ctx context.Context, u statusUpdate) error {
	current, err := r.store.Statuses(ctx)
	if err != nil {
		return err
	}
	for id, want := range u.states {
		if have := current[id]; have != nil && have.GetState() == want.state && have.GetMessage() == want.message {
			continue
		}
		st := &adminv1.ApiStatus{State: want.state, Message: want.message, Revision: u.revision, UpdateTime: timestamppb.New(r.now())}
		if err := r.store.PutStatus(ctx, id, st); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	for id := range current {
		if _, ok := u.states[id]; !ok {
			if err := r.store.DeleteStatus(ctx, id); err != nil {
				return err
			}
		}
	}
	return nil
}
