package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Usage plans meter API keys as Amazon API Gateway's do: every key on a
// plan gets its own throttle bucket and quota on the API stages the plan
// covers. Stages are written API:STAGE, the API by name or id.

func (c *cli) plansCommand() *cobra.Command {
	return commandGroup("plans", "Manage usage plans: throttles and quotas per API key",
		c.createPlan(), c.listPlans(), c.getPlan(), c.updatePlan(),
		c.addPlanStage(), c.removePlanStage(), c.addPlanKey(), c.removePlanKey(), c.planKeys(), c.deletePlan())
}

// planFlags are the flags create and update share. Update sends only the
// fields whose flags were given.
type planFlags struct {
	name, description string
	rate              float64
	burst             int32
	noThrottle        bool
	quotaLimit        int64
	quotaPeriod       string
	quotaOffset       int64
	noQuota           bool
	stages            []string
	failOpen          bool
	tags              []string
}

// register adds the flags to cmd; update adds the ones that rename a plan
// or remove its throttle or quota.
func (f *planFlags) register(cmd *cobra.Command, update bool) {
	fs := cmd.Flags()
	fs.StringVar(&f.description, "description", "", "what the plan is for")
	fs.Float64Var(&f.rate, "rate", 0, "throttle: requests per second each key may make")
	fs.Int32Var(&f.burst, "burst", 0, "throttle: requests each key may make at once")
	fs.Int64Var(&f.quotaLimit, "quota-limit", 0, "quota: requests each key may make per period")
	fs.StringVar(&f.quotaPeriod, "quota-period", "", "quota: DAY, WEEK or MONTH (calendar periods, UTC)")
	fs.Int64Var(&f.quotaOffset, "quota-offset", 0, "quota: requests taken from the limit in the first period")
	fs.StringArrayVar(&f.stages, "stage", nil, "an API stage the plan covers, as API:STAGE; repeatable")
	fs.BoolVar(&f.failOpen, "fail-open", false, "admit requests unmetered while the counter store is down (default: refuse them)")
	fs.StringArrayVar(&f.tags, "tag", nil, "a tag as key=value; repeatable")
	if !update {
		cmd.MarkFlagsRequiredTogether("rate", "burst")
		cmd.MarkFlagsRequiredTogether("quota-limit", "quota-period")
		return
	}
	fs.StringVar(&f.name, "name", "", "a new name for the plan")
	fs.BoolVar(&f.noThrottle, "no-throttle", false, "remove the plan's throttle")
	fs.BoolVar(&f.noQuota, "no-quota", false, "remove the plan's quota")
	for _, g := range [][]string{
		{"no-throttle", "rate"},
		{"no-throttle", "burst"},
		{"no-quota", "quota-limit"},
		{"no-quota", "quota-period"},
		{"no-quota", "quota-offset"},
	} {
		cmd.MarkFlagsMutuallyExclusive(g...)
	}
}

// check finds the mistakes in the flags that need no admin API, so that
// they are usage errors reported before connecting.
func (f *planFlags) check(fs *pflag.FlagSet) error {
	if fs.Changed("quota-period") {
		if _, err := parseQuotaPeriod(f.quotaPeriod); err != nil {
			return err
		}
	}
	for _, ref := range f.stages {
		if _, _, err := parseAPIStage("stage", ref); err != nil {
			return err
		}
	}
	_, err := keyValues("tag", f.tags)
	return err
}

