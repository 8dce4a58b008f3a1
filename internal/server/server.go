// Package server wires the components of `archway serve` together: the
// store (embedded or external etcd), the admin API, the watcher that builds
// the model, and the Envoy-facing gRPC server, each optional, with their
// listeners, TLS, authentication and health checks.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/archway-gateway/archway/authz"
	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/extproc/integration"
	"github.com/archway-gateway/archway/internal/admin"
	"github.com/archway-gateway/archway/internal/store"
	"github.com/archway-gateway/archway/internal/testinvoke"
	"github.com/archway-gateway/archway/internal/watcher"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
	"github.com/archway-gateway/archway/ratelimit"
	"github.com/archway-gateway/archway/xds"
	"github.com/archway-gateway/archway/xds/translate"
)

// Component names, as --components takes them.
const (
	// ComponentAdmin is the admin API: AdminService, health and reflection.
	ComponentAdmin = "admin"
	// ComponentXDS is the gRPC server Envoy talks to, and the watcher that
	// builds the model it serves from.
	ComponentXDS = "xds"
)

// Components returns every component name, in start-up order.
func Components() []string { return []string{ComponentAdmin, ComponentXDS} }

// DefaultShutdownGrace bounds how long in-flight calls may take to finish
// once shutdown begins.
const DefaultShutdownGrace = 10 * time.Second

// Config is everything New needs; cmd/archway fills it from flags,
// environment and config file.
type Config struct {
	// Logger receives every component's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock stamped into resources; nil means time.Now.
	Now func() time.Time
	// Components to run; empty means all of them.
	Components []string
	// AdminAddr and XDSAddr are host:port listen addresses; port 0 picks a
	// free port (see Server.AdminAddr and Server.XDSAddr).
	AdminAddr, XDSAddr string
	// AdminTokenFile holds the bearer token admin API callers must send.
	AdminTokenFile string
	// AdminTLSCert, AdminTLSKey and AdminClientCA, all set or none, make
	// the admin API speak TLS and require client certificates.
	AdminTLSCert, AdminTLSKey, AdminClientCA string
	// Etcd says where the state is kept.
	Etcd EtcdConfig
	// Apply lists declarative API files applied at start-up, before the
	// servers accept calls. Applying is idempotent.
	Apply []string
	// Dev selects developer defaults.
	Dev bool
	// ShutdownGrace bounds graceful shutdown; zero means
	// DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// Envoy says whether to run an Envoy beside the xds component.
	Envoy EnvoyConfig
	// Translate shapes the Envoy configuration the xds component serves.
	Translate translate.Options
	// XDSInstanceID names this xds component in the fleet; empty means
	// the host name and the bound xDS address.
	XDSInstanceID string
	// Notices receives messages for the person running the server, such
	// as how to attach an Envoy; nil discards them.
	Notices io.Writer
	// Redis says where rate-limit counters are kept; empty keeps them in
	// memory.
	Redis RedisConfig
	// Authz shapes the ext_authz service of the xds component.
	Authz AuthzConfig
	// DebugAddr, if set, is a loopback host:port on which Go's profiler
	// (net/http/pprof) is served.
	DebugAddr string
}

// AuthzConfig are the settings of the ext_authz service.
type AuthzConfig struct {
	// KeyIDHeader and PlanIDHeader name the request headers that tell
	// backends which API key and usage plan admitted a request; empty
	// means authz's defaults.
	KeyIDHeader, PlanIDHeader string
}

// Server is a started but not yet serving `archway serve`: its listeners
// are bound and its store is open. Run serves and then releases all of it.
type Server struct {
	log       *slog.Logger
	grace     time.Duration
	etcd      *Etcd
	watcher   *watcher.Watcher
	xdsServer *xds.Server
	launcher  *envoy.Launcher
	admin     *endpoint
	xds       *endpoint
	// limits keeps rate-limit counters for ext_authz, the rate-limit
	// service and the admin API's usage reports; closeLimits releases it.
	limits      ratelimit.Store
	closeLimits func() error
	debug       *debugEndpoint
	// authz and rlsLimiter are the xds component's limiters, for /metrics;
	// nil without it.
	authz      *authz.Server
	rlsLimiter *ratelimit.Limiter
}

// failedOpenHelp describes archway_ratelimit_failed_open_total.
const failedOpenHelp = "Requests admitted unmetered because the rate-limit store failed (fail-open plans, stage throttles)."

// counters returns what /metrics reports.
func (s *Server) counters() []counter {
	if s.authz == nil {
		return nil
	}
	return []counter{
		{name: "archway_ratelimit_failed_open_total", help: failedOpenHelp, labels: `service="authz"`, value: s.authz.FailedOpen},
		{name: "archway_ratelimit_failed_open_total", help: failedOpenHelp, labels: `service="ratelimit"`, value: s.rlsLimiter.FailedOpen},
	}
}

