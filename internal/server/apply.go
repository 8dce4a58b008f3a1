package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"github.com/archway-gateway/archway/internal/apply"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// applyFiles applies every API definition in the given files through the
// admin service in process, as `archwayctl apply` would over the network.
// ApplyApi is idempotent, so a gateway restarted with the same files
// changes nothing.
func applyFiles(ctx context.Context, adm adminv1.AdminServiceServer, paths []string, log *slog.Logger) error {
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		defs, err := apply.Decode(data)
		if err != nil {
			return fmt.Errorf("apply %s: %w", path, err)
		}
		for _, def := range defs {
			resp, err := adm.ApplyApi(ctx, &adminv1.ApplyApiRequest{Definition: def})
			if err != nil {
				return fmt.Errorf("apply %s: API %q: %s", path, def.GetName(), describe(err))
			}
			log.Info("applied", "file", path, "api", def.GetName(),
				"id", resp.GetApi().GetId(), "changes", len(resp.GetChanges()))
		}
	}
	return nil
}

// describe renders a gRPC error with the field violations of its
// google.rpc.BadRequest, so that a bad file names its bad fields.
func describe(err error) string {
	st := status.Convert(err)
	var b strings.Builder
	b.WriteString(st.Message())
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			continue
		}
		for _, v := range br.GetFieldViolations() {
			fmt.Fprintf(&b, "; %s: %s", v.GetField(), v.GetDescription())
		}
	}
	return b.String()
}