// apply sets the fields of p whose flags fs says were given, and returns
// their names for the update mask. The throttle and quota start from what
// p has, so that an update may change the rate alone.
func (f *planFlags) apply(ctx context.Context, cl adminv1.AdminServiceClient, fs *pflag.FlagSet, p *adminv1.UsagePlan) ([]string, error) {
	var mask []string
	set := func(field string, flags ...string) bool {
		if !slices.ContainsFunc(flags, fs.Changed) {
			return false
		}
		mask = append(mask, field)
		return true
	}
	if set("name", "name") {
		p.Name = f.name
	}
	if set("description", "description") {
		p.Description = f.description
	}
	if set("throttle", "rate", "burst", "no-throttle") {
		if err := f.applyThrottle(fs, p); err != nil {
			return nil, err
		}
	}
	if set("quota", "quota-limit", "quota-period", "quota-offset", "no-quota") {
		if err := f.applyQuota(fs, p); err != nil {
			return nil, err
		}
	}
	if set("api_stages", "stage") {
		stages, err := f.apiStages(ctx, cl, p.GetApiStages())
		if err != nil {
			return nil, err
		}
		p.ApiStages = stages
	}
	if set("failure_mode", "fail-open") {
		p.FailureMode = adminv1.FailureMode_FAILURE_MODE_FAIL_CLOSED
		if f.failOpen {
			p.FailureMode = adminv1.FailureMode_FAILURE_MODE_FAIL_OPEN
		}
	}
	if set("tags", "tag") {
		tags, err := keyValues("tag", f.tags)
		if err != nil {
			return nil, err
		}
		p.Tags = tags
	}
	return mask, nil
}

func (f *planFlags) applyThrottle(fs *pflag.FlagSet, p *adminv1.UsagePlan) error {
	if f.noThrottle {
		p.Throttle = nil
		return nil
	}
	if p.Throttle == nil && (!fs.Changed("rate") || !fs.Changed("burst")) {
		return usagef("--rate and --burst go together: the plan has no throttle to keep the other from")
	}
	t := proto.CloneOf(p.GetThrottle())
	if t == nil {
		t = &adminv1.ThrottleSettings{}
	}
	if fs.Changed("rate") {
		t.RateLimit = f.rate
	}
	if fs.Changed("burst") {
		t.BurstLimit = f.burst
	}
	p.Throttle = t
	return nil
}

func (f *planFlags) applyQuota(fs *pflag.FlagSet, p *adminv1.UsagePlan) error {
	if f.noQuota {
		p.Quota = nil
		return nil
	}
	if p.Quota == nil && (!fs.Changed("quota-limit") || !fs.Changed("quota-period")) {
		return usagef("--quota-limit and --quota-period go together: the plan has no quota to keep the other from")
	}
	q := proto.CloneOf(p.GetQuota())
	if q == nil {
		q = &adminv1.QuotaSettings{}
	}
	if fs.Changed("quota-period") {
		period, err := parseQuotaPeriod(f.quotaPeriod)
		if err != nil {
			return err
		}
		q.Period = period
	}
	if fs.Changed("quota-limit") {
		q.Limit = f.quotaLimit
	}
	if fs.Changed("quota-offset") {
		q.Offset = f.quotaOffset
	}
	p.Quota = q
	return nil
}

// parseQuotaPeriod reads --quota-period, in any case.
func parseQuotaPeriod(s string) (adminv1.QuotaSettings_Period, error) {
	v, ok := adminv1.QuotaSettings_Period_value["PERIOD_"+strings.ToUpper(s)]
	if !ok || v == 0 {
		return 0, usagef("--quota-period %q: want DAY, WEEK or MONTH", s)
	}
	return adminv1.QuotaSettings_Period(v), nil
}

// apiStages resolves the --stage flags. A stage the plan already covers
// keeps its route throttles.
func (f *planFlags) apiStages(ctx context.Context, cl adminv1.AdminServiceClient, old []*adminv1.ApiStage) ([]*adminv1.ApiStage, error) {
	stages := make([]*adminv1.ApiStage, 0, len(f.stages))
	for _, ref := range f.stages {
		s, err := resolveAPIStage(ctx, cl, "stage", ref)
		if err != nil {
			return nil, err
		}
		if i := findAPIStage(old, s); i >= 0 {
			s = old[i]
		}
		stages = append(stages, s)
	}
	return stages, nil
}

