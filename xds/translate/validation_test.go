package translate

import (
	"path/filepath"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/integration"
	"github.com/archway-gateway/archway/internal/model"
)

// TestValidationRoutes translates testdata/in/validation.yaml in both
// layouts and checks each route's ext_proc: enabled only where a
// validator checks something or the integration needs it, with the
// request body buffered only where a model or the integration reads it,
// and the 10 MB limit only on routes with a route entry that buffer.
func TestValidationRoutes(t *testing.T) {
	cfg, _, err := loadFixture(filepath.Join("testdata", "in", "validation.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	exchange := extproc.Mode{RequestBody: true, ResponseHeaders: true, ResponseBody: true}
	tests := map[string]struct {
		mode      *extproc.Mode // nil: ext_proc stays disabled
		bodyLimit uint64
		extAuthz  bool
	}{
		"r1": {mode: &extproc.Mode{}},
		"r2": {mode: &extproc.Mode{RequestBody: true}, bodyLimit: maxRequestBody},
		"r3": {},
		"r4": {},
		"r5": {mode: &extproc.Mode{}},
		"r6": {mode: &extproc.Mode{RequestBody: true}},
		"r7": {mode: &exchange, bodyLimit: maxRequestBody},
		"r8": {mode: &extproc.Mode{RequestBody: true}, bodyLimit: maxRequestBody, extAuthz: true},
		"r9": {mode: &exchange, bodyLimit: maxRequestBody},
	}
	for layout, opts := range layouts {
		res, err := Translate(cfg, opts)
		if err != nil || len(res.Problems) > 0 {
			t.Fatalf("%s: %v %v", layout, err, res.Problems)
		}
		for id, tc := range tests {
			t.Run(layout+"/"+id, func(t *testing.T) {
				r := findRoute(res, routeName("valid00001", "prod", id))
				if r == nil {
					t.Fatal("no route")
				}
				if _, ok := r.GetTypedPerFilterConfig()[envoy.FilterExtAuthz]; ok != tc.extAuthz {
					t.Errorf("ext_authz enabled: %v, want %v", ok, tc.extAuthz)
				}
				if got := r.GetRequestBodyBufferLimit().GetValue(); got != tc.bodyLimit {
					t.Errorf("request_body_buffer_limit %d, want %d", got, tc.bodyLimit)
				}
				got := routeProcessingMode(t, r)
				switch {
				case tc.mode == nil && got != nil:
					t.Errorf("ext_proc enabled with %v, want it disabled", got)
				case tc.mode != nil:
					if diff := cmp.Diff(tc.mode.ProcessingMode(), got, protocmp.Transform()); diff != "" {
						t.Errorf("processing_mode (-want +got):\n%s", diff)
					}
				}
			})
		}
	}
}

// routeProcessingMode returns the processing_mode r gives ext_proc, nil
// when r does not enable it.
func routeProcessingMode(t *testing.T, r *routev3.Route) *extprocfilterv3.ProcessingMode {
	t.Helper()
	a, ok := r.GetTypedPerFilterConfig()[envoy.FilterExtProc]
	if !ok {
		return nil
	}
	per := &extprocfilterv3.ExtProcPerRoute{}
	if err := a.UnmarshalTo(per); err != nil {
		t.Fatal(err)
	}
	if per.GetOverrides().GetProcessingMode() == nil {
		t.Fatal("ext_proc enabled without a processing_mode")
	}
	return per.GetOverrides().GetProcessingMode()
}

// TestExtProcModesAgreeWithProcessors translates every golden input and
// checks, for every route, that the ext_proc service has a processor
// exactly where the translator enabled ext_proc, and that the processor's
// Mode is the route's processing_mode: otherwise Envoy would send a
// processor less than it reads (a body it never gets) or hold a stream
// open for one that does not exist.
func TestExtProcModesAgreeWithProcessors(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "in", "*.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			cfg, opts, err := loadFixture(in)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Translate(cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			lookup := integration.NewLookup(func() *model.Config { return cfg }, integration.Options{})
			for _, api := range cfg.APIs {
				for _, st := range api.Stages {
					checkStageModes(t, res, lookup, api, st)
				}
			}
		})
	}
}

func checkStageModes(t *testing.T, res Resources, lookup func(extproc.RouteMetadata) extproc.Processor, api *model.API, st *model.Stage) {
	t.Helper()
	if st.Deployment == nil {
		return
	}
	for _, route := range st.Deployment.Routes {
		r := findRoute(res, routeName(api.ID, st.Name, route.ID))
		if r == nil {
			continue // a route the translator reported as a problem
		}
		p := lookup(extproc.RouteMetadata{APIID: api.ID, Stage: st.Name, RouteID: route.ID, DeploymentID: st.Deployment.ID})
		got := routeProcessingMode(t, r)
		switch {
		case p == nil && got != nil:
			t.Errorf("%s: ext_proc enabled, but the service has no processor", r.GetName())
		case p != nil && got == nil:
			t.Errorf("%s: the service has a processor, but ext_proc is disabled", r.GetName())
		case p != nil:
			if diff := cmp.Diff(p.Mode().ProcessingMode(), got, protocmp.Transform()); diff != "" {
				t.Errorf("%s: processing_mode differs from the processor's (-service +translator):\n%s", r.GetName(), diff)
			}
		}
	}
}
