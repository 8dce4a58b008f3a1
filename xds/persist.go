package xds

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/archway-gateway/archway/internal/store"
)

// writeTimeout bounds each etcd write of the fleet, so that a partitioned
// etcd delays the next flush instead of blocking it forever.
const writeTimeout = 5 * time.Second

// persister writes the fleet to etcd under a lease of this instance, kept
// alive while it runs and revoked when it stops: nodes of an instance that
// stops disappear at once, and those of an instance that dies within the
// lease's TTL.
type persister struct {
	fleet    *fleet
	store    *store.Store
	log      *slog.Logger
	interval time.Duration
	ttl      time.Duration

	lease clientv3.LeaseID // zero while there is none
	alive <-chan *clientv3.LeaseKeepAliveResponse
	flush *time.Timer
	armed bool
}

func newPersister(f *fleet, st *store.Store, log *slog.Logger, interval, ttl time.Duration) *persister {
	return &persister{fleet: f, store: st, log: log, interval: interval, ttl: ttl}
}

// run writes the fleet until ctx is done, then revokes the lease.
func (p *persister) run(ctx context.Context) {
	p.flush = time.NewTimer(p.interval)
	p.flush.Stop()
	defer p.flush.Stop()
	defer p.revoke(ctx)
	retry := newBackoff()
	for ctx.Err() == nil {
		if p.lease == 0 && !p.acquire(ctx) {
			retry.wait(ctx)
			continue
		}
		retry.reset()
		select {
		case <-ctx.Done():
		case _, ok := <-p.alive:
			if !ok && ctx.Err() == nil {
				p.log.Warn("fleet lease lost; taking a new one", "lease", int64(p.lease))
				p.lease = 0
			}
		case <-p.fleet.wake:
			p.arm()
		case <-p.flush.C:
			p.armed = false
			p.write(ctx)
		}
	}
}

// acquire takes a new lease and marks every node dirty, since their
// records must be written under it.
func (p *persister) acquire(ctx context.Context) bool {
	lease, err := p.store.GrantLease(ctx, p.ttl)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("cannot take a fleet lease; retrying", "err", err)
		}
		return false
	}
	alive, err := p.store.KeepAlive(ctx, lease)
	if err != nil {
		p.log.Warn("cannot keep the fleet lease alive; retrying", "err", err)
		return false
	}
	p.lease, p.alive = lease, alive
	p.fleet.touchAll()
	return true
}

// arm schedules a flush one interval from now unless one is scheduled:
// every change until then is written by that one flush.
func (p *persister) arm() {
	if !p.armed {
		p.armed = true
		p.flush.Reset(p.interval)
	}
}

// write writes every dirty node. Failed writes are retried at the next
// flush; a lease etcd no longer knows is replaced.
func (p *persister) write(ctx context.Context) {
	put, gone := p.fleet.takeDirty()
	var failed []string
	var lastErr error
	for _, n := range put {
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := p.store.PutFleetNode(wctx, p.lease, p.fleet.instance, n)
		cancel()
		if err != nil {
			failed, lastErr = append(failed, n.GetId()), err
		}
	}
	for _, id := range gone {
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := p.store.DeleteFleetNode(wctx, p.fleet.instance, id)
		cancel()
		if err != nil {
			failed, lastErr = append(failed, id), err
		}
	}
	if len(failed) == 0 || ctx.Err() != nil {
		return
	}
	p.log.Warn("writing the fleet to etcd failed; retrying", "nodes", len(failed), "err", lastErr)
	p.fleet.markDirty(failed...)
	if errors.Is(lastErr, rpctypes.ErrLeaseNotFound) {
		p.lease = 0
		return
	}
	p.arm()
}

// revoke ends the lease, deleting this instance's records. It runs after
// ctx is done, so it has its own short deadline.
func (p *persister) revoke(ctx context.Context) {
	if p.lease == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := p.store.RevokeLease(rctx, p.lease); err != nil {
		p.log.Warn("revoking the fleet lease failed; its records expire with it", "err", err)
	}
}

// backoff doubles the wait between retries of a failing etcd call, from
// 100ms, which rides out a leader election, to 5s, which costs little
// during an outage.
type backoff struct{ next time.Duration }

const (
	minRetry = 100 * time.Millisecond
	maxRetry = 5 * time.Second
)

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
