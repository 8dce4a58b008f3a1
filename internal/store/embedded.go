package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Limits of the embedded etcd, raised from etcd's defaults (128 operations,
// 1.5 MiB) so that one ApplyApi of an API at its size limits is a single
// transaction. An external cluster needs at least these values
// (--max-txn-ops, --max-request-bytes); docs/store.md says so.
const (
	EmbeddedMaxTxnOps       = 4096
	EmbeddedMaxRequestBytes = 8 << 20
)

// embeddedStartTimeout bounds how long a single-member cluster may take to
// elect itself and become ready.
const embeddedStartTimeout = time.Minute

// EmbeddedConfig configures the single-member etcd that archway serve runs in
// process by default.
type EmbeddedConfig struct {
	// DataDir holds etcd's write-ahead log and database; data survives
	// restarts.
	DataDir string
	// ClientURL is where the etcd client API listens, e.g.
	// http://127.0.0.1:2379; other archway processes may connect to it.
	ClientURL string
	// PeerURL is the (unused by a single member, but required) peer listener.
	PeerURL string
	// Logger receives etcd's warnings and errors, one level lower (see
	// slogLevel).
	Logger *slog.Logger
	// UnsafeNoFsync skips fsync; for tests only, never for real data.
	UnsafeNoFsync bool
}

// Embedded is a running in-process etcd server.
type Embedded struct {
	etcd *embed.Etcd
}

// StartEmbedded starts etcd and waits until it serves clients.
func StartEmbedded(ctx context.Context, c EmbeddedConfig) (*Embedded, error) {
	cfg, err := embedConfig(c)
	if err != nil {
		return nil, err
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", c.DataDir, err)
	}
	timer := time.NewTimer(embeddedStartTimeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
		return &Embedded{etcd: e}, nil
	case err = <-e.Err():
	case <-timer.C:
		err = errors.New("not ready after " + embeddedStartTimeout.String())
	case <-ctx.Done():
		err = ctx.Err()
	}
	e.Close()
	return nil, fmt.Errorf("start embedded etcd: %w", err)
}

func embedConfig(c EmbeddedConfig) (*embed.Config, error) {
	if c.DataDir == "" {
		return nil, errors.New("embedded etcd: data dir is required")
	}
	client, err := url.Parse(c.ClientURL)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd client url %q: %w", c.ClientURL, err)
	}
	peer, err := url.Parse(c.PeerURL)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd peer url %q: %w", c.PeerURL, err)
	}
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg := embed.NewConfig()
	cfg.Name = "archway"
	cfg.Dir = c.DataDir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.MaxTxnOps = EmbeddedMaxTxnOps
	cfg.MaxRequestBytes = EmbeddedMaxRequestBytes
	// Keep an hour of history: enough for watchers to resume after a short
	// disconnect; older revisions are compacted (watchers then reload).
	cfg.AutoCompactionMode = embed.CompactorModePeriodic
	cfg.AutoCompactionRetention = "1h"
	cfg.UnsafeNoFsync = c.UnsafeNoFsync
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.New(newSlogCore(logger.With("component", "etcd"), zap.WarnLevel)))
	return cfg, nil
}

// Endpoints returns the URLs clients use to reach the server.
func (e *Embedded) Endpoints() []string {
	urls := e.etcd.Config().AdvertiseClientUrls
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = u.String()
	}
	return out
}

// Close stops the server and waits for it to release its data directory.
func (e *Embedded) Close() { e.etcd.Close() }
