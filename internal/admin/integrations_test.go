package admin

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func proxyIntegration(name, uri string) *adminv1.Integration {
	return &adminv1.Integration{Name: name, Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{Uri: uri}}}
}

func TestIntegrationCRUD(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "integrations")
	in := proxyIntegration("backend", "https://${stageVariables.host}/v1/{proxy}")
	in.GetHttpProxy().Timeout = durationpb.New(5 * time.Second)
	i, err := e.CreateIntegration(e.ctx, &adminv1.CreateIntegrationRequest{ApiId: api.GetId(), Integration: in})
	if err != nil {
		t.Fatal(err)
	}
	if !validID(i.GetId()) || i.GetApiId() != api.GetId() || i.GetEtag() == "" || !proto.Equal(i.GetHttpProxy(), in.GetHttpProxy()) {
		t.Errorf("created integration = %v", i)
	}
	got, err := e.GetIntegration(e.ctx, &adminv1.GetIntegrationRequest{ApiId: api.GetId(), Id: i.GetId()})
	if err != nil || !proto.Equal(got, i) {
		t.Fatalf("GetIntegration = %v, %v; want %v", got, err, i)
	}
	// Naming the other kind in the mask replaces the kind.
	upd, err := e.UpdateIntegration(e.ctx, &adminv1.UpdateIntegrationRequest{
		Integration: &adminv1.Integration{
			ApiId: api.GetId(), Id: i.GetId(), Etag: i.GetEtag(),
			Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: 204}},
		},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"mock"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if upd.GetHttpProxy() != nil || upd.GetMock().GetStatusCode() != 204 || upd.GetName() != "backend" {
		t.Errorf("updated integration = %v, want a mock named backend", upd)
	}
	list, err := e.ListIntegrations(e.ctx, &adminv1.ListIntegrationsRequest{ApiId: api.GetId()})
	if err != nil || len(list.GetIntegrations()) != 1 || !proto.Equal(list.GetIntegrations()[0], upd) {
		t.Fatalf("ListIntegrations = %v, %v", list, err)
	}
	if _, err := e.DeleteIntegration(e.ctx, &adminv1.DeleteIntegrationRequest{ApiId: api.GetId(), Id: i.GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err = e.GetIntegration(e.ctx, &adminv1.GetIntegrationRequest{ApiId: api.GetId(), Id: i.GetId()})
	wantCode(t, err, codes.NotFound)
}

func TestIntegrationNameUnique(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "names")
	e.mustMock(t, api.GetId(), "a")
	b := e.mustMock(t, api.GetId(), "b")
	_, err := e.CreateIntegration(e.ctx, &adminv1.CreateIntegrationRequest{ApiId: api.GetId(), Integration: mockIntegration("a")})
	wantCode(t, err, codes.AlreadyExists)
	_, err = e.UpdateIntegration(e.ctx, &adminv1.UpdateIntegrationRequest{
		Integration: &adminv1.Integration{ApiId: api.GetId(), Id: b.GetId(), Name: "a"},
		UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"name"}},
	})
	wantCode(t, err, codes.AlreadyExists)
	// Another API may use the same name.
	other := e.mustAPI(t, "other")
	e.mustMock(t, other.GetId(), "a")
}

func TestDeleteReferencedIntegration(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "refs")
	i := e.mustMock(t, api.GetId(), "m")
	r := e.mustRoute(t, api.GetId(), "GET", "/pets", i.GetId())
	before := e.revision(t)
	_, err := e.DeleteIntegration(e.ctx, &adminv1.DeleteIntegrationRequest{ApiId: api.GetId(), Id: i.GetId()})
	wantPrecondition(t, err, failureInUse)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, r.GetId()) || !strings.Contains(msg, "GET /pets") {
		t.Errorf("message %q does not name route %s", msg, r.GetId())
	}
	e.wantNoWrite(t, before, "refused delete")
	if _, err := e.DeleteRoute(e.ctx, &adminv1.DeleteRouteRequest{ApiId: api.GetId(), Id: r.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteIntegration(e.ctx, &adminv1.DeleteIntegrationRequest{ApiId: api.GetId(), Id: i.GetId()}); err != nil {
		t.Errorf("delete after the route is gone: %v", err)
	}
}

func TestIntegrationStaleEtag(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "etags")
	i := e.mustMock(t, api.GetId(), "m")
	if _, err := e.UpdateIntegration(e.ctx, &adminv1.UpdateIntegrationRequest{
		Integration: &adminv1.Integration{ApiId: api.GetId(), Id: i.GetId(), Description: "v2"},
		UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"description"}},
	}); err != nil {
		t.Fatal(err)
	}
	before := e.revision(t)
	_, err := e.UpdateIntegration(e.ctx, &adminv1.UpdateIntegrationRequest{
		Integration: &adminv1.Integration{ApiId: api.GetId(), Id: i.GetId(), Description: "v3", Etag: i.GetEtag()},
		UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"description"}},
	})
	wantPrecondition(t, err, failureEtag)
	_, err = e.DeleteIntegration(e.ctx, &adminv1.DeleteIntegrationRequest{ApiId: api.GetId(), Id: i.GetId(), Etag: i.GetEtag()})
	wantPrecondition(t, err, failureEtag)
	e.wantNoWrite(t, before, "stale etag")
}

