package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/authz"
	"github.com/archway-gateway/archway/envoy"
)

// maxCalls bounds how many calls one probe makes: enough to drain a small
// bucket and see the limit bite, never a load run.
const maxCalls = 1000

// probeFlags are the flags every probe shares.
type probeFlags struct {
	addr    string
	n       int
	timeout time.Duration
	// json prints the request in protojson, for ghz's -d, instead of
	// sending it, so that the load run sends what the probe checked.
	json bool
}

func (p *probeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.addr, "addr", "", "host:port of the gRPC service")
	fs.IntVar(&p.n, "n", 1, "number of calls, one answer printed a line")
	fs.DurationVar(&p.timeout, "timeout", 5*time.Second, "deadline of each call")
	fs.BoolVar(&p.json, "json", false, "print the request as JSON instead of sending it")
}

func (p *probeFlags) check() error {
	if p.addr == "" && !p.json {
		return errors.New("-addr is required")
	}
	if p.n < 1 || p.n > maxCalls {
		return fmt.Errorf("-n must be 1 to %d", maxCalls)
	}
	return nil
}

// rlsRequest is the request Envoy's ratelimit filter sends for one
// descriptor of one entry.
func rlsRequest(domain, key, value string) *rlsv3.RateLimitRequest {
	return &rlsv3.RateLimitRequest{
		Domain: domain,
		Descriptors: []*rlv3.RateLimitDescriptor{{
			Entries: []*rlv3.RateLimitDescriptor_Entry{{Key: key, Value: value}},
		}},
		HitsAddend: 1,
	}
}

// rlsCommand asks a rate-limit service for -n decisions and prints each
// overall code (OK, OVER_LIMIT).
func rlsCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("rls", flag.ContinueOnError)
	var p probeFlags
	p.register(fs)
	domain := fs.String("domain", envoy.RateLimitDomain, "rate-limit domain")
	entry := fs.String("entry", "", "the descriptor's one entry, as key=value")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, value, ok := strings.Cut(*entry, "=")
	if !ok || key == "" {
		return errors.New("rls: -entry must be key=value")
	}
	if err := p.check(); err != nil {
		return fmt.Errorf("rls: %w", err)
	}
	req := rlsRequest(*domain, key, value)
	if p.json {
		return printJSON(out, req)
	}
	return p.call(ctx, out, func(ctx context.Context, cc *grpc.ClientConn) (string, error) {
		resp, err := rlsv3.NewRateLimitServiceClient(cc).ShouldRateLimit(ctx, req)
		return resp.GetOverallCode().String(), err
	})
}

// checkRequest is the CheckRequest Envoy's ext_authz filter sends for a GET
// on an Archway route: the route's IDs as context_extensions, and the API
// key, if any, in the x-api-key header.
func checkRequest(apiID, stage, routeID, apiKey string) *authv3.CheckRequest {
	headers := map[string]string{":method": "GET", ":path": "/bench"}
	if apiKey != "" {
		headers[authz.APIKeyHeader] = apiKey
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: "GET", Path: "/bench", Protocol: "HTTP/1.1", Headers: headers,
		}},
		Source:      &authv3.AttributeContext_Peer{Address: socket("127.0.0.1", 40000)},
		Destination: &authv3.AttributeContext_Peer{Address: socket("127.0.0.1", 8080)},
		ContextExtensions: map[string]string{
			envoy.MetadataAPIID: apiID, envoy.MetadataStage: stage, envoy.MetadataRouteID: routeID,
		},
	}}
}

func socket(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

// authzCommand asks an authorization service for -n decisions and prints
// each: OK, or DENIED and the HTTP status Envoy would answer with.
func authzCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("authz", flag.ContinueOnError)
	var p probeFlags
	p.register(fs)
	apiID := fs.String("api", "", "API id")
	stage := fs.String("stage", "", "stage name")
	routeID := fs.String("route", "", "route id")
	apiKey := fs.String("key", "", "API key value sent as x-api-key; none if empty")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := p.check(); err != nil {
		return fmt.Errorf("authz: %w", err)
	}
	req := checkRequest(*apiID, *stage, *routeID, *apiKey)
	if p.json {
		return printJSON(out, req)
	}
	return p.call(ctx, out, func(ctx context.Context, cc *grpc.ClientConn) (string, error) {
		resp, err := authv3.NewAuthorizationClient(cc).Check(ctx, req)
		if err != nil {
			return "", err
		}
		if codes.Code(resp.GetStatus().GetCode()) == codes.OK {
			return "OK", nil
		}
		return fmt.Sprintf("DENIED %d", resp.GetDeniedResponse().GetStatus().GetCode()), nil
	})
}

// call dials p.addr and prints the answers of p.n calls of one, stopping at
// the first error.
func (p *probeFlags) call(ctx context.Context, out io.Writer,
	one func(context.Context, *grpc.ClientConn) (string, error),
) error {
	cc, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer func() { _ = cc.Close() }()
	for range p.n {
		callCtx, cancel := context.WithTimeout(ctx, p.timeout)
		answer, err := one(callCtx, cc)
		cancel()
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(out, answer); err != nil {
			return err
		}
	}
	return nil
}

// printJSON writes m as one line of protojson with the proto field names,
// which ghz's -d accepts.
func printJSON(out io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}
