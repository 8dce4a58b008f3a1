package main

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestDescribeError(t *testing.T) {
	conn := connFlags{addr: "127.0.0.1:9090", timeout: 10 * time.Second}
	badRequest, err := status.New(codes.InvalidArgument, "invalid ApplyApiRequest: definition.name: must not be empty (and 1 more)").
		WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "definition.name", Description: "must not be empty"},
			{Field: "definition.routes[1].path", Description: "greedy parameter {id+} must be the last segment"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		err  error
		want string
	}{
		"plain error": {
			err:  errors.New("open x.yaml: no such file or directory"),
			want: "archwayctl: open x.yaml: no such file or directory\n",
		},
		"multi-line error": {
			err:  errors.New("x.yaml: document 1: one\ndocument 2: two"),
			want: "archwayctl: x.yaml: document 1: one\n  document 2: two\n",
		},
		"field violations, with the context wrapping added": {
			err: fmt.Errorf("api petstore: %w", badRequest.Err()),
			want: "archwayctl: api petstore: invalid request:\n" +
				"  definition.name: must not be empty\n" +
				"  definition.routes[1].path: greedy parameter {id+} must be the last segment\n",
		},
		"invalid argument without details": {
			err:  status.Error(codes.InvalidArgument, "invalid GetApiRequest: id: malformed"),
			want: "archwayctl: invalid GetApiRequest: id: malformed\n",
		},
		"not found": {
			err:  status.Error(codes.NotFound, "stage prod not found in api a1b2c3d4e5"),
			want: "archwayctl: stage prod not found in api a1b2c3d4e5\n",
		},
		"failed precondition": {
			err:  status.Error(codes.FailedPrecondition, "integration i1 is in use by route r1"),
			want: "archwayctl: integration i1 is in use by route r1\n",
		},
		"unreachable": {
			err:  status.Error(codes.Unavailable, `connection error: desc = "transport: connection refused"`),
			want: "archwayctl: cannot reach the admin API at 127.0.0.1:9090: connection error: desc = \"transport: connection refused\"\n",
		},
		"server unavailable": {
			err:  status.Error(codes.Unavailable, "store unavailable; try again"),
			want: "archwayctl: the admin API at 127.0.0.1:9090 is unavailable: store unavailable; try again\n",
		},
		"deadline": {
			err:  status.Error(codes.DeadlineExceeded, "context deadline exceeded"),
			want: "archwayctl: the admin API at 127.0.0.1:9090 did not answer within 10s (--timeout)\n",
		},
		"unauthenticated": {
			err:  status.Error(codes.Unauthenticated, "missing token"),
			want: "archwayctl: the admin API at 127.0.0.1:9090 did not accept the credentials (check --token-file): missing token\n",
		},
		"other code": {
			err:  status.Error(codes.Internal, "internal error"),
			want: "archwayctl: Internal: internal error\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := describeError(tc.err, conn); got != tc.want {
				t.Errorf("describeError:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
