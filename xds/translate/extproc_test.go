package translate

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/extproc"
)

// TestExtProcAgreesWithService pins what the translator tells Envoy to the
// ext_proc service's own definitions, which the translator does not
// import (they would link the gRPC server into it): the metadata keys the
// service reads, the processing modes it derives for a processor that
// reads the request headers alone, for one that reads the request body
// and for one that also reads the response body, and the largest body it
// takes.
func TestExtProcAgreesWithService(t *testing.T) {
	for got, want := range map[string]string{
		envoy.ExtProcMetadataAPIID:        extproc.MetadataAPIID,
		envoy.ExtProcMetadataStage:        extproc.MetadataStage,
		envoy.ExtProcMetadataRouteID:      extproc.MetadataRouteID,
		envoy.ExtProcMetadataDeploymentID: extproc.MetadataDeploymentID,
	} {
		if got != want {
			t.Errorf("metadata key %q, the service reads %q", got, want)
		}
	}
	if diff := cmp.Diff(extproc.Mode{}.ProcessingMode(), requestHeadersMode(), protocmp.Transform()); diff != "" {
		t.Errorf("headers-only processing_mode differs from the service's (-service +translator):\n%s", diff)
	}
	if diff := cmp.Diff(extproc.Mode{RequestBody: true}.ProcessingMode(), requestBodyMode(), protocmp.Transform()); diff != "" {
		t.Errorf("processing_mode differs from the service's (-service +translator):\n%s", diff)
	}
	if diff := cmp.Diff(extproc.Mode{RequestBody: true, ResponseBody: true}.ProcessingMode(), exchangeMode(), protocmp.Transform()); diff != "" {
		t.Errorf("function and HTTP processing_mode differs from the service's (-service +translator):\n%s", diff)
	}
	if diff := cmp.Diff(extproc.Mode{SkipRequest: true, ResponseHeaders: true}.ProcessingMode(), responseHeadersMode(), protocmp.Transform()); diff != "" {
		t.Errorf("response-only processing_mode differs from the service's (-service +translator):\n%s", diff)
	}
	if diff := cmp.Diff(extproc.ResponseAttributes(), extProcResponseAttributes()); diff != "" {
		t.Errorf("response attributes differ from what the service reads (-service +translator):\n%s", diff)
	}
	if messageNetworkError != extproc.MessageNetworkError {
		t.Errorf("network error message %q, the service's %q", messageNetworkError, extproc.MessageNetworkError)
	}
	if maxRequestBody != extproc.DefaultMaxBody {
		t.Errorf("request bodies buffered up to %d, the service takes %d", maxRequestBody, extproc.DefaultMaxBody)
	}

	tests := map[string]extproc.RouteMetadata{
		"every ID":         {APIID: "a1", Stage: "prod", RouteID: "r1", DeploymentID: "d1"},
		"no deployment ID": {APIID: "a1", Stage: "$default", RouteID: "r1"},
		"none":             {},
	}
	for name, rm := range tests {
		t.Run(name, func(t *testing.T) {
			a, err := extProcPerRoute(requestBodyMode(), map[string]string{
				envoy.MetadataAPIID: rm.APIID, envoy.MetadataStage: rm.Stage,
				envoy.MetadataRouteID: rm.RouteID, envoy.MetadataDeploymentID: rm.DeploymentID,
			})
			if err != nil {
				t.Fatal(err)
			}
			per := &extprocfilterv3.ExtProcPerRoute{}
			if err := a.UnmarshalTo(per); err != nil {
				t.Fatal(err)
			}
			if err := per.ValidateAll(); err != nil {
				t.Error(err)
			}
			got := per.GetOverrides().GetGrpcInitialMetadata()
			if diff := cmp.Diff(rm.GRPCInitialMetadata(), got, protocmp.Transform(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("grpc_initial_metadata differs from the service's (-service +translator):\n%s", diff)
			}
		})
	}
}

// TestExtProcFilter checks the filter's place in the chain and the
// settings that make it safe: disabled unless a route enables it, calling
// the services cluster, failing closed, asking for nothing by default,
// and leaving modes to the translator.
func TestExtProcFilter(t *testing.T) {
	chain := filterChain()
	names := make([]string, len(chain))
	for i, f := range chain {
		names[i] = f.name
	}
	i := slices.Index(names, envoy.FilterExtProc)
	if i < 0 || names[i-1] != envoy.FilterRateLimit || names[i+1] != envoy.FilterRouter {
		t.Fatalf("filter chain %v: want ext_proc right after ratelimit and before the router", names)
	}
	if !chain[i].disabled {
		t.Error("ext_proc is enabled in the chain: every route would call Archway")
	}
	f, ok := chain[i].config.(*extprocfilterv3.ExternalProcessor)
	if !ok {
		t.Fatalf("ext_proc config is %T", chain[i].config)
	}
	if err := f.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	if got := f.GetGrpcService().GetEnvoyGrpc().GetClusterName(); got != envoy.ServicesClusterName {
		t.Errorf("calls cluster %q, want %q", got, envoy.ServicesClusterName)
	}
	if f.GetFailureModeAllow() || f.GetAllowModeOverride() || f.GetObservabilityMode() {
		t.Error("ext_proc must fail closed, in synchronous mode, with modes the translator set")
	}
	if mt := f.GetMessageTimeout().AsDuration(); mt < 5*envoyDefaultMessageTimeout {
		t.Errorf("message_timeout %v: want well above Envoy's default %v", mt, envoyDefaultMessageTimeout)
	}
	skip := &extprocfilterv3.ProcessingMode{RequestHeaderMode: extprocfilterv3.ProcessingMode_SKIP, ResponseHeaderMode: extprocfilterv3.ProcessingMode_SKIP}
	if !proto.Equal(f.GetProcessingMode(), skip) {
		t.Errorf("default processing_mode %v, want both headers skipped", f.GetProcessingMode())
	}
}

// envoyDefaultMessageTimeout is Envoy's message_timeout when none is set.
const envoyDefaultMessageTimeout = 200 * time.Millisecond

// TestTemplateMockRoutes translates testdata/in/template-mock.yaml in both
// layouts and checks which routes call ext_proc: template mocks only, with
// or without ext_authz, each with the request body buffered and a 500
// behind it; the simple mock stays Envoy's direct response.
func TestTemplateMockRoutes(t *testing.T) {
	cfg, _, err := loadFixture(filepath.Join("testdata", "in", "template-mock.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		extProc, extAuthz bool
		status            uint32
	}{
		"r1": {extProc: true, status: 500},
		"r2": {status: 200},
		"r3": {extProc: true, extAuthz: true, status: 500},
	}
	for layout, opts := range layouts {
		res, err := Translate(cfg, opts)
		if err != nil || len(res.Problems) > 0 {
			t.Fatalf("%s: %v %v", layout, err, res.Problems)
		}
		for id, tc := range tests {
			t.Run(layout+"/"+id, func(t *testing.T) {
				r := findRoute(res, routeName("tmpl000001", "prod", id))
				if r == nil {
					t.Fatal("no route")
				}
				checkTemplateMockRoute(t, r, tc.extProc, tc.extAuthz, tc.status)
			})
		}
	}
}

func checkTemplateMockRoute(t *testing.T, r *routev3.Route, extProc, extAuthz bool, status uint32) {
	t.Helper()
	per := r.GetTypedPerFilterConfig()
	if _, ok := per[envoy.FilterExtProc]; ok != extProc {
		t.Errorf("ext_proc enabled: %v, want %v", ok, extProc)
	}
	if _, ok := per[envoy.FilterExtAuthz]; ok != extAuthz {
		t.Errorf("ext_authz enabled: %v, want %v", ok, extAuthz)
	}
	if got := r.GetDirectResponse().GetStatus(); got != status {
		t.Errorf("direct response %d, want %d", got, status)
	}
	if !extProc {
		return
	}
	p := &extprocfilterv3.ExtProcPerRoute{}
	if err := per[envoy.FilterExtProc].UnmarshalTo(p); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(p.GetOverrides().GetProcessingMode(), extproc.Mode{RequestBody: true}.ProcessingMode()) {
		t.Errorf("processing_mode %v", p.GetOverrides().GetProcessingMode())
	}
}
