package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// maxTestInvokeResponse is the largest answer test-invoke takes: the
// steps of an exchange whose bodies are each up to API Gateway's 10 MB.
const maxTestInvokeResponse = 64 << 20

// testInvokeFlags are test-invoke's request.
type testInvokeFlags struct {
	path, method, body, bodyFile, stage string
	headers, vars                       []string
	out                                 outputFormat
}

// testInvokeCommand runs a request through a route as it is defined now,
// deployed or not, as AWS's TestInvokeMethod, and prints what each stage
// produced.
func (c *cli) testInvokeCommand() *cobra.Command {
	var f testInvokeFlags
	cmd := &cobra.Command{
		Use:   "test-invoke API ROUTE --path PATH [flags]",
		Short: "Run a request through a route and print each stage's output",
		Long: "test-invoke runs one request through a route as it is defined now, deployed or not,\n" +
			"as AWS's TestInvokeMethod: request validation, the integration's templates and\n" +
			"parameter mappings, the integration itself (an HTTP backend or function is really\n" +
			"called) and the integration response. It prints the method request, the request\n" +
			"validation, the endpoint request and response, and the method response, then the\n" +
			"status, headers, body and latency the client would get. Authorization, API keys and\n" +
			"throttling are skipped. ROUTE is a route id, or its method and path (\"GET /pets/{id}\",\n" +
			"as one argument or two).",
		Example: "  archwayctl test-invoke petstore 'GET /pets/{id}' --path '/pets/7?limit=2' -H 'Accept: application/json'\n" +
			"  archwayctl test-invoke petstore 'POST /pets' --body '{\"name\":\"Rex\"}' -H 'Content-Type: application/json' --stage prod",
		Args: cobra.RangeArgs(2, 3),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			return c.testInvoke(ctx, args, &f)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&f.path, "path", "", "the request's path after the stage, with its query string, as /pets/7?limit=2 (default: the route's path, if it has no parameters)")
	fs.StringVar(&f.method, "method", "", "the request's method (default: the route's; GET for ANY)")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, "a request header as \"Name: value\"; repeatable")
	fs.StringVar(&f.body, "body", "", "the request body")
	fs.StringVar(&f.bodyFile, "body-file", "", "a file holding the request body; - reads standard input")
	fs.StringVar(&f.stage, "stage", "", "the stage whose name and variables the request sees")
	fs.StringArrayVar(&f.vars, "stage-variable", nil, "a stage variable as name=value, replacing the stage's; repeatable")
	cmd.MarkFlagsMutuallyExclusive("body", "body-file")
	addOutputFlag(cmd, &f.out)
	return cmd
}

// testInvoke resolves the API and route, sends the request and prints the
// answer.
func (c *cli) testInvoke(ctx context.Context, args []string, f *testInvokeFlags) error {
	req, err := c.testInvokeRequest(f)
	if err != nil {
		return err
	}
	cl, api, err := c.withAPI(ctx, args[0])
	if err != nil {
		return err
	}
	routeArgs := args[1:]
	if len(routeArgs) == 1 && strings.Contains(routeArgs[0], " ") {
		routeArgs = strings.Fields(routeArgs[0])
	}
	if len(routeArgs) > 2 {
		return usagef("route %q: want an id or \"METHOD /path\"", strings.Join(routeArgs, " "))
	}
	route, err := resolveRoute(ctx, cl, api, routeArgs)
	if err != nil {
		return err
	}
	if req.PathWithQueryString == "" {
		if strings.Contains(route.GetPath(), "{") {
			return usagef("--path is required: route %s %s has path parameters", route.GetMethod(), route.GetPath())
		}
		req.PathWithQueryString = route.GetPath()
	}
	req.ApiId, req.RouteId = api.GetId(), route.GetId()
	resp, err := cl.TestInvokeRoute(ctx, req, grpc.MaxCallRecvMsgSize(maxTestInvokeResponse))
	if err != nil {
		return flagViolations(err)
	}
	if f.out != formatTable {
		return printMessages(c.out, f.out, []proto.Message{resp}, false)
	}
	return printTestInvoke(c.out, resp)
}

