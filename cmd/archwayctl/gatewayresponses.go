package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Gateway responses are the answers the gateway gives itself when it
// refuses or fails a request (a missing API key, a throttled client, a
// backend that timed out), as Amazon API Gateway's GatewayResponse
// resources. Every API has all 21 types; a type the API does not customize
// answers with API Gateway's default. Changes apply without a deploy.

// headerParamPrefix starts the keys of a gateway response's
// response_parameters: gatewayresponse.header.NAME.
const headerParamPrefix = "gatewayresponse.header."

func (c *cli) gatewayResponsesCommand() *cobra.Command {
	return commandGroup("gateway-responses", "Customize the answers the gateway gives itself: refusals, throttling, failures",
		c.listGatewayResponses(), c.getGatewayResponse(), c.putGatewayResponse(), c.deleteGatewayResponse())
}

// responseTypeArg is the TYPE argument as the admin API spells types:
// throttled is THROTTLED.
func responseTypeArg(s string) string {
	return strings.ToUpper(s)
}

func (c *cli) listGatewayResponses() *cobra.Command {
	var out outputFormat
	cmd := &cobra.Command{
		Use:   "list API",
		Short: "List an API's gateway responses: every type, customized or default",
		Long: "list shows all 21 gateway response types of the API, by id or name: the status each\n" +
			"answers with, whether the API customizes it, the headers it sets and the content\n" +
			"types it has templates for. -o json or yaml prints them in full.",
		Args: cobra.ExactArgs(1),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, args[0])
			if err != nil {
				return err
			}
			resp, err := cl.ListGatewayResponses(ctx, &adminv1.ListGatewayResponsesRequest{ApiId: api.GetId()})
			if err != nil {
				return err
			}
			return printResources(c.out, out, gatewayResponseColumns(), resp.GetGatewayResponses(), true)
		}),
	}
	addOutputFlag(cmd, &out)
	return cmd
}

func (c *cli) getGatewayResponse() *cobra.Command {
	var out outputFormat
	cmd := &cobra.Command{
		Use:   "get API TYPE",
		Short: "Show one gateway response in full: status, header mappings and templates",
		Args:  cobra.ExactArgs(2),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, args[0])
			if err != nil {
				return err
			}
			r, err := cl.GetGatewayResponse(ctx, &adminv1.GetGatewayResponseRequest{
				ApiId: api.GetId(), ResponseType: responseTypeArg(args[1]),
			})
			return c.printGatewayResponse(out, r, err)
		}),
	}
	addOutputFlag(cmd, &out)
	return cmd
}

// putFlags are put's flags: the customization, which replaces the type's
// earlier one as a whole.
type putFlags struct {
	status    int32
	headers   []string
	templates []string
	etag      string
	out       outputFormat
}

func (c *cli) putGatewayResponse() *cobra.Command {
	var f putFlags
	cmd := &cobra.Command{
		Use:   "put API TYPE [--status N] [--header NAME=EXPR]... [--template CONTENT-TYPE=TEMPLATE]...",
		Short: "Customize a gateway response type of an API, replacing its earlier customization",
		Long: "put is AWS's put-gateway-response: the type's customization becomes exactly what the\n" +
			"flags give, and headers or templates not given are dropped. It applies to every stage\n" +
			"at once, without a deploy.\n\n" +
			"--header NAME=EXPRESSION sets a response header: NAME bare or as\n" +
			"gatewayresponse.header.NAME; EXPRESSION a static value in single quotes ('*'),\n" +
			"method.request.header.NAME, method.request.querystring.NAME, method.request.path.NAME,\n" +
			"stageVariables.NAME or context.PROPERTY.\n\n" +
			"--template CONTENT-TYPE=TEMPLATE sets the body for clients accepting that type: a VTL\n" +
			"template with $context.error.message, $context.error.messageString,\n" +
			"$context.error.responseType and $context.error.validationErrorString among the rest\n" +
			"of $context. CONTENT-TYPE=@FILE reads it from a file, CONTENT-TYPE=@- from standard\n" +
			"input.\n\n" +
			"TYPE is one of ACCESS_DENIED, API_CONFIGURATION_ERROR, AUTHORIZER_CONFIGURATION_ERROR,\n" +
			"AUTHORIZER_FAILURE, BAD_REQUEST_BODY, BAD_REQUEST_PARAMETERS, DEFAULT_4XX, DEFAULT_5XX,\n" +
			"EXPIRED_TOKEN, INTEGRATION_FAILURE, INTEGRATION_TIMEOUT, INVALID_API_KEY,\n" +
			"INVALID_SIGNATURE, MISSING_AUTHENTICATION_TOKEN, QUOTA_EXCEEDED, REQUEST_TOO_LARGE,\n" +
			"RESOURCE_NOT_FOUND, THROTTLED, UNAUTHORIZED, UNSUPPORTED_MEDIA_TYPE or WAF_FILTERED, in\n" +
			"any case. DEFAULT_4XX and DEFAULT_5XX apply to every type of their class that the API\n" +
			"does not customize itself.",
		Example: "  archwayctl gateway-responses put petstore THROTTLED --status 503 \\\n" +
			"      --header \"Retry-After='1'\" --header X-Request-Id=context.requestId \\\n" +
			"      --template 'application/json={\"error\": \"$context.error.message\"}'\n" +
			"  archwayctl gateway-responses put petstore DEFAULT_4XX --header \"Access-Control-Allow-Origin='*'\"\n" +
			"  archwayctl gateway-responses put petstore BAD_REQUEST_BODY --template application/json=@bad-body.vtl",
		Args: cobra.ExactArgs(2),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			return c.putResponse(ctx, args, &f)
		}),
	}
	fs := cmd.Flags()
	fs.Int32Var(&f.status, "status", 0, "the status code to answer with, 100 to 599 (default: the type's)")
	fs.StringArrayVar(&f.headers, "header", nil,
		"a response header as NAME=EXPRESSION, as \"Access-Control-Allow-Origin='*'\"; repeatable")
	fs.StringArrayVar(&f.templates, "template", nil,
		"a body template as CONTENT-TYPE=TEMPLATE, CONTENT-TYPE=@FILE or CONTENT-TYPE=@- (standard input); repeatable")
	fs.StringVar(&f.etag, "etag", "", "the API's etag: fail if the API changed since it had this one")
	addOutputFlag(cmd, &f.out)
	return cmd
}

