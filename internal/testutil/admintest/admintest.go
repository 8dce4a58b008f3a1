// Package admintest has helpers for tests that drive a running gateway
// through its gRPC APIs.
package admintest

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Etags returns the etag of every resource of the named API, keyed by kind
// and name ("api", "route GET /pets", "integration pets", "stage prod",
// "deployment <id>"). Comparing two calls tells whether anything was
// written in between.
func Etags(t testing.TB, admin adminv1.AdminServiceClient, name string) map[string]string {
	t.Helper()
	ctx := context.Background()
	apis, err := admin.ListApis(ctx, &adminv1.ListApisRequest{Name: name})
	if err != nil || len(apis.GetApis()) != 1 {
		t.Fatalf("ListApis(%q) = %v, %v; want one API", name, apis, err)
	}
	api := apis.GetApis()[0]
	id := api.GetId()
	etags := map[string]string{"api": api.GetEtag()}
	routes, err := admin.ListRoutes(ctx, &adminv1.ListRoutesRequest{ApiId: id})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes.GetRoutes() {
		etags["route "+r.GetMethod()+" "+r.GetPath()] = r.GetEtag()
	}
	ints, err := admin.ListIntegrations(ctx, &adminv1.ListIntegrationsRequest{ApiId: id})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ints.GetIntegrations() {
		etags["integration "+i.GetName()] = i.GetEtag()
	}
	stages, err := admin.ListStages(ctx, &adminv1.ListStagesRequest{ApiId: id})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stages.GetStages() {
		etags["stage "+s.GetName()] = s.GetEtag()
	}
	deps, err := admin.ListDeployments(ctx, &adminv1.ListDeploymentsRequest{ApiId: id})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.GetDeployments() {
		etags["deployment "+d.GetId()] = d.GetEtag()
	}
	return etags
}

// WaitServing waits, for up to a minute, until the server behind conn
// reports the overall health status SERVING.
func WaitServing(t testing.TB, conn *grpc.ClientConn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("server never became SERVING: %v", err)
		}
		if resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
	}
}
