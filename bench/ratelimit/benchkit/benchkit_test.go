package main

import (
	"bytes"
	"crypto/sha256"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/archway-gateway/archway/authz"
	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/ratelimit"
)

// t0 is the fixed time the services' clock shows: buckets never refill
// during a test.
var t0 = time.Date(2030, time.March, 4, 10, 0, 0, 0, time.UTC)

const keyValue = "bench-key-0123456789abcdefghijklmnopqrstuv"

// benchConfig is the shape of bench/ratelimit/api.yaml as the services see
// it: API a1, stage prod throttled at 1e6/s, GET /near throttled at 1/s
// burst 1, GET /keyed requiring a key that is on a plan for a1/prod.
func benchConfig(t *testing.T) *model.Config {
	t.Helper()
	mock := &model.Integration{ID: "i1", Name: "ok", Mock: &model.Mock{StatusCode: 200}}
	var routes []*model.Route
	for id, keyed := range map[string]bool{"limited": false, "near": false, "keyed": true} {
		p, err := model.ParsePathTemplate("/" + id)
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, &model.Route{ID: id, Method: "GET", Path: p, Integration: mock, APIKeyRequired: keyed})
	}
	d, err := model.NewDeployment("d1", routes, []*model.Integration{mock})
	if err != nil {
		t.Fatal(err)
	}
	stage := &model.Stage{
		Name: "prod", Deployment: d,
		Throttle:       &model.Throttle{Rate: 1e6, Burst: 1e6},
		RouteThrottles: map[string]*model.Throttle{"GET /near": {Rate: 1, Burst: 1}},
	}
	api, err := model.NewAPI("a1", "ratelimit-bench", model.ProtocolHTTP, []*model.Stage{stage})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.NewConfig(1, []*model.API{api})
	if err != nil {
		t.Fatal(err)
	}
	plan := &model.UsagePlan{ID: "p1", Stages: map[string]*model.PlanStage{"a1/prod": {}}}
	cfg.Keys = model.NewKeys([]*model.APIKey{{
		ID: "k1", Enabled: true, Hash: sha256.Sum256([]byte(keyValue)), Plans: []*model.UsagePlan{plan},
	}})
	return cfg
}

// serveArchway serves Archway's rate-limit and authorization services for
// cfg, in memory, as `archway serve` does on its Envoy-facing port, on a
// real gRPC server on 127.0.0.1, and returns its address.
func serveArchway(t *testing.T, cfg *model.Config) string {
	t.Helper()
	config := func() *model.Config { return cfg }
	now := func() time.Time { return t0 }
	store := ratelimit.NewMemoryStore()
	g := grpc.NewServer()
	ratelimit.NewRLS(config, ratelimit.NewLimiter(store, ratelimit.FailClosed, now, nil), nil).Register(g)
	authz.New(authz.Options{Config: config, Store: store, Now: now}).Register(g)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = g.Serve(l)
	}()
	t.Cleanup(func() {
		g.Stop()
		<-served
	})
	return l.Addr().String()
}

// TestProbes runs the probes the harness gates its load runs on against
// Archway's real services: they must tell a metered answer from an
// admitted one exactly as run.sh expects to read them.
func TestProbes(t *testing.T) {
	addr := serveArchway(t, benchConfig(t))
	tests := map[string]struct {
		args []string
		want string
	}{
		"high throttle admits": {
			args: []string{"rls", "-addr", addr, "-entry", "archway_route=a1/prod/limited", "-n", "3"},
			want: "OK\nOK\nOK\n",
		},
		"near throttle refuses the second call": {
			args: []string{"rls", "-addr", addr, "-entry", "archway_route=a1/prod/near", "-n", "2"},
			want: "OK\nOVER_LIMIT\n",
		},
		"valid key admitted": {
			args: []string{"authz", "-addr", addr, "-api", "a1", "-stage", "prod", "-route", "keyed", "-key", keyValue},
			want: "OK\n",
		},
		"wrong key forbidden": {
			args: []string{"authz", "-addr", addr, "-api", "a1", "-stage", "prod", "-route", "keyed", "-key", "x" + keyValue},
			want: "DENIED 403\n",
		},
		"missing key forbidden": {
			args: []string{"authz", "-addr", addr, "-api", "a1", "-stage", "prod", "-route", "keyed"},
			want: "DENIED 403\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(t.Context(), tc.args, &out); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("answers %q, want %q", out.String(), tc.want)
			}
		})
	}
}