// testInvokeRequest builds the request the flags describe, refusing
// malformed flags before anything is sent.
func (c *cli) testInvokeRequest(f *testInvokeFlags) (*adminv1.TestInvokeRouteRequest, error) {
	vars, err := keyValues("stage-variable", f.vars)
	if err != nil {
		return nil, err
	}
	req := &adminv1.TestInvokeRouteRequest{
		PathWithQueryString: f.path, Method: strings.ToUpper(f.method), Stage: f.stage, StageVariables: vars, Body: []byte(f.body),
	}
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usagef("--header %q: want \"Name: value\"", h)
		}
		req.Headers = append(req.Headers, &adminv1.HeaderValue{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	if f.bodyFile != "" {
		if req.Body, err = c.readInput(f.bodyFile); err != nil {
			return nil, fmt.Errorf("--body-file: %w", err)
		}
	}
	return req, nil
}

// flagViolations renames the fields an INVALID_ARGUMENT names to the
// flags that set them, so that the message points at the command line.
func flagViolations(err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return err
	}
	var list []*errdetails.BadRequest_FieldViolation
	for _, v := range fieldViolations(st) {
		list = append(list, &errdetails.BadRequest_FieldViolation{Field: flagOf(v.GetField()), Description: v.GetDescription()})
	}
	if len(list) == 0 {
		return err
	}
	out, derr := status.New(codes.InvalidArgument, st.Message()).WithDetails(&errdetails.BadRequest{FieldViolations: list})
	if derr != nil {
		return err
	}
	return out.Err()
}

// flagOf names the flag that sets a field of TestInvokeRouteRequest.
func flagOf(field string) string {
	for _, m := range [...][2]string{
		{"path_with_query_string", "--path"},
		{"method", "--method"},
		{"headers", "--header"},
		{"body", "--body"},
		{"stage_variables", "--stage-variable"},
		{"stage", "--stage"},
		{"api_id", "API"},
		{"route_id", "ROUTE"},
	} {
		if rest, ok := strings.CutPrefix(field, m[0]); ok {
			return m[1] + rest
		}
	}
	return field
}

// printTestInvoke prints each step, then the response and the latency.
func printTestInvoke(w io.Writer, resp *adminv1.TestInvokeRouteResponse) error {
	var b strings.Builder
	for _, s := range resp.GetSteps() {
		fmt.Fprintf(&b, "=== %s\n", s.GetName())
		if s.GetMethod() != "" || s.GetUrl() != "" {
			fmt.Fprintf(&b, "%s %s\n", s.GetMethod(), s.GetUrl())
		}
		if s.GetStatus() != 0 {
			fmt.Fprintf(&b, "status %d\n", s.GetStatus())
		}
		for line := range strings.SplitSeq(s.GetDetail(), "\n") {
			if line != "" {
				fmt.Fprintf(&b, "# %s\n", line)
			}
		}
		if isFinal(s, resp) {
			b.WriteString("(the response below)\n\n")
			continue
		}
		writeMessage(&b, s.GetHeaders(), s.GetBody())
	}
	fmt.Fprintf(&b, "=== response: status %d, latency %d ms\n", resp.GetStatus(), resp.GetLatencyMs())
	writeMessage(&b, resp.GetHeaders(), resp.GetBody())
	_, err := io.WriteString(w, b.String())
	return err
}

// isFinal reports whether s is the method response resp ends with, which
// is printed once, as the response.
func isFinal(s *adminv1.TestInvokeStep, resp *adminv1.TestInvokeRouteResponse) bool {
	return s.GetName() == "method response" && s.GetStatus() == resp.GetStatus() &&
		bytes.Equal(s.GetBody(), resp.GetBody()) && len(s.GetHeaders()) == len(resp.GetHeaders())
}

// writeMessage writes headers as "name: value" lines, then a blank line
// and the body, if there is one. A body that is not text is described,
// not printed.
func writeMessage(b *strings.Builder, headers []*adminv1.HeaderValue, body []byte) {
	for _, h := range headers {
		fmt.Fprintf(b, "%s: %s\n", h.GetName(), h.GetValue())
	}
	if len(body) == 0 {
		b.WriteByte('\n')
		return
	}
	b.WriteByte('\n')
	if !utf8.Valid(body) || strings.ContainsRune(string(body), 0) {
		fmt.Fprintf(b, "(%d bytes of binary data)\n\n", len(body))
		return
	}
	b.Write(body)
	if body[len(body)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
}
