package testinvoke_test

import (
	"net"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/archway-gateway/archway/internal/admin"
	"github.com/archway-gateway/archway/internal/store/storetest"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// startAdmin serves the real admin API, with the real invoker, over
// loopback gRPC from an embedded etcd.
func startAdmin(t *testing.T) adminv1.AdminServiceClient {
	t.Helper()
	etcd := storetest.New(t)
	srv := grpc.NewServer()
	adminv1.RegisterAdminServiceServer(srv, admin.NewServer(etcd.Store(), admin.Options{TestInvoker: newInvoker()}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return adminv1.NewAdminServiceClient(conn)
}

// TestTestInvokeRouteRPC defines an API through the admin API, never
// deploys it, and test-invokes its route: the route as defined now, with
// a stage's variables or the request's, reaching a real backend.
func TestTestInvokeRouteRPC(t *testing.T) {
	rec, url := startBackend(t, echo)
	cl := startAdmin(t)
	ctx := t.Context()
	api, err := cl.CreateApi(ctx, &adminv1.CreateApiRequest{Api: &adminv1.Api{Name: "shop", Protocol: adminv1.Protocol_PROTOCOL_REST}})
	if err != nil {
		t.Fatal(err)
	}
	in, err := cl.CreateIntegration(ctx, &adminv1.CreateIntegrationRequest{ApiId: api.GetId(), Integration: &adminv1.Integration{
		Name: "pets", Kind: &adminv1.Integration_HttpProxy{HttpProxy: &adminv1.HttpProxyIntegration{Uri: url + "/${stageVariables.prefix}/pets/{id}"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	route, err := cl.CreateRoute(ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: &adminv1.Route{
		Method: "ANY", Path: "/pets/{id}", IntegrationId: in.GetId(), ApiKeyRequired: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateStage(ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: &adminv1.Stage{
		Name: "prod", Variables: map[string]string{"prefix": "live"},
	}}); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		req        *adminv1.TestInvokeRouteRequest
		wantTarget string
		wantMethod string
		wantCode   codes.Code
	}{
		"stage's variables": {
			req:        &adminv1.TestInvokeRouteRequest{Stage: "prod", PathWithQueryString: "/pets/7?a=1", Method: "DELETE"},
			wantTarget: "/live/pets/7?a=1", wantMethod: "DELETE",
		},
		"request's variables replace the stage's": {
			req: &adminv1.TestInvokeRouteRequest{
				Stage: "prod", PathWithQueryString: "/pets/8", StageVariables: map[string]string{"prefix": "canary"},
			},
			wantTarget: "/canary/pets/8", wantMethod: "GET",
		},
		"no stage, no variables": {
			req:      &adminv1.TestInvokeRouteRequest{PathWithQueryString: "/pets/9"},
			wantCode: codes.FailedPrecondition,
		},
		"path of another route": {
			req:      &adminv1.TestInvokeRouteRequest{PathWithQueryString: "/cats/9"},
			wantCode: codes.InvalidArgument,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := len(rec.got())
			tc.req.ApiId, tc.req.RouteId = api.GetId(), route.GetId()
			tc.req.Headers = []*adminv1.HeaderValue{{Name: "X-Client", Value: "c1"}}
			resp, err := cl.TestInvokeRoute(ctx, tc.req)
			if tc.wantCode != codes.OK {
				if status.Code(err) != tc.wantCode {
					t.Fatalf("error %v, want %v", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := rec.got()[before:]
			if len(got) != 1 || got[0].target != tc.wantTarget || got[0].method != tc.wantMethod || got[0].header.Get("X-Client") != "c1" {
				t.Fatalf("backend got %+v, want %s %s (the API key the route requires is skipped)", got, tc.wantMethod, tc.wantTarget)
			}
			if got := stepNames(resp); !slices.Equal(got, proxySteps) {
				t.Errorf("steps %v, want %v", got, proxySteps)
			}
			if resp.GetStatus() != 200 || !strings.Contains(string(resp.GetBody()), tc.wantMethod) || resp.GetLatencyMs() < 0 {
				t.Errorf("response %d %s latency %d", resp.GetStatus(), resp.GetBody(), resp.GetLatencyMs())
			}
		})
	}
}
