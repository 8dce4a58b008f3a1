package admin

import (
	"fmt"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func TestAPICRUD(t *testing.T) {
	e := newEnv(t)
	api, err := e.CreateApi(e.ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{
		Id: "ignored000", Name: "pets", Description: "Pet store", Tags: map[string]string{"team": "a"},
		CreateTime: timestamppb.New(timestamppb.Now().AsTime().AddDate(-1, 0, 0)), Etag: "7",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !validID(api.GetId()) || api.GetId() == "ignored000" || api.GetEtag() == "" || api.GetEtag() == "7" {
		t.Errorf("created api has id %q etag %q; want a new id and a real etag", api.GetId(), api.GetEtag())
	}
	if api.GetProtocol() != adminv1.Protocol_PROTOCOL_HTTP {
		t.Errorf("protocol = %v, want HTTP by default", api.GetProtocol())
	}
	if !api.GetCreateTime().AsTime().Equal(api.GetUpdateTime().AsTime()) || api.GetCreateTime().AsTime().Year() != 2030 {
		t.Errorf("times = %v / %v, want both from the server clock", api.GetCreateTime(), api.GetUpdateTime())
	}
	got, err := e.GetApi(e.ctx, &adminv1.GetApiRequest{Id: api.GetId()})
	if err != nil || !proto.Equal(got, api) {
		t.Fatalf("GetApi = %v, %v; want %v", got, err, api)
	}

	upd, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{
		Api:        &adminv1.Api{Id: api.GetId(), Name: "animals", Description: "not applied", Etag: api.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if upd.GetName() != "animals" || upd.GetDescription() != "Pet store" || upd.GetEtag() == api.GetEtag() {
		t.Errorf("updated api = %v, want only the name changed and a new etag", upd)
	}
	if !upd.GetUpdateTime().AsTime().After(upd.GetCreateTime().AsTime()) {
		t.Errorf("update_time %v not after create_time %v", upd.GetUpdateTime(), upd.GetCreateTime())
	}
	// The old name is free again, the new one taken.
	e.mustAPI(t, "pets")
	_, err = e.CreateApi(e.ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{Name: "animals"}})
	wantCode(t, err, codes.AlreadyExists)

	list, err := e.ListApis(e.ctx, &adminv1.ListApisRequest{Name: "animals"})
	if err != nil || len(list.GetApis()) != 1 || list.GetApis()[0].GetId() != api.GetId() {
		t.Fatalf("ListApis(name=animals) = %v, %v", list, err)
	}
	list, err = e.ListApis(e.ctx, &adminv1.ListApisRequest{Name: "nothing"})
	if err != nil || len(list.GetApis()) != 0 {
		t.Fatalf("ListApis(name=nothing) = %v, %v; want empty", list, err)
	}

	_, err = e.DeleteApi(e.ctx, &adminv1.DeleteApiRequest{Id: api.GetId(), Etag: upd.GetEtag()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.GetApi(e.ctx, &adminv1.GetApiRequest{Id: api.GetId()})
	wantCode(t, err, codes.NotFound)
	_, err = e.DeleteApi(e.ctx, &adminv1.DeleteApiRequest{Id: api.GetId()})
	wantCode(t, err, codes.NotFound)
}

func TestUpdateAPIRenameConflict(t *testing.T) {
	e := newEnv(t)
	a := e.mustAPI(t, "a")
	e.mustAPI(t, "b")
	before := e.revision(t)
	_, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{Api: &adminv1.Api{Id: a.GetId(), Name: "b"}})
	wantCode(t, err, codes.AlreadyExists)
	e.wantNoWrite(t, before, "failed rename")
}

func TestUpdateAPIUnchangedWritesNothing(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "same")
	before := e.revision(t)
	got, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{Api: &adminv1.Api{Id: api.GetId(), Name: "same"}})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, api) || e.revision(t) != before {
		t.Errorf("no-op update returned %v and moved the revision", got)
	}
}

func TestDeleteAPIRemovesEverything(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "gone")
	i := e.mustMock(t, api.GetId(), "m")
	e.mustRoute(t, api.GetId(), "GET", "/", i.GetId())
	if _, err := e.Deploy(e.ctx, &adminv1.DeployRequest{ApiId: api.GetId(), StageName: "prod"}); err != nil {
		t.Fatal(err)
	}
	keep := e.mustAPI(t, "kept")
	if _, err := e.DeleteApi(e.ctx, &adminv1.DeleteApiRequest{Id: api.GetId()}); err != nil {
		t.Fatal(err)
	}
	resp, err := e.etcd.Client.Get(e.ctx, store.Root, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range resp.Kvs {
		if strings.Contains(string(kv.Key), api.GetId()) || strings.HasSuffix(string(kv.Key), "/gone") {
			t.Errorf("key %s survived DeleteApi", kv.Key)
		}
	}
	if _, err := e.GetApi(e.ctx, &adminv1.GetApiRequest{Id: keep.GetId()}); err != nil {
		t.Errorf("other api: %v", err)
	}
	// The name is free for a new API.
	e.mustAPI(t, "gone")
}

func TestAPIStaleEtag(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "etag")
	if _, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{Api: &adminv1.Api{Id: api.GetId(), Name: "etag", Description: "v2"}}); err != nil {
		t.Fatal(err)
	}
	before := e.revision(t)
	_, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{Api: &adminv1.Api{Id: api.GetId(), Name: "etag", Description: "v3", Etag: api.GetEtag()}})
	wantPrecondition(t, err, failureEtag)
	_, err = e.DeleteApi(e.ctx, &adminv1.DeleteApiRequest{Id: api.GetId(), Etag: api.GetEtag()})
	wantPrecondition(t, err, failureEtag)
	e.wantNoWrite(t, before, "stale etag")
}