// endpoint is one gRPC server and the listener it will serve.
type endpoint struct {
	name   string
	srv    *grpc.Server
	health *health.Server
	lis    net.Listener
}

// New checks the configuration, binds the listeners, opens the store and
// applies cfg.Apply. Nothing is served until Run, which must then be
// called to release what New acquired. On error, New releases it itself.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.checkComponents(); err != nil {
		return nil, err
	}
	if cfg.enabled(ComponentXDS) {
		if err := checkXDS(cfg); err != nil {
			return nil, err
		}
	}
	s := &Server{log: cfg.Logger, grace: cfg.ShutdownGrace}
	if err := s.listen(cfg); err != nil {
		s.closeListeners()
		return nil, err
	}
	etcd, err := OpenEtcd(ctx, cfg.Etcd, cfg.Logger)
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	s.etcd = etcd
	s.limits, s.closeLimits, err = limitStore(ctx, cfg.Redis, cfg.Logger.With("component", "ratelimit"))
	if err != nil {
		s.closeListeners()
		_ = s.etcd.Close()
		return nil, err
	}
	st := store.New(etcd.Client)
	adm := admin.NewServer(st, admin.Options{
		Logger: cfg.Logger.With("component", "admin"), Now: cfg.Now, Usage: s.limits,
		TestInvoker: testinvoke.New(testinvoke.Options{
			Logger: cfg.Logger.With("component", "testinvoke"), Now: cfg.Now, CAFile: cfg.Translate.CAFile,
			BaseDomain: cfg.Translate.BaseDomain, APIKeyIDHeader: cfg.Authz.KeyIDHeader,
		}),
	})
	if err := applyFiles(ctx, adm, cfg.Apply, cfg.Logger); err != nil {
		s.closeListeners()
		_ = s.etcd.Close()
		return nil, err
	}
	if s.admin != nil {
		adminv1.RegisterAdminServiceServer(s.admin.srv, adm)
		reflection.Register(s.admin.srv)
		s.admin.health.SetServingStatus(adminv1.AdminService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	}
	if s.xds != nil {
		s.watcher = watcher.New(st, watcher.Options{Logger: cfg.Logger.With("component", "watcher")})
		// Envoy should not be sent anywhere before there is a snapshot.
		s.xds.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
		err := s.newXDS(cfg, st)
		if err == nil {
			s.registerServices(cfg)
			err = s.setUpEnvoy(cfg)
		}
		if err != nil {
			s.closeListeners()
			_ = s.etcd.Close()
			return nil, err
		}
	}
	if cfg.Dev {
		cfg.Logger.Info("developer mode")
	}
	return s, nil
}

// registerServices registers the services Envoy calls inline on the
// Envoy-facing server: ext_authz for routes that need an API key (and
// throttled mocks), the rate-limit service for stage and route throttles,
// and ext_proc for routes whose integration runs templates. They decide on
// the watcher's latest Config; ext_authz and the rate-limit service share
// one counter store.
func (s *Server) registerServices(cfg Config) {
	// Stage throttles fail open, like the rate-limit filter that calls
	// the service when the service itself is unreachable.
	rlsLog := cfg.Logger.With("component", "ratelimit")
	s.rlsLimiter = ratelimit.NewLimiter(s.limits, ratelimit.FailOpen, cfg.Now, rlsLog)
	ratelimit.NewRLS(s.watcher.Current, s.rlsLimiter, rlsLog).Register(s.xds.srv)
	// Refusals and failures of both services answer with the APIs'
	// gateway responses, compiled once per configuration for both.
	responses := gatewayresponse.NewSets(cfg.Logger.With("component", "gatewayresponse"))
	s.authz = authz.New(authz.Options{
		Config:           s.watcher.Current,
		Store:            s.limits,
		Now:              cfg.Now,
		Logger:           cfg.Logger.With("component", "authz"),
		KeyIDHeader:      cfg.Authz.KeyIDHeader,
		PlanIDHeader:     cfg.Authz.PlanIDHeader,
		GatewayResponses: responses,
	})
	s.authz.Register(s.xds.srv)
	procLog := cfg.Logger.With("component", "extproc")
	extproc.New(extproc.Options{
		Lookup: integration.NewLookup(s.watcher.Current, integration.Options{
			Logger:           procLog,
			Now:              cfg.Now,
			XFFTrustedHops:   int(cfg.Translate.XFFTrustedHops),
			APIKeyIDHeader:   cfg.Authz.KeyIDHeader,
			GatewayResponses: responses,
		}),
		Logger: procLog,
	}).Register(s.xds.srv)
}

