package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// The delete commands are unconditional: they send no etag, as a person
// at a shell means "whatever it is now". The admin API still refuses to
// delete what is in use, such as an integration a route refers to.

func (c *cli) deleteCommand() *cobra.Command {
	return group("delete", "Delete an API or one of its resources",
		c.deleteAPI(), c.deleteRoute(), c.deleteIntegration(), c.deleteStage(), c.deleteDeployment())
}

func (c *cli) deleteAPI() *cobra.Command {
	return &cobra.Command{
		Use:   "api ID|NAME",
		Short: "Delete an API with all its routes, integrations, stages and deployments",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, args[0])
			if err != nil {
				return err
			}
			if _, err := cl.DeleteApi(ctx, &adminv1.DeleteApiRequest{Id: api.GetId()}); err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.out, "api %s deleted\n", api.GetName())
			return err
		}),
	}
}

// deleteSpec is the delete subcommand of one kind of resource of an API.
type deleteSpec struct {
	use, short string
	args       cobra.PositionalArgs
	// del deletes the resource args name in api and returns how to name
	// it in the report, as "stage beta".
	del func(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, args []string) (string, error)
}

// deleteOf builds the delete subcommand of spec, which reports what it
// deleted.
func (c *cli) deleteOf(spec deleteSpec) *cobra.Command {
	var apiRef string
	cmd := &cobra.Command{
		Use:   spec.use,
		Short: spec.short,
		Args:  spec.args,
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			what, err := spec.del(ctx, cl, api, args)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.out, "%s deleted\n", what)
			return err
		}),
	}
	addAPIFlag(cmd, &apiRef)
	return cmd
}

func (c *cli) deleteRoute() *cobra.Command {
	return c.deleteOf(deleteSpec{
		use: "route --api API ID | METHOD PATH", short: "Delete a route", args: cobra.RangeArgs(1, 2),
		del: func(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, args []string) (string, error) {
			r, err := resolveRoute(ctx, cl, api, args)
			if err != nil {
				return "", err
			}
			_, err = cl.DeleteRoute(ctx, &adminv1.DeleteRouteRequest{ApiId: api.GetId(), Id: r.GetId()})
			return "route " + r.GetMethod() + " " + r.GetPath(), err
		},
	})
}

func (c *cli) deleteIntegration() *cobra.Command {
	return c.deleteOf(deleteSpec{
		use: "integration --api API ID|NAME", short: "Delete an integration no route refers to", args: cobra.ExactArgs(1),
		del: func(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, args []string) (string, error) {
			in, err := resolveIntegration(ctx, cl, api, args[0])
			if err != nil {
				return "", err
			}
			_, err = cl.DeleteIntegration(ctx, &adminv1.DeleteIntegrationRequest{ApiId: api.GetId(), Id: in.GetId()})
			return "integration " + in.GetName(), err
		},
	})
}

func (c *cli) deleteStage() *cobra.Command {
	return c.deleteOf(deleteSpec{
		use: "stage --api API NAME", short: "Delete a stage, which stops serving its deployment", args: cobra.ExactArgs(1),
		del: func(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, args []string) (string, error) {
			_, err := cl.DeleteStage(ctx, &adminv1.DeleteStageRequest{ApiId: api.GetId(), Name: args[0]})
			return "stage " + args[0], err
		},
	})
}

func (c *cli) deleteDeployment() *cobra.Command {
	return c.deleteOf(deleteSpec{
		use: "deployment --api API ID", short: "Delete a deployment no stage serves", args: cobra.ExactArgs(1),
		del: func(ctx context.Context, cl adminv1.AdminServiceClient, api *adminv1.Api, args []string) (string, error) {
			_, err := cl.DeleteDeployment(ctx, &adminv1.DeleteDeploymentRequest{ApiId: api.GetId(), Id: args[0]})
			return "deployment " + args[0], err
		},
	})
}
