// Package watcher turns the API definitions in etcd into published
// *model.Config values.
//
// It loads everything once, then follows an etcd watch from the next
// revision, keeping the decoded records in memory. Bursts of changes (an
// import of a whole API, a deployment to several stages) are debounced into
// one rebuild, and every rebuild is published as one immutable Config
// carrying the etcd revision it reflects. Consumers share that one pointer;
// nothing is copied per subscriber.
package watcher

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/store"
)

// Debounce defaults. Every admin operation, apply included, is one etcd
// transaction and so arrives as one watch response; the holdoff only
// batches bursts of separate operations, such as a script of archwayctl
// calls, which follow each other within milliseconds. 20ms does that while
// leaving most of the 100ms deploy-to-Envoy budget to translation and the
// push. The 1s cap keeps the data plane fresh while someone writes
// continuously.
const (
	DefaultHoldoff  = 20 * time.Millisecond
	DefaultMaxDelay = time.Second
)

// Options configures a Watcher. The zero value is usable.
type Options struct {
	// Logger receives skipped records and etcd trouble; nil discards.
	Logger *slog.Logger
	// Holdoff is how long the store must be quiet before a rebuild;
	// zero means DefaultHoldoff.
	Holdoff time.Duration
	// MaxDelay bounds how long a change waits for a rebuild during a
	// continuous burst; zero means DefaultMaxDelay.
	MaxDelay time.Duration
}

// Watcher follows the store and publishes a new *model.Config after every
// (debounced) change. Current and Subscribe are safe for concurrent use;
// Run must be called once.
type Watcher struct {
	st       *store.Store
	log      *slog.Logger
	holdoff  time.Duration
	maxDelay time.Duration

	current atomic.Pointer[model.Config]

	mu   sync.Mutex // guards subs and serializes publish
	subs map[chan *model.Config]struct{}

	// Test seams, set before Run: afterLoad runs after every Load with its
	// revision, so a test can change etcd between Load and Watch;
	// onPublish runs, under mu, for every published Config.
	afterLoad func(rev int64)
	onPublish func(*model.Config)
}

// New returns a Watcher over st. Call Run to start it.
func New(st *store.Store, opts Options) *Watcher {
	w := &Watcher{
		st:       st,
		log:      opts.Logger,
		holdoff:  opts.Holdoff,
		maxDelay: opts.MaxDelay,
		subs:     make(map[chan *model.Config]struct{}),
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.holdoff <= 0 {
		w.holdoff = DefaultHoldoff
	}
	if w.maxDelay <= 0 {
		w.maxDelay = DefaultMaxDelay
	}
	return w
}

// Current returns the latest published Config, or nil before the first
// load completed. The Config must not be modified.
func (w *Watcher) Current() *model.Config { return w.current.Load() }

// Subscribe returns a channel that receives every Config published from now
// on, starting with the current one if there is one. The channel holds only
// the latest Config: a slow reader skips intermediate ones rather than
// falling behind, which is what a consumer that rebuilds from the whole
// Config wants. The channel is closed when ctx is done.
func (w *Watcher) Subscribe(ctx context.Context) <-chan *model.Config {
	ch := make(chan *model.Config, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if cfg := w.current.Load(); cfg != nil {
		ch <- cfg
	}
	w.subs[ch] = struct{}{}
	context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.subs, ch)
		close(ch)
	})
	return ch
}

// publish makes cfg current and hands it to every subscriber, replacing any
// Config a subscriber has not read yet. A Config that is not newer than the
// current one is dropped, so consumers never go back in time.
func (w *Watcher) publish(cfg *model.Config) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur := w.current.Load(); cur != nil && cfg.Revision <= cur.Revision {
		w.log.Debug("not publishing a config that is not newer",
			"revision", cfg.Revision, "current", cur.Revision)
		return
	}
	w.current.Store(cfg)
	if w.onPublish != nil {
		w.onPublish(cfg)
	}
	for ch := range w.subs {
		select {
		case <-ch: // drop the stale, unread Config
		default:
		}
		ch <- cfg // cannot block: only publish and Subscribe send, under mu
	}
	w.log.Debug("published config", "revision", cfg.Revision, "apis", len(cfg.APIs))
}
