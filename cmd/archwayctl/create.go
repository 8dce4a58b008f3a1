package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

func (c *cli) createCommand() *cobra.Command {
	return group("create", "Create an API or one of its resources",
		c.createAPI(), c.createIntegration(), c.createRoute(), c.createStage(), c.createDeployment())
}

// keyValues parses repeated k=v flags into a map. A value may itself hold
// "=" and ","; only the first "=" splits.
func keyValues(flag string, pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usagef("--%s %q: want key=value", flag, p)
		}
		if _, dup := m[k]; dup {
			return nil, usagef("--%s: key %q given twice", flag, k)
		}
		m[k] = v
	}
	return m, nil
}

func (c *cli) createAPI() *cobra.Command {
	var (
		protocol, description string
		tags                  []string
		out                   outputFormat
	)
	cmd := &cobra.Command{
		Use:   "api NAME",
		Short: "Create an API",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			p, err := parseProtocol(protocol)
			if err != nil {
				return err
			}
			api := &adminv1.Api{Name: args[0], Description: description, Protocol: p}
			if api.Tags, err = keyValues("tag", tags); err != nil {
				return err
			}
			cl, err := c.client()
			if err != nil {
				return err
			}
			created, err := cl.CreateApi(ctx, &adminv1.CreateApiRequest{Api: api})
			return printOne(c.out, out, apiColumns(), created, err)
		}),
	}
	cmd.Flags().StringVar(&protocol, "protocol", "HTTP", "HTTP (HTTP API semantics) or REST (REST API semantics)")
	cmd.Flags().StringVar(&description, "description", "", "what the API is for")
	cmd.Flags().StringArrayVar(&tags, "tag", nil, "a tag as key=value; repeatable")
	addOutputFlag(cmd, &out)
	return cmd
}

// integrationFlags are the flags of create integration: one set per kind.
type integrationFlags struct {
	description string
	proxyURI    string
	proxyMethod string
	timeout     time.Duration
	mockStatus  int32
	mockBody    string
	mockHeaders []string
}

// build sets the integration's kind from whichever kind's flags are set.
// Cobra has already checked that exactly one of --http-proxy and
// --mock-status is.
func (f *integrationFlags) build(cmd *cobra.Command, in *adminv1.Integration) error {
	flags := cmd.Flags()
	if f.proxyURI != "" {
		if flags.Changed("mock-body") || flags.Changed("mock-header") {
			return usagef("--mock-body and --mock-header need --mock-status, not --http-proxy")
		}
		proxy := &adminv1.HttpProxyIntegration{Uri: f.proxyURI, Method: strings.ToUpper(f.proxyMethod)}
		if flags.Changed("timeout") {
			proxy.Timeout = durationpb.New(f.timeout)
		}
		in.Kind = &adminv1.Integration_HttpProxy{HttpProxy: proxy}
		return nil
	}
	if flags.Changed("method") || flags.Changed("timeout") {
		return usagef("--method and --timeout need --http-proxy, not --mock-status")
	}
	headers, err := keyValues("mock-header", f.mockHeaders)
	if err != nil {
		return err
	}
	in.Kind = &adminv1.Integration_Mock{Mock: &adminv1.MockIntegration{
		StatusCode: f.mockStatus, Body: f.mockBody, Headers: headers,
	}}
	return nil
}

func (c *cli) createIntegration() *cobra.Command {
	var (
		apiRef string
		f      integrationFlags
		out    outputFormat
	)
	cmd := &cobra.Command{
		Use:   "integration --api API NAME (--http-proxy URL | --mock-status CODE)",
		Short: "Create an integration: an HTTP proxy or a mock",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			in := &adminv1.Integration{Name: args[0], Description: f.description}
			if err := f.build(cmd, in); err != nil {
				return err
			}
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			created, err := cl.CreateIntegration(ctx, &adminv1.CreateIntegrationRequest{ApiId: api.GetId(), Integration: in})
			return printOne(c.out, out, integrationColumns(), created, err)
		}),
	}
	addAPIFlag(cmd, &apiRef)
	fs := cmd.Flags()
	fs.StringVar(&f.description, "description", "", "what the integration is for")
	fs.StringVar(&f.proxyURI, "http-proxy", "", "forward requests to this http(s) URL")
	fs.StringVar(&f.proxyMethod, "method", "", "method to send upstream (default: the client's)")
	// This --timeout shadows the global one for this command: here it is
	// the integration's upstream timeout, as in the AWS console.
	fs.DurationVar(&f.timeout, "timeout", 0, "how long to wait for the upstream (server default 29s)")
	fs.Int32Var(&f.mockStatus, "mock-status", 0, "answer from the gateway with this status code")
	fs.StringVar(&f.mockBody, "mock-body", "", "body of the mock answer")
	fs.StringArrayVar(&f.mockHeaders, "mock-header", nil, "a header of the mock answer as name=value; repeatable")
	cmd.MarkFlagsOneRequired("http-proxy", "mock-status")
	cmd.MarkFlagsMutuallyExclusive("http-proxy", "mock-status")
	addOutputFlag(cmd, &out)
	return cmd
}

