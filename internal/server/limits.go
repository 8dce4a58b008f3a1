package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/archway-gateway/archway/ratelimit"
)

// RedisConfig says where the rate-limit counters are kept. With no
// addresses they live in this process's memory, which is right for one
// node; every Archway process that enforces the same usage plans or stage
// throttles across a fleet must share one Redis.
type RedisConfig struct {
	// Addrs are host:port addresses: one for a single Redis, the Sentinels'
	// with MasterName, or several cluster nodes for a Redis Cluster.
	Addrs []string
	// MasterName selects Redis Sentinel: Addrs are the Sentinels and this
	// names the monitored master.
	MasterName string
	// Username and PasswordFile authenticate with Redis ACLs (or the
	// password alone with requirepass). The password is read from a file
	// so that it appears in no process listing or environment.
	Username, PasswordFile string
	// DB selects the database of a single Redis or Sentinel master.
	DB int
	// TLS connects with TLS. CAFile verifies the server (system roots if
	// empty); CertFile and KeyFile, both or neither, present a client
	// certificate.
	TLS                       bool
	CAFile, CertFile, KeyFile string
}

// redisTimeout bounds each Redis command. A decision waits for at most
// this long before the plan's failure mode applies, well inside the time
// Envoy gives ext_authz and the rate-limit service.
const redisTimeout = 100 * time.Millisecond

// limitStore opens the store behind every limiter of the process. An
// unreachable Redis is not an error: requests meet each plan's failure
// mode until it comes back, and the client reconnects by itself.
func limitStore(ctx context.Context, cfg RedisConfig, log *slog.Logger) (ratelimit.Store, func() error, error) {
	if len(cfg.Addrs) == 0 {
		log.Info("rate-limit counters are kept in memory; set --redis-addr to share them across processes")
		return ratelimit.NewMemoryStore(), func() error { return nil }, nil
	}
	opts, err := cfg.options()
	if err != nil {
		return nil, nil, err
	}
	client := redis.NewUniversalClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		log.Warn("redis is unreachable; usage plans apply their failure mode until it answers",
			"addrs", cfg.Addrs, "err", err)
	} else {
		log.Info("rate-limit counters are kept in redis", "addrs", cfg.Addrs)
	}
	return ratelimit.NewRedisStore(client), client.Close, nil
}

func (cfg RedisConfig) options() (*redis.UniversalOptions, error) {
	opts := &redis.UniversalOptions{
		Addrs:        cfg.Addrs,
		MasterName:   cfg.MasterName,
		Username:     cfg.Username,
		DB:           cfg.DB,
		DialTimeout:  time.Second,
		ReadTimeout:  redisTimeout,
		WriteTimeout: redisTimeout,
		// Fail fast instead of queueing behind a dead connection; the
		// failure mode answers meanwhile.
		PoolTimeout: redisTimeout,
		MaxRetries:  -1,
	}
	if cfg.PasswordFile != "" {
		password, err := readPassword(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("redis password: %w", err)
		}
		opts.Password = password
	}
	if cfg.TLS {
		tc, err := cfg.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts.TLSConfig = tc
	}
	return opts, nil
}

func (cfg RedisConfig) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read redis CA: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, errors.New("redis CA file holds no PEM certificate")
		}
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, errors.New("redis TLS client certificate: set the certificate and the key together")
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load redis client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
