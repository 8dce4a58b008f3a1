package main

import (
	"context"

	"github.com/spf13/cobra"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func (c *cli) getCommand() *cobra.Command {
	return group("get", "Show APIs and their resources",
		c.getAPIs(), c.getRoutes(), c.getIntegrations(), c.getStages(), c.getDeployments())
}

// addAPIFlag gives cmd the required --api flag of commands that work on
// one API's resources.
func addAPIFlag(cmd *cobra.Command, ref *string) {
	cmd.Flags().StringVar(ref, "api", "", "the API, by id or name (required)")
	_ = cmd.MarkFlagRequired("api")
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

func (c *cli) getAPIs() *cobra.Command {
	var out outputFormat
	cmd := &cobra.Command{
		Use:     "apis [ID|NAME]",
		Aliases: []string{"api"},
		Short:   "List APIs, or show one",
		Args:    cobra.MaximumNArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				api, err := resolveAPI(ctx, cl, args[0])
				if err != nil {
					return err
				}
				return printResources(c.out, out, apiColumns(), []*adminv1.Api{api}, false)
			}
			apis, err := listAPIs(ctx, cl)
			if err != nil {
				return err
			}
			return printResources(c.out, out, apiColumns(), apis, true)
		}),
	}
	addOutputFlag(cmd, &out)
	return cmd
}

func (c *cli) getRoutes() *cobra.Command {
	var (
		apiRef string
		out    outputFormat
	)
	cmd := &cobra.Command{
		Use:     "routes --api API [ID | METHOD PATH]",
		Aliases: []string{"route"},
		Short:   "List an API's routes, or show one",
		Args:    cobra.MaximumNArgs(2),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			routes, list := []*adminv1.Route(nil), len(args) == 0
			if list {
				routes, err = listRoutes(ctx, cl, api.GetId())
			} else {
				var r *adminv1.Route
				r, err = resolveRoute(ctx, cl, api, args)
				routes = []*adminv1.Route{r}
			}
			if err != nil {
				return err
			}
			names := map[string]string{}
			if out == formatTable {
				if names, err = integrationNames(ctx, cl, api.GetId()); err != nil {
					return err
				}
			}
			return printResources(c.out, out, routeColumns(names), routes, list)
		}),
	}
	addAPIFlag(cmd, &apiRef)
	addOutputFlag(cmd, &out)
	return cmd
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
	var (
		apiRef string
		out    outputFormat
	)
	cmd := &cobra.Command{
		Use:     "integrations --api API [ID|NAME]",
		Aliases: []string{"integration"},
		Short:   "List an API's integrations, or show one",
		Args:    cobra.MaximumNArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				in, err := resolveIntegration(ctx, cl, api, args[0])
				if err != nil {
					return err
				}
				return printResources(c.out, out, integrationColumns(), []*adminv1.Integration{in}, false)
			}
			all, err := listIntegrations(ctx, cl, api.GetId())
			if err != nil {
				return err
			}
			return printResources(c.out, out, integrationColumns(), all, true)
		}),
	}
	addAPIFlag(cmd, &apiRef)
	addOutputFlag(cmd, &out)
	return cmd
}

func (c *cli) getStages() *cobra.Command {
	var (
		apiRef string
		out    outputFormat
	)
	cmd := &cobra.Command{
		Use:     "stages --api API [NAME]",
		Aliases: []string{"stage"},
		Short:   "List an API's stages, or show one",
		Args:    cobra.MaximumNArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				st, err := cl.GetStage(ctx, &adminv1.GetStageRequest{ApiId: api.GetId(), Name: args[0]})
				if err != nil {
					return err
				}
				return printResources(c.out, out, stageColumns(), []*adminv1.Stage{st}, false)
			}
			all, err := listStages(ctx, cl, api.GetId())
			if err != nil {
				return err
			}
			return printResources(c.out, out, stageColumns(), all, true)
		}),
	}
	addAPIFlag(cmd, &apiRef)
	addOutputFlag(cmd, &out)
	return cmd
}

func (c *cli) getDeployments() *cobra.Command {
	var (
		apiRef string
		out    outputFormat
	)
	cmd := &cobra.Command{
		Use:     "deployments --api API [ID]",
		Aliases: []string{"deployment"},
		Short:   "List an API's deployments, or show one with its routes and integrations",
		Args:    cobra.MaximumNArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				d, err := cl.GetDeployment(ctx, &adminv1.GetDeploymentRequest{ApiId: api.GetId(), Id: args[0]})
				if err != nil {
					return err
				}
				return printResources(c.out, out, deploymentColumns(), []*adminv1.Deployment{d}, false)
			}
			all, err := listDeployments(ctx, cl, api.GetId())
			if err != nil {
				return err
			}
			return printResources(c.out, out, deploymentColumns(), all, true)
		}),
	}
	addAPIFlag(cmd, &apiRef)
	addOutputFlag(cmd, &out)
	return cmd
}
