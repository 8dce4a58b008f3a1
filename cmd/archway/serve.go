package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/archway-gateway/archway/authz"
	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/server"
	"github.com/archway-gateway/archway/xds/translate"
)

// serveOptions are the settings of `archway serve`. Each one is a flag, an
// ARCHWAY_* environment variable and a key of the --config file.
type serveOptions struct {
	configFile       string
	dataDir          string
	adminAddr        string
	xdsAddr          string
	etcdEndpoints    []string
	etcdListenClient string
	etcdListenPeer   string
	etcdCert         string
	etcdKey          string
	etcdCA           string
	etcdUsername     string
	etcdPasswordFile string
	components       componentsValue
	logFormat        formatValue
	logLevel         levelValue
	adminTokenFile   string
	adminTLSCert     string
	adminTLSKey      string
	adminClientCA    string
	dev              bool
	apply            []string
	envoyMode        envoyModeValue
	envoyPath        string
	envoyAdminAddr   string
	envoyNodeID      string
	envoyDelta       bool
	envoyLogLevel    string
	gatewayAddr      string
	baseDomain       string
	pathStyle        bool
	xffTrustedHops   uint32
	upstreamCAFile   string
	redis            redisOptions
	apiKeyIDHeader   string
	planIDHeader     string
	debugAddr        string

	// flags is the flag set addFlags filled, to tell the defaults that
	// depend on --dev from values that were set.
	flags *pflag.FlagSet
}

func (o *serveOptions) addFlags(fs *pflag.FlagSet) {
	o.components.names = server.Components()
	o.logFormat.format = logText
	o.logLevel.level = slog.LevelInfo

	fs.StringVar(&o.configFile, flagConfig, "", "YAML `file` of settings keyed by flag name")
	fs.StringVar(&o.dataDir, "data-dir", "./archway-data", "`directory` for local state; the embedded etcd lives in <data-dir>/etcd")
	fs.StringVar(&o.adminAddr, "admin-addr", "127.0.0.1:9090", "admin API gRPC listen `address`")
	fs.StringVar(&o.xdsAddr, "xds-addr", "127.0.0.1:18000", "Envoy-facing gRPC listen `address`")
	fs.StringSliceVar(&o.etcdEndpoints, "etcd-endpoints", nil, "external etcd `urls`; unset runs an embedded etcd")
	fs.StringVar(&o.etcdListenClient, "etcd-listen-client", "http://127.0.0.1:2379", "embedded etcd client `url`")
	fs.StringVar(&o.etcdListenPeer, "etcd-listen-peer", "http://127.0.0.1:2380", "embedded etcd peer `url`")
	fs.StringVar(&o.etcdCert, "etcd-cert", "", "client certificate `file` for the external etcd")
	fs.StringVar(&o.etcdKey, "etcd-key", "", "client key `file` for the external etcd")
	fs.StringVar(&o.etcdCA, "etcd-ca", "", "CA `file` that signed the external etcd's certificates")
	fs.StringVar(&o.etcdUsername, "etcd-username", "", "external etcd user `name`")
	fs.StringVar(&o.etcdPasswordFile, "etcd-password-file", "", "`file` holding the external etcd user's password")
	fs.Var(&o.components, "components", "comma list of components to run: admin, xds")
	fs.Var(&o.logFormat, "log-format", "log format: text or json")
	fs.Var(&o.logLevel, "log-level", "log level: debug, info, warn or error")
	fs.StringVar(&o.adminTokenFile, "admin-token-file", "", "`file` holding the bearer token admin API callers must send")
	fs.StringVar(&o.adminTLSCert, "admin-tls-cert", "", "admin API server certificate `file` (mTLS)")
	fs.StringVar(&o.adminTLSKey, "admin-tls-key", "", "admin API server key `file` (mTLS)")
	fs.StringVar(&o.adminClientCA, "admin-client-ca", "", "CA `file` admin API client certificates must chain to (mTLS)")
	fs.BoolVar(&o.dev, "dev", false, "developer defaults")
	fs.StringSliceVar(&o.apply, "apply", nil, "API definition `file` to apply at start-up; repeatable")
	o.envoyMode.mode = server.EnvoyAuto
	fs.Var(&o.envoyMode, "envoy", "run an Envoy: auto (when a binary is found; otherwise print how to attach one) or off")
	fs.StringVar(&o.envoyPath, "envoy-path", "", "Envoy `binary` to run; default: $ENVOY_BIN, what `make envoy` installed, or envoy on PATH")
	fs.StringVar(&o.envoyAdminAddr, "envoy-admin-addr", envoy.DefaultAdminAddr, "admin API `address` of the Envoy serve runs")
	fs.StringVar(&o.envoyNodeID, "envoy-node-id", "archway-local", "node `id` of the Envoy serve runs")
	fs.BoolVar(&o.envoyDelta, "envoy-delta", false, "the Envoy serve runs uses incremental (delta) xDS")
	fs.StringVar(&o.envoyLogLevel, "envoy-log-level", "warning", "log `level` of the Envoy serve runs")
	fs.StringVar(&o.gatewayAddr, "gateway-addr", translate.DefaultGatewayAddr,
		"IP:port `address` Envoy serves the APIs on; "+translate.DevGatewayAddr+" with --dev")
	fs.StringVar(&o.baseDomain, "base-domain", translate.DefaultBaseDomain, "`domain` under which {apiId}.<domain> serves each API")
	fs.BoolVar(&o.pathStyle, "path-style", false, "also serve every API as /{apiId}/{stage}/... on any host; on with --dev")
	fs.Uint32Var(&o.xffTrustedHops, "xff-trusted-hops", 0, "`number` of proxies in front of Envoy that append to X-Forwarded-For")
	fs.StringVar(&o.upstreamCAFile, "upstream-ca-file", translate.DefaultCAFile,
		"CA bundle `file` Envoy verifies HTTPS backends with (a path on Envoy's machine)")
	o.redis.addFlags(fs)
	fs.StringVar(&o.debugAddr, "debug-addr", "", "loopback `address` to serve Go's profiler (/debug/pprof/) on; unset serves none")
	fs.StringVar(&o.apiKeyIDHeader, "api-key-id-header", authz.DefaultKeyIDHeader,
		"request `header` that tells backends the id of the API key a request was admitted with")
	fs.StringVar(&o.planIDHeader, "usage-plan-id-header", authz.DefaultPlanIDHeader,
		"request `header` that tells backends the id of the usage plan that admitted a request")
	o.flags = fs
}

