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
			fmt.Fprintf(c.out, "api %s deleted\n", api.GetName())
			return nil
		}),
	}
}

func (c *cli) deleteRoute() *cobra.Command {
	var apiRef string
	cmd := &cobra.Command{
		Use:   "route --api API ID | METHOD PATH",
		Short: "Delete a route",
		Args:  cobra.RangeArgs(1, 2),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			r, err := resolveRoute(ctx, cl, api, args)
			if err != nil {
				return err
			}
			_, err = cl.DeleteRoute(ctx, &adminv1.DeleteRouteRequest{ApiId: api.GetId(), Id: r.GetId()})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.out, "route %s %s deleted\n", r.GetMethod(), r.GetPath())
			return nil
		}),
	}
	addAPIFlag(cmd, &apiRef)
	return cmd
}

func (c *cli) deleteIntegration() *cobra.Command {
	var apiRef string
	cmd := &cobra.Command{
		Use:   "integration --api API ID|NAME",
		Short: "Delete an integration no route refers to",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			in, err := resolveIntegration(ctx, cl, api, args[0])
			if err != nil {
				return err
			}
			_, err = cl.DeleteIntegration(ctx, &adminv1.DeleteIntegrationRequest{ApiId: api.GetId(), Id: in.GetId()})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.out, "integration %s deleted\n", in.GetName())
			return nil
		}),
	}
	addAPIFlag(cmd, &apiRef)
	return cmd
}

func (c *cli) deleteStage() *cobra.Command {
	var apiRef string
	cmd := &cobra.Command{
		Use:   "stage --api API NAME",
		Short: "Delete a stage, which stops serving its deployment",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			_, err = cl.DeleteStage(ctx, &adminv1.DeleteStageRequest{ApiId: api.GetId(), Name: args[0]})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.out, "stage %s deleted\n", args[0])
			return nil
		}),
	}
	addAPIFlag(cmd, &apiRef)
	return cmd
}

func (c *cli) deleteDeployment() *cobra.Command {
	var apiRef string
	cmd := &cobra.Command{
		Use:   "deployment --api API ID",
		Short: "Delete a deployment no stage serves",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			_, err = cl.DeleteDeployment(ctx, &adminv1.DeleteDeploymentRequest{ApiId: api.GetId(), Id: args[0]})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.out, "deployment %s deleted\n", args[0])
			return nil
		}),
	}
	addAPIFlag(cmd, &apiRef)
	return cmd
}
