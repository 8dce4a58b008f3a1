package admin

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func TestGatewayResponseCRUD(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "pets")

	// Nothing customized: every type answers with API Gateway's default.
	list, err := e.ListGatewayResponses(e.ctx, &adminv1.ListGatewayResponsesRequest{ApiId: api.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(list.GetGatewayResponses()), len(gatewayresponse.Types()); got != want {
		t.Fatalf("ListGatewayResponses returned %d responses, want %d", got, want)
	}
	for i, r := range list.GetGatewayResponses() {
		if !r.GetDefaultResponse() || r.GetResponseType() != string(gatewayresponse.Types()[i]) {
			t.Errorf("response %d = %v, want the default of %s", i, r, gatewayresponse.Types()[i])
		}
	}
	th, err := e.GetGatewayResponse(e.ctx, &adminv1.GetGatewayResponseRequest{ApiId: api.GetId(), ResponseType: "THROTTLED"})
	if err != nil {
		t.Fatal(err)
	}
	if th.GetStatusCode() != 429 || !th.GetDefaultResponse() ||
		th.GetResponseTemplates()["application/json"] != gatewayresponse.DefaultTemplate {
		t.Errorf("default THROTTLED = %v", th)
	}

	custom := &adminv1.GatewayResponse{
		ResponseType:       "THROTTLED",
		StatusCode:         503,
		ResponseParameters: map[string]string{"gatewayresponse.header.x-request-id": "context.requestId"},
		ResponseTemplates:  map[string]string{"application/json": `{"error": "$context.error.message"}`},
		DefaultResponse:    true, // output only: ignored
	}
	put, err := e.PutGatewayResponse(e.ctx, &adminv1.PutGatewayResponseRequest{ApiId: api.GetId(), GatewayResponse: custom, Etag: api.GetEtag()})
	if err != nil {
		t.Fatal(err)
	}
	want := proto.CloneOf(custom)
	want.DefaultResponse = false
	if !proto.Equal(put, want) {
		t.Errorf("PutGatewayResponse = %v, want %v", put, want)
	}
	// A second type sorts before the first in the stored API.
	_, err = e.PutGatewayResponse(e.ctx, &adminv1.PutGatewayResponseRequest{ApiId: api.GetId(), GatewayResponse: &adminv1.GatewayResponse{
		ResponseType: "DEFAULT_4XX", ResponseParameters: map[string]string{"gatewayresponse.header.access-control-allow-origin": "'*'"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.GetApi(e.ctx, &adminv1.GetApiRequest{Id: api.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if rs := got.GetGatewayResponses(); len(rs) != 2 || rs[0].GetResponseType() != "DEFAULT_4XX" || !proto.Equal(rs[1], want) {
		t.Errorf("api.gateway_responses = %v, want DEFAULT_4XX then the THROTTLED put", rs)
	}
	th, err = e.GetGatewayResponse(e.ctx, &adminv1.GetGatewayResponseRequest{ApiId: api.GetId(), ResponseType: "THROTTLED"})
	if err != nil || !proto.Equal(th, want) {
		t.Errorf("GetGatewayResponse = %v, %v; want %v", th, err, want)
	}

	// Putting the same thing again writes nothing.
	before := e.revision(t)
	if _, err := e.PutGatewayResponse(e.ctx, &adminv1.PutGatewayResponseRequest{ApiId: api.GetId(), GatewayResponse: custom}); err != nil {
		t.Fatal(err)
	}
	e.wantNoWrite(t, before, "an unchanged PutGatewayResponse")

	// A stale etag is refused.
	_, err = e.PutGatewayResponse(e.ctx, &adminv1.PutGatewayResponseRequest{ApiId: api.GetId(), GatewayResponse: custom, Etag: api.GetEtag()})
	wantPrecondition(t, err, failureEtag)

	if _, err := e.DeleteGatewayResponse(e.ctx, &adminv1.DeleteGatewayResponseRequest{ApiId: api.GetId(), ResponseType: "THROTTLED"}); err != nil {
		t.Fatal(err)
	}
	th, err = e.GetGatewayResponse(e.ctx, &adminv1.GetGatewayResponseRequest{ApiId: api.GetId(), ResponseType: "THROTTLED"})
	if err != nil || !th.GetDefaultResponse() || th.GetStatusCode() != 429 {
		t.Errorf("after delete, THROTTLED = %v, %v; want the default", th, err)
	}
	_, err = e.DeleteGatewayResponse(e.ctx, &adminv1.DeleteGatewayResponseRequest{ApiId: api.GetId(), ResponseType: "THROTTLED"})
	wantCode(t, err, codes.NotFound)
	_, err = e.ListGatewayResponses(e.ctx, &adminv1.ListGatewayResponsesRequest{ApiId: "nosuchapi0"})
	wantCode(t, err, codes.NotFound)

	// UpdateApi replaces the whole set.
	upd, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{
		Api: &adminv1.Api{Id: api.GetId(), GatewayResponses: []*adminv1.GatewayResponse{
			{ResponseType: "QUOTA_EXCEEDED", StatusCode: 402}, {ResponseType: "BAD_REQUEST_BODY"},
		}, BinaryMediaTypes: []string{"image/png", "application/*"}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"gateway_responses", "binary_media_types"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rs := upd.GetGatewayResponses(); len(rs) != 2 || rs[0].GetResponseType() != "BAD_REQUEST_BODY" || rs[1].GetStatusCode() != 402 {
		t.Errorf("updated gateway_responses = %v, want BAD_REQUEST_BODY and QUOTA_EXCEEDED in order", rs)
	}
	if bt := upd.GetBinaryMediaTypes(); len(bt) != 2 || bt[0] != "image/png" {
		t.Errorf("binary_media_types = %q", bt)
	}
}

func TestGatewayResponseViolations(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "pets")
	put := func(r *adminv1.GatewayResponse) func() error {
		return func() error {
			_, err := e.PutGatewayResponse(e.ctx, &adminv1.PutGatewayResponseRequest{ApiId: api.GetId(), GatewayResponse: r})
			return err
		}
	}
	violationCases{
		"unknown type":    {put(&adminv1.GatewayResponse{ResponseType: "THROTTLE"}), []string{"gateway_response.response_type"}},
		"lower-case type": {put(&adminv1.GatewayResponse{ResponseType: "throttled"}), []string{"gateway_response.response_type"}},
		"status":          {put(&adminv1.GatewayResponse{ResponseType: "THROTTLED", StatusCode: 99}), []string{"gateway_response.status_code"}},
		"parameters": {put(&adminv1.GatewayResponse{ResponseType: "THROTTLED", ResponseParameters: map[string]string{
			"gatewayresponse.header.ok":     "'static'",
			"gatewayresponse.header.source": "method.response.header.x",
			"gatewayresponse.body.x":        "'a'",
			"gatewayresponse.header.quote":  "'unterminated",
		}}), []string{
			`gateway_response.response_parameters["gatewayresponse.body.x"]`,
			`gateway_response.response_parameters["gatewayresponse.header.quote"]`,
			`gateway_response.response_parameters["gatewayresponse.header.source"]`,
		}},
		"template": {put(&adminv1.GatewayResponse{ResponseType: "DEFAULT_5XX", ResponseTemplates: map[string]string{
			"application/json": `#if($x`, "Text/Plain": "ok",
			// The data plane keys templates by a response's content type:
			// it refuses, and the API would lose every override, keys
			// that no response can have.
			"text": "ok", "text/*": "ok",
		}}), []string{
			`gateway_response.response_templates["Text/Plain"]`,
			`gateway_response.response_templates["application/json"]`,
			`gateway_response.response_templates["text"]`,
			`gateway_response.response_templates["text/*"]`,
		}},
		"missing": {put(nil), []string{"gateway_response"}},
		"bad api id": {func() error {
			_, err := e.PutGatewayResponse(e.ctx, &adminv1.PutGatewayResponseRequest{ApiId: "X", GatewayResponse: &adminv1.GatewayResponse{ResponseType: "THROTTLED"}})
			return err
		}, []string{"api_id"}},
		"get unknown type": {func() error {
			_, err := e.GetGatewayResponse(e.ctx, &adminv1.GetGatewayResponseRequest{ApiId: api.GetId(), ResponseType: "NOPE"})
			return err
		}, []string{"response_type"}},
		"delete unknown type": {func() error {
			_, err := e.DeleteGatewayResponse(e.ctx, &adminv1.DeleteGatewayResponseRequest{ApiId: api.GetId(), ResponseType: ""})
			return err
		}, []string{"response_type"}},
		"twice in an update": {func() error {
			_, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{
				Api: &adminv1.Api{Id: api.GetId(), GatewayResponses: []*adminv1.GatewayResponse{
					{ResponseType: "THROTTLED"}, {ResponseType: "THROTTLED", StatusCode: 500},
				}},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"gateway_responses"}},
			})
			return err
		}, []string{"api.gateway_responses[1].response_type"}},
		"binary media types": {func() error {
			_, err := e.CreateApi(e.ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{
				Name: "bin", BinaryMediaTypes: []string{
					"image/png", "image", "*/png", "Image/PNG", "image/png; q=1", "image/png", strings.Repeat("a", 130) + "/b",
					"*/*", "image/*", "image/*x", "im*/png", "image/",
				},
			}})
			return err
		}, []string{
			"api.binary_media_types[1]", "api.binary_media_types[2]", "api.binary_media_types[3]",
			"api.binary_media_types[4]", "api.binary_media_types[5]", "api.binary_media_types[6]",
			"api.binary_media_types[9]", "api.binary_media_types[10]", "api.binary_media_types[11]",
		}},
	}.run(t, e)
}