// translateOptions returns the translation settings, with the developer
// defaults of --dev for those not set.
func (o *serveOptions) translateOptions() translate.Options {
	opts := translate.Options{
		GatewayAddr:    o.gatewayAddr,
		BaseDomain:     o.baseDomain,
		PathStyle:      o.pathStyle,
		XFFTrustedHops: o.xffTrustedHops,
		CAFile:         o.upstreamCAFile,
	}
	if o.dev && !o.flags.Changed("gateway-addr") {
		opts.GatewayAddr = translate.DevGatewayAddr
	}
	if o.dev && !o.flags.Changed("path-style") {
		opts.PathStyle = true
	}
	return opts
}

// serverConfig checks the settings against each other and returns the
// server configuration. Every error names the setting at fault.
func (o *serveOptions) serverConfig(log *slog.Logger, notices io.Writer) (server.Config, error) {
	if err := o.check(); err != nil {
		return server.Config{}, err
	}
	return server.Config{
		Logger:         log,
		Components:     o.components.GetSlice(),
		AdminAddr:      o.adminAddr,
		XDSAddr:        o.xdsAddr,
		AdminTokenFile: o.adminTokenFile,
		AdminTLSCert:   o.adminTLSCert,
		AdminTLSKey:    o.adminTLSKey,
		AdminClientCA:  o.adminClientCA,
		Etcd: server.EtcdConfig{
			Endpoints:    o.etcdEndpoints,
			DataDir:      filepath.Join(o.dataDir, "etcd"),
			ListenClient: o.etcdListenClient,
			ListenPeer:   o.etcdListenPeer,
			CertFile:     o.etcdCert,
			KeyFile:      o.etcdKey,
			CAFile:       o.etcdCA,
			Username:     o.etcdUsername,
			PasswordFile: o.etcdPasswordFile,
		},
		Apply: o.apply,
		Dev:   o.dev,
		Envoy: server.EnvoyConfig{
			Mode:          o.envoyMode.mode,
			Binary:        o.envoyPath,
			BootstrapPath: filepath.Join(o.dataDir, "envoy", "bootstrap.yaml"),
			Bootstrap: envoy.BootstrapOptions{
				NodeID:    o.envoyNodeID,
				AdminAddr: o.envoyAdminAddr,
				Delta:     o.envoyDelta,
			},
			LogLevel: o.envoyLogLevel,
		},
		Translate: o.translateOptions(),
		Notices:   notices,
		Redis:     o.redis.config(),
		DebugAddr: o.debugAddr,
		Authz:     server.AuthzConfig{KeyIDHeader: o.apiKeyIDHeader, PlanIDHeader: o.planIDHeader},
	}, nil
}

