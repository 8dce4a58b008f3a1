package main

import (
	"context"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// The update commands change only the fields whose flags are given: the
// request's update mask names exactly those, so that a field someone else
// changed meanwhile is left as they set it.

func (c *cli) updateCommand() *cobra.Command {
	return group("update", "Change some fields of a resource of an API", c.updateRoute(), c.updateStage())
}

// stageThrottleFlags are a stage's throttles, which apply to all clients
// of a route together, as AWS's stage-level default route throttling.
type stageThrottleFlags struct {
	throttle string
	routes   []string
}

func (f *stageThrottleFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.throttle, "throttle", "", "the default throttle of each route as RATE:BURST, as 100:200")
	fs.StringArrayVar(&f.routes, "route-throttle", nil,
		"a route's own throttle as \"METHOD /path=RATE:BURST\", replacing the default; repeatable")
}

// apply sets the throttles the flags give in st.
func (f *stageThrottleFlags) apply(st *adminv1.Stage) error {
	if f.throttle != "" {
		t, err := parseThrottle("throttle", f.throttle)
		if err != nil {
			return err
		}
		st.Throttle = t
	}
	routes, err := parseRouteThrottles("route-throttle", f.routes)
	st.RouteThrottles = routes
	return err
}

// maskFields returns the field names whose flags fs says were given, in
// the order of fields: pairs of a field name and the flags that set it.
func maskFields(fs *pflag.FlagSet, fields [][]string) []string {
	var mask []string
	for _, f := range fields {
		if slices.ContainsFunc(f[1:], fs.Changed) {
			mask = append(mask, f[0])
		}
	}
	return mask
}

func (c *cli) updateStage() *cobra.Command {
	var (
		apiRef, deployment, description string
		autoDeploy                      bool
		vars                            []string
		throttles                       stageThrottleFlags
		noThrottle, noRouteThrottles    bool
		out                             outputFormat
	)
	cmd := &cobra.Command{
		Use:   "stage --api API NAME [flags]",
		Short: "Change a stage: only the fields whose flags are given",
		Long: "update stage changes only what its flags name. --var and --route-throttle replace\n" +
			"all the stage's variables and route throttles with the ones given.",
		Args: cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			variables, err := keyValues("var", vars)
			if err != nil {
				return err
			}
			st := &adminv1.Stage{
				Name: args[0], Description: description, DeploymentId: deployment,
				AutoDeploy: autoDeploy, Variables: variables,
			}
			if err := throttles.apply(st); err != nil {
				return err
			}
			mask := maskFields(cmd.Flags(), [][]string{
				{"description", "description"},
				{"deployment_id", "deployment"},
				{"auto_deploy", "auto-deploy"},
				{"variables", "var"},
				{"throttle", "throttle", "no-throttle"},
				{"route_throttles", "route-throttle", "no-route-throttles"},
			})
			if len(mask) == 0 {
				return usagef("nothing to change: give a flag for each field to update")
			}
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			st.ApiId = api.GetId()
			updated, err := cl.UpdateStage(ctx, &adminv1.UpdateStageRequest{Stage: st, UpdateMask: &fieldmaskpb.FieldMask{Paths: mask}})
			return printOne(c.out, out, stageColumns(), updated, err)
		}),
	}
	addAPIFlag(cmd, &apiRef)
	fs := cmd.Flags()
	fs.StringVar(&deployment, "deployment", "", "the deployment the stage serves")
	fs.BoolVar(&autoDeploy, "auto-deploy", false, "deploy every change of the API to this stage at once")
	fs.StringArrayVar(&vars, "var", nil, "a stage variable as name=value; repeatable")
	fs.StringVar(&description, "description", "", "what the stage is for")
	throttles.register(fs)
	fs.BoolVar(&noThrottle, "no-throttle", false, "remove the stage's default throttle")
	fs.BoolVar(&noRouteThrottles, "no-route-throttles", false, "remove every route's own throttle")
	cmd.MarkFlagsMutuallyExclusive("throttle", "no-throttle")
	cmd.MarkFlagsMutuallyExclusive("route-throttle", "no-route-throttles")
	addOutputFlag(cmd, &out)
	return cmd
}

func (c *cli) updateRoute() *cobra.Command {
	var (
		apiRef, integration, description string
		keyRequired                      bool
		out                              outputFormat
	)
	cmd := &cobra.Command{
		Use:   "route --api API ID | METHOD PATH [flags]",
		Short: "Change a route: only the fields whose flags are given",
		Args:  cobra.RangeArgs(1, 2),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			mask := maskFields(cmd.Flags(), [][]string{
				{"integration_id", "integration"}, {"description", "description"}, {"api_key_required", "api-key-required"},
			})
			if len(mask) == 0 {
				return usagef("nothing to change: give a flag for each field to update")
			}
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			r, err := resolveRoute(ctx, cl, api, args)
			if err != nil {
				return err
			}
			names := map[string]string{}
			changed := &adminv1.Route{ApiId: api.GetId(), Id: r.GetId(), Description: description, ApiKeyRequired: keyRequired}
			if integration != "" {
				in, err := resolveIntegration(ctx, cl, api, integration)
				if err != nil {
					return err
				}
				changed.IntegrationId, names[in.GetId()] = in.GetId(), in.GetName()
			}
			updated, err := cl.UpdateRoute(ctx, &adminv1.UpdateRouteRequest{Route: changed, UpdateMask: &fieldmaskpb.FieldMask{Paths: mask}})
			return printOne(c.out, out, routeColumns(names), updated, err)
		}),
	}
	addAPIFlag(cmd, &apiRef)
	fs := cmd.Flags()
	fs.StringVar(&integration, "integration", "", "the integration, by id or name")
	fs.StringVar(&description, "description", "", "what the route is for")
	fs.BoolVar(&keyRequired, "api-key-required", false,
		"refuse requests without an API key of a usage plan that covers the stage (403); =false to stop")
	addOutputFlag(cmd, &out)
	return cmd
}
