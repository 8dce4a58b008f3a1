package main

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// describeError renders a failed command for a person: one headline, and
// for a rejected request one line per bad field, so that a whole file's
// mistakes can be fixed in one pass.
func describeError(err error, conn connFlags) string {
	st, prefix := grpcStatus(err)
	if st == nil {
		return "archwayctl: " + indentLines(err.Error()) + "\n"
	}
	violations := fieldViolations(st)
	var b strings.Builder
	b.WriteString("archwayctl: ")
	b.WriteString(prefix)
	if len(violations) > 0 {
		// The list says it all; the status message only repeats its
		// first line for clients that print nothing else.
		b.WriteString("invalid request:")
	} else {
		b.WriteString(headline(st, conn))
	}
	b.WriteByte('\n')
	for _, v := range violations {
		fmt.Fprintf(&b, "  %s: %s\n", v.GetField(), v.GetDescription())
	}
	return b.String()
}

// fieldViolations returns the bad fields an INVALID_ARGUMENT names in its
// google.rpc.BadRequest detail.
func fieldViolations(st *status.Status) []*errdetails.BadRequest_FieldViolation {
	if st.Code() != codes.InvalidArgument {
		return nil
	}
	var list []*errdetails.BadRequest_FieldViolation
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			list = append(list, br.GetFieldViolations()...)
		}
	}
	return list
}

// headline says what a gRPC status means for the user, in the words of
// what to do about it where there is something to do.
func headline(st *status.Status, conn connFlags) string {
	msg := st.Message()
	switch st.Code() {
	case codes.Unavailable:
		if strings.HasPrefix(msg, "connection error") {
			return fmt.Sprintf("cannot reach the admin API at %s: %s", conn.addr, msg)
		}
		return fmt.Sprintf("the admin API at %s is unavailable: %s", conn.addr, msg)
	case codes.DeadlineExceeded:
		return fmt.Sprintf("the admin API at %s did not answer within %s (--timeout)", conn.addr, conn.timeout)
	case codes.Unauthenticated:
		return fmt.Sprintf("the admin API at %s did not accept the credentials (check --token-file): %s", conn.addr, msg)
	case codes.PermissionDenied:
		return "permission denied: " + msg
	case codes.Canceled:
		return "interrupted"
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition, codes.Aborted:
		// The admin API words these for people already.
		return msg
	}
	return fmt.Sprintf("%s: %s", st.Code(), msg)
}

// grpcStatus finds the status in err, and the context that wrapping added
// in front of it, such as "document 2 (api orders): ".
func grpcStatus(err error) (*status.Status, string) {
	var gs interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &gs) {
		return nil, ""
	}
	prefix := ""
	if inner, ok := gs.(error); ok && strings.HasSuffix(err.Error(), inner.Error()) {
		prefix = strings.TrimSuffix(err.Error(), inner.Error())
	}
	return gs.GRPCStatus(), prefix
}

// indentLines indents every line but the first, so that a multi-line error
// such as a file's list of problems reads as one block under its headline.
func indentLines(s string) string {
	return strings.ReplaceAll(s, "\n", "\n  ")
}
