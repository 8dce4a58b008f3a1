package admin

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func TestRouteCRUD(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "routes")
	i1 := e.mustMock(t, api.GetId(), "one")
	i2 := e.mustMock(t, api.GetId(), "two")
	r, err := e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: &adminv1.Route{
		Id: "ignored", ApiId: "ignored", Method: "GET", Path: "/pets/{petId}", IntegrationId: i1.GetId(),
		Description: "one pet", Tags: map[string]string{"k": "v"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !validID(r.GetId()) || r.GetApiId() != api.GetId() || r.GetEtag() == "" {
		t.Errorf("created route %v: want a new id, the api id and an etag", r)
	}
	got, err := e.GetRoute(e.ctx, &adminv1.GetRouteRequest{ApiId: api.GetId(), Id: r.GetId()})
	if err != nil || !proto.Equal(got, r) {
		t.Fatalf("GetRoute = %v, %v; want %v", got, err, r)
	}
	upd, err := e.UpdateRoute(e.ctx, &adminv1.UpdateRouteRequest{
		Route:      &adminv1.Route{ApiId: api.GetId(), Id: r.GetId(), IntegrationId: i2.GetId(), Path: "/ignored", Etag: r.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"integration_id"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if upd.GetIntegrationId() != i2.GetId() || upd.GetPath() != "/pets/{petId}" || upd.GetEtag() == r.GetEtag() {
		t.Errorf("updated route = %v", upd)
	}
	if _, err := e.DeleteRoute(e.ctx, &adminv1.DeleteRouteRequest{ApiId: api.GetId(), Id: r.GetId(), Etag: upd.GetEtag()}); err != nil {
		t.Fatal(err)
	}
	_, err = e.GetRoute(e.ctx, &adminv1.GetRouteRequest{ApiId: api.GetId(), Id: r.GetId()})
	wantCode(t, err, codes.NotFound)
	_, err = e.DeleteRoute(e.ctx, &adminv1.DeleteRouteRequest{ApiId: api.GetId(), Id: r.GetId()})
	wantCode(t, err, codes.NotFound)
	_, err = e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: "nosuchapi0", Route: &adminv1.Route{Method: "GET", Path: "/", IntegrationId: i1.GetId()}})
	wantCode(t, err, codes.NotFound)
}

func TestRouteValidation(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "routes")
	integ := e.mustMock(t, api.GetId(), "m")
	r := e.mustRoute(t, api.GetId(), "GET", "/pets", integ.GetId())
	create := func(route *adminv1.Route) func() error {
		return func() error {
			_, err := e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: route})
			return err
		}
	}
	update := func(route *adminv1.Route, paths ...string) func() error {
		return func() error {
			route.ApiId, route.Id = api.GetId(), r.GetId()
			_, err := e.UpdateRoute(e.ctx, &adminv1.UpdateRouteRequest{Route: route, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
			return err
		}
	}
	tests := violationCases{
		"bad request validation": {create(&adminv1.Route{
			Method: "POST", Path: "/pets/{id}", IntegrationId: integ.GetId(),
			RequestValidation: &adminv1.RequestValidation{
				ValidateParameters: true, ValidateBody: true,
				RequiredParameters: []string{
					"method.request.querystring.ok", "method.request.path.nope", "method.request.body.x", "method.request.header.",
				},
				BodyModels: map[string]string{
					"application/json": `{"type": "object", "required": "name"}`,
					"Text/Plain":       `{}`,
					"application/xml":  `not json`,
				},
			},
		}), []string{
			"route.request_validation.required_parameters[1]", "route.request_validation.required_parameters[2]",
			"route.request_validation.required_parameters[3]",
			`route.request_validation.body_models["Text/Plain"]`, `route.request_validation.body_models["application/json"]`,
			`route.request_validation.body_models["application/xml"]`,
		}},
		"bad path": {create(&adminv1.Route{Method: "GET", Path: "/pets/{id", IntegrationId: integ.GetId()}), []string{"route.path"}},
		"lower-case method": {
			create(&adminv1.Route{Method: "get", Path: "/", IntegrationId: integ.GetId()}),
			[]string{"route.method"},
		},
		"unknown integration": {
			create(&adminv1.Route{Method: "GET", Path: "/", IntegrationId: "abcdefghij"}),
			[]string{"route.integration_id"},
		},
		"missing integration": {create(&adminv1.Route{Method: "GET", Path: "/"}), []string{"route.integration_id"}},
		"every field bad": {create(&adminv1.Route{
			Method: "FETCH", Path: "pets", IntegrationId: "abcdefghij", Description: strings.Repeat("d", 1025),
			Tags: map[string]string{"": "x"},
		}), []string{"route.method", "route.path", "route.description", `route.tags[""]`, "route.integration_id"}},
		"bad api id": {func() error {
			_, err := e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: "x/y", Route: &adminv1.Route{
				Method: "GET", Path: "/", IntegrationId: integ.GetId(),
			}})
			return err
		}, []string{"api_id"}},
		"update to bad path": {update(&adminv1.Route{Path: "/a//b"}, "path"), []string{"route.path"}},
		"update immutable":   {update(&adminv1.Route{}, "api_id", "etag"), []string{"update_mask", "update_mask"}},
		"update bad ids": {func() error {
			_, err := e.UpdateRoute(e.ctx, &adminv1.UpdateRouteRequest{Route: &adminv1.Route{ApiId: "x", Id: "y"}})
			return err
		}, []string{"route.api_id", "route.id"}},
		"list bad token": {func() error {
			_, err := e.ListRoutes(e.ctx, &adminv1.ListRoutesRequest{ApiId: api.GetId(), PageToken: "%%%"})
			return err
		}, []string{"page_token"}},
		"list token of another collection": {func() error {
			token := encodePageToken(store.StageKey(api.GetId(), "prod"))
			_, err := e.ListRoutes(e.ctx, &adminv1.ListRoutesRequest{ApiId: api.GetId(), PageToken: token})
			return err
		}, []string{"page_token"}},
		"list token of another api": {func() error {
			token := encodePageToken(store.RouteKey("otherapi00", r.GetId()))
			_, err := e.ListRoutes(e.ctx, &adminv1.ListRoutesRequest{ApiId: api.GetId(), PageToken: token})
			return err
		}, []string{"page_token"}},
	}
	tests.run(t, e)
}

