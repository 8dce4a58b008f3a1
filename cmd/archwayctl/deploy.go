package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// deployCommand is the REST API workflow: changes to routes and
// integrations go live on a stage only when deployed to it.
func (c *cli) deployCommand() *cobra.Command {
	var (
		stage, description string
		out                outputFormat
	)
	cmd := &cobra.Command{
		Use:   "deploy API --stage NAME",
		Short: "Deploy an API's current routes and integrations to a stage",
		Long: "deploy snapshots the API's current routes and integrations as a new deployment and\n" +
			"points the stage at it, creating the stage if it does not exist, in one step.",
		Args: cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, args[0])
			if err != nil {
				return err
			}
			resp, err := cl.Deploy(ctx, &adminv1.DeployRequest{
				ApiId: api.GetId(), StageName: stage, Description: description,
			})
			if err != nil {
				return err
			}
			if out != formatTable {
				return printMessages(c.out, out, []proto.Message{resp}, false)
			}
			_, err = fmt.Fprintf(c.out, "deployment %s created; stage %s of api %s serves it\n",
				resp.GetDeployment().GetId(), resp.GetStage().GetName(), api.GetName())
			return err
		}),
	}
	addRequiredFlag(cmd, &stage, "stage", "the stage to deploy to (required)")
	cmd.Flags().StringVar(&description, "description", "", "what changed in this deployment")
	addOutputFlag(cmd, &out)
	return cmd
}

// rollbackCommand points a stage back at an earlier deployment, which is
// immutable, so the stage serves exactly what it served then.
func (c *cli) rollbackCommand() *cobra.Command {
	var (
		stage, to string
		out       outputFormat
	)
	cmd := &cobra.Command{
		Use:   "rollback API --stage NAME --to DEPLOYMENT",
		Short: "Make a stage serve an earlier deployment",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, args[0])
			if err != nil {
				return err
			}
			st, err := cl.Rollback(ctx, &adminv1.RollbackRequest{
				ApiId: api.GetId(), StageName: stage, DeploymentId: to,
			})
			if err != nil {
				return err
			}
			if out != formatTable {
				return printMessages(c.out, out, []proto.Message{st}, false)
			}
			_, err = fmt.Fprintf(c.out, "stage %s of api %s serves deployment %s\n", st.GetName(), api.GetName(), st.GetDeploymentId())
			return err
		}),
	}
	addRequiredFlag(cmd, &stage, "stage", "the stage to roll back (required)")
	addRequiredFlag(cmd, &to, "to", "the deployment the stage should serve (required)")
	addOutputFlag(cmd, &out)
	return cmd
}
