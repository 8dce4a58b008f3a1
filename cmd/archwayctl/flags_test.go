package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/internal/testutil/testnet"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// TestKeysAndPlansUsageErrors checks that the new commands refuse bad
// command lines on their own, naming the flag, with exit status 2 and no
// connection: the address is a closed loopback port.
func TestKeysAndPlansUsageErrors(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"keys without a command":       {args: []string{"keys"}, want: `"archwayctl keys" needs a command: one of create, `},
		"unknown plans command":        {args: []string{"plans", "rename"}, want: `unknown command "rename" for "archwayctl plans"`},
		"keys get without a key":       {args: []string{"keys", "get"}, want: "accepts 1 arg(s), received 0"},
		"keys list with an argument":   {args: []string{"keys", "list", "x"}, want: `unknown command "x"`},
		"keys import without a file":   {args: []string{"keys", "import"}, want: "accepts 1 arg(s), received 0"},
		"key tag without a value":      {args: []string{"keys", "create", "k", "--tag", "team"}, want: `--tag "team": want key=value`},
		"rate without burst":           {args: []string{"plans", "create", "p", "--rate", "10"}, want: "[rate burst] are set they must all be set; missing [burst]"},
		"quota without period":         {args: []string{"plans", "create", "p", "--quota-limit", "10"}, want: "missing [quota-period]"},
		"offset without quota":         {args: []string{"plans", "create", "p", "--quota-offset", "1"}, want: "--quota-offset needs --quota-limit and --quota-period"},
		"bad quota period":             {args: []string{"plans", "create", "p", "--quota-limit", "10", "--quota-period", "year"}, want: `--quota-period "year": want DAY, WEEK or MONTH`},
		"stage without a colon":        {args: []string{"plans", "create", "p", "--stage", "petstore"}, want: `--stage "petstore": want API:STAGE`},
		"bad rate":                     {args: []string{"plans", "create", "p", "--rate", "fast", "--burst", "1"}, want: `invalid argument "fast" for "--rate"`},
		"throttle and no-throttle":     {args: []string{"plans", "update", "p", "--rate", "1", "--no-throttle"}, want: "[no-throttle rate] were all set"},
		"add-stage without a stage":    {args: []string{"plans", "add-stage", "p", "petstore"}, want: `API:STAGE "petstore": want API:STAGE`},
		"bad route throttle":           {args: []string{"plans", "add-stage", "p", "a:s", "--route-throttle", "GET /pets"}, want: `--route-throttle "GET /pets": want "METHOD /path=RATE:BURST"`},
		"route throttle without space": {args: []string{"plans", "add-stage", "p", "a:s", "--route-throttle", "/pets=1:2"}, want: `--route-throttle "/pets": want a route key "METHOD /path"`},
		"bad from date":                {args: []string{"usage", "p", "--from", "1 March"}, want: `--from "1 March": want a date as YYYY-MM-DD`},
		"from after to":                {args: []string{"usage", "p", "--from", "2026-03-02", "--to", "2026-03-01"}, want: "--from 2026-03-02 is after --to 2026-03-01"},
		"adjust without a number":      {args: []string{"usage", "adjust", "p", "k", "many"}, want: `N "many": want a whole number`},
		"negative adjust without --":   {args: []string{"usage", "adjust", "p", "k", "-5"}, want: `a negative N goes after "--": usage adjust PLAN KEY -- -5`},
		"stage throttle shape":         {args: []string{"create", "stage", "--api", "a", "s", "--throttle", "10"}, want: `--throttle "10": want RATE:BURST`},
		"stage route throttle twice":   {args: []string{"create", "stage", "--api", "a", "s", "--route-throttle", "get /x=1:1", "--route-throttle", "GET /x=2:2"}, want: `--route-throttle: route "GET /x" given twice`},
		"update stage with no change":  {args: []string{"update", "stage", "--api", "a", "s"}, want: "nothing to change"},
		"update route with no change":  {args: []string{"update", "route", "--api", "a", "GET", "/x"}, want: "nothing to change"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			wantUsageError(t, tc.args, tc.want)
		})
	}
}

func TestParseRouteThrottles(t *testing.T) {
	tests := map[string]struct {
		in   []string
		want map[string]*adminv1.ThrottleSettings
	}{
		"none": {},
		"method upper-cased, fraction rate": {
			in:   []string{"get /pets=0.5:1"},
			want: map[string]*adminv1.ThrottleSettings{"GET /pets": {RateLimit: 0.5, BurstLimit: 1}},
		},
		"path holding = and a greedy parameter": {
			in: []string{"ANY /a=b/{proxy+}=10:20", "POST /pets=0:0"},
			want: map[string]*adminv1.ThrottleSettings{
				"ANY /a=b/{proxy+}": {RateLimit: 10, BurstLimit: 20},
				"POST /pets":        {},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseRouteThrottles("route-throttle", tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, w := range tc.want {
				if !proto.Equal(got[k], w) {
					t.Errorf("%s: got %v, want %v", k, got[k], w)
				}
			}
		})
	}
}

func TestUsageRange(t *testing.T) {
	tests := map[string]struct {
		from, to   string
		start, end string
	}{
		"the last seven days":   {start: "2026-02-23", end: "2026-03-01"},
		"a week up to --to":     {to: "2026-01-03", start: "2025-12-28", end: "2026-01-03"},
		"from --from to today":  {from: "2026-02-01", start: "2026-02-01", end: "2026-03-01"},
		"one day":               {from: "2026-02-10", to: "2026-02-10", start: "2026-02-10", end: "2026-02-10"},
		"across a leap-day gap": {to: "2028-03-01", start: "2028-02-24", end: "2028-03-01"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			start, end, err := usageRange(tc.from, tc.to, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if start != tc.start || end != tc.end {
				t.Errorf("usageRange(%q, %q) = %s..%s, want %s..%s", tc.from, tc.to, start, end, tc.start, tc.end)
			}
		})
	}
}

// wantUsageError runs the CLI with args against a closed port and checks
// it fails on the command line alone: exit code 2, stderr starting with
// "archwayctl: " and holding want, nothing on stdout.
func wantUsageError(t *testing.T, args []string, want string) {
	t.Helper()
	r := runCLI(t, nil, "", append([]string{"--addr", testnet.ClosedAddr(t)}, args...)...)
	if r.code != exitUsage {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", r.code, exitUsage, r.err)
	}
	if !strings.HasPrefix(r.err, "archwayctl: ") || !strings.Contains(r.err, want) {
		t.Errorf("stderr = %q, want it to start with \"archwayctl: \" and contain %q", r.err, want)
	}
	if r.out != "" {
		t.Errorf("stdout = %q, want nothing", r.out)
	}
}
