package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archway-gateway/archway/internal/testutil/testredis"
	"github.com/archway-gateway/archway/ratelimit"
)

// TestLimitStore checks which store a configuration gives: memory without
// Redis addresses; a Redis store that counts in the given Redis, also when
// it starts unreachable and comes up later; and errors naming bad files.
func TestLimitStore(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ctx := t.Context()
	quota := ratelimit.Quota{Limit: 10, Period: ratelimit.Day}

	st, closeStore, err := limitStore(ctx, RedisConfig{}, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*ratelimit.MemoryStore); !ok {
		t.Errorf("no redis address gave %T, want a memory store", st)
	}
	if err := closeStore(); err != nil {
		t.Fatal(err)
	}

	r := testredis.Start(t)
	r.Stop()
	st, closeStore, err = limitStore(ctx, RedisConfig{Addrs: []string{r.Addr()}}, log)
	if err != nil {
		t.Fatalf("an unreachable redis failed start-up: %v", err)
	}
	defer func() {
		if err := closeStore(); err != nil {
			t.Error(err)
		}
	}()
	if _, err := st.Consume(ctx, "k", quota, time.Now(), 1); err == nil {
		t.Error("consume with redis down succeeded")
	}
	r.Restart()
	if _, err := st.Consume(ctx, "k", quota, time.Now(), 3); err != nil {
		t.Fatalf("consume after redis came up: %v", err)
	}
	n, err := r.Client().Keys(context.Background(), "*").Result()
	if err != nil || len(n) == 0 {
		t.Errorf("redis holds keys %v (%v), want the counter", n, err)
	}

	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := map[string]struct {
		cfg  RedisConfig
		want string
	}{
		"missing password file": {RedisConfig{Addrs: []string{r.Addr()}, PasswordFile: filepath.Join(dir, "nope")}, "redis password"},
		"empty password file":   {RedisConfig{Addrs: []string{r.Addr()}, PasswordFile: empty}, "redis password"},
		"missing CA":            {RedisConfig{Addrs: []string{r.Addr()}, TLS: true, CAFile: filepath.Join(dir, "ca")}, "redis CA"},
		"CA without PEM":        {RedisConfig{Addrs: []string{r.Addr()}, TLS: true, CAFile: empty}, "redis CA"},
		"cert without key":      {RedisConfig{Addrs: []string{r.Addr()}, TLS: true, CertFile: empty}, "redis TLS client certificate"},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			if _, _, err := limitStore(ctx, tc.cfg, log); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
