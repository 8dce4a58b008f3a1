package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/archway-gateway/archway/internal/store"
)

// Precondition failure types, in the google.rpc.PreconditionFailure of a
// FAILED_PRECONDITION status, so that clients can tell the cases apart
// without parsing messages.
const (
	// failureEtag: the resource changed since the client read it.
	failureEtag = "ETAG"
	// failureLimit: the change would exceed a limit of docs/limits.md.
	// Amazon API Gateway reports these as LimitExceededException.
	failureLimit = "LIMIT"
	// failureInUse: other resources still refer to the one being deleted.
	failureInUse = "IN_USE"
	// failureAPIStage: an API key would meet one API stage through two
	// usage plans, which AWS refuses too: the data plane could not tell
	// which plan's throttle and quota apply.
	failureAPIStage = "API_STAGE"
	// failureNotConfigured: the server runs without a component the call
	// needs (usage metering without a counter store).
	failureNotConfigured = "NOT_CONFIGURED"
)

// notFound reports a missing resource of an API, or a missing API when
// apiID is empty.
func notFound(kind, id, apiID string) error {
	if apiID == "" {
		return status.Errorf(codes.NotFound, "%s %s not found", kind, id)
	}
	return status.Errorf(codes.NotFound, "%s %s not found in api %s", kind, id, apiID)
}

// alreadyExists reports that a resource with the same identity exists.
func alreadyExists(format string, args ...any) error {
	return status.Errorf(codes.AlreadyExists, format, args...)
}

// failedPrecondition returns a FAILED_PRECONDITION status whose details name
// the failed condition, its subject and why.
func failedPrecondition(typ, subject, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	st, err := status.New(codes.FailedPrecondition, msg).WithDetails(&errdetails.PreconditionFailure{
		Violations: []*errdetails.PreconditionFailure_Violation{{Type: typ, Subject: subject, Description: msg}},
	})
	if err != nil {
		return status.Error(codes.FailedPrecondition, msg)
	}
	return st.Err()
}

// checkEtag fails if the client sent an etag and the resource has another
// one, so that a client that read a resource never overwrites a change it
// did not see. The check runs against the snapshot the change is committed
// against, so a stale etag can never write.
func checkEtag(subject, sent, current string) error {
	if sent == "" || sent == current {
		return nil
	}
	return failedPrecondition(failureEtag, subject,
		"etag mismatch: resource changed since it was read (sent %s, current %s)", sent, current)
}

// limitExceeded reports that a change would exceed a count limit.
func limitExceeded(limit string, maxCount int, subject string) error {
	return failedPrecondition(failureLimit, limit, "%s: at most %d %s", subject, maxCount, limit)
}

// inUse reports that a resource cannot be deleted while others refer to it.
func inUse(subject string, referrers []string) error {
	return failedPrecondition(failureInUse, subject, "%s is in use by %s", subject, strings.Join(referrers, ", "))
}

// storeError turns an error of the store into a gRPC status. Callers that
// know which resource was missing report it with notFound instead. An
// unavailable etcd is UNAVAILABLE, which clients may retry; anything else
// unexpected is logged and reported as INTERNAL without its detail, which
// may name keys and hosts.
func (s *Server) storeError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, store.ErrAlreadyExists):
		return status.Error(codes.AlreadyExists, err.Error())
	case errors.Is(err, store.ErrConflict):
		return status.Error(codes.Aborted, "concurrent change; try again")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	if st, ok := status.FromError(err); ok && st.Code() == codes.Unavailable {
		return status.Error(codes.Unavailable, "store unavailable; try again")
	}
	s.log.ErrorContext(ctx, "store request failed", "error", err)
	return status.Error(codes.Internal, "internal error")
}
