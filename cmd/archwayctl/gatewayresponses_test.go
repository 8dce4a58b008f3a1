package main

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestGatewayResponses customizes gateway responses with the CLI, one
// flag form at a time, checks what the admin API stored through the
// test's own client and what list and get print, and resets them.
func TestGatewayResponses(t *testing.T) {
	addr, admin := startServer(t, serverOptions{})
	mustRun(t, addr, "apply", "-f", "testdata/petstore.yaml")
	api := apiNamed(t, admin, "petstore")

	rows := tableRows(t, mustRun(t, addr, "gateway-responses", "list", "petstore"))
	if len(rows) != 22 || !slices.Equal(rows[0], []string{"TYPE", "STATUS", "CUSTOMIZED", "HEADERS", "TEMPLATES"}) {
		t.Fatalf("list of a new API = %q, want a header and 21 types", rows)
	}
	for _, want := range [][]string{
		{"ACCESS_DENIED", "403", "-", "-", "application/json"},
		{"DEFAULT_4XX", "default", "-", "-", "application/json"},
		{"THROTTLED", "429", "-", "-", "application/json"},
	} {
		if !slices.ContainsFunc(rows, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("list of a new API has no row %q:\n%q", want, rows)
		}
	}

	xml := writeFile(t, t.TempDir(), "error.vtl", "<error>$context.error.message</error>\n")
	putOut := mustRun(t, addr, "gateway-responses", "put", "petstore", "throttled", "--status", "503",
		"--header", "Retry-After='1'",
		"--header", "gatewayresponse.header.X-Request-Id=context.requestId",
		"--header", "X-Static='a=b'",
		"--template", `application/json={"error": "$context.error.message"}`,
		"--template", "application/xml=@"+xml)
	want := &adminv1.GatewayResponse{
		ResponseType: "THROTTLED", StatusCode: 503,
		ResponseParameters: map[string]string{
			"gatewayresponse.header.Retry-After":  "'1'",
			"gatewayresponse.header.X-Request-Id": "context.requestId",
			"gatewayresponse.header.X-Static":     "'a=b'",
		},
		ResponseTemplates: map[string]string{
			"application/json": `{"error": "$context.error.message"}`,
			"application/xml":  "<error>$context.error.message</error>\n",
		},
	}
	checkGatewayResponse(t, admin, api.GetId(), want)

	wantGet := "type:        THROTTLED\n" +
		"status:      503\n" +
		"customized:  yes\n" +
		"headers:\n" +
		"  Retry-After: '1'\n" +
		"  X-Request-Id: context.requestId\n" +
		"  X-Static: 'a=b'\n" +
		"template application/json:\n" +
		"  {\"error\": \"$context.error.message\"}\n" +
		"template application/xml:\n" +
		"  <error>$context.error.message</error>\n"
	if putOut != wantGet {
		t.Errorf("put printed:\n%s\nwant:\n%s", putOut, wantGet)
	}
	if out := mustRun(t, addr, "gateway-responses", "get", api.GetId(), "THROTTLED"); out != wantGet {
		t.Errorf("get printed:\n%s\nwant:\n%s", out, wantGet)
	}
	got := &adminv1.GatewayResponse{}
	unmarshal(t, mustRun(t, addr, "gateway-responses", "get", "petstore", "THROTTLED", "-o", "json"), got)
	if !proto.Equal(got, want) {
		t.Errorf("get -o json = %v, want %v", got, want)
	}

	gatewayResponseFormsAndList(t, addr, admin, api.GetId())
	resetGatewayResponses(t, addr, admin, api.GetId())
}