func (c *cli) createRoute() *cobra.Command {
	var (
		apiRef, integration, description string
		keyRequired                      bool
		out                              outputFormat
	)
	cmd := &cobra.Command{
		Use:   "route --api API METHOD PATH --integration INTEGRATION [--api-key-required]",
		Short: "Create a route to an integration",
		Args:  cobra.ExactArgs(2),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			in, err := resolveIntegration(ctx, cl, api, integration)
			if err != nil {
				return err
			}
			r := &adminv1.Route{
				Method: strings.ToUpper(args[0]), Path: args[1],
				IntegrationId: in.GetId(), Description: description, ApiKeyRequired: keyRequired,
			}
			created, err := cl.CreateRoute(ctx, &adminv1.CreateRouteRequest{ApiId: api.GetId(), Route: r})
			names := map[string]string{in.GetId(): in.GetName()}
			return printOne(c.out, out, routeColumns(names), created, err)
		}),
	}
	addAPIFlag(cmd, &apiRef)
	addRequiredFlag(cmd, &integration, "integration", "the integration, by id or name (required)")
	cmd.Flags().StringVar(&description, "description", "", "what the route is for")
	cmd.Flags().BoolVar(&keyRequired, "api-key-required", false,
		"refuse requests without an API key of a usage plan that covers the stage (403)")
	addOutputFlag(cmd, &out)
	return cmd
}

func (c *cli) createStage() *cobra.Command {
	var (
		apiRef, deployment, description string
		autoDeploy                      bool
		vars                            []string
		throttles                       stageThrottleFlags
		out                             outputFormat
	)
	cmd := &cobra.Command{
		Use:   "stage --api API NAME",
		Short: "Create a stage",
		Args:  cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
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
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			created, err := cl.CreateStage(ctx, &adminv1.CreateStageRequest{ApiId: api.GetId(), Stage: st})
			return printOne(c.out, out, stageColumns(), created, err)
		}),
	}
	addAPIFlag(cmd, &apiRef)
	fs := cmd.Flags()
	fs.StringVar(&deployment, "deployment", "", "the deployment the stage serves")
	fs.BoolVar(&autoDeploy, "auto-deploy", false, "deploy every change of the API to this stage at once")
	fs.StringArrayVar(&vars, "var", nil, "a stage variable as name=value; repeatable")
	fs.StringVar(&description, "description", "", "what the stage is for")
	throttles.register(fs)
	addOutputFlag(cmd, &out)
	return cmd
}

func (c *cli) createDeployment() *cobra.Command {
	var (
		apiRef, description, stage string
		out                        outputFormat
	)
	cmd := &cobra.Command{
		Use:   "deployment --api API",
		Short: "Snapshot an API's routes and integrations as a deployment",
		Args:  cobra.NoArgs,
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, _ []string) error {
			cl, api, err := c.withAPI(ctx, apiRef)
			if err != nil {
				return err
			}
			d, err := cl.CreateDeployment(ctx, &adminv1.CreateDeploymentRequest{
				ApiId: api.GetId(), Description: description, StageName: stage,
			})
			return printOne(c.out, out, deploymentColumns(), d, err)
		}),
	}
	addAPIFlag(cmd, &apiRef)
	cmd.Flags().StringVar(&description, "description", "", "what changed in this deployment")
	cmd.Flags().StringVar(&stage, "stage", "", "make this stage (created if missing) serve the deployment")
	addOutputFlag(cmd, &out)
	return cmd
}
