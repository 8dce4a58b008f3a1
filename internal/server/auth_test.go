package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

const testToken = "s3cret-t0ken"

// authServer serves an admin service that implements nothing, so that a
// call which gets past authentication ends in UNIMPLEMENTED, plus
// reflection for a streaming method.
func authServer(t *testing.T, logs *bytes.Buffer) string {
	t.Helper()
	auth, err := NewTokenAuth(testToken)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, _ := NewGRPCServer(GRPCOptions{Logger: log, Auth: auth})
	adminv1.RegisterAdminServiceServer(srv, adminv1.UnimplementedAdminServiceServer{})
	reflection.Register(srv)
	return serve(t, srv)
}

func withAuthorization(value string) context.Context {
	if value == "" {
		return context.Background()
	}
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", value)
}

func TestTokenAuth(t *testing.T) {
	var logs bytes.Buffer
	conn := dial(t, authServer(t, &logs))
	admin := adminv1.NewAdminServiceClient(conn)
	refl := reflectionpb.NewServerReflectionClient(conn)

	tests := map[string]struct {
		authorization string
		want          codes.Code
	}{
		"good token":            {authorization: "Bearer " + testToken, want: codes.OK},
		"scheme is case blind":  {authorization: "bearer " + testToken, want: codes.OK},
		"wrong token":           {authorization: "Bearer nope", want: codes.Unauthenticated},
		"token prefix":          {authorization: "Bearer " + testToken[:4], want: codes.Unauthenticated},
		"token without scheme":  {authorization: testToken, want: codes.Unauthenticated},
		"basic scheme":          {authorization: "Basic " + testToken, want: codes.Unauthenticated},
		"missing authorization": {want: codes.Unauthenticated},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := withAuthorization(tc.authorization)

			// The unimplemented admin service answers UNIMPLEMENTED to
			// every call that gets through.
			_, err := admin.GetApi(ctx, &adminv1.GetApiRequest{Id: "x"})
			wantUnary := tc.want
			if wantUnary == codes.OK {
				wantUnary = codes.Unimplemented
			}
			if got := status.Code(err); got != wantUnary {
				t.Errorf("unary: got %v (%v), want %v", got, err, wantUnary)
			}

			stream, err := refl.ServerReflectionInfo(ctx)
			if err != nil {
				t.Fatal(err)
			}
			req := &reflectionpb.ServerReflectionRequest{
				MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
			}
			// A rejected stream may end before the request is sent: Send
			// then returns io.EOF, and Recv the status.
			if err := stream.Send(req); err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			_, err = stream.Recv()
			if got := status.Code(err); got != tc.want {
				t.Errorf("stream: got %v (%v), want %v", got, err, tc.want)
			}
		})
	}
	if strings.Contains(logs.String(), testToken[:4]) {
		t.Errorf("the token leaked into the logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "Unauthenticated") {
		t.Errorf("rejected calls were not logged:\n%s", logs.String())
	}
}

func TestTokenAuthAllowsHealthChecks(t *testing.T) {
	var logs bytes.Buffer
	conn := dial(t, authServer(t, &logs))
	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("health check without a token: %v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("status = %v, want SERVING", resp.GetStatus())
	}
}

func TestNewTokenAuthRejectsEmptyToken(t *testing.T) {
	if _, err := NewTokenAuth(""); err == nil {
		t.Error("NewTokenAuth(\"\") succeeded")
	}
}

func TestReadToken(t *testing.T) {
	tests := map[string]struct {
		content string
		missing bool // no file at all
		want    string
		wantErr bool
	}{
		"plain":                 {content: "abc", want: "abc"},
		"trailing newline":      {content: "abc\n", want: "abc"},
		"surrounding blanks":    {content: " \t abc \r\n", want: "abc"},
		"empty file":            {content: "", wantErr: true},
		"only whitespace":       {content: " \n\t\n", wantErr: true},
		"file does not exist":   {missing: true, wantErr: true},
		"inner space preserved": {content: "a b\n", want: "a b"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token")
			if !tc.missing {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ReadToken(path)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ReadToken error = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ReadToken = %q, want %q", got, tc.want)
			}
		})
	}
}
