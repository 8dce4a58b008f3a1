package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// healthPrefix is the method prefix of grpc.health.v1.Health. Health checks
// carry no credentials: load balancers, orchestrators and Envoy probe them
// without any, and they reveal nothing but whether the server is up.
const healthPrefix = "/grpc.health.v1.Health/"

// ReadToken reads a bearer token from a file, once, trimming surrounding
// whitespace so that a trailing newline written by an editor or by
// `echo` is not part of the token. An empty token is an error: it would let
// every caller in.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read admin token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("admin token file %s is empty", path)
	}
	return tok, nil
}

// TokenAuth checks that every call carries `authorization: Bearer <token>`
// metadata, as gRPC clients send call credentials. The token is never
// logged or returned in an error.
type TokenAuth struct {
	token []byte
}

// NewTokenAuth returns a TokenAuth that accepts exactly token.
func NewTokenAuth(token string) (*TokenAuth, error) {
	if token == "" {
		return nil, errors.New("admin token is empty")
	}
	return &TokenAuth{token: []byte(token)}, nil
}

// UnaryInterceptor rejects unary calls without the token with
// UNAUTHENTICATED before they reach the service.
func (a *TokenAuth) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := a.authorize(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor rejects streams without the token with
// UNAUTHENTICATED before the first message is read.
func (a *TokenAuth) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := a.authorize(ss.Context(), info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

// authorize compares the presented token in constant time, so that the
// time a rejection takes tells nothing about how much of a guess was right.
func (a *TokenAuth) authorize(ctx context.Context, fullMethod string) error {
	if strings.HasPrefix(fullMethod, healthPrefix) {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get("authorization")
	if len(values) != 1 {
		return status.Error(codes.Unauthenticated, "missing bearer token")
	}
	scheme, tok, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return status.Error(codes.Unauthenticated, "authorization is not a bearer token")
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), a.token) != 1 {
		return status.Error(codes.Unauthenticated, "invalid bearer token")
	}
	return nil
}
