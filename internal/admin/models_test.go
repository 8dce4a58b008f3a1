package admin

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Two models as AWS users write them: a pet whose owner is another model,
// referred to by AWS's URL form, and an owner whose address is one of its
// own definitions.
const (
	petSchema = `{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
		"properties": {"name": {"type": "string"},
			"owner": {"$ref": "https://apigateway.amazonaws.com/restapis/abc123/models/Owner"}},
		"required": ["name"]}`
	ownerSchema = `{"type": "object", "properties": {"address": {"$ref": "#/definitions/Address"}},
		"definitions": {"Address": {"type": "string"}}}`
)

// petModels returns the models Pet and Owner.
func petModels() []*adminv1.Model {
	return []*adminv1.Model{
		{Name: "Pet", Description: "a pet", ContentType: "application/json", Schema: petSchema},
		{Name: "Owner", Schema: ownerSchema},
	}
}

// modelsMask is an UpdateApi mask of the API's models.
func modelsMask() *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: []string{"models"}} }

// mustModelAPI creates an API with petModels, an integration and a route
// whose JSON bodies must be Pets.
func (e *env) mustModelAPI(t *testing.T, name string) (*adminv1.Api, *adminv1.Route) {
	t.Helper()
	api, err := e.CreateApi(e.ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{Name: name, Models: petModels()}})
	if err != nil {
		t.Fatal(err)
	}
	in := e.mustMock(t, api.GetId(), "m")
	r, err := e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: &adminv1.Route{
		Method: "POST", Path: "/pets", IntegrationId: in.GetId(),
		RequestValidation: &adminv1.RequestValidation{ValidateBody: true, RequestModels: map[string]string{"application/json": "Pet"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return api, r
}

func TestModelsStored(t *testing.T) {
	e := newEnv(t)
	api, _ := e.mustModelAPI(t, "models")
	got, err := e.GetApi(e.ctx, &adminv1.GetApiRequest{Id: api.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	// In order of name, an empty content type stored as application/json.
	want := []*adminv1.Model{
		{Name: "Owner", ContentType: "application/json", Schema: ownerSchema},
		{Name: "Pet", Description: "a pet", ContentType: "application/json", Schema: petSchema},
	}
	if len(got.GetModels()) != len(want) {
		t.Fatalf("models = %v, want %v", got.GetModels(), want)
	}
	for i := range want {
		if !proto.Equal(got.GetModels()[i], want[i]) {
			t.Errorf("models[%d] = %v, want %v", i, got.GetModels()[i], want[i])
		}
	}
}

func TestModelViolations(t *testing.T) {
	e := newEnv(t)
	api, route := e.mustModelAPI(t, "models")
	createAPI := func(ms ...*adminv1.Model) func() error {
		return func() error {
			_, err := e.CreateApi(e.ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{Name: "other", Models: ms}})
			return err
		}
	}
	updateModels := func(ms ...*adminv1.Model) func() error {
		return func() error {
			_, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{Api: &adminv1.Api{Id: api.GetId(), Models: ms}, UpdateMask: modelsMask()})
			return err
		}
	}
	createRoute := func(rv *adminv1.RequestValidation) func() error {
		return func() error {
			_, err := e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: &adminv1.Route{
				Method: "PUT", Path: "/pets", IntegrationId: route.GetIntegrationId(), RequestValidation: rv,
			}})
			return err
		}
	}
	valid := func(name string) *adminv1.Model { return &adminv1.Model{Name: name, Schema: `{"type": "object"}`} }
	var tooMany []*adminv1.Model
	for i := range maxModels + 1 {
		tooMany = append(tooMany, valid(fmt.Sprintf("M%d", i)))
	}
	tests := violationCases{
		"bad fields": {createAPI(
			&adminv1.Model{Name: "Pet-1", Schema: `{}`},
			&adminv1.Model{Name: "A", ContentType: "Application/JSON; charset=utf-8", Schema: `{}`},
			&adminv1.Model{Name: "B"},
			&adminv1.Model{Name: "C", Schema: strings.Repeat(" ", maxModelBytes+1)},
			&adminv1.Model{Name: strings.Repeat("x", maxModelNameLen+1), Schema: `{}`},
			&adminv1.Model{},
		), []string{
			"api.models[0].name", "api.models[1].content_type", "api.models[2].schema", "api.models[3].schema",
			"api.models[4].name", "api.models[5].name", "api.models[5].schema",
		}},
		"duplicate name": {createAPI(valid("Pet"), valid("Pet")), []string{"api.models[1].name"}},
		"too many":       {createAPI(tooMany...), []string{"api.models"}},
		// The set compiles as a whole: the failing model is named, the one
		// it refers to is not.
		"not JSON": {createAPI(valid("Good"), &adminv1.Model{Name: "Bad", Schema: `{"type":`}), []string{"api.models[1].schema"}},
		"not a schema": {
			createAPI(&adminv1.Model{Name: "Bad", Schema: `{"type": "thing"}`}, valid("Good")),
			[]string{"api.models[0].schema"},
		},
		"reference to a missing model": {
			createAPI(valid("Owner"), &adminv1.Model{Name: "Pet", Schema: `{"$ref": "Ownr"}`}),
			[]string{"api.models[1].schema"},
		},
		"reference outside the models": {
			createAPI(&adminv1.Model{Name: "Pet", Schema: `{"$ref": "https://example.com/pet.json"}`}),
			[]string{"api.models[0].schema"},
		},
		// Removing Owner breaks Pet's reference: the remaining set does not
		// compile, which is reported before Pet's use by the route.
		"update leaves a dangling reference": {updateModels(petModels()[0]), []string{"api.models[0].schema"}},
		"route names a missing model": {createRoute(&adminv1.RequestValidation{
			ValidateBody: true, RequestModels: map[string]string{"application/json": "Cat", "$default": "Pet"},
		}), []string{`route.request_validation.request_models["application/json"]`}},
		"route request models": {createRoute(&adminv1.RequestValidation{
			ValidateBody: true,
			BodyModels:   map[string]string{"application/json": `{}`},
			RequestModels: map[string]string{
				"application/json": "Pet", "Text/Plain": "Pet", "application/xml": "Not-A-Name",
			},
		}), []string{
			`route.request_validation.request_models["Text/Plain"]`,
			`route.request_validation.request_models["application/json"]`,
			`route.request_validation.request_models["application/xml"]`,
		}},
		"definition route names a model it lacks": {func() error {
			_, err := e.ApplyApi(e.ctx, &adminv1.ApplyApiRequest{Definition: &adminv1.ApiDefinition{
				Name:         "def",
				Models:       []*adminv1.Model{valid("Pet")},
				Integrations: []*adminv1.IntegrationDefinition{{Name: "m", Kind: &adminv1.IntegrationDefinition_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200}}}},
				Routes: []*adminv1.RouteDefinition{{Method: "POST", Path: "/pets", Integration: "m", RequestValidation: &adminv1.RequestValidation{
					ValidateBody: true, RequestModels: map[string]string{"application/json": "Cat"},
				}}},
			}})
			return err
		}, []string{`definition.routes[0].request_validation.request_models["application/json"]`}},
		"definition models": {func() error {
			_, err := e.ApplyApi(e.ctx, &adminv1.ApplyApiRequest{Definition: &adminv1.ApiDefinition{
				Name: "def", Models: []*adminv1.Model{valid("Pet"), {Name: "Bad", Schema: `{"$ref": "Nope"}`}},
			}})
			return err
		}, []string{"definition.models[1].schema"}},
	}
	tests.run(t, e)
}

