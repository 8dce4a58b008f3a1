package integration

import (
	"log/slog"
	"testing"
	"time"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/internal/model"
)

// The named models of modelsConfig's deployment, as AWS users write them:
// a Pet whose owner is the Owner model, by AWS's URL (of another API id,
// which still resolves within the deployment); a PetList of Pets, by the
// relative form; an Owner whose address is one of its own definitions.
const (
	namedPet = `{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
		"properties": {"name": {"type": "string"},
			"owner": {"$ref": "https://apigateway.amazonaws.com/restapis/a1b2c3/models/Owner"}},
		"required": ["name", "owner"]}`
	namedPetList = `{"type": "array", "items": {"$ref": "Pet"}, "minItems": 1}`
	namedOwner   = `{"type": "object", "properties": {"address": {"$ref": "#/definitions/Address"}},
		"required": ["address"], "definitions": {"Address": {"type": "string", "minLength": 3}}}`
)

// modelsConfig returns a Config of one REST API whose stage "test" serves
// a deployment with named models: m1 (POST /pets) checks JSON bodies
// against Pet, m2 (POST /pets/batch) every body against PetList, m3 (POST
// /owners) JSON bodies against Owner and text/plain ones against an inline
// model. Stage "broken" serves a deployment whose models do not compile
// (Pet without the Owner it names), route m1 alone.
func modelsConfig(t *testing.T) *model.Config {
	t.Helper()
	proxy := &model.Integration{ID: "i1", Name: "proxy", HTTPProxy: &model.HTTPProxy{URI: "http://127.0.0.1:9000/pets", Timeout: model.DefaultTimeout}}
	named := func(ms map[string]string) *model.Validation { return &model.Validation{Body: true, RequestModels: ms} }
	routes := []*model.Route{
		{ID: "m1", Method: "POST", Path: mustPath(t, "/pets"), Integration: proxy, Validation: named(map[string]string{"application/json": "Pet"})},
		{ID: "m2", Method: "POST", Path: mustPath(t, "/pets/batch"), Integration: proxy, Validation: named(map[string]string{"$default": "PetList"})},
		{ID: "m3", Method: "POST", Path: mustPath(t, "/owners"), Integration: proxy, Validation: &model.Validation{
			Body: true, RequestModels: map[string]string{"application/json": "Owner"},
			Models: map[string]string{"text/plain": `{"type": "string"}`},
		}},
	}
	dep, err := model.NewDeploymentWithModels("d1", routes, []*model.Integration{proxy}, []*model.Model{
		{Name: "Pet", ContentType: "application/json", Schema: namedPet},
		{Name: "PetList", ContentType: "application/json", Schema: namedPetList},
		{Name: "Owner", ContentType: "application/json", Schema: namedOwner},
	})
	if err != nil {
		t.Fatal(err)
	}
	brokenRoute := &model.Route{ID: "m1", Method: "POST", Path: mustPath(t, "/pets"), Integration: proxy, Validation: named(map[string]string{"application/json": "Pet"})}
	broken, err := model.NewDeploymentWithModels("d2", []*model.Route{brokenRoute}, []*model.Integration{proxy}, []*model.Model{
		{Name: "Pet", ContentType: "application/json", Schema: namedPet},
	})
	if err != nil {
		t.Fatal(err)
	}
	return apiConfig(t, model.ProtocolREST, &model.Stage{Name: "test", Deployment: dep}, &model.Stage{Name: "broken", Deployment: broken})
}

