// Package apply reads the declarative API definitions that archwayctl apply
// sends to the admin API.
//
// A file is a YAML stream (JSON is accepted as the YAML subset it is) whose
// documents are each one adminv1.ApiDefinition in its protojson form. Decoding
// checks syntax and shape only: every key must name a field, every value must
// have the field's type. Whether names, paths and references make sense is
// the admin API's decision, so the file is judged by the same rules as any
// other client's request.
package apply

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"

	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// maxErrors bounds how many problems one Decode reports, so that a file of
// the wrong kind gives a readable answer instead of a screenful.
const maxErrors = 20

// Error is one problem found in a file. It carries enough position to find
// the problem in an editor: the document within the YAML stream, the line
// and column, and the path of the field as the file spells it.
type Error struct {
	// Document is the 1-based position of the document in the stream,
	// counting empty documents.
	Document int
	// Line and Column are 1-based, or 0 when the problem has no single
	// place, such as a syntax error the YAML parser reported itself.
	Line, Column int
	// Path is the field path such as "routes[1].method", using the keys as
	// written; empty for the document as a whole.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error formats the problem as "document 1: line 3: routes[0]: msg".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "document %d: ", e.Document)
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Decode reads every API definition in data, a YAML stream or a JSON
// document. Empty documents are skipped. Field names may be written in
// camelCase (protojson) or snake_case (proto), and enums may drop their type
// prefix ("HTTP" for PROTOCOL_HTTP). The first syntax error ends decoding;
// shape errors are collected, up to a limit, and returned together as one
// error wrapping each *Error.
func Decode(data []byte) ([]*adminv1.ApiDefinition, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var (
		defs []*adminv1.ApiDefinition
		errs []error
	)
	for doc := 1; len(errs) < maxErrors; doc++ {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, &Error{Document: doc, Msg: strings.TrimPrefix(err.Error(), "yaml: ")})
			break
		}
		def, docErrs := decodeDocument(doc, &root, maxErrors-len(errs))
		errs = append(errs, docErrs...)
		if def != nil {
			defs = append(defs, def)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return defs, nil
}

// decodeDocument converts one YAML document to an ApiDefinition. It returns
// nil and no errors for an empty document.
func decodeDocument(doc int, root *yaml.Node, errLimit int) (*adminv1.ApiDefinition, []error) {
	body := root
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		body = root.Content[0]
	}
	if isNull(body) {
		return nil, nil
	}
	def := &adminv1.ApiDefinition{}
	c := newConverter(doc, errLimit)
	value := c.message(body, def.ProtoReflect().Descriptor(), "")
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	// The converter has checked every key and value against the schema, so
	// protojson only fails here on something the converter does not know,
	// which is worth reporting rather than hiding.
	js, err := marshalJSON(value)
	if err == nil {
		err = protojson.Unmarshal(js, def)
	}
	if err != nil {
		return nil, []error{&Error{Document: doc, Line: body.Line, Column: body.Column, Msg: err.Error()}}
	}
	return def, nil
}
