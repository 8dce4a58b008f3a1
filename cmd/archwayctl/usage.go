package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Usage is what Amazon API Gateway's GetUsage reports: per API key and UTC
// day, the requests counted and what was left of the quota. The admin API
// keeps 90 days of it.

// dateLayout is how usage dates are written: YYYY-MM-DD, UTC.
const dateLayout = time.DateOnly

// defaultUsageDays is how many days usage shows without --from: the week
// up to and including today.
const defaultUsageDays = 7

func (c *cli) usageCommand() *cobra.Command {
	var (
		keyRef, from, to string
		out              outputFormat
	)
	cmd := &cobra.Command{
		Use:   "usage PLAN [--key KEY] [--from YYYY-MM-DD] [--to YYYY-MM-DD]",
		Short: "Show API keys' daily use of a usage plan's quota",
		Long: "usage shows, for each API key of the plan (or only --key) and each UTC day from\n" +
			"--from to --to inclusive, the requests counted and what was left of the quota.\n" +
			"The default is the last 7 days, up to and including today. REMAINING is \"-\" for\n" +
			"a plan without a quota.",
		Args: cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			start, end, err := usageRange(from, to, c.now())
			if err != nil {
				return err
			}
			cl, p, err := c.withPlan(ctx, args[0])
			if err != nil {
				return err
			}
			req := &adminv1.GetUsageRequest{UsagePlanId: p.GetId(), StartDate: start, EndDate: end}
			if keyRef != "" {
				k, err := resolveKey(ctx, cl, keyRef)
				if err != nil {
					return err
				}
				req.KeyId = k.GetId()
			}
			resp, err := cl.GetUsage(ctx, req)
			if err != nil {
				return err
			}
			return c.printUsage(ctx, cl, out, p.GetId(), resp)
		}),
	}
	cmd.Flags().StringVar(&keyRef, "key", "", "only this API key, by id or name")
	cmd.Flags().StringVar(&from, "from", "", "the first day, YYYY-MM-DD (UTC; default: 6 days before --to)")
	cmd.Flags().StringVar(&to, "to", "", "the last day, YYYY-MM-DD (UTC; default: today)")
	addOutputFlag(cmd, &out)
	cmd.AddCommand(c.resetUsage(), c.changeUsage("adjust"), c.changeUsage("set-remaining"))
	return cmd
}

// usageRange returns the first and last day of a usage report: the flags'
// values, checked, with the week up to today filling in what is missing.
func usageRange(from, to string, now time.Time) (start, end string, err error) {
	last := now.UTC().Truncate(24 * time.Hour)
	if to != "" {
		if last, err = parseDate("to", to); err != nil {
			return "", "", err
		}
	}
	first := last.AddDate(0, 0, 1-defaultUsageDays)
	if from != "" {
		if first, err = parseDate("from", from); err != nil {
			return "", "", err
		}
	}
	if first.After(last) {
		return "", "", usagef("--from %s is after --to %s", first.Format(dateLayout), last.Format(dateLayout))
	}
	return first.Format(dateLayout), last.Format(dateLayout), nil
}

func parseDate(flag, s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, usagef("--%s %q: want a date as YYYY-MM-DD", flag, s)
	}
	return t, nil
}

// printUsage prints resp, or in a table its days, one row per key and day
// with the key by name.
func (c *cli) printUsage(ctx context.Context, cl adminv1.AdminServiceClient, out outputFormat, planID string, resp *adminv1.GetUsageResponse) error {
	if out != formatTable {
		return printMessages(c.out, out, []proto.Message{resp}, false)
	}
	keys, err := listPlanKeys(ctx, cl, planID)
	if err != nil {
		return err
	}
	names := make(map[string]string, len(keys))
	for _, k := range keys {
		names[k.GetKeyId()] = k.GetName()
	}
	return writeUsage(c.out, resp.GetItems(), names)
}

// writeUsage writes the KEY DATE USED REMAINING table of items. A key
// shows by name where names has it; a remaining of -1, no quota, shows as
// "-".
func writeUsage(w io.Writer, items []*adminv1.KeyUsage, names map[string]string) error {
	var rows [][]string
	for _, u := range items {
		key := u.GetKeyId()
		if name, ok := names[key]; ok && name != "" {
			key = name
		}
		for _, d := range u.GetDays() {
			remaining := ""
			if d.GetRemaining() >= 0 {
				remaining = strconv.FormatInt(d.GetRemaining(), 10)
			}
			rows = append(rows, []string{key, d.GetDate(), strconv.FormatInt(d.GetUsed(), 10), remaining})
		}
	}
	return writeTable(w, []string{"KEY", "DATE", "USED", "REMAINING"}, rows)
}

func (c *cli) resetUsage() *cobra.Command {
	var out outputFormat
	cmd := &cobra.Command{
		Use:   "reset PLAN KEY",
		Short: "Forget an API key's use of a plan's quota in the current period",
		Args:  cobra.ExactArgs(2),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			return c.updateUsage(ctx, out, args, &adminv1.UpdateUsageRequest{Change: &adminv1.UpdateUsageRequest_Reset_{Reset_: true}})
		}),
	}
	addOutputFlag(cmd, &out)
	return cmd
}

// changeUsage builds usage adjust, which adds N (or subtracts, negative)
// to a key's use in the current period, and usage set-remaining, which
// sets what is left of its quota, as AWS's "replace /remaining".
func (c *cli) changeUsage(verb string) *cobra.Command {
	var out outputFormat
	short := "Add N to an API key's use of a plan's quota in the current period (negative N subtracts)"
	if verb == "set-remaining" {
		short = "Set what is left of an API key's quota in the current period to N"
	}
	cmd := &cobra.Command{
		Use:   verb + " PLAN KEY N",
		Short: short,
		Long:  short + ".\nA negative N goes after \"--\": usage " + verb + " PLAN KEY -- -5.",
		Args:  cobra.ExactArgs(3),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			n, err := strconv.ParseInt(args[2], 10, 64)
			if err != nil {
				return usagef("N %q: want a whole number of requests", args[2])
			}
			req := &adminv1.UpdateUsageRequest{Change: &adminv1.UpdateUsageRequest_Adjust{Adjust: n}}
			if verb == "set-remaining" {
				req.Change = &adminv1.UpdateUsageRequest_Remaining{Remaining: n}
			}
			return c.updateUsage(ctx, out, args, req)
		}),
	}
	// pflag reads "-5" as a flag; say how to pass a negative number.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		if msg := err.Error(); strings.Contains(msg, "unknown shorthand flag") && strings.ContainsAny(msg, "0123456789") {
			return usageError{fmt.Errorf("%w (a negative N goes after \"--\": usage %s PLAN KEY -- -5)", err, verb)}
		}
		return usageError{err}
	})
	addOutputFlag(cmd, &out)
	return cmd
}

// updateUsage resolves the PLAN and KEY of args into req, sends it and
// prints the key's usage as the admin API returns it.
func (c *cli) updateUsage(ctx context.Context, out outputFormat, args []string, req *adminv1.UpdateUsageRequest) error {
	cl, p, k, err := c.withPlanAndKey(ctx, args[0], args[1])
	if err != nil {
		return err
	}
	req.UsagePlanId, req.KeyId = p.GetId(), k.GetId()
	u, err := cl.UpdateUsage(ctx, req)
	if err != nil {
		return err
	}
	if out != formatTable {
		return printMessages(c.out, out, []proto.Message{u}, false)
	}
	return writeUsage(c.out, []*adminv1.KeyUsage{u}, map[string]string{k.GetId(): k.GetName()})
}
