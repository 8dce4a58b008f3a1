package translate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
)

// TestEnvoyAcceptsGoldenOutputs loads every golden output into the real
// Envoy (--mode validate): the listeners and clusters of a case as static
// resources, its route configurations inlined into the connection manager
// in place of RDS, or into its scopes in place of scoped RDS. Envoy builds
// every listener, scope, route, template matcher and TLS context as it
// would from xDS, so an output it would reject over xDS fails here.
func TestEnvoyAcceptsGoldenOutputs(t *testing.T) {
	bin := testenvoy.Binary(t)
	listenerFiles, err := filepath.Glob(filepath.Join("testdata", "out", "*.listeners.yaml"))
	if err != nil || len(listenerFiles) == 0 {
		t.Fatalf("no golden listeners: %v", err)
	}
	for _, lf := range listenerFiles {
		name := strings.TrimSuffix(filepath.Base(lf), ".listeners.yaml")
		t.Run(name, func(t *testing.T) {
			b, err := goldenBootstrap(filepath.Join("testdata", "out", name))
			if err != nil {
				t.Fatal(err)
			}
			runEnvoyValidate(t, bin, b)
		})
	}
}

// goldenBootstrap reads the golden outputs of one case (prefix is the path
// without ".<kind>.yaml") into a static bootstrap.
func goldenBootstrap(prefix string) (*bootstrapv3.Bootstrap, error) {
	var res Resources
	var err error
	if res.Listeners, err = readGolden(prefix+".listeners.yaml", func() *listenerv3.Listener { return &listenerv3.Listener{} }); err != nil {
		return nil, err
	}
	if res.Routes, err = readGolden(prefix+".routes.yaml", func() *routev3.RouteConfiguration { return &routev3.RouteConfiguration{} }); err != nil {
		return nil, err
	}
	if res.ScopedRoutes, err = readGolden(prefix+".scoped_routes.yaml", func() *routev3.ScopedRouteConfiguration { return &routev3.ScopedRouteConfiguration{} }); err != nil {
		return nil, err
	}
	if res.Clusters, err = readGolden(prefix+".clusters.yaml", func() *clusterv3.Cluster { return &clusterv3.Cluster{} }); err != nil {
		return nil, err
	}
	// Nothing listens there: validation builds the gRPC clients of
	// ext_authz and ratelimit against the cluster but never connects.
	return staticBootstrap(&res, "127.0.0.1:18000")
}

// readGolden parses a golden YAML list of protos; a missing file is an
// empty list.
func readGolden[T proto.Message](path string, newT func() T) ([]T, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(j, &items); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]T, len(items))
	for i, item := range items {
		out[i] = newT()
		if err := protojson.Unmarshal(item, out[i]); err != nil {
			return nil, fmt.Errorf("%s item %d: %w", path, i, err)
		}
	}
	return out, nil
}

// staticBootstrap returns a bootstrap that serves the listeners and
// clusters of res statically, with what each connection manager would
// fetch over RDS or scoped RDS inlined, plus the static cluster that
// Archway's bootstrap (envoy.Bootstrap) gives every Envoy, to servicesAddr:
// the one through which ext_authz and ratelimit reach Archway. The
// listeners are modified.
func staticBootstrap(res *Resources, servicesAddr string) (*bootstrapv3.Bootstrap, error) {
	routes := make(map[string]*routev3.RouteConfiguration, len(res.Routes))
	for _, rc := range res.Routes {
		routes[rc.GetName()] = rc
	}
	for _, l := range res.Listeners {
		for _, chain := range l.GetFilterChains() {
			for _, f := range chain.GetFilters() {
				if f.GetName() != envoy.FilterHTTPConnectionManager {
					continue
				}
				if err := inlineRoutes(f, routes, res.ScopedRoutes); err != nil {
					return nil, fmt.Errorf("listener %s: %w", l.GetName(), err)
				}
			}
		}
	}
	archway, err := envoy.Bootstrap(envoy.BootstrapOptions{NodeID: "golden", XDSAddr: servicesAddr})
	if err != nil {
		return nil, err
	}
	services := archway.GetStaticResources().GetClusters()
	if len(services) != 1 || services[0].GetName() != envoy.ServicesClusterName {
		return nil, fmt.Errorf("Archway's bootstrap has static clusters %v, want just %s", services, envoy.ServicesClusterName)
	}
	return &bootstrapv3.Bootstrap{
		// Subscriptions need a node, as a scoped RDS one left in place does.
		Node: &corev3.Node{Id: "golden", Cluster: "golden"},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Listeners: res.Listeners,
			Clusters:  append(slices.Clone(res.Clusters), services[0]),
		},
	}, nil
}

// inlineRoutes replaces a connection manager's RDS route configuration, or
// its scoped RDS scopes, with the resources themselves.
func inlineRoutes(f *listenerv3.Filter, routes map[string]*routev3.RouteConfiguration, scopes []*routev3.ScopedRouteConfiguration) error {
	hcm := &hcmv3.HttpConnectionManager{}
	if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
		return err
	}
	switch {
	case hcm.GetRds() != nil:
		rc, ok := routes[hcm.GetRds().GetRouteConfigName()]
		if !ok {
			return fmt.Errorf("route configuration %q is not in the outputs", hcm.GetRds().GetRouteConfigName())
		}
		hcm.RouteSpecifier = &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: rc}
	case hcm.GetScopedRoutes().GetScopedRds() != nil && len(scopes) == 0:
		// A static scope list must not be empty; Envoy checks the scoped
		// RDS subscription as served instead.
		return nil
	case hcm.GetScopedRoutes().GetScopedRds() != nil:
		list, err := inlineScopes(scopes, routes)
		if err != nil {
			return err
		}
		hcm.GetScopedRoutes().ConfigSpecifier = &hcmv3.ScopedRoutes_ScopedRouteConfigurationsList{ScopedRouteConfigurationsList: list}
	default:
		return errors.New("the connection manager uses neither RDS nor scoped RDS")
	}
	a, err := anypb.New(hcm)
	if err != nil {
		return err
	}
	f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
	return nil
}

// inlineScopes returns scopes with the route configuration each names
// inlined in place of the name, as Envoy takes them statically.
func inlineScopes(scopes []*routev3.ScopedRouteConfiguration, routes map[string]*routev3.RouteConfiguration) (*hcmv3.ScopedRouteConfigurationsList, error) {
	list := &hcmv3.ScopedRouteConfigurationsList{}
	for _, s := range scopes {
		rc, ok := routes[s.GetRouteConfigurationName()]
		if !ok {
			return nil, fmt.Errorf("scope %s: route configuration %q is not in the outputs", s.GetName(), s.GetRouteConfigurationName())
		}
		inlined := proto.CloneOf(s)
		inlined.RouteConfigurationName, inlined.RouteConfiguration = "", rc
		list.ScopedRouteConfigurations = append(list.ScopedRouteConfigurations, inlined)
	}
	return list, nil
}

// runEnvoyValidate runs `envoy --mode validate` on b and fails the test
// with Envoy's output if Envoy rejects it.
func runEnvoyValidate(t *testing.T, bin string, b *bootstrapv3.Bootstrap) {
	t.Helper()
	data, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--mode", "validate", "--log-level", "warn", "-c", path).CombinedOutput()
	if err != nil {
		t.Fatalf("Envoy rejects the configuration: %v\n%s", err, out)
	}
}
