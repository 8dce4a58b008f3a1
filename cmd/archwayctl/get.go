package main

import (
	"context"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func (c *cli) getCommand() *cobra.Command {
	return group("get", "Show APIs and their resources, API keys and usage plans",
		c.getAPIs(), c.getRoutes(), c.getIntegrations(), c.getStages(), c.getDeployments(), c.getFleet(),
		c.getKeys(), c.getPlans())
}

// addAPIFlag gives cmd the required --api flag of commands that work on
// one API's resources.
func addAPIFlag(cmd *cobra.Command, ref *string) {
	addRequiredFlag(cmd, ref, "api", "the API, by id or name (required)")
}

// addRequiredFlag gives cmd a string flag that must be set: cobra refuses
// the command line without it.
func addRequiredFlag(cmd *cobra.Command, ref *string, name, usage string) {
	cmd.Flags().StringVar(ref, name, "", usage)
	_ = cmd.MarkFlagRequired(name)
}

// withAPI connects and resolves the API a command works on.
func (c *cli) withAPI(ctx context.Context, ref string) (adminv1.AdminServiceClient, *adminv1.Api, error) {
	cl, err := c.client()
	if err != nil {
		return nil, nil, err
	}
	api, err := resolveAPI(ctx, cl, ref)
	return cl, api, err
}

// getSpec is one get subcommand: a kind of resource, how to show the one
// its arguments name, and how to list them all.
type getSpec[T proto.Message] struct {
	use, alias, short string
	maxArgs           int
	// args, if set, replaces the check that at most maxArgs are given.
	args cobra.PositionalArgs
	// ofAPI is set for the resources of one API, which --api names.
	ofAPI bool
	// one finds the resource args name; api is nil unless ofAPI is set.
	one func(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, args []string) (T, error)
	// all lists the resources of the API apiID, "" unless ofAPI is set.
	all func(ctx context.Context, cl adminv1.AdminServiceClient, apiID string) ([]T, error)
	// table returns the table form, which may ask the admin API for names.
	table func(ctx context.Context, cl adminv1.AdminServiceClient, apiID string) (columns[T], error)
}

// fixedColumns is a table form that needs nothing from the admin API.
func fixedColumns[T proto.Message](cols columns[T]) func(context.Context, adminv1.AdminServiceClient, string) (columns[T], error) {
	return func(context.Context, adminv1.AdminServiceClient, string) (columns[T], error) { return cols, nil }
}

// getResources builds the get subcommand of spec: with no argument it
// lists the resources, with one (two for a route's method and path) it
// shows the resource they name.
func getResources[T proto.Message](c *cli, spec getSpec[T]) *cobra.Command {
	var (
		apiRef string
		out    outputFormat
	)
	cmd := &cobra.Command{
		Use:   spec.use,
		Short: spec.short,
		Args:  spec.args,
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			return spec.run(ctx, c, apiRef, out, args)
		}),
	}
	if spec.alias != "" {
		cmd.Aliases = []string{spec.alias}
	}
	if cmd.Args == nil {
		cmd.Args = cobra.MaximumNArgs(spec.maxArgs)
	}
	if spec.ofAPI {
		addAPIFlag(cmd, &apiRef)
	}
	addOutputFlag(cmd, &out)
	return cmd
}

// run fetches what args name and prints it in format out.
func (spec getSpec[T]) run(ctx context.Context, c *cli, apiRef string, out outputFormat, args []string) error {
	cl, api, err := spec.connect(ctx, c, apiRef)
	if err != nil {
		return err
	}
	items, list, err := spec.fetch(ctx, cl, api, args)
	if err != nil {
		return err
	}
	var cols columns[T]
	if out == formatTable {
		if cols, err = spec.table(ctx, cl, api.GetId()); err != nil {
			return err
		}
	}
	return printResources(c.out, out, cols, items, list)
}

// connect connects and, for the resources of one API, resolves the API.
func (spec getSpec[T]) connect(ctx context.Context, c *cli, apiRef string) (adminv1.AdminServiceClient, *adminv1.Api, error) {
	if spec.ofAPI {
		return c.withAPI(ctx, apiRef)
	}
	cl, err := c.client()
	return cl, nil, err
}