func TestRouteViolationMessage(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "msg")
	integ := e.mustMock(t, api.GetId(), "m")
	_, err := e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: &adminv1.Route{
		Method: "GET", Path: "/pets/{id", IntegrationId: integ.GetId(),
	}})
	want := `invalid CreateRouteRequest: route.path: segment 2 "{id": a parameter must be a whole segment: {name} or {name+}`
	if msg := status.Convert(err).Message(); msg != want {
		t.Errorf("message = %q\nwant %q", msg, want)
	}
}

func TestDuplicateRouteShape(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "dups")
	integ := e.mustMock(t, api.GetId(), "m")
	e.mustRoute(t, api.GetId(), "GET", "/pets/{id}", integ.GetId())
	other := e.mustRoute(t, api.GetId(), "POST", "/pets/{name}", integ.GetId())
	e.mustRoute(t, api.GetId(), "ANY", "/pets/{id}", integ.GetId())
	before := e.revision(t)
	_, err := e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: &adminv1.Route{
		Method: "GET", Path: "/pets/{name}", IntegrationId: integ.GetId(),
	}})
	wantCode(t, err, codes.AlreadyExists)
	_, err = e.UpdateRoute(e.ctx, &adminv1.UpdateRouteRequest{
		Route:      &adminv1.Route{ApiId: api.GetId(), Id: other.GetId(), Method: "GET"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"method"}},
	})
	wantCode(t, err, codes.AlreadyExists)
	e.wantNoWrite(t, before, "duplicate")
	// Renaming a parameter of a route is no conflict with itself.
	if _, err := e.UpdateRoute(e.ctx, &adminv1.UpdateRouteRequest{
		Route:      &adminv1.Route{ApiId: api.GetId(), Id: other.GetId(), Path: "/pets/{petName}"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"path"}},
	}); err != nil {
		t.Fatal(err)
	}
}