// gatewayResponseFormsAndList puts a customization with no flags and one
// whose template comes from standard input, then checks list's table and
// JSON.
func gatewayResponseFormsAndList(t *testing.T, addr string, admin adminv1.AdminServiceClient, apiID string) {
	t.Helper()
	wantBare := "type:        DEFAULT_5XX\n" +
		"status:      default\n" +
		"customized:  yes\n" +
		"headers:     none\n" +
		"templates:   none: the body is {\"message\":$context.error.messageString}\n"
	if out := mustRun(t, addr, "gateway-responses", "put", "petstore", "DEFAULT_5XX"); out != wantBare {
		t.Errorf("put with no flags printed:\n%s\nwant:\n%s", out, wantBare)
	}
	checkGatewayResponse(t, admin, apiID, &adminv1.GatewayResponse{ResponseType: "DEFAULT_5XX"})

	body := "{\"why\": \"$context.error.validationErrorString\"}\n"
	r := runBinary(t, nil, body, "--addr", addr, "gateway-responses", "put", "petstore", "BAD_REQUEST_BODY",
		"--template", "application/json=@-", "-o", "yaml")
	if r.code != exitOK || !strings.Contains(r.out, "responseType: BAD_REQUEST_BODY\n") {
		t.Errorf("put from stdin: exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	checkGatewayResponse(t, admin, apiID, &adminv1.GatewayResponse{
		ResponseType: "BAD_REQUEST_BODY", ResponseTemplates: map[string]string{"application/json": body},
	})

	rows := tableRows(t, mustRun(t, addr, "gateway-responses", "list", "petstore"))
	for _, want := range [][]string{
		{"BAD_REQUEST_BODY", "default", "yes", "-", "application/json"},
		{"DEFAULT_5XX", "default", "yes", "-", "-"},
		{"THROTTLED", "503", "yes", "Retry-After,X-Request-Id,X-Static", "application/json,application/xml"},
		{"QUOTA_EXCEEDED", "429", "-", "-", "application/json"},
	} {
		if !slices.ContainsFunc(rows, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("list has no row %q:\n%q", want, rows)
		}
	}

	var list []json.RawMessage
	if err := json.Unmarshal([]byte(mustRun(t, addr, "gateway-responses", "list", "petstore", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	customized := map[string]bool{}
	for _, raw := range list {
		r := &adminv1.GatewayResponse{}
		unmarshal(t, string(raw), r)
		customized[r.GetResponseType()] = !r.GetDefaultResponse()
	}
	if len(customized) != 21 || !customized["THROTTLED"] || !customized["DEFAULT_5XX"] || customized["ACCESS_DENIED"] {
		t.Errorf("list -o json gives %v, want 21 types with THROTTLED and DEFAULT_5XX customized", customized)
	}
}

// resetGatewayResponses deletes customizations, with and without the
// API's etag, and checks that a stale etag and a type already at its
// default are refused.
func resetGatewayResponses(t *testing.T, addr string, admin adminv1.AdminServiceClient, apiID string) {
	t.Helper()
	stale := apiNamed(t, admin, "petstore").GetEtag()
	if out := mustRun(t, addr, "gateway-responses", "delete", "petstore", "THROTTLED"); out != "gateway response THROTTLED of api petstore reset to the default\n" {
		t.Errorf("delete printed %q", out)
	}
	r, err := admin.GetGatewayResponse(t.Context(), &adminv1.GetGatewayResponseRequest{ApiId: apiID, ResponseType: "THROTTLED"})
	check(t, err)
	if !r.GetDefaultResponse() || r.GetStatusCode() != 429 {
		t.Errorf("after delete THROTTLED is %v, want the default 429", r)
	}

	res := runBinary(t, nil, "", "--addr", addr, "gateway-responses", "delete", "petstore", "THROTTLED")
	if res.code != exitFailure || res.err != "archwayctl: api petstore does not customize THROTTLED: it answers with the default already\n" {
		t.Errorf("deleting a default: exit %d, stderr %q", res.code, res.err)
	}
	for _, args := range [][]string{
		{"delete", "petstore", "DEFAULT_5XX", "--etag", stale},
		{"put", "petstore", "DEFAULT_5XX", "--status", "500", "--etag", stale},
	} {
		res := runBinary(t, nil, "", append([]string{"--addr", addr, "gateway-responses"}, args...)...)
		if res.code != exitFailure || !strings.Contains(res.err, "etag mismatch") {
			t.Errorf("%s with a stale etag: exit %d, stderr %q; want exit 1 and an etag mismatch", args[0], res.code, res.err)
		}
	}
	current := apiNamed(t, admin, "petstore").GetEtag()
	mustRun(t, addr, "gateway-responses", "delete", "petstore", "default_5xx", "--etag", current)
	mustRun(t, addr, "gateway-responses", "delete", "petstore", "BAD_REQUEST_BODY")
	if left := apiNamed(t, admin, "petstore").GetGatewayResponses(); len(left) != 0 {
		t.Errorf("after deleting every customization the API has %v", left)
	}
}

// checkGatewayResponse compares the API's customization of want's type
// with want.
func checkGatewayResponse(t *testing.T, admin adminv1.AdminServiceClient, apiID string, want *adminv1.GatewayResponse) {
	t.Helper()
	got, err := admin.GetGatewayResponse(t.Context(), &adminv1.GetGatewayResponseRequest{ApiId: apiID, ResponseType: want.GetResponseType()})
	check(t, err)
	if !proto.Equal(got, want) {
		t.Errorf("gateway response %s is\n%v\nwant\n%v", want.GetResponseType(), got, want)
	}
}

// TestGatewayResponseRejected checks that what the admin API refuses exits
// 1 naming the field, and changes nothing.
func TestGatewayResponseRejected(t *testing.T) {
	addr, admin := startServer(t, serverOptions{})
	mustRun(t, addr, "apply", "-f", "testdata/petstore.yaml")
	missing := filepath.Join(t.TempDir(), "missing.vtl")
	tests := map[string]struct {
		args []string
		want string
	}{
		"unknown type": {
			args: []string{"put", "petstore", "TEAPOT"},
			want: "archwayctl: invalid request:\n  gateway_response.response_type: must be a gateway response type",
		},
		"status out of range": {
			args: []string{"put", "petstore", "THROTTLED", "--status", "42"},
			want: "  gateway_response.status_code: must be 0 (the type's default) or 100 to 599, got 42\n",
		},
		"static value without quotes": {
			args: []string{"put", "petstore", "THROTTLED", "--header", "Retry-After=1"},
			want: "  gateway_response.response_parameters[\"gatewayresponse.header.Retry-After\"]: \"1\" is not a mapping expression",
		},
		"not a header": {
			args: []string{"put", "petstore", "THROTTLED", "--header", "gatewayresponse.body.x='1'"},
			want: "  gateway_response.response_parameters[\"gatewayresponse.body.x\"]: ",
		},
		"template that does not parse": {
			args: []string{"put", "petstore", "THROTTLED", "--template", "application/json=#if($x"},
			want: "  gateway_response.response_templates[\"application/json\"]: line 1, column ",
		},
		"content type in upper case": {
			args: []string{"put", "petstore", "THROTTLED", "--template", "Application/JSON={}"},
			want: "  gateway_response.response_templates[\"Application/JSON\"]: the key must be a media type",
		},
		"get an unknown type": {
			args: []string{"get", "petstore", "TEAPOT"},
			want: "archwayctl: invalid request:\n  response_type: must be a gateway response type",
		},
		"unknown api": {
			args: []string{"list", "nope"},
			want: "archwayctl: api \"nope\" not found\n",
		},
		"template file missing": {
			args: []string{"put", "petstore", "THROTTLED", "--template", "application/json=@" + missing},
			want: "archwayctl: --template application/json=@" + missing + ": open " + missing + ": no such file or directory\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := runBinary(t, nil, "", append([]string{"--addr", addr, "gateway-responses"}, tc.args...)...)
			if r.code != exitFailure || !strings.Contains(r.err, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and:\n%s", r.code, r.err, tc.want)
			}
			if r.out != "" {
				t.Errorf("stdout = %q, want nothing", r.out)
			}
		})
	}
	if rs := apiNamed(t, admin, "petstore").GetGatewayResponses(); len(rs) != 0 {
		t.Errorf("refused puts left customizations %v", rs)
	}
}

// TestGatewayResponseUsageErrors checks that malformed command lines exit
// 2 naming the flag, without connecting: the address is a closed loopback
// port, so a connection attempt would show up as exit status 1.
func TestGatewayResponseUsageErrors(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"group without a command": {args: []string{"gateway-responses"}, want: `"archwayctl gateway-responses" needs a command: one of delete, get, list, put`},
		"unknown command":         {args: []string{"gateway-responses", "reset"}, want: `unknown command "reset" for "archwayctl gateway-responses"`},
		"list without an api":     {args: []string{"gateway-responses", "list"}, want: "accepts 1 arg(s), received 0"},
		"get without a type":      {args: []string{"gateway-responses", "get", "petstore"}, want: "accepts 2 arg(s), received 1"},
		"put without a type":      {args: []string{"gateway-responses", "put", "petstore"}, want: "accepts 2 arg(s), received 1"},
		"status not a number":     {args: []string{"gateway-responses", "put", "p", "THROTTLED", "--status", "busy"}, want: `invalid argument "busy" for "--status"`},
		"header without =": {
			args: []string{"gateway-responses", "put", "p", "THROTTLED", "--header", "Retry-After"},
			want: `--header "Retry-After": want NAME=EXPRESSION`,
		},
		"header without an expression": {
			args: []string{"gateway-responses", "put", "p", "THROTTLED", "--header", "Retry-After="},
			want: `--header "Retry-After=": want NAME=EXPRESSION`,
		},
		"header without a name": {
			args: []string{"gateway-responses", "put", "p", "THROTTLED", "--header", "='1'"},
			want: `--header "='1'": want NAME=EXPRESSION`,
		},
		"header twice in two spellings": {
			args: []string{"gateway-responses", "put", "p", "THROTTLED", "--header", "x-a='1'", "--header", "gatewayresponse.header.X-A='2'"},
			want: `--header: header "gatewayresponse.header.X-A" given twice (also as "x-a")`,
		},
		"template without =": {
			args: []string{"gateway-responses", "put", "p", "THROTTLED", "--template", "application/json"},
			want: `--template "application/json": want CONTENT-TYPE=TEMPLATE or CONTENT-TYPE=@FILE`,
		},
		"template twice": {
			args: []string{"gateway-responses", "put", "p", "THROTTLED", "--template", "text/plain=a", "--template", "text/plain=b"},
			want: `--template: content type "text/plain" given twice`,
		},
		"two templates from stdin": {
			args: []string{"gateway-responses", "put", "p", "THROTTLED", "--template", "text/plain=@-", "--template", "application/json=@-"},
			want: "--template: only one template can come from standard input (@-)",
		},
		"@ without a file": {
			args: []string{"gateway-responses", "put", "p", "THROTTLED", "--template", "text/plain=@"},
			want: `--template "text/plain=@": want a file name after @`,
		},
		"no -o on delete": {args: []string{"gateway-responses", "delete", "p", "THROTTLED", "-o", "json"}, want: "unknown shorthand flag: 'o'"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			wantUsageError(t, tc.args, tc.want)
		})
	}
}

func TestResponseHeaders(t *testing.T) {
	tests := map[string]struct {
		in   []string
		want map[string]string
	}{
		"none": {},
		"bare name gets the prefix, the full key is kept": {
			in: []string{"Retry-After='1'", "gatewayresponse.header.X-Id=context.requestId"},
			want: map[string]string{
				"gatewayresponse.header.Retry-After": "'1'",
				"gatewayresponse.header.X-Id":        "context.requestId",
			},
		},
		"only the first = splits": {
			in:   []string{"X-Q='a=b'"},
			want: map[string]string{"gatewayresponse.header.X-Q": "'a=b'"},
		},
		"another position is left for the admin API to refuse": {
			in:   []string{"gatewayresponse.body.x='1'"},
			want: map[string]string{"gatewayresponse.body.x": "'1'"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := responseHeaders("header", tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