// fetch returns the resource args name or, without args, every resource;
// list says which.
func (spec getSpec[T]) fetch(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, args []string) (items []T, list bool, err error) {
	if len(args) == 0 {
		items, err = spec.all(ctx, cl, api.GetId())
		return items, true, err
	}
	one, err := spec.one(ctx, cl, api, args)
	return []T{one}, false, err
}

func (c *cli) getAPIs() *cobra.Command {
	return getResources(c, getSpec[*adminv1.Api]{
		use: "apis [ID|NAME]", alias: "api", short: "List APIs, or show one", maxArgs: 1,
		one: func(ctx context.Context, cl adminv1.AdminServiceClient, _ *adminv1.Api, args []string) (*adminv1.Api, error) {
			return resolveAPI(ctx, cl, args[0])
		},
		all: func(ctx context.Context, cl adminv1.AdminServiceClient, _ string) ([]*adminv1.Api, error) {
			return listAPIs(ctx, cl)
		},
		table: fixedColumns(apiColumns()),
	})
}

func (c *cli) getRoutes() *cobra.Command {
	return getResources(c, getSpec[*adminv1.Route]{
		use: "routes --api API [ID | METHOD PATH]", alias: "route", short: "List an API's routes, or show one",
		maxArgs: 2, ofAPI: true, one: resolveRoute, all: listRoutes,
		table: func(ctx context.Context, cl adminv1.AdminServiceClient, apiID string) (columns[*adminv1.Route], error) {
			names, err := integrationNames(ctx, cl, apiID)
			return routeColumns(names), err
		},
	})
}

// integrationNames maps the ids of an API's integrations to their names.
func integrationNames(ctx context.Context, cl adminv1.AdminServiceClient, apiID string) (map[string]string, error) {
	all, err := listIntegrations(ctx, cl, apiID)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(all))
	for _, in := range all {
		names[in.GetId()] = in.GetName()
	}
	return names, nil
}

func (c *cli) getIntegrations() *cobra.Command {
	return getResources(c, getSpec[*adminv1.Integration]{
		use: "integrations --api API [ID|NAME]", alias: "integration", short: "List an API's integrations, or show one",
		maxArgs: 1, ofAPI: true, all: listIntegrations, table: fixedColumns(integrationColumns()),
		one: func(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, args []string) (*adminv1.Integration, error) {
			return resolveIntegration(ctx, cl, api, args[0])
		},
	})
}

func (c *cli) getStages() *cobra.Command {
	return getResources(c, getSpec[*adminv1.Stage]{
		use: "stages --api API [NAME]", alias: "stage", short: "List an API's stages, or show one",
		maxArgs: 1, ofAPI: true, all: listStages, table: fixedColumns(stageColumns()),
		one: func(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, args []string) (*adminv1.Stage, error) {
			return cl.GetStage(ctx, &adminv1.GetStageRequest{ApiId: api.GetId(), Name: args[0]})
		},
	})
}

func (c *cli) getDeployments() *cobra.Command {
	return getResources(c, getSpec[*adminv1.Deployment]{
		use: "deployments --api API [ID]", alias: "deployment",
		short:   "List an API's deployments, or show one with its routes and integrations",
		maxArgs: 1, ofAPI: true, all: listDeployments, table: fixedColumns(deploymentColumns()),
		one: func(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, args []string) (*adminv1.Deployment, error) {
			return cl.GetDeployment(ctx, &adminv1.GetDeploymentRequest{ApiId: api.GetId(), Id: args[0]})
		},
	})
}

func (c *cli) getFleet() *cobra.Command {
	return getResources(c, getSpec[*adminv1.EnvoyNode]{
		use: "fleet", alias: "envoys",
		short: "List the Envoys connected to the gateway, with the configuration each accepted and rejected",
		all: func(ctx context.Context, cl adminv1.AdminServiceClient, _ string) ([]*adminv1.EnvoyNode, error) {
			return listFleet(ctx, cl)
		},
		table: fixedColumns(fleetColumns()),
	})
}
