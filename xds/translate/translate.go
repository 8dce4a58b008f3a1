package translate

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
)

// Defaults for zero Options fields.
const (
	// DefaultGatewayAddr is where the HTTP listener binds unless told
	// otherwise: every interface, as a gateway in front of a network.
	DefaultGatewayAddr = "0.0.0.0:8080"
	// DefaultBaseDomain is the domain under which each API has its own
	// host, {apiId}.execute-api.localhost. Browsers and most resolvers map
	// *.localhost to the loopback address, so it works locally without DNS.
	DefaultBaseDomain = "execute-api.localhost"
	// DefaultCAFile is the system trust store Envoy verifies HTTPS backends
	// against (Debian and Ubuntu layout).
	DefaultCAFile = "/etc/ssl/certs/ca-certificates.crt"
)

// DevGatewayAddr is where the listener binds in development: loopback only,
// so a developer's gateway is not reachable from the network.
const DevGatewayAddr = "127.0.0.1:8080"

// DevOptions are the options for local development: loopback only, and
// path-style access, since *.execute-api.localhost hosts need a client that
// resolves them.
func DevOptions() Options {
	return Options{GatewayAddr: DevGatewayAddr, PathStyle: true}
}

// Options shape the Envoy configuration independently of what is deployed.
type Options struct {
	// GatewayAddr is the IP:port the HTTP listener binds; empty means
	// DefaultGatewayAddr.
	GatewayAddr string
	// BaseDomain is the domain under which {apiId}.{BaseDomain} serves an
	// API; empty means DefaultBaseDomain.
	BaseDomain string
	// PathStyle also serves every API as /{apiId}/{stage}/... on any host,
	// for local use where no wildcard DNS points at the gateway. It puts
	// every API into one route configuration, so every change re-sends all
	// routes to every Envoy; without it, each API has a route configuration
	// of its own, chosen by the Host through scoped RDS, and a change sends
	// only the changed API's (over delta xDS).
	PathStyle bool
	// XFFTrustedHops is how many proxies in front of Envoy append to
	// X-Forwarded-For; the client address is taken that many hops from the
	// right. Zero means clients connect directly.
	XFFTrustedHops uint32
	// CAFile holds the certificates HTTPS backends are verified against;
	// empty means DefaultCAFile.
	CAFile string
}

// settings are Options with defaults applied and checked.
type settings struct {
	Options
	listenIP   string
	listenPort uint32
}

