package admin

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/archway-gateway/archway/internal/store"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// maxImportRows bounds one ImportApiKeys call, so that its transaction
// (three writes per key) stays inside etcd's limits (see docs/store.md).
const maxImportRows = 1000

// The columns of Amazon API Gateway's API key CSV format, lower case.
const (
	colName         = "name"
	colKey          = "key"
	colDescription  = "description"
	colEnabled      = "enabled"
	colUsagePlanIDs = "usageplanids"
)

// importRow is one data row of an import and the key it describes.
type importRow struct {
	line  int
	key   *adminv1.ApiKey
	value string
}

// csvHeader maps the lower-case column names of an import to their
// positions; unknown columns are warnings, a missing Key column a violation.
type csvHeader map[string]int

// ImportApiKeys creates API keys from AWS's CSV format. Every row is
// checked first and the keys are written in one transaction, all or none.
// Bad fields are reported as csv.line[N].column, N being the line of the
// file (the header is line 1).
func (s *Server) ImportApiKeys(ctx context.Context, req *adminv1.ImportApiKeysRequest) (*adminv1.ImportApiKeysResponse, error) {
	v := newViolations(req)
	rows, warnings := parseImport(v, req.GetCsv())
	if req.GetFailOnWarnings() {
		for _, w := range warnings {
			v.add("csv", "%s (fail_on_warnings is set)", w)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.checkAPIKeyCount(ctx, len(rows)); err != nil {
		return nil, err
	}
	keys := make([]*adminv1.ApiKey, len(rows))
	for i, r := range rows {
		keys[i] = s.newAPIKeyRecord(r.key, r.value)
	}
	rev, err := s.createAPIKeys(ctx, keys, func(i int) string { return fmt.Sprintf("csv line %d", rows[i].line) })
	if err != nil {
		return nil, err
	}
	resp := &adminv1.ImportApiKeysResponse{Warnings: warnings}
	for i, k := range keys {
		store.SetEtag(k, rev)
		resp.ApiKeys = append(resp.ApiKeys, withValue(k, rows[i].value))
	}
	s.log.InfoContext(ctx, "api keys imported", "count", len(keys), "revision", rev)
	return resp, nil
}

// parseImport reads and checks every row of an import, recording bad
// fields in v, and returns the rows and the warnings.
func parseImport(v *violations, text string) ([]importRow, []string) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	head, err := r.Read()
	if err != nil {
		v.add("csv", "must start with a header row naming the columns Name, Key, Description, Enabled, UsagePlanIds")
		return nil, nil
	}
	cols, warnings := parseHeader(v, head)
	if cols == nil {
		return nil, warnings
	}
	var rows []importRow
	names, values := map[string]int{}, map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			v.add(fmt.Sprintf("csv.line[%d]", line), "not valid CSV: %v", err)
			return nil, nil
		}
		if len(rows) == maxImportRows {
			v.add("csv", "at most %d rows may be imported at once", maxImportRows)
			return nil, nil
		}
		row := parseRow(v, cols, rec, line)
		unique(v, names, row.key.GetName(), row.line, "name", "name")
		unique(v, values, row.value, row.line, "key", "value")
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		v.add("csv", "holds no API keys")
	}
	return rows, warnings
}

// unique records a violation if another row of the import has the same
// value in column col; the second occurrence is the bad one.
func unique(v *violations, seen map[string]int, val string, line int, col, what string) {
	if val == "" {
		return
	}
	if first, ok := seen[val]; ok {
		v.add(fmt.Sprintf("csv.line[%d].%s", line, col), "same %s as line %d", what, first)
		return
	}
	seen[val] = line
}

// parseHeader maps the header's columns. It returns nil if the header is
// unusable.
func parseHeader(v *violations, head []string) (csvHeader, []string) {
	cols := csvHeader{}
	var warnings []string
	for i, h := range head {
		name := strings.ToLower(strings.TrimSpace(h))
		switch name {
		case colName, colKey, colDescription, colEnabled, colUsagePlanIDs:
			if _, dup := cols[name]; dup {
				v.add("csv.line[1]", "column %q appears twice", h)
			}
			cols[name] = i
		default:
			warnings = append(warnings, fmt.Sprintf("unknown column %q ignored", h))
		}
	}
	if _, ok := cols[colKey]; !ok {
		v.add("csv.line[1]", "the header must name a Key column")
		return nil, warnings
	}
	return cols, warnings
}

// parseRow reads one data row into a key.
func parseRow(v *violations, cols csvHeader, rec []string, line int) importRow {
	get := func(col string) string {
		if i, ok := cols[col]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	field := func(col string) string { return fmt.Sprintf("csv.line[%d].%s", line, col) }
	row := importRow{line: line, value: get(colKey), key: &adminv1.ApiKey{
		Name: get(colName), Description: get(colDescription),
	}}
	v.name(field(colName), row.key.GetName())
	v.description(field(colDescription), row.key.GetDescription())
	v.keyValue(field(colKey), row.value)
	switch strings.ToLower(get(colEnabled)) {
	case "true":
		row.key.Enabled = true
	case "false", "":
	default:
		v.add(field(colEnabled), "must be true or false, got %q", get(colEnabled))
	}
	if get(colUsagePlanIDs) != "" {
		v.add(field(colUsagePlanIDs), "usage plans are not supported yet")
	}
	return row
}
