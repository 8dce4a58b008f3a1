package watcher

import (
	"reflect"
	"strings"
	"testing"

	"github.com/archway-gateway/archway/internal/model"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestRouteAPI converts an API's records around one route as a test
// invocation does: the API's own settings as a deployment of them would
// carry them, one stage serving just that route, and copies of the
// records' maps.
func TestRouteAPI(t *testing.T) {
	api := &adminv1.Api{
		Id: "pets000001", Name: "pets", Protocol: adminv1.Protocol_PROTOCOL_REST,
		ApiKeySource:     adminv1.ApiKeySource_API_KEY_SOURCE_AUTHORIZER,
		BinaryMediaTypes: []string{"image/png"},
		GatewayResponses: []*adminv1.GatewayResponse{{
			ResponseType: "THROTTLED", StatusCode: 503,
			ResponseParameters: map[string]string{"gatewayresponse.header.x-a": "'b'"},
			ResponseTemplates:  map[string]string{"application/json": `{"m":"$context.error.message"}`},
		}},
		Models: []*adminv1.Model{{Name: "Pet", ContentType: "application/json", Schema: `{}`}},
	}
	route := &adminv1.Route{
		Id: "rte0000001", Method: "POST", Path: "/pets", IntegrationId: "int0000001",
		RequestValidation: &adminv1.RequestValidation{ValidateBody: true, RequestModels: map[string]string{"$default": "Pet"}},
	}
	in := &adminv1.Integration{Id: "int0000001", Name: "m", Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200}}}
	vars := map[string]string{"v": "1"}

	got, err := RouteAPI(api, route, in, "test-invoke-stage", vars, "testinvoke")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "pets000001" || got.Name != "pets" || got.Protocol != model.ProtocolREST || got.KeySource != model.KeySourceAuthorizer {
		t.Errorf("api = %+v, want the record's id, name, protocol and key source", got)
	}
	if !reflect.DeepEqual(got.BinaryMediaTypes, []string{"image/png"}) {
		t.Errorf("binary media types = %q", got.BinaryMediaTypes)
	}
	wantGR := map[string]*model.GatewayResponse{"THROTTLED": {
		StatusCode: 503,
		Headers:    map[string]string{"gatewayresponse.header.x-a": "'b'"},
		Templates:  map[string]string{"application/json": `{"m":"$context.error.message"}`},
	}}
	if !reflect.DeepEqual(got.GatewayResponses, wantGR) {
		t.Errorf("gateway responses = %+v, want %+v", got.GatewayResponses, wantGR)
	}
	st := got.Stage("test-invoke-stage")
	if st == nil || !reflect.DeepEqual(st.Variables, vars) || st.Deployment.ID != "testinvoke" ||
		len(st.Deployment.Routes) != 1 || len(st.Deployment.Models) != 1 {
		t.Fatalf("stage = %+v, want one serving deployment testinvoke of the route and the API's model", st)
	}

	// The converted maps are copies: the records stay the caller's.
	api.GetGatewayResponses()[0].GetResponseParameters()["gatewayresponse.header.x-a"] = "'c'"
	vars["v"] = "2"
	if got.GatewayResponses["THROTTLED"].Headers["gatewayresponse.header.x-a"] != "'b'" || st.Variables["v"] != "1" {
		t.Error("the converted API shares a map with the records")
	}

	// A route naming a model the API does not have is refused, as a
	// deployment of it would be.
	route.RequestValidation.RequestModels["$default"] = "Cat"
	if _, err := RouteAPI(api, route, in, "s", nil, "testinvoke"); err == nil || !strings.Contains(err.Error(), `model "Cat"`) {
		t.Errorf("RouteAPI with a missing model: %v, want an error naming it", err)
	}
	route.RequestValidation.RequestModels["$default"] = "Pet"
	api.Protocol = adminv1.Protocol_PROTOCOL_UNSPECIFIED
	if _, err := RouteAPI(api, route, in, "s", nil, "testinvoke"); err == nil {
		t.Error("RouteAPI of an API without a protocol: no error")
	}
}