func (o *serveOptions) check() error {
	var errs []error
	for name, addr := range map[string]string{"admin-addr": o.adminAddr, "xds-addr": o.xdsAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	// The translator checks its options; one at a time, so that each
	// error names its setting.
	if _, err := translate.NewTranslator(translate.Options{GatewayAddr: o.gatewayAddr}); err != nil {
		errs = append(errs, fmt.Errorf("gateway-addr: %w", err))
	}
	if _, err := translate.NewTranslator(translate.Options{BaseDomain: o.baseDomain}); err != nil {
		errs = append(errs, fmt.Errorf("base-domain: %w", err))
	}
	if len(o.etcdEndpoints) == 0 {
		errs = append(errs, o.checkEmbedded()...)
	}
	errs = append(errs, o.redis.check()...)
	if o.debugAddr != "" && !server.IsLoopback(o.debugAddr) {
		errs = append(errs, fmt.Errorf("debug-addr: %q is not a loopback address", o.debugAddr))
	}
	errs = append(errs, checkHeaderName("api-key-id-header", o.apiKeyIDHeader),
		checkHeaderName("usage-plan-id-header", o.planIDHeader))
	if (o.etcdCert == "") != (o.etcdKey == "") {
		errs = append(errs, errors.New("etcd-cert and etcd-key: set both or neither"))
	}
	if o.etcdPasswordFile != "" && o.etcdUsername == "" {
		errs = append(errs, errors.New("etcd-password-file: needs etcd-username"))
	}
	set := 0
	for _, f := range []string{o.adminTLSCert, o.adminTLSKey, o.adminClientCA} {
		if f != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		errs = append(errs, errors.New("admin-tls-cert, admin-tls-key and admin-client-ca: set all three or none"))
	}
	return errors.Join(errs...)
}

// checkEmbedded checks the settings of the embedded etcd, and that no
// setting meant for an external cluster is given without one.
func (o *serveOptions) checkEmbedded() []error {
	var errs []error
	if o.dataDir == "" {
		errs = append(errs, errors.New("data-dir: must not be empty"))
	}
	for name, raw := range map[string]string{"etcd-listen-client": o.etcdListenClient, "etcd-listen-peer": o.etcdListenPeer} {
		if u, err := url.Parse(raw); err != nil || u.Scheme != "http" || u.Port() == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an http://host:port URL", name, raw))
		}
	}
	external := map[string]string{
		"etcd-cert": o.etcdCert, "etcd-key": o.etcdKey, "etcd-ca": o.etcdCA,
		"etcd-username": o.etcdUsername, "etcd-password-file": o.etcdPasswordFile,
	}
	for name, v := range external {
		if v != "" {
			errs = append(errs, fmt.Errorf("%s: only applies with etcd-endpoints", name))
		}
	}
	return errs
}

func newServeCommand(env func(string) string, stderr io.Writer) *cobra.Command {
	var opts serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway's control plane: etcd, admin API, xDS",
		Long: "Run the gateway's control plane in one process. Every flag can also be set\n" +
			"with an ARCHWAY_<FLAG> environment variable (ARCHWAY_DATA_DIR, ...) or as a key\n" +
			"of the --config file; a flag beats the environment, which beats the file.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolve(cmd.Flags(), env); err != nil {
				return err
			}
			log := newLogger(stderr, opts.logFormat.format, opts.logLevel.level)
			cfg, err := opts.serverConfig(log, stderr)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg)
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

// serve runs the server until ctx is done.
func serve(ctx context.Context, cfg server.Config) error {
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