// TestNamedModels sends bodies over real gRPC to routes that check them
// against named models that refer to each other.
func TestNamedModels(t *testing.T) {
	cfg := modelsConfig(t)
	c := serve(t, func() *model.Config { return cfg }, Options{})
	lookup := NewLookup(func() *model.Config { return cfg }, Options{})
	jsonCT := [2]string{"content-type", "application/json"}
	rex := `{"name": "rex", "owner": {"address": "1 Main St"}}`
	tests := map[string]struct {
		stage, route string
		req          request
		status       int // 0: the request goes on
		message      string
	}{
		"valid through the URL reference": {route: "m1", req: request{method: "POST", path: "/test/pets", headers: [][2]string{jsonCT}, body: rex}},
		"invalid in the referenced model": {
			route: "m1", req: request{method: "POST", path: "/test/pets", headers: [][2]string{jsonCT}, body: `{"name": "rex", "owner": {"address": "x"}}`},
			status: 400, message: "Invalid request body",
		},
		"referenced model's required member missing": {
			route: "m1", req: request{method: "POST", path: "/test/pets", headers: [][2]string{jsonCT}, body: `{"name": "rex", "owner": {}}`},
			status: 400, message: "Invalid request body",
		},
		"content type without a model": {route: "m1", req: request{method: "POST", path: "/test/pets", headers: [][2]string{{"content-type", "text/plain"}}, body: "rex"}},
		"valid through the relative reference": {
			route: "m2", req: request{method: "POST", path: "/test/pets/batch", headers: [][2]string{{"content-type", "application/xml"}}, body: "[" + rex + "]"},
		},
		"invalid two references deep": {
			route: "m2", req: request{method: "POST", path: "/test/pets/batch", headers: [][2]string{jsonCT}, body: `[{"name": "rex", "owner": {"address": 7}}]`},
			status: 400, message: "Invalid request body",
		},
		"named model beside an inline one, named": {
			route: "m3", req: request{method: "POST", path: "/test/owners", headers: [][2]string{jsonCT}, body: `{"address": "1 Main St"}`},
		},
		"named model beside an inline one, named, invalid": {
			route: "m3", req: request{method: "POST", path: "/test/owners", headers: [][2]string{jsonCT}, body: `{}`},
			status: 400, message: "Invalid request body",
		},
		"named model beside an inline one, inline": {
			route: "m3", req: request{method: "POST", path: "/test/owners", headers: [][2]string{{"content-type", "text/plain"}}, body: `"1 Main St"`},
		},
		"models that do not compile fail closed": {
			stage: "broken", route: "m1", req: request{method: "POST", path: "/broken/pets", headers: [][2]string{jsonCT}, body: rex},
			status: 500, message: "Internal server error",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			stage := tc.stage
			if stage == "" {
				stage = "test"
			}
			md := extproc.RouteMetadata{APIID: "api1", Stage: stage, RouteID: tc.route}
			p := lookup(md)
			if p == nil || !p.Mode().RequestBody {
				t.Fatalf("processor %v, want one that reads the body", p)
			}
			got := validateExchangeAt(t, c, md, tc.req, p.Mode())
			if tc.status == 0 {
				if got.answer != nil || got.mutated {
					t.Fatalf("got %+v, want the request to go on unchanged", got)
				}
				return
			}
			errType := "BadRequestException"
			if tc.status == 500 {
				errType = ""
			}
			checkRefusal(t, got, tc.status, tc.message, errType)
		})
	}
}

// TestNamedModelsCompiledOnce checks that a deployment's models are
// compiled once for all its routes, and kept by a later Config that
// serves the same deployment.
func TestNamedModelsCompiledOnce(t *testing.T) {
	cfg := modelsConfig(t)
	var h configHolder
	h.p.Store(cfg)
	opts := Options{Logger: slog.New(slog.DiscardHandler), Now: time.Now, GatewayResponses: gatewayresponse.NewSets(nil)}
	l := &lookup{cfg: h.current, opts: opts, status: newRelaxedStatus()}
	d := cfg.API("api1").Stage("test").Deployment
	g := l.generation(cfg)
	first := g.models[d]
	if first == nil || first.err != nil || len(g.models) != 2 {
		t.Fatalf("models = %v, want one compiled set per deployment", g.models)
	}
	pet, err := first.schema("Pet")
	if err != nil {
		t.Fatal(err)
	}
	if got := g.validations[d.Route("m1").Validation].schemas["application/json"]; got != pet {
		t.Error("route m1's validator does not use the deployment's compiled Pet")
	}
	if broken := g.models[cfg.API("api1").Stage("broken").Deployment]; broken == nil || broken.err == nil {
		t.Errorf("the broken deployment's models = %+v, want their error", broken)
	}
	next, err := model.NewConfig(2, cfg.APIs)
	if err != nil {
		t.Fatal(err)
	}
	if again := l.generation(next).models[d]; again != first {
		t.Error("a new Config serving the same deployment compiled its models again")
	}
}