func TestIntegrationValidation(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "valid")
	existing := e.mustMock(t, api.GetId(), "m")
	create := func(i *adminv1.Integration) func() error {
		return func() error {
			_, err := e.CreateIntegration(e.ctx, &adminv1.CreateIntegrationRequest{ApiId: api.GetId(), Integration: i})
			return err
		}
	}
	tests := violationCases{
		"no kind":      {create(&adminv1.Integration{Name: "x"}), []string{"integration.kind"}},
		"relative uri": {create(proxyIntegration("x", "/pets")), []string{"integration.http_proxy.uri"}},
		"userinfo uri": {create(proxyIntegration("x", "http://user:pw@h/")), []string{"integration.http_proxy.uri"}},
		"everything bad": {create(&adminv1.Integration{
			Name: "bad name", Description: strings.Repeat("d", 2000),
			Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{
				Uri: "ftp://h/", Method: "ANY", Timeout: durationpb.New(time.Hour),
			}},
		}), []string{
			"integration.name", "integration.description", "integration.http_proxy.uri",
			"integration.http_proxy.method", "integration.http_proxy.timeout",
		}},
		"bad mock": {create(&adminv1.Integration{Name: "x", Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{
			StatusCode: 99, Headers: map[string]string{"bad header": "v"},
		}}}), []string{"integration.mock.status_code", `integration.mock.headers["bad header"]`}},
		"template mock, everything bad": {create(&adminv1.Integration{Name: "x", Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{
			StatusCode: 200,
			RequestTemplates: map[string]string{
				"application/json": `#if($x)`, "Text/Plain; charset=utf-8": `{"statusCode": 200}`,
			},
			PassthroughBehavior: 9,
			IntegrationResponses: []*adminv1.IntegrationResponse{
				{StatusCode: 200},
				{StatusCode: 600, SelectionPattern: "(4"},
				{StatusCode: 500, ResponseHeaders: map[string]string{"x-a": "unquoted", "bad header": "'v'"}},
				{StatusCode: 201, ResponseTemplates: map[string]string{"application/json": `#end`}},
			},
		}}}), []string{
			"integration.mock", `integration.mock.request_templates["Text/Plain; charset=utf-8"]`,
			`integration.mock.request_templates["application/json"]`, "integration.mock.passthrough_behavior",
			"integration.mock.integration_responses[1].selection_pattern", "integration.mock.integration_responses[1].status_code",
			"integration.mock.integration_responses[2].selection_pattern",
			`integration.mock.integration_responses[2].response_headers["bad header"]`,
			`integration.mock.integration_responses[2].response_headers["x-a"]`,
			`integration.mock.integration_responses[3].response_templates["application/json"]`,
		}},
		"bad function": {create(&adminv1.Integration{Name: "x", Kind: &adminv1.Integration_Function{Function: &adminv1.FunctionIntegration{
			Uri: "http://user:pw@fn:9000/?q", InvokePath: "relative", PayloadFormatVersion: "3.0", Timeout: durationpb.New(time.Hour),
		}}}), []string{
			"integration.function.uri", "integration.function.invoke_path",
			"integration.function.payload_format_version", "integration.function.timeout",
		}},
		"bad http": {create(&adminv1.Integration{Name: "x", Kind: &adminv1.Integration_Http{Http: &adminv1.HttpIntegration{
			Uri: "ftp://h/", Method: "ANY",
			RequestTemplates: map[string]string{"application/json": "#end"},
			RequestParameters: map[string]string{
				"integration.request.header.x-a":  "method.request.body.x",
				"integration.response.header.x-b": "'v'",
			},
			IntegrationResponses: []*adminv1.IntegrationResponse{{
				StatusCode: 200, ResponseHeaders: map[string]string{"x-c": "integration.response.header.", "x-d": "nope"},
			}},
		}}}), []string{
			"integration.http.uri", "integration.http.method", `integration.http.request_templates["application/json"]`,
			`integration.http.request_parameters["integration.request.header.x-a"]`,
			`integration.http.request_parameters["integration.response.header.x-b"]`,
			`integration.http.integration_responses[0].response_headers["x-c"]`,
			`integration.http.integration_responses[0].response_headers["x-d"]`,
		}},
		"http uri parameter without a mapping": {create(&adminv1.Integration{Name: "x", Kind: &adminv1.Integration_Http{Http: &adminv1.HttpIntegration{
			Uri: "http://h/pets/{id}/${stageVariables.v}",
		}}}), []string{"integration.http.request_parameters"}},
		"function without uri": {
			create(&adminv1.Integration{Name: "x", Kind: &adminv1.Integration_Function{Function: &adminv1.FunctionIntegration{}}}),
			[]string{"integration.function.uri"},
		},
		"template mock without request templates": {create(&adminv1.Integration{Name: "x", Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{
			IntegrationResponses: []*adminv1.IntegrationResponse{{StatusCode: 200}},
		}}}), []string{"integration.mock.request_templates"}},
		"template mock without responses": {create(&adminv1.Integration{Name: "x", Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{
			RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`},
		}}}), []string{"integration.mock.integration_responses"}},
		"update to bad uri": {func() error {
			_, err := e.UpdateIntegration(e.ctx, &adminv1.UpdateIntegrationRequest{
				Integration: &adminv1.Integration{
					ApiId: api.GetId(), Id: existing.GetId(),
					Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{Uri: "nope"}},
				},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"http_proxy"}},
			})
			return err
		}, []string{"integration.http_proxy.uri"}},
		"update immutable": {func() error {
			_, err := e.UpdateIntegration(e.ctx, &adminv1.UpdateIntegrationRequest{
				Integration: &adminv1.Integration{ApiId: api.GetId(), Id: existing.GetId()},
				UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"update_time", "mock.status_code"}},
			})
			return err
		}, []string{"update_mask", "update_mask"}},
	}
	tests.run(t, e)
}

// TestHTTPIntegration checks that a non-proxy HTTP integration in AWS's form
// is accepted and kept as written.
func TestHTTPIntegration(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "http")
	in := &adminv1.HttpIntegration{
		Uri: "http://127.0.0.1:8081/pets/{id}", Method: "POST",
		RequestTemplates:    map[string]string{"application/json": `{"name": $input.json('$.name')}`},
		PassthroughBehavior: adminv1.PassthroughBehavior_PASSTHROUGH_BEHAVIOR_WHEN_NO_TEMPLATES,
		RequestParameters: map[string]string{
			"integration.request.path.id":           "method.request.path.petId",
			"integration.request.header.x-tenant":   "'acme'",
			"integration.request.querystring.trace": "context.requestId",
		},
		IntegrationResponses: []*adminv1.IntegrationResponse{
			{StatusCode: 200, ResponseHeaders: map[string]string{"x-backend": "integration.response.header.server"}},
			{SelectionPattern: "4\\d{2}", StatusCode: 400, ResponseTemplates: map[string]string{"application/json": `{"message": "bad pet"}`}},
		},
	}
	created, err := e.CreateIntegration(e.ctx, &adminv1.CreateIntegrationRequest{ApiId: api.GetId(), Integration: &adminv1.Integration{
		Name: "pets", Kind: &adminv1.Integration_Http{Http: in},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(created.GetHttp(), in) {
		t.Errorf("stored = %v, want %v", created.GetHttp(), in)
	}
}

// TestTemplateMock checks that a mock in AWS's template form is accepted
// and kept as written.
func TestTemplateMock(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "templated")
	mock := &adminv1.MockIntegration{
		RequestTemplates:    map[string]string{"application/json": `{"statusCode": #if($input.params('fail') == 'yes')500#{else}200#end}`},
		PassthroughBehavior: adminv1.PassthroughBehavior_PASSTHROUGH_BEHAVIOR_NEVER,
		IntegrationResponses: []*adminv1.IntegrationResponse{
			{StatusCode: 200, ResponseTemplates: map[string]string{"application/json": `{"id": "$context.requestId"}`}},
			{SelectionPattern: "5\\d{2}", StatusCode: 503, ResponseHeaders: map[string]string{"retry-after": "'1'"}},
		},
	}
	created, err := e.CreateIntegration(e.ctx, &adminv1.CreateIntegrationRequest{ApiId: api.GetId(), Integration: &adminv1.Integration{
		Name: "templated", Kind: &adminv1.Integration_Mock{Mock: mock},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.GetIntegration(e.ctx, &adminv1.GetIntegrationRequest{ApiId: api.GetId(), Id: created.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got.GetMock(), mock) {
		t.Errorf("stored mock = %v, want %v", got.GetMock(), mock)
	}
}
