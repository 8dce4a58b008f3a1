package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// API keys are the secrets clients send in x-api-key. The gateway keeps
// only a key's SHA-256, so its value is printed once, by the command that
// created or imported it, and never again: list, get and export show
// everything else.

func (c *cli) keysCommand() *cobra.Command {
	return commandGroup("keys", "Manage API keys",
		c.createKey(), c.importKeys(), c.exportKeys(), c.listKeys(), c.getKey(),
		c.enableKey(true), c.enableKey(false), c.deleteKey())
}

func (c *cli) createKey() *cobra.Command {
	var (
		value, description, customer string
		disabled                     bool
		tags                         []string
		out                          outputFormat
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API key and print its value, the only time it is ever shown",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			k := &adminv1.ApiKey{
				Name: args[0], Value: value, Description: description, CustomerId: customer, Enabled: !disabled,
			}
			var err error
			if k.Tags, err = keyValues("tag", tags); err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			created, err := cl.CreateApiKey(ctx, &adminv1.CreateApiKeyRequest{ApiKey: k})
			if err != nil {
				return err
			}
			if out != formatTable {
				return printMessages(c.out, out, []proto.Message{created}, false)
			}
			return printKeyValues(c.out, []*adminv1.ApiKey{created})
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&value, "value", "", "the key itself, 20-128 printable ASCII characters (default: 40 random letters and digits)")
	fs.StringVar(&description, "description", "", "what the key is for")
	fs.StringVar(&customer, "customer-id", "", "the AWS Marketplace customer the key belongs to")
	fs.BoolVar(&disabled, "disabled", false, "create the key disabled: the gateway refuses it until it is enabled")
	fs.StringArrayVar(&tags, "tag", nil, "a tag as key=value; repeatable")
	addOutputFlag(cmd, &out)
	return cmd
}

// printKeyValues prints keys with their values and says, once, that the
// values cannot be shown again.
func printKeyValues(w io.Writer, keys []*adminv1.ApiKey) error {
	if err := printResources(w, formatTable, keyValueColumns(), keys, true); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nStore the VALUE now: the gateway keeps only its hash and will never show it again.")
	return err
}

func (c *cli) importKeys() *cobra.Command {
	var (
		failOnWarnings bool
		out            outputFormat
	)
	cmd := &cobra.Command{
		Use:   "import FILE|-",
		Short: "Create API keys from Amazon API Gateway's CSV format, all or none",
		Long: "import reads Amazon API Gateway's API key CSV (a header row naming Name, Key,\n" +
			"Description, Enabled and UsagePlanIds; Key required) from FILE, or standard input\n" +
			"for \"-\", and creates every key in one transaction. It prints the keys with their\n" +
			"values and any warnings, which go to standard error.",
		Args: cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			text, err := c.readInput(args[0])
			if err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			resp, err := cl.ImportApiKeys(ctx, &adminv1.ImportApiKeysRequest{Csv: string(text), FailOnWarnings: failOnWarnings})
			if err != nil {
				return err
			}
			if out != formatTable {
				return printMessages(c.out, out, []proto.Message{resp}, false)
			}
			for _, w := range resp.GetWarnings() {
				_, _ = fmt.Fprintf(c.err, "archwayctl: warning: %s\n", w)
			}
			return printKeyValues(c.out, resp.GetApiKeys())
		}),
	}
	cmd.Flags().BoolVar(&failOnWarnings, "fail-on-warnings", false, "import nothing if the file has any warning")
	addOutputFlag(cmd, &out)
	return cmd
}

// readInput reads the file name names, or standard input for "-".
func (c *cli) readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(c.in)
	}
	return os.ReadFile(name)
}

func (c *cli) exportKeys() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "export [-f FILE]",
		Short: "Write every API key, without its value, in the CSV format import reads",
		Args:  cobra.NoArgs,
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, _ []string) error {
			cl, err := c.client()
			if err != nil {
				return err
			}
			resp, err := cl.ExportApiKeys(ctx, &adminv1.ExportApiKeysRequest{})
			if err != nil {
				return err
			}
			if file == "" || file == "-" {
				_, err = io.WriteString(c.out, resp.GetCsv())
				return err
			}
			return os.WriteFile(file, []byte(resp.GetCsv()), 0o644)
		}),
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "write to this file instead of standard output")
	return cmd
}

