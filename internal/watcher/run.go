package watcher

import (
	"context"
	"errors"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Retry delays after etcd errors: short enough to recover quickly from a
// leader election, capped so that a long outage costs little.
const (
	minRetry = 100 * time.Millisecond
	maxRetry = 5 * time.Second
)

// Run loads the store, publishes the first Config, and then follows changes
// until ctx is done. etcd errors are logged and retried, never returned:
// while etcd is away the last Config stays current. Run returns nil once ctx
// is done and every goroutine it started has stopped.
func (w *Watcher) Run(ctx context.Context) error {
	retry := newBackoff()
	for ctx.Err() == nil {
		s, err := w.load(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("loading API definitions failed; retrying", "err", err)
			}
			retry.wait(ctx)
			continue
		}
		retry.reset()
		w.rebuild(s)
		w.followFrom(ctx, s, retry)
	}
	return nil
}

// load reads everything at one revision into a fresh state.
func (w *Watcher) load(ctx context.Context) (*state, error) {
	rev, kvs, err := w.st.Load(ctx)
	if err != nil {
		return nil, err
	}
	s := newState(rev)
	for _, kv := range kvs {
		s.put(w.log, kv)
	}
	w.log.Info("loaded API definitions", "revision", rev, "keys", len(kvs))
	if w.afterLoad != nil {
		w.afterLoad(rev)
	}
	return s, nil
}

// followFrom watches from s's revision on, re-watching when the watch ends,
// until ctx is done or etcd has compacted revisions s still needs, in which
// case s is useless and the caller loads again.
func (w *Watcher) followFrom(ctx context.Context, s *state, retry *backoff) {
	for ctx.Err() == nil {
		switch w.follow(ctx, s, retry) {
		case outcomeReload:
			return
		case outcomeRewatch:
			retry.wait(ctx)
		}
	}
}

// outcome says why a watch ended.
type outcome int

const (
	outcomeWatching outcome = iota // the watch is healthy; keep reading it
	outcomeStopped                 // ctx is done
	outcomeRewatch                 // the watch ended; watch again from s.rev+1
	outcomeReload                  // revisions after s.rev are compacted; load again
)

// follow runs one etcd watch from s.rev+1, applying changes to s and
// rebuilding after each debounced burst.
func (w *Watcher) follow(ctx context.Context, s *state, retry *backoff) outcome {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wch := w.st.Watch(wctx, s.rev+1)
	d := newDebouncer(w.holdoff, w.maxDelay)
	defer d.stop()
	for {
		select {
		case <-ctx.Done():
			return outcomeStopped
		case <-d.quiet.C:
			d.fired()
			w.rebuild(s)
		case <-d.deadline.C:
			d.fired()
			w.rebuild(s)
		case resp, ok := <-wch:
			if ctx.Err() != nil {
				return outcomeStopped // the watch ended because ctx did
			}
			o, changed := w.handle(s, resp, ok)
			if changed {
				d.changed()
			}
			if o == outcomeWatching {
				retry.reset()
				continue
			}
			if o == outcomeRewatch && d.pending {
				w.rebuild(s) // what arrived before the watch ended is complete
			}
			return o
		}
	}
}

// handle applies one watch response to s. It returns what to do next, and
// whether s changed in a way that needs a rebuild: responses without events
// (progress notifications, the creation ack) and changes to draft routes and
// integrations do not, though they move the resume revision forward.
func (w *Watcher) handle(s *state, resp clientv3.WatchResponse, ok bool) (outcome, bool) {
	if !ok {
		w.log.Info("etcd watch closed; watching again", "revision", s.rev+1)
		return outcomeRewatch, false
	}
	err := resp.Err()
	if resp.CompactRevision != 0 || errors.Is(err, rpctypes.ErrCompacted) || errors.Is(err, rpctypes.ErrFutureRev) {
		w.log.Warn("etcd no longer has the revisions the watcher needs; loading again",
			"revision", s.rev+1, "compacted", resp.CompactRevision)
		return outcomeReload, false
	}
	if err != nil {
		w.log.Warn("etcd watch failed; watching again", "revision", s.rev+1, "err", err)
		return outcomeRewatch, false
	}
	if resp.IsProgressNotify() {
		s.rev = max(s.rev, resp.Header.GetRevision())
	}
	changed := false
	for _, ev := range resp.Events {
		if ev.Type == clientv3.EventTypeDelete {
			changed = s.delete(ev.Kv) || changed
		} else {
			changed = s.put(w.log, ev.Kv) || changed
		}
		s.rev = max(s.rev, ev.Kv.ModRevision)
	}
	return outcomeWatching, changed
}

// rebuild publishes the Config of s.
func (w *Watcher) rebuild(s *state) {
	if cfg := s.build(w.log); cfg != nil {
		w.publish(cfg)
	}
}

// debouncer turns a stream of changes into rebuild signals: quiet fires
// once no change came for holdoff, and deadline fires maxDelay after the
// first change not yet rebuilt, whichever comes first.
type debouncer struct {
	holdoff, maxDelay time.Duration
	quiet, deadline   *time.Timer
	pending           bool
}

func newDebouncer(holdoff, maxDelay time.Duration) *debouncer {
	d := &debouncer{
		holdoff:  holdoff,
		maxDelay: maxDelay,
		quiet:    time.NewTimer(holdoff),
		deadline: time.NewTimer(maxDelay),
	}
	d.stop()
	return d
}

// changed records a change: it restarts the quiet period and, for the first
// change of a burst, starts the deadline.
func (d *debouncer) changed() {
	if !d.pending {
		d.pending = true
		d.deadline.Reset(d.maxDelay)
	}
	d.quiet.Reset(d.holdoff)
}

// fired records a rebuild. Since Go 1.23 a stopped timer delivers nothing
// stale, so the other timer needs no draining.
func (d *debouncer) fired() {
	d.pending = false
	d.stop()
}

func (d *debouncer) stop() {
	d.quiet.Stop()
	d.deadline.Stop()
}

// backoff doubles the wait between retries of a failing etcd call.
type backoff struct{ next time.Duration }

func newBackoff() *backoff { return &backoff{next: minRetry} }

// wait sleeps for the current delay, or until ctx is done, and doubles it.
func (b *backoff) wait(ctx context.Context) {
	t := time.NewTimer(b.next)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	b.next = min(2*b.next, maxRetry)
}

// reset starts over after a success.
func (b *backoff) reset() { b.next = minRetry }