// parseAPIStage splits API:STAGE, the value of flag (or an argument, for
// flag "").
func parseAPIStage(flag, ref string) (api, stage string, err error) {
	api, stage, ok := strings.Cut(ref, ":")
	if !ok || api == "" || stage == "" {
		what := "API:STAGE"
		if flag != "" {
			what = "--" + flag
		}
		return "", "", usagef("%s %q: want API:STAGE, the API by name or id, as petstore:prod", what, ref)
	}
	return api, stage, nil
}

// resolveAPIStage reads API:STAGE, as parseAPIStage, and resolves the API.
func resolveAPIStage(ctx context.Context, cl adminv1.AdminServiceClient, flag, ref string) (*adminv1.ApiStage, error) {
	api, stage, err := parseAPIStage(flag, ref)
	if err != nil {
		return nil, err
	}
	a, err := resolveAPI(ctx, cl, api)
	if err != nil {
		return nil, err
	}
	return &adminv1.ApiStage{ApiId: a.GetId(), Stage: stage}, nil
}

// findAPIStage returns the index of the entry of stages for the same API
// stage as s, or -1.
func findAPIStage(stages []*adminv1.ApiStage, s *adminv1.ApiStage) int {
	return slices.IndexFunc(stages, func(o *adminv1.ApiStage) bool {
		return o.GetApiId() == s.GetApiId() && o.GetStage() == s.GetStage()
	})
}

func (c *cli) createPlan() *cobra.Command {
	var (
		f   planFlags
		out outputFormat
	)
	cmd := &cobra.Command{
		Use:   "create NAME [flags]",
		Short: "Create a usage plan",
		Long: "create makes a usage plan: with --rate and --burst each key gets a throttle, with\n" +
			"--quota-limit and --quota-period (DAY, WEEK or MONTH, UTC) a quota, and --stage\n" +
			"API:STAGE (repeatable) names the API stages it covers.",
		Args: cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("quota-offset") && !cmd.Flags().Changed("quota-limit") {
				return usagef("--quota-offset needs --quota-limit and --quota-period")
			}
			if err := f.check(cmd.Flags()); err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			p := &adminv1.UsagePlan{Name: args[0]}
			if _, err := f.apply(ctx, cl, cmd.Flags(), p); err != nil {
				return err
			}
			created, err := cl.CreateUsagePlan(ctx, &adminv1.CreateUsagePlanRequest{UsagePlan: p})
			return c.printPlan(ctx, cl, out, created, err)
		}),
	}
	f.register(cmd, false)
	addOutputFlag(cmd, &out)
	return cmd
}

func (c *cli) updatePlan() *cobra.Command {
	var (
		f   planFlags
		out outputFormat
	)
	cmd := &cobra.Command{
		Use:   "update ID|NAME [flags]",
		Short: "Change a usage plan: only the fields whose flags are given",
		Long: "update changes only what its flags name. --stage replaces the list of API stages\n" +
			"(a stage kept keeps its route throttles); --rate alone keeps the burst, and so on.",
		Args: cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if err := f.check(cmd.Flags()); err != nil {
				return err
			}
			cl, old, err := c.withPlan(ctx, args[0])
			if err != nil {
				return err
			}
			p := proto.CloneOf(old)
			mask, err := f.apply(ctx, cl, cmd.Flags(), p)
			if err != nil {
				return err
			}
			if len(mask) == 0 {
				return usagef("nothing to change: give a flag for each field to update")
			}
			updated, err := cl.UpdateUsagePlan(ctx, &adminv1.UpdateUsagePlanRequest{
				UsagePlan: p, UpdateMask: &fieldmaskpb.FieldMask{Paths: mask},
			})
			return c.printPlan(ctx, cl, out, updated, err)
		}),
	}
	f.register(cmd, true)
	addOutputFlag(cmd, &out)
	return cmd
}