// keySpec is the get spec of API keys, which list and get share.
func keySpec(use, short string, args cobra.PositionalArgs) getSpec[*adminv1.ApiKey] {
	return getSpec[*adminv1.ApiKey]{
		use: use, short: short, args: args,
		one: func(ctx context.Context, cl adminv1.AdminServiceClient, _ *adminv1.Api, args []string) (*adminv1.ApiKey, error) {
			return resolveKey(ctx, cl, args[0])
		},
		all: func(ctx context.Context, cl adminv1.AdminServiceClient, _ string) ([]*adminv1.ApiKey, error) {
			return listKeys(ctx, cl)
		},
		table: fixedColumns(keyColumns()),
	}
}

func (c *cli) listKeys() *cobra.Command {
	return getResources(c, keySpec("list", "List API keys, without their values", cobra.NoArgs))
}

// getKeys is get keys, for symmetry with the other resources.
func (c *cli) getKeys() *cobra.Command {
	spec := keySpec("keys [ID|NAME]", "List API keys, or show one, without their values", cobra.MaximumNArgs(1))
	spec.alias = "key"
	return getResources(c, spec)
}

func (c *cli) getKey() *cobra.Command {
	return getResources(c, keySpec("get ID|NAME", "Show an API key, without its value", cobra.ExactArgs(1)))
}

// enableKey builds keys enable, or keys disable: a disabled key is refused
// by the gateway as if it did not exist, but keeps its plans and usage.
func (c *cli) enableKey(enable bool) *cobra.Command {
	verb, short := "enable", "Let the gateway accept an API key again"
	if !enable {
		verb, short = "disable", "Make the gateway refuse an API key, keeping its plans and usage"
	}
	return &cobra.Command{
		Use:   verb + " ID|NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, k, err := c.withKey(ctx, args[0])
			if err != nil {
				return err
			}
			_, err = cl.UpdateApiKey(ctx, &adminv1.UpdateApiKeyRequest{
				ApiKey:     &adminv1.ApiKey{Id: k.GetId(), Enabled: enable},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"enabled"}},
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.out, "api key %s %sd\n", k.GetName(), verb)
			return err
		}),
	}
}

func (c *cli) deleteKey() *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID|NAME",
		Short: "Delete an API key and its usage plan associations",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, k, err := c.withKey(ctx, args[0])
			if err != nil {
				return err
			}
			if _, err := cl.DeleteApiKey(ctx, &adminv1.DeleteApiKeyRequest{Id: k.GetId()}); err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.out, "api key %s deleted\n", k.GetName())
			return err
		}),
	}
}

// withKey connects and resolves the API key a command works on.
func (c *cli) withKey(ctx context.Context, ref string) (adminv1.AdminServiceClient, *adminv1.ApiKey, error) {
	cl, err := c.client()
	if err != nil {
		return nil, nil, err
	}
	k, err := resolveKey(ctx, cl, ref)
	return cl, k, err
}

// resolveKey finds an API key by id or name.
func resolveKey(ctx context.Context, cl adminv1.AdminServiceClient, ref string) (*adminv1.ApiKey, error) {
	return byIDOrName("api key", ref, "",
		func() (*adminv1.ApiKey, error) { return cl.GetApiKey(ctx, &adminv1.GetApiKeyRequest{Id: ref}) },
		func() ([]*adminv1.ApiKey, error) { return listKeys(ctx, cl) })
}

func listKeys(ctx context.Context, cl adminv1.AdminServiceClient) ([]*adminv1.ApiKey, error) {
	return listAll(ctx, func(ctx context.Context, token string) ([]*adminv1.ApiKey, string, error) {
		resp, err := cl.ListApiKeys(ctx, &adminv1.ListApiKeysRequest{PageToken: token})
		return resp.GetApiKeys(), resp.GetNextPageToken(), err
	})
}