// putResponse checks put's flags, reads its templates and sends the
// customization.
func (c *cli) putResponse(ctx context.Context, args []string, f *putFlags) error {
	headers, err := responseHeaders("header", f.headers)
	if err != nil {
		return err
	}
	specs, err := parseTemplateSpecs("template", f.templates)
	if err != nil {
		return err
	}
	templates, err := c.readTemplates("template", specs)
	if err != nil {
		return err
	}
	cl, api, err := c.withAPI(ctx, args[0])
	if err != nil {
		return err
	}
	r, err := cl.PutGatewayResponse(ctx, &adminv1.PutGatewayResponseRequest{
		ApiId: api.GetId(),
		GatewayResponse: &adminv1.GatewayResponse{
			ResponseType:       responseTypeArg(args[1]),
			StatusCode:         f.status,
			ResponseParameters: headers,
			ResponseTemplates:  templates,
		},
		Etag: f.etag,
	})
	return c.printGatewayResponse(f.out, r, err)
}

// responseHeaders reads the NAME=EXPRESSION flags of put into
// response_parameters, keyed gatewayresponse.header.NAME. Only the shape is
// checked here; the admin API checks names and expressions.
func responseHeaders(flag string, pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	params := make(map[string]string, len(pairs))
	seen := make(map[string]string, len(pairs))
	for _, p := range pairs {
		name, expr, ok := strings.Cut(p, "=")
		if !ok || name == "" || expr == "" {
			return nil, usagef("--%s %q: want NAME=EXPRESSION, as \"Access-Control-Allow-Origin='*'\" or X-Request-Id=context.requestId", flag, p)
		}
		key := name
		if !strings.HasPrefix(name, "gatewayresponse.") {
			key = headerParamPrefix + name
		}
		// Header names are case-insensitive: two spellings are one header.
		folded := strings.ToLower(key)
		if first, dup := seen[folded]; dup {
			return nil, usagef("--%s: header %q given twice (also as %q)", flag, name, first)
		}
		seen[folded] = name
		params[key] = expr
	}
	return params, nil
}

// templateSpec is one --template flag: a content type and either the
// template itself or, with file set, where to read it (- for standard
// input).
type templateSpec struct {
	contentType string
	source      string
	file        bool
}

// parseTemplateSpecs reads the CONTENT-TYPE=TEMPLATE flags of put. A
// content type has no "=" (the admin API refuses parameters), so the first
// one splits.
func parseTemplateSpecs(flag string, specs []string) ([]templateSpec, error) {
	out := make([]templateSpec, 0, len(specs))
	stdin := false
	for _, s := range specs {
		ct, src, ok := strings.Cut(s, "=")
		if !ok || ct == "" {
			return nil, usagef("--%s %q: want CONTENT-TYPE=TEMPLATE or CONTENT-TYPE=@FILE, as application/json=@error.vtl", flag, s)
		}
		if slices.ContainsFunc(out, func(t templateSpec) bool { return t.contentType == ct }) {
			return nil, usagef("--%s: content type %q given twice", flag, ct)
		}
		spec := templateSpec{contentType: ct, source: src}
		if path, isFile := strings.CutPrefix(src, "@"); isFile {
			if path == "" {
				return nil, usagef("--%s %q: want a file name after @, or @- for standard input", flag, s)
			}
			if path == "-" {
				if stdin {
					return nil, usagef("--%s: only one template can come from standard input (@-)", flag)
				}
				stdin = true
			}
			spec.source, spec.file = path, true
		}
		out = append(out, spec)
	}
	return out, nil
}