func TestModelInUse(t *testing.T) {
	e := newEnv(t)
	api, route := e.mustModelAPI(t, "models")
	renamed := petModels()
	renamed[0].Name = "Animal"
	tests := map[string][]*adminv1.Model{
		"removed": {{Name: "Owner", Schema: ownerSchema}},
		"renamed": renamed,
	}
	for name, ms := range tests {
		t.Run(name, func(t *testing.T) {
			before := e.revision(t)
			_, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{Api: &adminv1.Api{Id: api.GetId(), Models: ms}, UpdateMask: modelsMask()})
			wantPrecondition(t, err, failureInUse)
			if msg := status.Convert(err).Message(); !strings.Contains(msg, "model Pet") || !strings.Contains(msg, route.GetId()) ||
				!strings.Contains(msg, "POST /pets") {
				t.Errorf("error %q does not name model Pet and the route", msg)
			}
			e.wantNoWrite(t, before, "UpdateApi")
		})
	}
	// Once the route names another model, Pet may go.
	route.RequestValidation.RequestModels = map[string]string{"$default": "Owner"}
	if _, err := e.UpdateRoute(e.ctx, &adminv1.UpdateRouteRequest{Route: route}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{
		Api: &adminv1.Api{Id: api.GetId(), Models: []*adminv1.Model{{Name: "Owner", Schema: ownerSchema}}}, UpdateMask: modelsMask(),
	}); err != nil {
		t.Fatalf("UpdateApi without the model no route names: %v", err)
	}
}

