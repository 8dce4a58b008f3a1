package translate

import (
	"path/filepath"
	"regexp"
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

// TestFunctionRoutes translates testdata/in/function.yaml in both layouts
// and checks every route of the two good APIs: function routes proxy to
// the function's cluster with its Host, timeout and invoke path, buffer
// 10 MB of body and enable ext_proc with the Lambda-proxy mode; a proxy
// route to the same backend shares the cluster and enables no ext_proc.
func TestFunctionRoutes(t *testing.T) {
	cfg, _, err := loadFixture(filepath.Join("testdata", "in", "function.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const pets, orders = "http|pets.internal|9000", "https|orders.example.com|443"
	tests := map[string]struct {
		cluster, host, invoke string
		timeout               time.Duration
		function, extAuthz    bool
	}{
		"fn0000rest/prod/r1":      {cluster: pets, host: "pets.internal:9000", invoke: model.DefaultInvokePath, timeout: model.DefaultTimeout, function: true},
		"fn0000rest/prod/r2":      {cluster: pets, host: "pets.internal:9000", invoke: model.DefaultInvokePath, timeout: model.DefaultTimeout, function: true},
		"fn0000rest/prod/r3":      {cluster: pets, host: "pets.internal:9000", invoke: model.DefaultInvokePath, timeout: 3 * time.Second, function: true, extAuthz: true},
		"fn0000rest/prod/r4":      {cluster: pets, host: "pets.internal:9000", timeout: model.DefaultTimeout},
		"fn00000http/$default/r1": {cluster: orders, host: "orders.example.com", invoke: "/api/invoke", timeout: 10 * time.Second, function: true},
		"fn00000http/$default/r2": {cluster: orders, host: "orders.example.com", invoke: "/api/invoke", timeout: 10 * time.Second, function: true},
	}
	for layout, opts := range layouts {
		res, err := Translate(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) != 1 || res.Problems[0].APIID != "fn00000bad" {
			t.Fatalf("%s: problems %v, want one, for fn00000bad", layout, res.Problems)
		}
		if n := countClusters(res, pets); n != 1 {
			t.Errorf("%s: %d clusters %s, want one shared by the function and the proxy", layout, n, pets)
		}
		for name, tc := range tests {
			t.Run(layout+"/"+name, func(t *testing.T) {
				r := findRoute(res, name)
				if r == nil {
					t.Fatal("no route")
				}
				a := r.GetRoute()
				if a.GetCluster() != tc.cluster || a.GetHostRewriteLiteral() != tc.host || a.GetTimeout().AsDuration() != tc.timeout {
					t.Errorf("route to %s (Host %s, timeout %v), want %s (Host %s, timeout %v)",
						a.GetCluster(), a.GetHostRewriteLiteral(), a.GetTimeout().AsDuration(), tc.cluster, tc.host, tc.timeout)
				}
				if _, ok := r.GetTypedPerFilterConfig()[envoy.FilterExtAuthz]; ok != tc.extAuthz {
					t.Errorf("ext_authz enabled: %v, want %v", ok, tc.extAuthz)
				}
				checkFunctionRoute(t, r, tc.function, tc.invoke)
			})
		}
	}
}

// checkFunctionRoute checks what makes r a Lambda-proxy route, or, unless
// function is set, that r has none of it.
func checkFunctionRoute(t *testing.T, r *routev3.Route, function bool, invoke string) {
	t.Helper()
	per, ok := r.GetTypedPerFilterConfig()[envoy.FilterExtProc]
	if ok != function {
		t.Fatalf("ext_proc enabled: %v, want %v", ok, function)
	}
	if !function {
		if r.GetRequestBodyBufferLimit() != nil || r.GetRoute().GetRegexRewrite() != nil {
			t.Error("a proxy route got a function's body limit or path rewrite")
		}
		return
	}
	p := &extprocfilterv3.ExtProcPerRoute{}
	if err := per.UnmarshalTo(p); err != nil {
		t.Fatal(err)
	}
	want := extproc.Mode{RequestBody: true, ResponseBody: true}.ProcessingMode()
	if !proto.Equal(p.GetOverrides().GetProcessingMode(), want) {
		t.Errorf("processing_mode %v, want %v", p.GetOverrides().GetProcessingMode(), want)
	}
	if got := r.GetRequestBodyBufferLimit().GetValue(); got != extproc.DefaultMaxBody {
		t.Errorf("request_body_buffer_limit %d, want %d", got, extproc.DefaultMaxBody)
	}
	rw := r.GetRoute().GetRegexRewrite()
	if rw.GetSubstitution() != invoke {
		t.Errorf("path rewritten to %q, want %q", rw.GetSubstitution(), invoke)
	}
	re := regexp.MustCompile(rw.GetPattern().GetRegex())
	for _, path := range []string{"/", "/prod/pets/42", "/files/a/b/c.txt", "/a%20b"} {
		if got := re.ReplaceAllLiteralString(path, rw.GetSubstitution()); got != invoke {
			t.Errorf("path %s is rewritten to %s, want %s", path, got, invoke)
		}
	}
}

// countClusters counts the clusters named name.
func countClusters(res Resources, name string) int {
	n := 0
	for _, c := range res.Clusters {
		if c.GetName() == name {
			n++
		}
	}
	return n
}

// TestFunctionErrors checks the function integrations a stage cannot
// serve: each fails its stage with an error that names the problem and
// never quotes the URI.
func TestFunctionErrors(t *testing.T) {
	tests := map[string]struct {
		uri, invokePath, want string
	}{
		"invoke path with a query":    {uri: "http://fn.internal", invokePath: "/invoke?x=1", want: "invoke path"},
		"invoke path with a fragment": {uri: "http://fn.internal", invokePath: "/invoke#x", want: "invoke path"},
		"invoke path with a space":    {uri: "http://fn.internal", invokePath: "/in voke", want: "invoke path"},
		"invoke path with a bad %":    {uri: "http://fn.internal", invokePath: "/in%zzvoke", want: "invoke path"},
		"invoke path with a \\":       {uri: "http://fn.internal", invokePath: `/in\1voke`, want: "invoke path"},
		"URI with a query":            {uri: "http://fn.internal/?secret=1", invokePath: "/invoke", want: "query string"},
		"URI with credentials":        {uri: "http://user:secret@fn.internal", invokePath: "/invoke", want: "credentials"},
		"undefined stage variable":    {uri: "http://${stageVariables.nope}", invokePath: "/invoke", want: `"nope"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := &model.Integration{ID: "fn", Name: "fn", Function: &model.Function{URI: tc.uri, InvokePath: tc.invokePath, Timeout: model.DefaultTimeout}}
			cfg := functionConfig(t, in, nil)
			res, err := Translate(cfg, Options{})
			if err != nil {
				t.Fatal(err)
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

// functionConfig is one REST API whose prod stage, with stage variables
// vars, serves POST /fn through integration in.
func functionConfig(t *testing.T, in *model.Integration, vars map[string]string) *model.Config {
	t.Helper()
	p, err := model.ParsePathTemplate("/fn")
	if err != nil {
		t.Fatal(err)
	}
	d, err := model.NewDeployment("d1", []*model.Route{{ID: "r1", Method: "POST", Path: p, Integration: in}}, []*model.Integration{in})
	if err != nil {
		t.Fatal(err)
	}
	api, err := model.NewAPI("fnerrors01", "", model.ProtocolREST, []*model.Stage{{Name: "prod", Variables: vars, Deployment: d}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.NewConfig(1, []*model.API{api})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestExtProcMutationRules checks that ext_proc may change :method, which
// a Lambda-proxy processor sets to POST, and no other header Envoy guards
// by default: Envoy matches allow_expression against the whole name.
func TestExtProcMutationRules(t *testing.T) {
	rules := extProcFilter().GetMutationRules()
	if rules.GetAllowAllRouting().GetValue() || rules.GetAllowEnvoy().GetValue() || rules.GetDisallowExpression() != nil {
		t.Errorf("mutation rules %v: want only an allow_expression", rules)
	}
	re := regexp.MustCompile(`^(?:` + rules.GetAllowExpression().GetRegex() + `)$`)
	for name, allowed := range map[string]bool{
		":method": true, ":authority": false, "host": false, ":scheme": false,
		"x-envoy-original-path": false, ":methods": false, "x-:method": false,
	} {
		if re.MatchString(name) != allowed {
			t.Errorf("allow_expression matches %s: %v, want %v", name, !allowed, allowed)
		}
	}
}
