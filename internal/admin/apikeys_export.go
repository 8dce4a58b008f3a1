package admin

import (
	"context"
	"encoding/csv"
	"strconv"
	"strings"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// exportHeader is the header row of an export, in AWS's column names.
func exportHeader() []string {
	return []string{"Name", "Key", "Description", "Enabled", "UsagePlanIds"}
}

// ExportApiKeys writes every API key as a row of AWS's CSV format, which
// ImportApiKeys reads back. The Key column is empty: only hashes of values
// are stored, so whoever imports the file elsewhere fills the values in.
// UsagePlanIds lists a key's plans separated by commas, quoted by the CSV
// encoding when there are several, as AWS's format has them.
func (s *Server) ExportApiKeys(ctx context.Context, _ *adminv1.ExportApiKeysRequest) (*adminv1.ExportApiKeysResponse, error) {
	plans, err := s.store.AllKeyPlans(ctx)
	if err != nil {
		return nil, s.storeError(ctx, err)
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(exportHeader()) // A strings.Builder never fails; Error reports any failure below.
	for page := (store.Page{Limit: maxPageSize}); ; {
		keys, next, err := s.store.ListAPIKeys(ctx, page)
		if err != nil {
			return nil, s.storeError(ctx, err)
		}
		for _, k := range keys {
			_ = w.Write([]string{
				k.GetName(), "", k.GetDescription(), strconv.FormatBool(k.GetEnabled()),
				strings.Join(plans[k.GetId()], ","),
			})
		}
		if next == "" {
			break
		}
		page.After = next
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, s.storeError(ctx, err)
	}
	return &adminv1.ExportApiKeysResponse{Csv: b.String()}, nil
}