// printPlan prints the plan a call returned, or returns the call's error.
// The table names APIs, which takes one more call.
func (c *cli) printPlan(ctx context.Context, cl adminv1.AdminServiceClient, out outputFormat, p *adminv1.UsagePlan, err error) error {
	if err != nil {
		return err
	}
	var cols columns[*adminv1.UsagePlan]
	if out == formatTable {
		if cols, err = planTable(ctx, cl, ""); err != nil {
			return err
		}
	}
	return printOne(c.out, out, cols, p, nil)
}

// planTable is the table form of plans, with API names.
func planTable(ctx context.Context, cl adminv1.AdminServiceClient, _ string) (columns[*adminv1.UsagePlan], error) {
	apis, err := listAPIs(ctx, cl)
	names := make(map[string]string, len(apis))
	for _, a := range apis {
		names[a.GetId()] = a.GetName()
	}
	return planColumns(names), err
}

// planSpec is the get spec of usage plans, which list, get and get plans
// share.
func planSpec(use, short string, args cobra.PositionalArgs) getSpec[*adminv1.UsagePlan] {
	return getSpec[*adminv1.UsagePlan]{
		use: use, short: short, args: args, table: planTable,
		one: func(ctx context.Context, cl adminv1.AdminServiceClient, _ *adminv1.Api, args []string) (*adminv1.UsagePlan, error) {
			return resolvePlan(ctx, cl, args[0])
		},
		all: func(ctx context.Context, cl adminv1.AdminServiceClient, _ string) ([]*adminv1.UsagePlan, error) {
			return listPlans(ctx, cl)
		},
	}
}

func (c *cli) listPlans() *cobra.Command {
	return getResources(c, planSpec("list", "List usage plans", cobra.NoArgs))
}

func (c *cli) getPlan() *cobra.Command {
	return getResources(c, planSpec("get ID|NAME", "Show a usage plan", cobra.ExactArgs(1)))
}

// getPlans is get plans, for symmetry with the other resources.
func (c *cli) getPlans() *cobra.Command {
	spec := planSpec("plans [ID|NAME]", "List usage plans, or show one", cobra.MaximumNArgs(1))
	spec.alias = "plan"
	return getResources(c, spec)
}

func (c *cli) deletePlan() *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID|NAME",
		Short: "Delete a usage plan and its API key associations",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, p, err := c.withPlan(ctx, args[0])
			if err != nil {
				return err
			}
			if _, err := cl.DeleteUsagePlan(ctx, &adminv1.DeleteUsagePlanRequest{Id: p.GetId()}); err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.out, "usage plan %s deleted\n", p.GetName())
			return err
		}),
	}
}

// withPlan connects and resolves the usage plan a command works on.
func (c *cli) withPlan(ctx context.Context, ref string) (adminv1.AdminServiceClient, *adminv1.UsagePlan, error) {
	cl, err := c.client()
	if err != nil {
		return nil, nil, err
	}
	p, err := resolvePlan(ctx, cl, ref)
	return cl, p, err
}

// resolvePlan finds a usage plan by id or name.
func resolvePlan(ctx context.Context, cl adminv1.AdminServiceClient, ref string) (*adminv1.UsagePlan, error) {
	return byIDOrName("usage plan", ref, "",
		func() (*adminv1.UsagePlan, error) { return cl.GetUsagePlan(ctx, &adminv1.GetUsagePlanRequest{Id: ref}) },
		func() ([]*adminv1.UsagePlan, error) { return listPlans(ctx, cl) })
}

func listPlans(ctx context.Context, cl adminv1.AdminServiceClient) ([]*adminv1.UsagePlan, error) {
	return listAll(ctx, func(ctx context.Context, token string) ([]*adminv1.UsagePlan, string, error) {
		resp, err := cl.ListUsagePlans(ctx, &adminv1.ListUsagePlansRequest{PageToken: token})
		return resp.GetUsagePlans(), resp.GetNextPageToken(), err
	})
}