// readTemplates returns the templates specs give, content type → source,
// reading the files they name.
func (c *cli) readTemplates(flag string, specs []templateSpec) (map[string]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	templates := make(map[string]string, len(specs))
	for _, s := range specs {
		if !s.file {
			templates[s.contentType] = s.source
			continue
		}
		b, err := c.readInput(s.source)
		if err != nil {
			return nil, fmt.Errorf("--%s %s=@%s: %w", flag, s.contentType, s.source, err)
		}
		templates[s.contentType] = string(b)
	}
	return templates, nil
}

func (c *cli) deleteGatewayResponse() *cobra.Command {
	var etag string
	cmd := &cobra.Command{
		Use:   "delete API TYPE",
		Short: "Reset a gateway response type of an API to API Gateway's default",
		Args:  cobra.ExactArgs(2),
		RunE: c.action(func(ctx context.Context, _ *cobra.Command, args []string) error {
			cl, api, err := c.withAPI(ctx, args[0])
			if err != nil {
				return err
			}
			t := responseTypeArg(args[1])
			_, err = cl.DeleteGatewayResponse(ctx, &adminv1.DeleteGatewayResponseRequest{ApiId: api.GetId(), ResponseType: t, Etag: etag})
			if status.Code(err) == codes.NotFound && !customizes(api, t) {
				return fmt.Errorf("api %s does not customize %s: it answers with the default already", api.GetName(), t)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.out, "gateway response %s of api %s reset to the default\n", t, api.GetName())
			return err
		}),
	}
	cmd.Flags().StringVar(&etag, "etag", "", "the API's etag: fail if the API changed since it had this one")
	return cmd
}

// customizes reports whether api customizes response type t.
func customizes(api *adminv1.Api, t string) bool {
	return slices.ContainsFunc(api.GetGatewayResponses(), func(r *adminv1.GatewayResponse) bool {
		return r.GetResponseType() == t
	})
}

// printGatewayResponse prints the response a call returned, in full, or
// returns the call's error.
func (c *cli) printGatewayResponse(out outputFormat, r *adminv1.GatewayResponse, err error) error {
	if err != nil {
		return err
	}
	if out != formatTable {
		return printMessages(c.out, out, []proto.Message{r}, false)
	}
	return writeGatewayResponse(c.out, r)
}

// gatewayResponseColumns is the table form of gateway responses: the
// headers by name and the templates by content type; the mappings and
// templates themselves are in get and -o yaml.
func gatewayResponseColumns() columns[*adminv1.GatewayResponse] {
	return columns[*adminv1.GatewayResponse]{
		header: []string{"TYPE", "STATUS", "CUSTOMIZED", "HEADERS", "TEMPLATES"},
		row: func(r *adminv1.GatewayResponse) []string {
			customized := ""
			if !r.GetDefaultResponse() {
				customized = "yes"
			}
			return []string{
				r.GetResponseType(), responseStatus(r), customized,
				strings.Join(responseHeaderNames(r), ","),
				strings.Join(slices.Sorted(maps.Keys(r.GetResponseTemplates())), ","),
			}
		},
	}
}

// responseStatus is r's status code, or "default" for 0: the type's own
// status, or for DEFAULT_4XX and DEFAULT_5XX each type's.
func responseStatus(r *adminv1.GatewayResponse) string {
	if r.GetStatusCode() == 0 {
		return "default"
	}
	return strconv.Itoa(int(r.GetStatusCode()))
}

// responseHeaderNames returns the keys of r's response_parameters, sorted,
// without the gatewayresponse.header. prefix.
func responseHeaderNames(r *adminv1.GatewayResponse) []string {
	keys := slices.Sorted(maps.Keys(r.GetResponseParameters()))
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, headerParamPrefix)
	}
	return keys
}

// writeGatewayResponse writes one gateway response for a person: its
// status, each header mapping and each template, indented under its
// content type.
func writeGatewayResponse(w io.Writer, r *adminv1.GatewayResponse) error {
	var b strings.Builder
	customized := "no, API Gateway's default"
	if !r.GetDefaultResponse() {
		customized = "yes"
	}
	fmt.Fprintf(&b, "type:        %s\n", r.GetResponseType())
	fmt.Fprintf(&b, "status:      %s\n", responseStatus(r))
	fmt.Fprintf(&b, "customized:  %s\n", customized)
	params := r.GetResponseParameters()
	if len(params) == 0 {
		b.WriteString("headers:     none\n")
	} else {
		b.WriteString("headers:\n")
		for _, k := range slices.Sorted(maps.Keys(params)) {
			fmt.Fprintf(&b, "  %s: %s\n", strings.TrimPrefix(k, headerParamPrefix), params[k])
		}
	}
	templates := r.GetResponseTemplates()
	if len(templates) == 0 {
		b.WriteString("templates:   none: the body is {\"message\":$context.error.messageString}\n")
	}
	for _, ct := range slices.Sorted(maps.Keys(templates)) {
		fmt.Fprintf(&b, "template %s:\n", ct)
		src := strings.TrimSuffix(templates[ct], "\n")
		if src == "" {
			b.WriteString("  (empty)\n")
			continue
		}
		for line := range strings.SplitSeq(src, "\n") {
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