func TestAPIValidation(t *testing.T) {
	e := newEnv(t)
	api := e.mustAPI(t, "valid")
	tests := violationCases{
		"create bad name": {func() error {
			_, err := e.CreateApi(e.ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{Name: "a b"}})
			return err
		}, []string{"api.name"}},
		"create everything bad": {func() error {
			_, err := e.CreateApi(e.ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{
				Description: strings.Repeat("d", 1025), Protocol: 9, Tags: map[string]string{"archway:x": ""},
			}})
			return err
		}, []string{"api.name", "api.description", "api.protocol", `api.tags["archway:x"]`}},
		"create nil api": {func() error {
			_, err := e.CreateApi(e.ctx, &adminv1.CreateApiRequest{})
			return err
		}, []string{"api.name"}},
		"get bad id": {func() error {
			_, err := e.GetApi(e.ctx, &adminv1.GetApiRequest{Id: "../routes"})
			return err
		}, []string{"id"}},
		"update immutable and unknown mask paths": {func() error {
			_, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{
				Api:        &adminv1.Api{Id: api.GetId()},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"id", "create_time", "colour"}},
			})
			return err
		}, []string{"update_mask", "update_mask", "update_mask"}},
		"update to bad name": {func() error {
			_, err := e.UpdateApi(e.ctx, &adminv1.UpdateApiRequest{Api: &adminv1.Api{Id: api.GetId(), Name: ""}})
			return err
		}, []string{"api.name"}},
		"list bad page size and token": {func() error {
			_, err := e.ListApis(e.ctx, &adminv1.ListApisRequest{PageSize: 1001, PageToken: "x"})
			return err
		}, []string{"page_size", "page_token"}},
		"delete bad id": {func() error {
			_, err := e.DeleteApi(e.ctx, &adminv1.DeleteApiRequest{Id: "ABC"})
			return err
		}, []string{"id"}},
	}
	tests.run(t, e)
}

func TestListAPIsPaging(t *testing.T) {
	e := newEnv(t)
	want := map[string]bool{}
	for i := range 25 {
		want[e.mustAPI(t, fmt.Sprintf("api-%02d", i)).GetId()] = true
	}
	got := map[string]bool{}
	token := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("more pages than expected")
		}
		resp, err := e.ListApis(e.ctx, &adminv1.ListApisRequest{PageSize: 10, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range resp.GetApis() {
			if got[a.GetId()] {
				t.Errorf("api %s listed twice", a.GetId())
			}
			got[a.GetId()] = true
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(got) != len(want) {
		t.Errorf("listed %d apis, want %d", len(got), len(want))
	}
}
