package watcher

import (
	"reflect"
	"testing"

	"github.com/archway-gateway/archway/internal/model"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestConvertDeploymentModels converts a deployment with the API's models
// and a route that names them beside an inline model: the models arrive
// sorted by name, the route's validation with both maps.
func TestConvertDeploymentModels(t *testing.T) {
	d := &adminv1.Deployment{
		Id: "dep0000001", ApiId: "pets000001",
		Models: []*adminv1.Model{
			{Name: "Pet", Description: "not carried", ContentType: "application/json", Schema: `{"$ref": "Owner"}`},
			{Name: "Owner", ContentType: "application/json", Schema: `{}`},
		},
		Integrations: []*adminv1.Integration{{Id: "int0000001", Name: "m", Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200}}}},
		Routes: []*adminv1.Route{{
			Id: "rte0000001", Method: "POST", Path: "/pets", IntegrationId: "int0000001",
			RequestValidation: &adminv1.RequestValidation{
				ValidateBody:  true,
				BodyModels:    map[string]string{"text/plain": `{}`},
				RequestModels: map[string]string{"application/json": "Pet", "$default": "Owner"},
			},
		}},
	}
	got, err := convertDeployment(d.GetId(), d)
	if err != nil {
		t.Fatal(err)
	}
	wantModels := []*model.Model{
		{Name: "Owner", ContentType: "application/json", Schema: `{}`},
		{Name: "Pet", ContentType: "application/json", Schema: `{"$ref": "Owner"}`},
	}
	if !reflect.DeepEqual(got.Models, wantModels) {
		t.Errorf("models = %+v, want %+v", got.Models, wantModels)
	}
	v := got.Routes[0].Validation
	if want := map[string]string{"application/json": "Pet", "$default": "Owner"}; !reflect.DeepEqual(v.RequestModels, want) {
		t.Errorf("request models = %v, want %v", v.RequestModels, want)
	}
	if want := map[string]string{"text/plain": `{}`}; !reflect.DeepEqual(v.Models, want) || !v.NeedsBody() {
		t.Errorf("inline models = %v (needs body %v), want %v", v.Models, v.NeedsBody(), want)
	}
	// The converted maps are copies: the record stays the watcher's.
	d.GetRoutes()[0].GetRequestValidation().GetRequestModels()["application/json"] = "Owner"
	if v.RequestModels["application/json"] != "Pet" {
		t.Error("the converted request models share the record's map")
	}
}
