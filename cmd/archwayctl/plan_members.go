package main

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// What a usage plan covers and meters: its API stages, each with optional
// per-route throttles, and its API keys.

// updateStages writes p's api_stages, guarded by the etag p was read with,
// so that two people editing the list at once cannot lose a change.
func updateStages(ctx context.Context, cl adminv1.AdminServiceClient, p *adminv1.UsagePlan) (*adminv1.UsagePlan, error) {
	return cl.UpdateUsagePlan(ctx, &adminv1.UpdateUsagePlanRequest{
		UsagePlan:  p,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"api_stages"}},
	})
}

func (c *cli) addPlanStage() *cobra.Command {
	var (
		routes []string
		out    outputFormat
	)
	cmd := &cobra.Command{
		Use:   "add-stage PLAN API:STAGE [--route-throttle \"METHOD /path=RATE:BURST\" ...]",
		Short: "Make a usage plan cover an API stage, or change its route throttles there",
		Long: "add-stage adds the API stage to the plan. Each --route-throttle replaces the plan's\n" +
			"throttle on one route of that stage; on a stage the plan already covers, the given\n" +
			"routes' throttles are set and the others kept.",
		Args: cobra.ExactArgs(2),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			throttles, err := parseRouteThrottles("route-throttle", routes)
			if err != nil {
				return err
			}
			if _, _, err := parseAPIStage("", args[1]); err != nil {
				return err
			}
			cl, old, err := c.withPlan(ctx, args[0])
			if err != nil {
				return err
			}
			s, err := resolveAPIStage(ctx, cl, "", args[1])
			if err != nil {
				return err
			}
			p := proto.CloneOf(old)
			if i := findAPIStage(p.GetApiStages(), s); i >= 0 {
				s = p.GetApiStages()[i]
			} else {
				p.ApiStages = append(p.ApiStages, s)
			}
			if len(throttles) > 0 && s.RouteThrottles == nil {
				s.RouteThrottles = make(map[string]*adminv1.ThrottleSettings, len(throttles))
			}
			maps.Copy(s.RouteThrottles, throttles)
			updated, err := updateStages(ctx, cl, p)
			return c.printPlan(ctx, cl, out, updated, err)
		}),
	}
	cmd.Flags().StringArrayVar(&routes, "route-throttle", nil,
		"a route's throttle as \"METHOD /path=RATE:BURST\", replacing the plan's on that route; repeatable")
	addOutputFlag(cmd, &out)
	return cmd
}

func (c *cli) removePlanStage() *cobra.Command {
	return &cobra.Command{
		Use:   "remove-stage PLAN API:STAGE",
		Short: "Stop a usage plan covering an API stage",
		Args:  cobra.ExactArgs(2),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			if _, _, err := parseAPIStage("", args[1]); err != nil {
				return err
			}
			cl, old, err := c.withPlan(ctx, args[0])
			if err != nil {
				return err
			}
			s, err := resolveAPIStage(ctx, cl, "", args[1])
			if err != nil {
				return err
			}
			i := findAPIStage(old.GetApiStages(), s)
			if i < 0 {
				return fmt.Errorf("usage plan %s does not cover %s", old.GetName(), args[1])
			}
			p := proto.CloneOf(old)
			p.ApiStages = slices.Delete(p.ApiStages, i, i+1)
			if _, err := updateStages(ctx, cl, p); err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.out, "usage plan %s no longer covers %s\n", p.GetName(), args[1])
			return err
		}),
	}
}

// withPlanAndKey connects and resolves the plan and the API key a command
// names.
func (c *cli) withPlanAndKey(ctx context.Context, planRef, keyRef string) (adminv1.AdminServiceClient, *adminv1.UsagePlan, *adminv1.ApiKey, error) {
	cl, p, err := c.withPlan(ctx, planRef)
	if err != nil {
		return nil, nil, nil, err
	}
	k, err := resolveKey(ctx, cl, keyRef)
	return cl, p, k, err
}

func (c *cli) addPlanKey() *cobra.Command {
	return &cobra.Command{
		Use:   "add-key PLAN KEY",
		Short: "Put an API key on a usage plan",
		Args:  cobra.ExactArgs(2),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, p, k, err := c.withPlanAndKey(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			_, err = cl.CreateUsagePlanKey(ctx, &adminv1.CreateUsagePlanKeyRequest{UsagePlanId: p.GetId(), KeyId: k.GetId()})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.out, "api key %s added to usage plan %s\n", k.GetName(), p.GetName())
			return err
		}),
	}
}

func (c *cli) removePlanKey() *cobra.Command {
	return &cobra.Command{
		Use:   "remove-key PLAN KEY",
		Short: "Take an API key off a usage plan",
		Args:  cobra.ExactArgs(2),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, p, k, err := c.withPlanAndKey(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			_, err = cl.DeleteUsagePlanKey(ctx, &adminv1.DeleteUsagePlanKeyRequest{UsagePlanId: p.GetId(), KeyId: k.GetId()})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.out, "api key %s removed from usage plan %s\n", k.GetName(), p.GetName())
			return err
		}),
	}
}

func (c *cli) planKeys() *cobra.Command {
	var out outputFormat
	cmd := &cobra.Command{
		Use:   "keys PLAN",
		Short: "List the API keys on a usage plan",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, p, err := c.withPlan(ctx, args[0])
			if err != nil {
				return err
			}
			keys, err := listPlanKeys(ctx, cl, p.GetId())
			if err != nil {
				return err
			}
			return printResources(c.out, out, planKeyColumns(), keys, true)
		}),
	}
	addOutputFlag(cmd, &out)
	return cmd
}

func listPlanKeys(ctx context.Context, cl adminv1.AdminServiceClient, planID string) ([]*adminv1.UsagePlanKey, error) {
	return listAll(ctx, func(ctx context.Context, token string) ([]*adminv1.UsagePlanKey, string, error) {
		resp, err := cl.ListUsagePlanKeys(ctx, &adminv1.ListUsagePlanKeysRequest{UsagePlanId: planID, PageToken: token})
		return resp.GetKeys(), resp.GetNextPageToken(), err
	})
}
