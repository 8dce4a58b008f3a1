package main

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// People name APIs and integrations; the admin API addresses them by id.
// The resolvers accept either, trying the id first: an id is what scripts
// pass, and a name that happens to look like an id is rare.

// notFoundError is a reference that matched neither an id nor a name.
func notFoundError(kind, ref, apiName string) error {
	if apiName == "" {
		return fmt.Errorf("%s %q not found", kind, ref)
	}
	return fmt.Errorf("%s %q not found in api %s", kind, ref, apiName)
}

// missing reports whether a lookup by id found nothing. The admin API
// refuses a string that is not shaped like an id with INVALID_ARGUMENT
// before looking, which for a resolver means the same: try the name.
func missing(err error) bool {
	c := status.Code(err)
	return c == codes.NotFound || c == codes.InvalidArgument
}

// resolveAPI finds an API by id or name.
func resolveAPI(ctx context.Context, cl adminv1.AdminServiceClient, ref string) (*adminv1.Api, error) {
	api, err := cl.GetApi(ctx, &adminv1.GetApiRequest{Id: ref})
	if !missing(err) {
		return api, err
	}
	resp, err := cl.ListApis(ctx, &adminv1.ListApisRequest{Name: ref})
	if status.Code(err) == codes.InvalidArgument {
		return nil, notFoundError("api", ref, "")
	}
	if err != nil {
		return nil, err
	}
	if len(resp.GetApis()) == 0 {
		return nil, notFoundError("api", ref, "")
	}
	return resp.GetApis()[0], nil
}

// resolveIntegration finds an integration of api by id or name.
func resolveIntegration(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, ref string) (*adminv1.Integration, error) {
	return byIDOrName("integration", ref, api.GetName(),
		func() (*adminv1.Integration, error) {
			return cl.GetIntegration(ctx, &adminv1.GetIntegrationRequest{ApiId: api.GetId(), Id: ref})
		},
		func() ([]*adminv1.Integration, error) { return listIntegrations(ctx, cl, api.GetId()) })
}

// byIDOrName returns what get finds by the id ref or, if nothing, the
// item of list named ref, for resources the admin API cannot look up by
// name. kind and apiName word the error when neither finds one.
func byIDOrName[T interface{ GetName() string }](kind, ref, apiName string,
	get func() (T, error), list func() ([]T, error),
) (T, error) {
	item, err := get()
	if !missing(err) {
		return item, err
	}
	var zero T
	all, err := list()
	if err != nil {
		return zero, err
	}
	for _, item := range all {
		if item.GetName() == ref {
			return item, nil
		}
	}
	return zero, notFoundError(kind, ref, apiName)
}

// resolveRoute finds a route of api by id, or by method and path given as
// two arguments ("GET /pets"), which is how routes are named in apply's
// output.
func resolveRoute(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, args []string) (*adminv1.Route, error) {
	if len(args) == 1 {
		r, err := cl.GetRoute(ctx, &adminv1.GetRouteRequest{ApiId: api.GetId(), Id: args[0]})
		if missing(err) {
			return nil, notFoundError("route", args[0], api.GetName())
		}
		return r, err
	}
	method, path := strings.ToUpper(args[0]), args[1]
	all, err := listRoutes(ctx, cl, api.GetId())
	if err != nil {
		return nil, err
	}
	for _, r := range all {
		if r.GetMethod() == method && r.GetPath() == path {
			return r, nil
		}
	}
	return nil, notFoundError("route", method+" "+path, api.GetName())
}

// listAll follows next_page_token to the last page.
func listAll[T any](ctx context.Context, page func(ctx context.Context, token string) ([]T, string, error)) ([]T, error) {
	var all []T
	token := ""
	for {
		items, next, err := page(ctx, token)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		if next == token {
			return nil, fmt.Errorf("the admin API returned page token %q twice", next)
		}
		token = next
	}
}

func listAPIs(ctx context.Context, cl adminv1.AdminServiceClient) ([]*adminv1.Api, error) {
	return listAll(ctx, func(ctx context.Context, token string) ([]*adminv1.Api, string, error) {
		resp, err := cl.ListApis(ctx, &adminv1.ListApisRequest{PageToken: token})
		return resp.GetApis(), resp.GetNextPageToken(), err
	})
}

func listRoutes(ctx context.Context, cl adminv1.AdminServiceClient, apiID string) ([]*adminv1.Route, error) {
	return listAll(ctx, func(ctx context.Context, token string) ([]*adminv1.Route, string, error) {
		resp, err := cl.ListRoutes(ctx, &adminv1.ListRoutesRequest{ApiId: apiID, PageToken: token})
		return resp.GetRoutes(), resp.GetNextPageToken(), err
	})
}

func listIntegrations(ctx context.Context, cl adminv1.AdminServiceClient, apiID string) ([]*adminv1.Integration, error) {
	return listAll(ctx, func(ctx context.Context, token string) ([]*adminv1.Integration, string, error) {
		resp, err := cl.ListIntegrations(ctx, &adminv1.ListIntegrationsRequest{ApiId: apiID, PageToken: token})
		return resp.GetIntegrations(), resp.GetNextPageToken(), err
	})
}

func listStages(ctx context.Context, cl adminv1.AdminServiceClient, apiID string) ([]*adminv1.Stage, error) {
	return listAll(ctx, func(ctx context.Context, token string) ([]*adminv1.Stage, string, error) {
		resp, err := cl.ListStages(ctx, &adminv1.ListStagesRequest{ApiId: apiID, PageToken: token})
		return resp.GetStages(), resp.GetNextPageToken(), err
	})
}

func listDeployments(ctx context.Context, cl adminv1.AdminServiceClient, apiID string) ([]*adminv1.Deployment, error) {
	return listAll(ctx, func(ctx context.Context, token string) ([]*adminv1.Deployment, string, error) {
		resp, err := cl.ListDeployments(ctx, &adminv1.ListDeploymentsRequest{ApiId: apiID, PageToken: token})
		return resp.GetDeployments(), resp.GetNextPageToken(), err
	})
}

func listFleet(ctx context.Context, cl adminv1.AdminServiceClient) ([]*adminv1.EnvoyNode, error) {
	return listAll(ctx, func(ctx context.Context, token string) ([]*adminv1.EnvoyNode, string, error) {
		resp, err := cl.ListFleet(ctx, &adminv1.ListFleetRequest{PageToken: token})
		return resp.GetNodes(), resp.GetNextPageToken(), err
	})
}