func TestModelsDeployed(t *testing.T) {
	e := newEnv(t)
	api, _ := e.mustModelAPI(t, "models")
	if _, err := e.CreateStage(e.ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{Name: "live", AutoDeploy: true}}); err != nil {
		t.Fatal(err)
	}
	manual, err := e.Deploy(e.ctx, &adminv1.DeployRequest{ApiId: api.GetId(), StageName: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	if got := modelList(manual.GetDeployment().GetModels()); got != "Owner,Pet" {
		t.Fatalf("deployment models = %s, want Owner,Pet", got)
	}
	auto := e.stage(t, api.GetId(), "live").GetDeploymentId()

	// A change of the models alone reaches the auto-deploying stage, and
	// not the other one until it is deployed.
	ms := append(petModels(), &adminv1.Model{Name: "Toy", Schema: `{"type": "string"}`})
	if _, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{Api: &adminv1.Api{Id: api.GetId(), Models: ms}, UpdateMask: modelsMask()}); err != nil {
		t.Fatal(err)
	}
	live := e.stage(t, api.GetId(), "live").GetDeploymentId()
	if live == auto {
		t.Fatal("a change of the models did not auto-deploy")
	}
	dep, err := e.GetDeployment(e.ctx, &adminv1.GetDeploymentRequest{ApiId: api.GetId(), Id: live})
	if err != nil {
		t.Fatal(err)
	}
	if got := modelList(dep.GetModels()); got != "Owner,Pet,Toy" || !dep.GetAutoDeployed() {
		t.Errorf("automatic deployment models = %s (auto %v), want Owner,Pet,Toy", got, dep.GetAutoDeployed())
	}
	if got := e.stage(t, api.GetId(), "manual").GetDeploymentId(); got != manual.GetDeployment().GetId() {
		t.Errorf("manual stage moved to %s without a deploy", got)
	}
	old, err := e.GetDeployment(e.ctx, &adminv1.GetDeploymentRequest{ApiId: api.GetId(), Id: manual.GetDeployment().GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if got := modelList(old.GetModels()); got != "Owner,Pet" {
		t.Errorf("earlier deployment's models changed to %s", got)
	}

	// The same models in another order change nothing and deploy nothing.
	before := e.revision(t)
	ms[0], ms[2] = ms[2], ms[0]
	if _, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{Api: &adminv1.Api{Id: api.GetId(), Models: ms}, UpdateMask: modelsMask()}); err != nil {
		t.Fatal(err)
	}
	e.wantNoWrite(t, before, "UpdateApi with the same models")

	list, err := e.ListDeployments(e.ctx, &adminv1.ListDeploymentsRequest{ApiId: api.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list.GetDeployments() {
		if len(d.GetModels()) > 0 {
			t.Errorf("ListDeployments returned the models of %s", d.GetId())
		}
	}
}

func TestApplyModels(t *testing.T) {
	e := newEnv(t)
	def := &adminv1.ApiDefinition{
		Name:         "applied",
		Models:       petModels(),
		Integrations: []*adminv1.IntegrationDefinition{{Name: "m", Kind: &adminv1.IntegrationDefinition_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200}}}},
		Routes: []*adminv1.RouteDefinition{{Method: "POST", Path: "/pets", Integration: "m", RequestValidation: &adminv1.RequestValidation{
			ValidateBody: true, RequestModels: map[string]string{"application/json": "Pet"},
		}}},
		Stages: []*adminv1.StageDefinition{{Name: "live", AutoDeploy: true}},
	}
	first := e.apply(t, &adminv1.ApplyApiRequest{Definition: proto.CloneOf(def)})
	if got := modelList(first.GetApi().GetModels()); got != "Owner,Pet" {
		t.Errorf("applied models = %s, want Owner,Pet", got)
	}
	if again := e.apply(t, &adminv1.ApplyApiRequest{Definition: proto.CloneOf(def)}); len(again.GetChanges()) != 0 {
		t.Errorf("applying the same definition again changed %v", changeList(again.GetChanges()))
	}
	// A new model is an API update that deploys.
	def.Models = append(def.Models, &adminv1.Model{Name: "Toy", Schema: `{}`})
	got := changeList(e.apply(t, &adminv1.ApplyApiRequest{Definition: proto.CloneOf(def)}).GetChanges())
	if want := []string{"api updated applied", "deployment created *", "stage updated live"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("changes = %q, want %q", got, want)
	}
	// A definition that drops a model its routes still name is refused.
	def.Models = def.Models[1:]
	_, err := e.ApplyApi(e.ctx, &adminv1.ApplyApiRequest{Definition: def})
	wantViolations(t, err, `definition.routes[0].request_validation.request_models["application/json"]`)
}

// modelList names models in order, comma-separated.
func modelList(ms []*adminv1.Model) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.GetName()
	}
	return strings.Join(names, ",")
}