// TestJSONRequests checks that the -json requests, which ghz sends during
// the load runs, decode to the very requests the probes send.
func TestJSONRequests(t *testing.T) {
	tests := map[string]struct {
		args []string
		msg  proto.Message
		want proto.Message
	}{
		"rls": {
			args: []string{"rls", "-json", "-domain", "bench", "-entry", "archway_route=a1/prod/limited"},
			msg:  &rlsv3.RateLimitRequest{},
			want: rlsRequest("bench", "archway_route", "a1/prod/limited"),
		},
		"authz": {
			args: []string{"authz", "-json", "-api", "a1", "-stage", "prod", "-route", "keyed", "-key", keyValue},
			msg:  &authv3.CheckRequest{},
			want: checkRequest("a1", "prod", "keyed", keyValue),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(t.Context(), tc.args, &out); err != nil {
				t.Fatal(err)
			}
			if err := protojson.Unmarshal(out.Bytes(), tc.msg); err != nil {
				t.Fatalf("%s: %v", out.String(), err)
			}
			if !proto.Equal(tc.msg, tc.want) {
				t.Errorf("decoded %v, want %v", tc.msg, tc.want)
			}
		})
	}
}

// TestProtoset checks that the protoset written for ghz is self-contained,
// lists each file after its imports, and describes both services.
func TestProtoset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.protoset")
	if err := run(t.Context(), []string{"protoset", "-o", path}, new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(b, set); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range set.GetFile() {
		for _, dep := range f.GetDependency() {
			if !seen[dep] {
				t.Errorf("%s comes before its import %s", f.GetName(), dep)
			}
		}
		seen[f.GetName()] = true
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		t.Fatalf("protoset is not self-contained: %v", err)
	}
	for _, svc := range []string{"envoy.service.ratelimit.v3.RateLimitService", "envoy.service.auth.v3.Authorization"} {
		if _, err := files.FindDescriptorByName(protoreflect.FullName(svc)); err != nil {
			t.Errorf("%s: %v", svc, err)
		}
	}
}

// TestPorts checks that the ports are distinct and free to listen on.
func TestPorts(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"ports", "5"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(out.String())
	if len(lines) != 5 {
		t.Fatalf("got %d ports, want 5: %q", len(lines), out.String())
	}
	seen := map[string]bool{}
	for _, p := range lines {
		if _, err := strconv.Atoi(p); err != nil || seen[p] {
			t.Fatalf("port %q is not a new number", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", p))
		if err != nil {
			t.Fatalf("port %s: %v", p, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUsageErrors checks that bad arguments are refused with a message
// naming what is wrong, before anything is dialled.
func TestUsageErrors(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"no command":       {args: nil, want: "usage"},
		"unknown command":  {args: []string{"load"}, want: `unknown command "load"`},
		"ports zero":       {args: []string{"ports", "0"}, want: "N must be 1 to 64"},
		"ports not number": {args: []string{"ports", "x"}, want: "N must be 1 to 64"},
		"protoset no -o":   {args: []string{"protoset"}, want: "-o is required"},
		"rls no entry":     {args: []string{"rls", "-addr", "127.0.0.1:1"}, want: "-entry must be key=value"},
		"rls no addr":      {args: []string{"rls", "-entry", "k=v"}, want: "-addr is required"},
		"authz too many":   {args: []string{"authz", "-addr", "127.0.0.1:1", "-n", "1001"}, want: "-n must be 1 to 1000"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := run(t.Context(), tc.args, new(bytes.Buffer))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