func TestListRoutesPaging(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "many")
	integ := e.mustMock(t, api.GetId(), "m")
	want := map[string]bool{}
	for i := range 250 {
		want[e.mustRoute(t, api.GetId(), "GET", fmt.Sprintf("/r%03d", i), integ.GetId()).GetId()] = true
	}
	var sizes []int
	got := map[string]bool{}
	for token := ""; ; {
		resp, err := e.ListRoutes(e.ctx, &adminv1.ListRoutesRequest{ApiId: api.GetId(), PageSize: 100, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(resp.GetRoutes()))
		for _, r := range resp.GetRoutes() {
			got[r.GetId()] = true
		}
		if token = resp.GetNextPageToken(); token == "" || len(sizes) > 3 {
			break
		}
	}
	if fmt.Sprint(sizes) != "[100 100 50]" || len(got) != 250 {
		t.Errorf("page sizes %v, %d distinct routes; want [100 100 50] and 250", sizes, len(got))
	}
	for id := range want {
		if !got[id] {
			t.Errorf("route %s never listed", id)
		}
	}
	resp, err := e.ListRoutes(e.ctx, &adminv1.ListRoutesRequest{ApiId: api.GetId()})
	if err != nil || len(resp.GetRoutes()) != defaultPageSize {
		t.Errorf("default page has %d routes (%v), want %d", len(resp.GetRoutes()), err, defaultPageSize)
	}
	_, err = e.ListRoutes(e.ctx, &adminv1.ListRoutesRequest{ApiId: "nosuchapi0"})
	wantCode(t, err, codes.NotFound)
}

func TestRouteStaleEtag(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "etags")
	integ := e.mustMock(t, api.GetId(), "m")
	r := e.mustRoute(t, api.GetId(), "GET", "/", integ.GetId())
	if _, err := e.UpdateRoute(e.ctx, &adminv1.UpdateRouteRequest{Route: &adminv1.Route{
		ApiId: api.GetId(), Id: r.GetId(), Description: "v2",
	}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}}); err != nil {
		t.Fatal(err)
	}
	before := e.revision(t)
	_, err := e.UpdateRoute(e.ctx, &adminv1.UpdateRouteRequest{Route: &adminv1.Route{
		ApiId: api.GetId(), Id: r.GetId(), Description: "v3", Etag: r.GetEtag(),
	}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}})
	wantPrecondition(t, err, failureEtag)
	_, err = e.DeleteRoute(e.ctx, &adminv1.DeleteRouteRequest{ApiId: api.GetId(), Id: r.GetId(), Etag: r.GetEtag()})
	wantPrecondition(t, err, failureEtag)
	e.wantNoWrite(t, before, "stale etag")
	got, err := e.GetRoute(e.ctx, &adminv1.GetRouteRequest{ApiId: api.GetId(), Id: r.GetId()})
	if err != nil || got.GetDescription() != "v2" {
		t.Errorf("route after stale writes = %v, %v; want description v2", got, err)
	}
}

func TestConcurrentCreateRoutes(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "race")
	integ := e.mustMock(t, api.GetId(), "m")
	const n = maxAttempts
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: &adminv1.Route{
				Method: "GET", Path: fmt.Sprintf("/race/%d", i), IntegrationId: integ.GetId(),
			}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("create %d: %v", i, err)
		}
	}
	resp, err := e.ListRoutes(e.ctx, &adminv1.ListRoutesRequest{ApiId: api.GetId()})
	if err != nil || len(resp.GetRoutes()) != n {
		t.Fatalf("ListRoutes = %d routes, %v; want %d", len(resp.GetRoutes()), err, n)
	}
	paths := map[string]bool{}
	for _, r := range resp.GetRoutes() {
		paths[r.GetPath()] = true
	}
	for i := range n {
		if p := fmt.Sprintf("/race/%d", i); !paths[p] {
			t.Errorf("route %s lost", p)
		}
	}
}