// setUpEnvoy prepares the Envoy that serve runs itself, or tells how to
// attach one.
func (s *Server) setUpEnvoy(cfg Config) error {
	if cfg.Envoy.Mode != EnvoyAuto {
		return nil
	}
	launcher, attach, err := prepareEnvoy(cfg.Envoy, s.xds.lis.Addr().String(), s)
	if err != nil {
		return err
	}
	s.launcher = launcher
	if attach != "" {
		s.log.Info("no envoy binary found; not launching one", "bootstrap", cfg.Envoy.BootstrapPath)
		if _, err := fmt.Fprintln(cfg.Notices, attach); err != nil {
			s.log.Warn("cannot print how to attach an envoy", "err", err)
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.Components) == 0 {
		c.Components = Components()
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.Notices == nil {
		c.Notices = io.Discard
	}
	return c
}

func (c Config) checkComponents() error {
	for _, name := range c.Components {
		if !slices.Contains(Components(), name) {
			return fmt.Errorf("unknown component %q (want one of %v)", name, Components())
		}
	}
	return nil
}

func (c Config) enabled(component string) bool { return slices.Contains(c.Components, component) }

// listen binds the enabled components' listeners, refusing an exposed
// admin API before anything is bound.
func (s *Server) listen(cfg Config) error {
	if cfg.DebugAddr != "" {
		var err error
		if s.debug, err = newDebugEndpoint(cfg.DebugAddr, s.counters); err != nil {
			return err
		}
	}
	if cfg.enabled(ComponentAdmin) {
		opts, err := adminSecurity(cfg)
		if err != nil {
			return err
		}
		if s.admin, err = newEndpoint(ComponentAdmin, cfg.AdminAddr, opts); err != nil {
			return err
		}
	}
	if cfg.enabled(ComponentXDS) {
		var err error
		opts := GRPCOptions{Logger: cfg.Logger.With("server", ComponentXDS), ServerOptions: xdsServerOptions()}
		if s.xds, err = newEndpoint(ComponentXDS, cfg.XDSAddr, opts); err != nil {
			return err
		}
	}
	return nil
}

// adminSecurity reads the admin API's token and TLS files and refuses to
// expose it beyond loopback without either.
func adminSecurity(cfg Config) (GRPCOptions, error) {
	opts := GRPCOptions{
		Logger: cfg.Logger.With("server", ComponentAdmin),
		// TestInvokeRoute carries a request body of up to API Gateway's
		// 10 MB, past gRPC's default 4 MiB.
		ServerOptions: []grpc.ServerOption{grpc.MaxRecvMsgSize(admin.MaxRequestBytes)},
	}
	if cfg.AdminTokenFile != "" {
		tok, err := ReadToken(cfg.AdminTokenFile)
		if err != nil {
			return opts, err
		}
		if opts.Auth, err = NewTokenAuth(tok); err != nil {
			return opts, err
		}
	}
	tlsSet := []bool{cfg.AdminTLSCert != "", cfg.AdminTLSKey != "", cfg.AdminClientCA != ""}
	switch {
	case !slices.Contains(tlsSet, true):
	case slices.Contains(tlsSet, false):
		return opts, errors.New("admin TLS needs a certificate, a key and a client CA together")
	default:
		var err error
		if opts.TLS, err = MutualTLSConfig(cfg.AdminTLSCert, cfg.AdminTLSKey, cfg.AdminClientCA); err != nil {
			return opts, err
		}
	}
	return opts, CheckExposure(cfg.AdminAddr, opts.Auth != nil || opts.TLS != nil)
}

func newEndpoint(name, addr string, opts GRPCOptions) (*endpoint, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s server: %w", name, err)
	}
	srv, hs := NewGRPCServer(opts)
	return &endpoint{name: name, srv: srv, health: hs, lis: lis}, nil
}

func (s *Server) endpoints() []*endpoint {
	var out []*endpoint
	for _, e := range []*endpoint{s.admin, s.xds} {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

func (s *Server) closeListeners() {
	for _, e := range s.endpoints() {
		_ = e.lis.Close()
	}
	if s.debug != nil {
		_ = s.debug.lis.Close()
	}
}

// AdminAddr returns the admin API's bound address, or nil if the admin
// component is not enabled.
func (s *Server) AdminAddr() net.Addr { return s.admin.addr() }

// XDSAddr returns the Envoy-facing server's bound address, or nil if the
// xds component is not enabled.
func (s *Server) XDSAddr() net.Addr { return s.xds.addr() }

func (e *endpoint) addr() net.Addr {
	if e == nil {
		return nil
	}
	return e.lis.Addr()
}
