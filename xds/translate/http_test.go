package translate

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/model"
)

// TestHTTPIntegrationRoutes translates testdata/in/http-integration.yaml
// in both layouts and checks every route of the good API: non-proxy HTTP
// routes go to the backend's cluster with its Host and the integration's
// timeout, rewrite no path, buffer 10 MB of body, carry the stage's
// throttle and enable ext_proc in both directions with the route's IDs; a
// proxy route to the same backend shares the cluster, rewrites its path
// and enables no ext_proc.
func TestHTTPIntegrationRoutes(t *testing.T) {
	cfg, _, err := loadFixture(filepath.Join("testdata", "in", "http-integration.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const pets, files = "http|pets.internal|8080", "https|pets.internal|443"
	tests := map[string]struct {
		cluster, host   string
		timeout         time.Duration
		http, extAuthz  bool
		proxyPathPolicy bool
	}{
		"r1": {cluster: pets, host: "pets.internal:8080", timeout: model.DefaultTimeout, http: true},
		"r2": {cluster: pets, host: "pets.internal:8080", timeout: 5 * time.Second, http: true, extAuthz: true},
		"r3": {cluster: files, host: "pets.internal", timeout: model.DefaultTimeout, http: true},
		"r4": {cluster: pets, host: "pets.internal:8080", timeout: model.DefaultTimeout, proxyPathPolicy: true},
	}
	for layout, opts := range layouts {
		res, err := Translate(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) != 1 || res.Problems[0].APIID != "http0000bad" {
			t.Fatalf("%s: problems %v, want one, for http0000bad", layout, res.Problems)
		}
		if n := countClusters(res, pets); n != 1 {
			t.Errorf("%s: %d clusters %s, want one shared by the HTTP integrations and the proxy", layout, n, pets)
		}
		for id, tc := range tests {
			t.Run(layout+"/"+id, func(t *testing.T) {
				r := findRoute(res, routeName("http000rest", "prod", id))
				if r == nil {
					t.Fatal("no route")
				}
				a := r.GetRoute()
				if a.GetCluster() != tc.cluster || a.GetHostRewriteLiteral() != tc.host || a.GetTimeout().AsDuration() != tc.timeout {
					t.Errorf("route to %s (Host %s, timeout %v), want %s (Host %s, timeout %v)",
						a.GetCluster(), a.GetHostRewriteLiteral(), a.GetTimeout().AsDuration(), tc.cluster, tc.host, tc.timeout)
				}
				if len(a.GetRateLimits()) != 1 {
					t.Errorf("%d rate limits, want the stage's throttle", len(a.GetRateLimits()))
				}
				if _, ok := r.GetTypedPerFilterConfig()[envoy.FilterExtAuthz]; ok != tc.extAuthz {
					t.Errorf("ext_authz enabled: %v, want %v", ok, tc.extAuthz)
				}
				if got := a.GetPathRewritePolicy() != nil; got != tc.proxyPathPolicy {
					t.Errorf("path_rewrite_policy set: %v, want %v", got, tc.proxyPathPolicy)
				}
				checkHTTPIntegrationRoute(t, r, tc.http, routeName("http000rest", "prod", id))
			})
		}
	}
}

// checkHTTPIntegrationRoute checks what makes r a non-proxy HTTP route,
// or, unless http is set, that r has none of it. The route must leave
// the path alone: the processor's :path is the whole request target.
func checkHTTPIntegrationRoute(t *testing.T, r *routev3.Route, http bool, name string) {
	t.Helper()
	per, ok := r.GetTypedPerFilterConfig()[envoy.FilterExtProc]
	if ok != http {
		t.Fatalf("ext_proc enabled: %v, want %v", ok, http)
	}
	if !http {
		if r.GetRequestBodyBufferLimit() != nil {
			t.Error("a proxy route got a request body limit")
		}
		return
	}
	a := r.GetRoute()
	if a.GetRegexRewrite() != nil || a.GetPrefixRewrite() != "" || a.GetPathRewritePolicy() != nil {
		t.Errorf("route rewrites the path (regex %v, prefix %q, policy %v); the processor sets it", a.GetRegexRewrite(), a.GetPrefixRewrite(), a.GetPathRewritePolicy())
	}
	p := &extprocfilterv3.ExtProcPerRoute{}
	if err := per.UnmarshalTo(p); err != nil {
		t.Fatal(err)
	}
	want := extproc.Mode{RequestBody: true, ResponseBody: true}.ProcessingMode()
	if !proto.Equal(p.GetOverrides().GetProcessingMode(), want) {
		t.Errorf("processing_mode %v, want %v", p.GetOverrides().GetProcessingMode(), want)
	}
	md := map[string]string{}
	for _, kv := range p.GetOverrides().GetGrpcInitialMetadata() {
		md[kv.GetKey()] = kv.GetValue()
	}
	if got := strings.Join([]string{md[extproc.MetadataAPIID], md[extproc.MetadataStage], md[extproc.MetadataRouteID]}, "/"); got != name {
		t.Errorf("grpc_initial_metadata names route %s, want %s", got, name)
	}
	if got := r.GetRequestBodyBufferLimit().GetValue(); got != extproc.DefaultMaxBody {
		t.Errorf("request_body_buffer_limit %d, want %d", got, extproc.DefaultMaxBody)
	}
}

// TestHTTPIntegrationErrors checks the integration URIs a stage cannot
// send to: each fails its stage with an error that names the problem and
// never quotes the URI. A {param} of the URI that is not one of the
// route's path parameters is no error: the integration's path parameters
// are filled by its mappings, not by the route's path.
func TestHTTPIntegrationErrors(t *testing.T) {
	tests := map[string]struct {
		uri, want string // want is empty when the stage translates
	}{
		"query string":                 {uri: "http://pets.internal/pets?secret=1", want: "query string"},
		"fragment":                     {uri: "http://pets.internal/pets#secret", want: "fragment"},
		"credentials":                  {uri: "http://user:secret@pets.internal/pets", want: "credentials"},
		"undefined stage variable":     {uri: "http://${stageVariables.nope}/pets", want: `"nope"`},
		"malformed {param}":            {uri: "http://pets.internal/pets/{secret", want: "{param}"},
		"space in the path":            {uri: "http://pets.internal/pe ts/secret", want: "percent-encoded"},
		"port out of range":            {uri: "http://pets.internal:70000/secret", want: "port"},
		"parameter the route lacks":    {uri: "http://pets.internal/pets/{petId}"},
		"six parameters":               {uri: "http://pets.internal/{a}/{b}/{c}/{d}/{e}/{f}"},
		"stage variable in the path":   {uri: "http://pets.internal/${stageVariables.version}/pets"},
		"stage variable in the host":   {uri: "http://${stageVariables.host}:8080/pets"},
		"no path at all":               {uri: "http://pets.internal"},
		"percent-encoded path section": {uri: "http://pets.internal/a%20b"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := &model.Integration{ID: "h", Name: "h", HTTP: &model.HTTP{URI: tc.uri, Timeout: model.DefaultTimeout}}
			cfg := functionConfig(t, in, map[string]string{"version": "v2", "host": "pets.internal"})
			res, err := Translate(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(res.Problems) != 0 {
					t.Fatalf("problems %v, want none", res.Problems)
				}
				return
			}
			if len(res.Problems) != 1 {
				t.Fatalf("problems %v, want one", res.Problems)
			}
			msg := res.Problems[0].Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "secret") {
				t.Errorf("error %q, want one about %s that does not quote the URI", msg, tc.want)
			}
		})
	}
}