func TestRouteAndIntegrationLimits(t *testing.T) {
	e := newEnv(t)
	def := &adminv1.ApiDefinition{Name: "full"}
	for i := range maxIntegrations {
		def.Integrations = append(def.Integrations, &adminv1.IntegrationDefinition{
			Name: fmt.Sprintf("i%d", i),
			Kind: &adminv1.IntegrationDefinition_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200}},
		})
	}
	for i := range maxRoutes {
		def.Routes = append(def.Routes, &adminv1.RouteDefinition{Method: "GET", Path: fmt.Sprintf("/r%d", i), Integration: "i0"})
	}
	api := e.apply(t, &adminv1.ApplyApiRequest{Definition: def}).GetApi()
	before := e.revision(t)
	_, err := e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: &adminv1.Route{
		Method: "GET", Path: "/one-too-many", IntegrationId: e.mustList(t, api.GetId())[0],
	}})
	wantPrecondition(t, err, failureLimit)
	_, err = e.CreateIntegration(e.ctx, &adminv1.CreateIntegrationRequest{ApiId: api.GetId(), Integration: mockIntegration("one-too-many")})
	wantPrecondition(t, err, failureLimit)
	def.Routes = append(def.Routes, &adminv1.RouteDefinition{Method: "POST", Path: "/", Integration: "i0"})
	_, err = e.ApplyApi(e.ctx, &adminv1.ApplyApiRequest{Definition: def})
	wantPrecondition(t, err, failureLimit)
	e.wantNoWrite(t, before, "over-limit requests")
}

// mustList returns the ids of an API's first page of integrations.
func (e *env) mustList(t *testing.T, apiID string) []string {
	t.Helper()
	resp, err := e.ListIntegrations(e.ctx, &adminv1.ListIntegrationsRequest{ApiId: apiID})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range resp.GetIntegrations() {
		ids = append(ids, i.GetId())
	}
	return ids
}

// TestContentSizeLimit fills an API with large mock bodies until its
// routes and integrations pass maxContentBytes: that integration is
// refused and nothing is written.
func TestContentSizeLimit(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "big")
	body := strings.Repeat("x", 60<<10)
	n := maxContentBytes/len(body) + 1
	create := func(i int) error {
		_, err := e.CreateIntegration(e.ctx, &adminv1.CreateIntegrationRequest{ApiId: api.GetId(), Integration: &adminv1.Integration{
			Name: fmt.Sprintf("mock%d", i),
			Kind: &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{StatusCode: 200, Body: body}},
		}})
		return err
	}
	for i := range n - 1 {
		if err := create(i); err != nil {
			t.Fatalf("integration %d of %d: %v", i, n, err)
		}
	}
	before := e.revision(t)
	wantPrecondition(t, create(n-1), failureLimit)
	e.wantNoWrite(t, before, "refused integration")
}

// TestRouteRequestValidation checks that a route's request validator, as
// AWS's, is accepted and kept as written.
func TestRouteRequestValidation(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "validated")
	integ := e.mustMock(t, api.GetId(), "m")
	rv := &adminv1.RequestValidation{
		ValidateParameters: true, ValidateBody: true,
		RequiredParameters: []string{"method.request.querystring.q", "method.request.header.x-tenant", "method.request.path.id"},
		BodyModels: map[string]string{
			"application/json": `{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": ["name"],
				"properties": {"name": {"type": "string"}, "tag": {"$ref": "#/definitions/tag"}},
				"definitions": {"tag": {"type": "string", "maxLength": 8}}}`,
			"$default": `{"type": "object"}`,
		},
	}
	created, err := e.CreateRoute(e.ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: &adminv1.Route{
		Method: "POST", Path: "/pets/{id}", IntegrationId: integ.GetId(), RequestValidation: rv,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(created.GetRequestValidation(), rv) {
		t.Errorf("stored = %v, want %v", created.GetRequestValidation(), rv)
	}
}
