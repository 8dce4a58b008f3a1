package main

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/spf13/pflag"

	"github.com/archway-gateway/archway/internal/server"
)

// redisOptions are the --redis-* settings: where rate-limit counters are
// shared across Archway processes.
type redisOptions struct {
	addrs        []string
	masterName   string
	username     string
	passwordFile string
	db           int
	tls          bool
	caFile       string
	certFile     string
	keyFile      string
}

func (o *redisOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&o.addrs, "redis-addr", nil,
		"Redis host:port `addresses` that keep rate-limit counters (several: a Redis Cluster, or the Sentinels with --redis-master-name); unset keeps them in memory")
	fs.StringVar(&o.masterName, "redis-master-name", "", "Redis Sentinel master `name`; --redis-addr lists the Sentinels")
	fs.StringVar(&o.username, "redis-username", "", "Redis ACL user `name`")
	fs.StringVar(&o.passwordFile, "redis-password-file", "", "`file` holding the Redis password")
	fs.IntVar(&o.db, "redis-db", 0, "Redis database `number`")
	fs.BoolVar(&o.tls, "redis-tls", false, "connect to Redis with TLS")
	fs.StringVar(&o.caFile, "redis-ca", "", "CA `file` that signed Redis's certificate (default: system roots)")
	fs.StringVar(&o.certFile, "redis-cert", "", "client certificate `file` for Redis TLS")
	fs.StringVar(&o.keyFile, "redis-key", "", "client key `file` for Redis TLS")
}

func (o *redisOptions) config() server.RedisConfig {
	return server.RedisConfig{
		Addrs: o.addrs, MasterName: o.masterName, Username: o.username, PasswordFile: o.passwordFile,
		DB: o.db, TLS: o.tls, CAFile: o.caFile, CertFile: o.certFile, KeyFile: o.keyFile,
	}
}

// check returns an error, naming the setting, for each inconsistent one.
func (o *redisOptions) check() []error {
	var errs []error
	for _, a := range o.addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("redis-addr: %w", err))
		}
	}
	if len(o.addrs) == 0 {
		others := map[string]bool{
			"redis-master-name": o.masterName != "", "redis-username": o.username != "",
			"redis-password-file": o.passwordFile != "", "redis-db": o.db != 0, "redis-tls": o.tls,
			"redis-ca": o.caFile != "", "redis-cert": o.certFile != "", "redis-key": o.keyFile != "",
		}
		for name, set := range others {
			if set {
				errs = append(errs, fmt.Errorf("%s: only applies with redis-addr", name))
			}
		}
	}
	if o.db < 0 {
		errs = append(errs, errors.New("redis-db: must be >= 0"))
	}
	if (o.certFile == "") != (o.keyFile == "") {
		errs = append(errs, errors.New("redis-cert and redis-key: set both or neither"))
	}
	if !o.tls && (o.caFile != "" || o.certFile != "") {
		errs = append(errs, errors.New("redis-ca, redis-cert: only apply with redis-tls"))
	}
	return errs
}

// checkHeaderName returns an error naming the setting unless v is a
// lower-case HTTP header name, as Envoy holds them.
func checkHeaderName(setting, v string) error {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_'
	}) {
		return fmt.Errorf("%s: %q is not a lower-case HTTP header name", setting, v)
	}
	return nil
}