// resolve applies the defaults to o and checks it.
func (o Options) resolve() (settings, error) {
	s := settings{Options: o}
	if s.GatewayAddr == "" {
		s.GatewayAddr = DefaultGatewayAddr
	}
	if s.BaseDomain == "" {
		s.BaseDomain = DefaultBaseDomain
	}
	if s.CAFile == "" {
		s.CAFile = DefaultCAFile
	}
	s.BaseDomain = strings.ToLower(s.BaseDomain)
	if !isDNSName(s.BaseDomain) {
		return settings{}, fmt.Errorf("base domain %q is not a DNS name", o.BaseDomain)
	}
	host, port, err := net.SplitHostPort(s.GatewayAddr)
	if err != nil {
		return settings{}, fmt.Errorf("gateway address %q: %w", s.GatewayAddr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return settings{}, fmt.Errorf("gateway address %q: host must be an IP address", s.GatewayAddr)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return settings{}, fmt.Errorf("gateway address %q: port must be within [1, 65535]", s.GatewayAddr)
	}
	s.listenIP, s.listenPort = ip.String(), uint32(p)
	return s, nil
}

// Problem is a part of the Config that was left out of the Envoy
// configuration. Stage is empty when the whole API was left out.
type Problem struct {
	APIID string
	Stage string
	Err   error
}

// Error describes the problem and where it is.
func (p Problem) Error() string {
	if p.Stage == "" {
		return fmt.Sprintf("API %s: %v", p.APIID, p.Err)
	}
	return fmt.Sprintf("API %s stage %s: %v", p.APIID, p.Stage, p.Err)
}

// Unwrap returns the underlying error.
func (p Problem) Unwrap() error { return p.Err }

// Resources are the Envoy resources of one Config, each list sorted by name,
// plus what could not be translated. The protos may be shared with other
// Resources from the same Translator and must not be modified.
type Resources struct {
	Listeners []*listenerv3.Listener
	// Routes are one route configuration per API, or, path-style, the one
	// route configuration of the whole gateway.
	Routes []*routev3.RouteConfiguration
	// ScopedRoutes map each API's id, the first label of its Host, to its
	// route configuration; none path-style.
	ScopedRoutes []*routev3.ScopedRouteConfiguration
	Clusters     []*clusterv3.Cluster
	// Endpoints are the EDS assignments; backends are resolved by Envoy
	// itself (STRICT_DNS or STATIC clusters), so there are none today.
	Endpoints []*endpointv3.ClusterLoadAssignment
	Problems  []Problem
}

// ByType returns the resources keyed by xDS type URL, the form
// go-control-plane's cache.NewSnapshot takes.
func (r *Resources) ByType() map[resource.Type][]types.Resource {
	return map[resource.Type][]types.Resource{
		resource.ListenerType:    asResources(r.Listeners),
		resource.RouteType:       asResources(r.Routes),
		resource.ScopedRouteType: asResources(r.ScopedRoutes),
		resource.ClusterType:     asResources(r.Clusters),
		resource.EndpointType:    asResources(r.Endpoints),
	}
}

func asResources[T types.Resource](in []T) []types.Resource {
	out := make([]types.Resource, len(in))
	for i, r := range in {
		out[i] = r
	}
	return out
}

// Translate returns the Envoy resources that serve cfg. It fails only on
// bad Options or a nil Config; parts of cfg that cannot be served are left
// out and listed in Resources.Problems.
func Translate(cfg *model.Config, opts Options) (Resources, error) {
	t, err := NewTranslator(opts)
	if err != nil {
		return Resources{}, err
	}
	return t.Translate(cfg)
}

// Translator is Translate with a cache: it remembers the translation of each
// *model.API it has seen in the previous Config, and reuses it while the
// next Config still holds the same pointer. Configs are immutable, so an
// unchanged pointer means an unchanged API. A Translator is safe for
// concurrent use, though Configs are meant to be translated one at a time,
// in revision order.
type Translator struct {
	settings settings
	listener *listenerv3.Listener

	mu    sync.Mutex
	cache map[*model.API]*apiUnit
}

// NewTranslator checks opts and returns a Translator with an empty cache.
func NewTranslator(opts Options) (*Translator, error) {
	s, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	l, err := httpListener(s)
	if err != nil {
		return nil, err
	}
	return &Translator{settings: s, listener: l}, nil
}

// Translate returns the Envoy resources that serve cfg, translating only
// the APIs that are not in the cache.
func (t *Translator) Translate(cfg *model.Config) (Resources, error) {
	if cfg == nil {
		return Resources{}, errors.New("nil Config")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	units := make(map[*model.API]*apiUnit, len(cfg.APIs))
	var missing []*model.API
	for _, api := range cfg.APIs {
		if u, ok := t.cache[api]; ok {
			units[api] = u
		} else {
			missing = append(missing, api)
		}
	}
	for i, u := range translateAll(t.settings, missing) {
		units[missing[i]] = u
	}
	t.cache = units // APIs no longer in cfg drop out here.
	return t.assemble(cfg, units), nil
}

// translateAll translates apis on every CPU: APIs translate independently,
// and a cold start (the first Config, or a new Translator) translates them
// all at once.
func translateAll(s settings, apis []*model.API) []*apiUnit {
	out := make([]*apiUnit, len(apis))
	workers := min(runtime.GOMAXPROCS(0), len(apis))
	if workers <= 1 {
		for i, api := range apis {
			out[i] = translateAPI(s, api)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(apis); i = int(next.Add(1)) - 1 {
				out[i] = translateAPI(s, apis[i])
			}
		})
	}
	wg.Wait()
	return out
}

// assemble joins the per-API units into one snapshot's resources. The
// protos of each unit are used as they are, so that an unchanged API's
// resources stay the same objects from one snapshot to the next.
func (t *Translator) assemble(cfg *model.Config, units map[*model.API]*apiUnit) Resources {
	res := Resources{Listeners: []*listenerv3.Listener{t.listener}}
	var served []*apiUnit
	var clusters []*clusterv3.Cluster
	seen := make(map[string]bool)
	for _, api := range cfg.APIs { // sorted by ID
		u := units[api]
		res.Problems = append(res.Problems, u.problems...)
		if u.vhost == nil {
			continue
		}
		served = append(served, u)
		for _, c := range u.clusters {
			if !seen[c.GetName()] {
				seen[c.GetName()] = true
				clusters = append(clusters, c)
			}
		}
	}
	res.Clusters = sortedClusters(clusters)
	if t.settings.PathStyle {
		res.Routes = []*routev3.RouteConfiguration{gatewayRouteConfiguration(served)}
		return res
	}
	// Sorted by name: "api_" + the id, and the APIs are sorted by id.
	for _, u := range served {
		res.Routes = append(res.Routes, u.routes)
		res.ScopedRoutes = append(res.ScopedRoutes, u.scope)
	}
	return res
}

// gatewayRouteConfiguration returns the one route configuration of the
// path-style layout: a virtual host per API, then the default virtual host
// with every API's path-style routes.
func gatewayRouteConfiguration(units []*apiUnit) *routev3.RouteConfiguration {
	vhosts := make([]*routev3.VirtualHost, 0, len(units)+1)
	var pathRoutes []*routev3.Route
	maxBody := 0
	for _, u := range units {
		vhosts = append(vhosts, u.vhost)
		pathRoutes = append(pathRoutes, u.pathRoutes...)
		maxBody = max(maxBody, u.maxBody)
	}
	vhosts = append(vhosts, defaultVirtualHost(pathRoutes))
	return routeConfiguration(envoy.HTTPRouteConfigName, vhosts, maxBody)
}
