package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	yaml "go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// outputFormat is the value of -o: a table for people, JSON or YAML for
// programs. JSON is protojson, the form every gRPC tool and the HTTP
// mapping use, so it pipes into jq and back into other clients.
type outputFormat string

const (
	formatTable outputFormat = "table"
	formatJSON  outputFormat = "json"
	formatYAML  outputFormat = "yaml"
)

// String implements pflag.Value.
func (f *outputFormat) String() string { return string(*f) }

// Set implements pflag.Value, refusing unknown formats while the command
// line is parsed.
func (f *outputFormat) Set(s string) error {
	switch v := outputFormat(s); v {
	case formatTable, formatJSON, formatYAML:
		*f = v
		return nil
	}
	return fmt.Errorf("unknown format %q; want table, json or yaml", s)
}

// Type implements pflag.Value.
func (f *outputFormat) Type() string { return "format" }

// addOutputFlag gives cmd the -o flag, defaulting to a table.
func addOutputFlag(cmd *cobra.Command, f *outputFormat) {
	*f = formatTable
	cmd.Flags().VarP(f, "output", "o", "output format: table, json or yaml")
}

// columns is the table form of one resource type.
type columns[T proto.Message] struct {
	header []string
	row    func(T) []string
}

// printResources writes items in format f. A list prints as a JSON or YAML
// array even with one item, and a single resource as an object, so that a
// script's jq filter does not depend on how many resources there are.
func printResources[T proto.Message](w io.Writer, f outputFormat, cols columns[T], items []T, list bool) error {
	if f == formatTable {
		rows := make([][]string, 0, len(items))
		for _, it := range items {
			rows = append(rows, cols.row(it))
		}
		return writeTable(w, cols.header, rows)
	}
	msgs := make([]proto.Message, 0, len(items))
	for _, it := range items {
		msgs = append(msgs, it)
	}
	return printMessages(w, f, msgs, list)
}

// printOne prints the one resource a call to the admin API returned, or
// returns the call's error.
func printOne[T proto.Message](w io.Writer, f outputFormat, cols columns[T], r T, err error) error {
	if err != nil {
		return err
	}
	return printResources(w, f, cols, []T{r}, false)
}

// printMessages writes messages as JSON or YAML: one object, or an array
// when list is set.
func printMessages(w io.Writer, f outputFormat, msgs []proto.Message, list bool) error {
	raw := make([]json.RawMessage, 0, len(msgs))
	for _, m := range msgs {
		b, err := protojson.Marshal(m)
		if err != nil {
			return err
		}
		raw = append(raw, b)
	}
	var doc any = raw
	if !list && len(raw) == 1 {
		doc = raw[0]
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if f == formatYAML {
		err = jsonToYAML(&out, js)
	} else {
		err = json.Indent(&out, js, "", "  ")
		out.WriteByte('\n')
	}
	if err != nil {
		return err
	}
	_, err = w.Write(out.Bytes())
	return err
}

// jsonToYAML re-renders JSON as block-style YAML, keeping the field order
// protojson chose (proto field order) rather than sorting keys, and
// quoting only the strings that would otherwise read as another type.
func jsonToYAML(w io.Writer, js []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(js, &doc); err != nil {
		return err
	}
	clearStyle(&doc)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return enc.Close()
}

// clearStyle drops the flow and quoting style JSON gave every node, so
// that the encoder picks YAML's own. The encoder quotes strings that YAML
// 1.2 would read as another type; strings that YAML 1.1 readers (PyYAML,
// yaml.v2) would read as booleans or sexagesimal numbers stay quoted too.
func clearStyle(n *yaml.Node) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || !ambiguousInYAML11(n.Value) {
		n.Style = 0
	}
	for _, c := range n.Content {
		clearStyle(c)
	}
}

func ambiguousInYAML11(s string) bool {
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "on", "off":
		return true
	}
	return isSexagesimal(s)
}

// isSexagesimal reports whether s is a YAML 1.1 base-60 number such as
// 1:30 or -2:05:00.5: digits, then ":" groups of at most two digits.
func isSexagesimal(s string) bool {
	s = strings.TrimLeft(s, "+-")
	s, _, _ = strings.Cut(s, ".")
	groups := strings.Split(s, ":")
	if len(groups) < 2 || groups[0] == "" || strings.Trim(groups[0], "0123456789_") != "" {
		return false
	}
	for _, g := range groups[1:] {
		if g == "" || len(g) > 2 || strings.Trim(g, "0123456789") != "" || len(g) == 2 && g[0] > '5' {
			return false
		}
	}
	return true
}

// writeTable writes aligned columns. Empty cells print as "-" and control
// characters as spaces, so that every row has the same number of
// whitespace-separated fields for awk and cut.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	if _, err := fmt.Fprintln(tw, strings.Join(header, "\t")); err != nil {
		return err
	}
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, cell := range row {
			cells[i] = tableCell(cell)
		}
		if _, err := fmt.Fprintln(tw, strings.Join(cells, "\t")); err != nil {
			return err
		}
	}
	return tw.Flush()
}

func tableCell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// formatTime renders a resource timestamp in UTC, to the second.
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}
