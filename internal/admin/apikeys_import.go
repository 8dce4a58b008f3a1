package admin

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
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
	// plans are the ids of the usage plans the key joins.
	plans []string
}

// csvHeader maps the lower-case column names of an import to their
// positions; unknown columns are warnings, a missing Key column a violation.
type csvHeader map[string]int

// ImportApiKeys creates API keys from AWS's CSV format. Every row is
// checked first and the keys are written in one transaction, all or none,
// together with their associations with the usage plans of the
// UsagePlanIds column, as AWS's import makes them. Bad fields are reported
// as csv.line[N].column, N being the line of the file (the header is line
// 1).
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
	subject := func(i int) string { return fmt.Sprintf("csv line %d", rows[i].line) }
	var rev int64
	err := s.retry(ctx, "key usage plans", func() error {
		links, plans, err := s.importLinks(ctx, req, rows, keys)
		if err == nil {
			rev, err = s.createAPIKeys(ctx, keys, subject, links, plans)
		}
		return err
	})
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
	// AWS's format: "The default value is an empty string or a true
	// Boolean value", so a key without an Enabled cell is enabled.
	switch strings.ToLower(get(colEnabled)) {
	case "true", "":
		row.key.Enabled = true
	case "false":
	default:
		v.add(field(colEnabled), "must be true or false, got %q", get(colEnabled))
	}
	row.plans = parsePlanIDs(v, field(colUsagePlanIDs), get(colUsagePlanIDs))
	return row
}

// parsePlanIDs reads a UsagePlanIds cell: plan ids separated by commas,
// which AWS's format encloses in double or single quotes when there are
// several. CSV itself removes double quotes; single ones are removed here
// when the cell holds one id, as a comma inside them already split the row.
func parsePlanIDs(v *violations, field, cell string) []string {
	if len(cell) >= 2 && cell[0] == '\'' && cell[len(cell)-1] == '\'' {
		cell = cell[1 : len(cell)-1]
	}
	var ids []string
	for id := range strings.SplitSeq(cell, ",") {
		switch id = strings.TrimSpace(id); {
		case id == "":
		case !validID(id):
			v.add(field, "must be usage plan ids of %d lowercase letters and digits, separated by commas, got %q", idLen, id)
		case slices.Contains(ids, id):
			v.add(field, "usage plan %s appears twice", id)
		default:
			ids = append(ids, id)
		}
	}
	if len(ids) > maxPlansPerKey {
		v.add(field, "at most %d usage plans per API key, got %d", maxPlansPerKey, len(ids))
	}
	return ids
}

// importLinks resolves the usage plans the rows name and returns the
// associations to create with the plans as read. Every plan must exist,
// and the plans of one key must not cover the same API stage. It fails
// if the associations would break a limit or make the transaction too
// large for etcd.
func (s *Server) importLinks(ctx context.Context, req *adminv1.ImportApiKeysRequest, rows []importRow,
	keys []*adminv1.ApiKey,
) ([]*adminv1.UsagePlanKey, []*adminv1.UsagePlan, error) {
	if !slices.ContainsFunc(rows, func(r importRow) bool { return len(r.plans) > 0 }) {
		return nil, nil, nil
	}
	all, err := s.store.ReadUsagePlans(ctx)
	if err != nil {
		return nil, nil, s.storeError(ctx, err)
	}
	v := newViolations(req)
	var links []*adminv1.UsagePlanKey
	used := map[string]*adminv1.UsagePlan{}
	for i, r := range rows {
		field := fmt.Sprintf("csv.line[%d].%s", r.line, colUsagePlanIDs)
		var mine []*adminv1.UsagePlan
		for _, id := range r.plans {
			p := all.Get(id)
			if p == nil {
				v.add(field, "no usage plan %s", id)
				continue
			}
			for _, o := range mine {
				if st := sharedStage(o, p); st != "" {
					v.add(field, "usage plans %s and %s both cover api stage %s; a key may meet a stage through one plan only",
						o.GetId(), id, st)
				}
			}
			mine, used[id] = append(mine, p), p
			links = append(links, &adminv1.UsagePlanKey{UsagePlanId: id, KeyId: keys[i].GetId(), CreateTime: keys[i].GetCreateTime()})
		}
	}
	// Each key writes its record, name and hash; each association two
	// index entries. One transaction holds them all.
	if n := 3*len(rows) + 2*len(links); n > store.EmbeddedMaxTxnOps {
		v.add("csv", "the import needs %d writes (3 per key, 2 per usage plan of a key); at most %d fit in one transaction: split the file",
			n, store.EmbeddedMaxTxnOps)
	}
	if err := v.err(); err != nil {
		return nil, nil, err
	}
	plans := slices.SortedFunc(maps.Values(used), func(a, b *adminv1.UsagePlan) int { return strings.Compare(a.GetId(), b.GetId()) })
	return links, plans, s.checkPlanRoom(ctx, plans, links)
}

// checkPlanRoom fails if the links would put more than maxKeysPerPlan keys
// on a plan.
func (s *Server) checkPlanRoom(ctx context.Context, plans []*adminv1.UsagePlan, links []*adminv1.UsagePlanKey) error {
	for _, p := range plans {
		n, err := s.store.CountPlanKeys(ctx, p.GetId())
		if err != nil {
			return s.storeError(ctx, err)
		}
		for _, l := range links {
			if l.GetUsagePlanId() == p.GetId() {
				n++
			}
		}
		if n > maxKeysPerPlan {
			return limitExceeded("API keys per usage plan", maxKeysPerPlan, "usage plan "+p.GetId())
		}
	}
	return nil
}
