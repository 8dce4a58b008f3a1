package main

import (
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/archway-gateway/archway/internal/server"
	"github.com/archway-gateway/archway/xds/translate"
)

// load parses args as `archway serve` does, with env as the environment,
// and returns the resolved flag set and server configuration.
func load(args []string, env map[string]string) (*pflag.FlagSet, server.Config, error) {
	var opts serveOptions
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	opts.addFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, server.Config{}, err
	}
	if err := resolve(fs, func(k string) string { return env[k] }); err != nil {
		return nil, server.Config{}, err
	}
	cfg, err := opts.serverConfig(nil, nil)
	return fs, cfg, err
}

func TestConfigPrecedence(t *testing.T) {
	defaults := map[string]string{
		"data-dir":           "./archway-data",
		"admin-addr":         "127.0.0.1:9090",
		"xds-addr":           "127.0.0.1:18000",
		"components":         "admin,xds",
		"log-format":         "text",
		"log-level":          "info",
		"dev":                "false",
		"apply":              "[]",
		"etcd-endpoints":     "[]",
		"etcd-listen-client": "http://127.0.0.1:2379",
		"etcd-listen-peer":   "http://127.0.0.1:2380",
	}
	fromFile := map[string]string{
		"data-dir":   "/var/lib/archway",
		"admin-addr": "127.0.0.1:9191",
		"xds-addr":   "127.0.0.1:18001",
		"components": "admin",
		"log-format": "json",
		"log-level":  "warn",
		"dev":        "true",
		"apply":      "[examples/a.yaml,examples/b.yaml]",
	}
	tests := map[string]struct {
		args []string
		env  map[string]string
		want map[string]string // flag name to resolved value; unnamed flags keep their default
	}{
		"defaults": {},
		"file beats default": {
			args: []string{"--config", "testdata/full.yaml"},
			want: fromFile,
		},
		"config file named in the environment": {
			env:  map[string]string{"ARCHWAY_CONFIG": "testdata/full.yaml"},
			want: fromFile,
		},
		"config flag beats config environment variable": {
			args: []string{"--config", "testdata/empty.yaml"},
			env:  map[string]string{"ARCHWAY_CONFIG": "testdata/full.yaml"},
		},
		"environment beats file": {
			args: []string{"--config", "testdata/full.yaml"},
			env: map[string]string{
				"ARCHWAY_ADMIN_ADDR": "127.0.0.1:7000",
				"ARCHWAY_LOG_LEVEL":  "debug",
				"ARCHWAY_COMPONENTS": "xds",
				"ARCHWAY_DEV":        "false",
				"ARCHWAY_APPLY":      "c.yaml,d.yaml",
			},
			want: merge(fromFile, map[string]string{
				"admin-addr": "127.0.0.1:7000",
				"log-level":  "debug",
				"components": "xds",
				"dev":        "false",
				"apply":      "[c.yaml,d.yaml]",
			}),
		},
		"flag beats environment and file": {
			args: []string{
				"--config", "testdata/full.yaml", "--admin-addr", "127.0.0.1:6000",
				"--apply", "e.yaml", "--apply", "f.yaml", "--dev=false", "--components", "xds,admin",
			},
			env: map[string]string{"ARCHWAY_ADMIN_ADDR": "127.0.0.1:7000", "ARCHWAY_APPLY": "c.yaml"},
			want: merge(fromFile, map[string]string{
				"admin-addr": "127.0.0.1:6000",
				"apply":      "[e.yaml,f.yaml]",
				"dev":        "false",
				"components": "xds,admin",
			}),
		},
		"empty environment variable counts as unset": {
			args: []string{"--config", "testdata/full.yaml"},
			env:  map[string]string{"ARCHWAY_ADMIN_ADDR": ""},
			want: fromFile,
		},
		"other ARCHWAY_ variables are not settings": {
			env: map[string]string{"ARCHWAY_ENVOY_BIN": "/usr/bin/envoy"},
		},
		"environment beats default": {
			env:  map[string]string{"ARCHWAY_DATA_DIR": "/srv/archway", "ARCHWAY_LOG_FORMAT": "json"},
			want: map[string]string{"data-dir": "/srv/archway", "log-format": "json"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fs, _, err := load(tc.args, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			for flag, def := range defaults {
				want, ok := tc.want[flag]
				if !ok {
					want = def
				}
				if got := fs.Lookup(flag).Value.String(); got != want {
					t.Errorf("%s = %q, want %q", flag, got, want)
				}
			}
		})
	}
}

func merge(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

func TestConfigErrors(t *testing.T) {
	tests := map[string]struct {
		args []string
		env  map[string]string
		want []string // substrings of the error, naming the culprit
	}{
		"unknown config file key":      {args: cfgFile("unknown-key.yaml"), want: []string{`unknown key "admin_addr"`}},
		"nested config file":           {args: cfgFile("nested-config.yaml"), want: []string{`unknown key "config"`}},
		"bad level in file":            {args: cfgFile("bad-level.yaml"), want: []string{`key "log-level"`, "loud"}},
		"list for a single value":      {args: cfgFile("list-for-scalar.yaml"), want: []string{`key "admin-addr"`, "not a list"}},
		"mapping for a value":          {args: cfgFile("mapping-value.yaml"), want: []string{`key "data-dir"`}},
		"unknown component in file":    {args: cfgFile("bad-component.yaml"), want: []string{`key "components"`, "router"}},
		"bad boolean in file":          {args: cfgFile("bad-bool.yaml"), want: []string{`key "dev"`}},
		"file is not a mapping":        {args: cfgFile("not-a-mapping.yaml"), want: []string{"mapping"}},
		"missing config file":          {args: cfgFile("missing.yaml"), want: []string{"missing.yaml"}},
		"bad level in environment":     {env: map[string]string{"ARCHWAY_LOG_LEVEL": "loud"}, want: []string{"ARCHWAY_LOG_LEVEL"}},
		"bad boolean in environment":   {env: map[string]string{"ARCHWAY_DEV": "maybe"}, want: []string{"ARCHWAY_DEV"}},
		"bad address from environment": {env: map[string]string{"ARCHWAY_XDS_ADDR": "nope"}, want: []string{"xds-addr"}},
		"bad log format flag":          {args: []string{"--log-format", "xml"}, want: []string{"log-format"}},
		"unknown component flag":       {args: []string{"--components", "admin,foo"}, want: []string{"components", `"foo"`}},
		"no component":                 {args: []string{"--components", ""}, want: []string{"components"}},
		"admin address without port":   {args: []string{"--admin-addr", "127.0.0.1"}, want: []string{"admin-addr"}},
		"etcd client url without scheme": {
			args: []string{"--etcd-listen-client", "127.0.0.1:2379"}, want: []string{"etcd-listen-client"},
		},
		"external etcd setting without endpoints": {
			args: []string{"--etcd-cert", "c.pem", "--etcd-key", "k.pem"}, want: []string{"etcd-cert", "etcd-key"},
		},
		"etcd password without user": {
			args: []string{"--etcd-endpoints", "http://127.0.0.1:2379", "--etcd-password-file", "pw"},
			want: []string{"etcd-password-file"},
		},
		"etcd cert without key": {
			args: []string{"--etcd-endpoints", "http://127.0.0.1:2379", "--etcd-cert", "c.pem"},
			want: []string{"etcd-cert and etcd-key"},
		},
		"gateway address without port": {args: []string{"--gateway-addr", "127.0.0.1"}, want: []string{"gateway-addr"}},
		"gateway address not an IP":    {args: []string{"--gateway-addr", "gateway.local:8080"}, want: []string{"gateway-addr", "IP address"}},
		"base domain not a DNS name":   {env: map[string]string{"ARCHWAY_BASE_DOMAIN": "not a domain"}, want: []string{"base-domain"}},
		"bad trusted hops":             {args: []string{"--xff-trusted-hops", "-1"}, want: []string{"xff-trusted-hops"}},
		"admin TLS incomplete": {
			args: []string{"--admin-tls-cert", "c.pem", "--admin-tls-key", "k.pem"}, want: []string{"admin-client-ca"},
		},
		"redis address without port": {args: []string{"--redis-addr", "127.0.0.1"}, want: []string{"redis-addr"}},
		"redis setting without address": {
			args: []string{"--redis-tls", "--redis-username", "u"}, want: []string{"redis-tls", "redis-username"},
		},
		"redis cert without key": {
			args: []string{"--redis-addr", "127.0.0.1:6379", "--redis-tls", "--redis-cert", "c.pem"},
			want: []string{"redis-cert and redis-key"},
		},
		"redis CA without TLS": {
			args: []string{"--redis-addr", "127.0.0.1:6379", "--redis-ca", "ca.pem"}, want: []string{"redis-tls"},
		},
		"negative redis db": {args: []string{"--redis-addr", "127.0.0.1:6379", "--redis-db", "-1"}, want: []string{"redis-db"}},
		"upper-case key id header": {
			args: []string{"--api-key-id-header", "X-Key"}, want: []string{"api-key-id-header"},
		},
		"plan id header with a space": {
			env: map[string]string{"ARCHWAY_USAGE_PLAN_ID_HEADER": "x plan"}, want: []string{"usage-plan-id-header"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := load(tc.args, tc.env)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func cfgFile(name string) []string { return []string{"--config", filepath.Join("testdata", name)} }

func TestServerConfig(t *testing.T) {
	_, cfg, err := load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join("archway-data", "etcd"); cfg.Etcd.DataDir != want {
		t.Errorf("embedded etcd data dir = %q, want %q", cfg.Etcd.DataDir, want)
	}
	if cfg.Etcd.Endpoints != nil {
		t.Errorf("default etcd endpoints = %v, want none (embedded)", cfg.Etcd.Endpoints)
	}

	_, cfg, err = load(cfgFile("external-etcd.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := server.EtcdConfig{
		Endpoints:    []string{"https://10.0.0.1:2379", "https://10.0.0.2:2379"},
		DataDir:      filepath.Join("archway-data", "etcd"),
		ListenClient: "http://127.0.0.1:2379",
		ListenPeer:   "http://127.0.0.1:2380",
		CAFile:       "/etc/archway/etcd-ca.pem",
		Username:     "archway",
		PasswordFile: "/etc/archway/etcd-password",
	}
	if !reflect.DeepEqual(cfg.Etcd, want) {
		t.Errorf("etcd config = %+v, want %+v", cfg.Etcd, want)
	}

	_, cfg, err = load([]string{
		"--redis-addr", "10.0.0.1:26379,10.0.0.2:26379", "--redis-master-name", "mymaster",
		"--redis-tls", "--redis-ca", "ca.pem", "--redis-db", "2",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantRedis := server.RedisConfig{
		Addrs: []string{"10.0.0.1:26379", "10.0.0.2:26379"}, MasterName: "mymaster", DB: 2, TLS: true, CAFile: "ca.pem",
	}
	if !reflect.DeepEqual(cfg.Redis, wantRedis) {
		t.Errorf("redis config = %+v, want %+v", cfg.Redis, wantRedis)
	}
}

// TestTranslateOptions checks the data plane settings and the defaults
// --dev changes: loopback only and path-style access, unless set.
func TestTranslateOptions(t *testing.T) {
	tests := map[string]struct {
		args []string
		env  map[string]string
		want translate.Options
	}{
		"defaults": {want: translate.Options{
			GatewayAddr: translate.DefaultGatewayAddr, BaseDomain: translate.DefaultBaseDomain, CAFile: translate.DefaultCAFile,
		}},
		"dev": {args: []string{"--dev"}, want: translate.Options{
			GatewayAddr: translate.DevGatewayAddr, BaseDomain: translate.DefaultBaseDomain, CAFile: translate.DefaultCAFile, PathStyle: true,
		}},
		"dev with explicit settings": {
			args: []string{"--dev", "--gateway-addr", "127.0.0.1:9000", "--path-style=false"},
			want: translate.Options{GatewayAddr: "127.0.0.1:9000", BaseDomain: translate.DefaultBaseDomain, CAFile: translate.DefaultCAFile},
		},
		"dev settings from the environment": {
			env:  map[string]string{"ARCHWAY_DEV": "true", "ARCHWAY_GATEWAY_ADDR": "10.0.0.1:80"},
			want: translate.Options{GatewayAddr: "10.0.0.1:80", BaseDomain: translate.DefaultBaseDomain, CAFile: translate.DefaultCAFile, PathStyle: true},
		},
		"everything set": {
			args: []string{"--base-domain", "api.example.com", "--xff-trusted-hops", "2", "--upstream-ca-file", "/etc/ca.pem", "--path-style"},
			want: translate.Options{
				GatewayAddr: translate.DefaultGatewayAddr, BaseDomain: "api.example.com", CAFile: "/etc/ca.pem",
				XFFTrustedHops: 2, PathStyle: true,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, cfg, err := load(tc.args, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Translate != tc.want {
				t.Errorf("translate options = %+v, want %+v", cfg.Translate, tc.want)
			}
		})
	}
}
