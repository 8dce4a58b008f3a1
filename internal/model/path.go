package model

import (
	"errors"
	"fmt"
	"strings"
)

// MaxPathLength is the longest route path template accepted, in bytes.
const MaxPathLength = 1024

// SegmentKind tells how a path template segment matches a request path.
type SegmentKind int

// The segment kinds in AWS order of precedence: a literal segment beats a
// parameter, and a parameter beats a greedy parameter.
const (
	// SegmentLiteral matches exactly its text.
	SegmentLiteral SegmentKind = iota
	// SegmentParam ({name}) matches one non-empty path segment.
	SegmentParam
	// SegmentGreedy ({name+}) matches one or more trailing segments.
	SegmentGreedy
)

// Segment is one slash-separated part of a path template.
type Segment struct {
	Kind SegmentKind
	// Value is the literal text, or the parameter name without braces.
	Value string
}

// PathTemplate is a parsed AWS API Gateway resource path such as
// "/pets/{petId}" or "/{proxy+}". The root path "/" has no segments.
type PathTemplate struct {
	Segments []Segment
}

// ParsePathTemplate parses an AWS-style path template. It accepts "/" and
// paths of non-empty segments, each either literal text of RFC 3986 path
// characters or a whole-segment parameter {name}; a greedy parameter {name+}
// may only be the last segment, and parameter names are unique.
func ParsePathTemplate(s string) (PathTemplate, error) {
	if s == "" {
		return PathTemplate{}, errors.New("path is empty")
	}
	if len(s) > MaxPathLength {
		return PathTemplate{}, fmt.Errorf("path is longer than %d bytes", MaxPathLength)
	}
	if s[0] != '/' {
		return PathTemplate{}, errors.New(`path must start with "/"`)
	}
	if s == "/" {
		return PathTemplate{}, nil
	}
	parts := strings.Split(s[1:], "/")
	segs := make([]Segment, 0, len(parts))
	seen := make(map[string]bool, len(parts))
	for i, p := range parts {
		seg, err := parseSegment(p)
		if err != nil {
			return PathTemplate{}, fmt.Errorf("segment %d %q: %w", i+1, p, err)
		}
		if seg.Kind == SegmentGreedy && i != len(parts)-1 {
			return PathTemplate{}, fmt.Errorf("greedy parameter {%s+} must be the last segment", seg.Value)
		}
		if seg.Kind != SegmentLiteral {
			if seen[seg.Value] {
				return PathTemplate{}, fmt.Errorf("parameter {%s} appears twice", seg.Value)
			}
			seen[seg.Value] = true
		}
		segs = append(segs, seg)
	}
	return PathTemplate{Segments: segs}, nil
}

func parseSegment(p string) (Segment, error) {
	if p == "" {
		return Segment{}, errors.New("empty segment (double or trailing slash)")
	}
	if p[0] != '{' {
		if err := checkLiteral(p); err != nil {
			return Segment{}, err
		}
		return Segment{Kind: SegmentLiteral, Value: p}, nil
	}
	if p[len(p)-1] != '}' || len(p) < 3 {
		return Segment{}, errors.New("a parameter must be a whole segment: {name} or {name+}")
	}
	name, kind := p[1:len(p)-1], SegmentParam
	if strings.HasSuffix(name, "+") {
		name, kind = name[:len(name)-1], SegmentGreedy
	}
	if !isParamName(name) {
		return Segment{}, fmt.Errorf("parameter name %q must match [A-Za-z_][A-Za-z0-9_]*", name)
	}
	return Segment{Kind: kind, Value: name}, nil
}

// checkLiteral accepts RFC 3986 pchar without percent-encoding: unreserved
// characters and sub-delims, ':' and '@'. Braces are only legal as a whole
// parameter segment, and '.' or '..' would be normalized away by Envoy.
func checkLiteral(p string) error {
	if p == "." || p == ".." {
		return errors.New(`"." and ".." segments are not allowed`)
	}
	for i := 0; i < len(p); i++ {
		if !isPathChar(p[i]) {
			return fmt.Errorf("character %q is not allowed in a path", p[i])
		}
	}
	return nil
}

func isPathChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}

func isParamName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// String returns the template in its canonical text form.
func (t PathTemplate) String() string {
	return t.render(func(s Segment) string { return s.Value })
}

// Shape returns the template with parameter names erased ("/pets/{}",
// "/{+}"). Two routes of one method whose paths have the same shape match the
// same requests, so they conflict even if their parameter names differ.
func (t PathTemplate) Shape() string {
	return t.render(func(Segment) string { return "" })
}

// Params returns the names of the template's parameters in order.
func (t PathTemplate) Params() []string {
	var names []string
	for _, s := range t.Segments {
		if s.Kind != SegmentLiteral {
			names = append(names, s.Value)
		}
	}
	return names
}

// PathParam is the value a request path gives one parameter of a
// template.
type PathParam struct{ Name, Value string }

// Match matches a request path (without its query string) against t
// segment by segment, as the gateway's routes do: a literal matches its
// text exactly, a parameter one non-empty segment, a greedy parameter the
// rest of the path. It returns the parameters' values as they appear in
// the path, not percent-decoded, in the template's order.
func (t PathTemplate) Match(path string) ([]PathParam, bool) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if path == "" || path == "/" {
		segs = nil
	}
	var out []PathParam
	for i, s := range t.Segments {
		if i >= len(segs) || segs[i] == "" {
			return nil, false
		}
		switch s.Kind {
		case SegmentLiteral:
			if segs[i] != s.Value {
				return nil, false
			}
		case SegmentParam:
			out = append(out, PathParam{Name: s.Value, Value: segs[i]})
		case SegmentGreedy:
			return append(out, PathParam{Name: s.Value, Value: strings.Join(segs[i:], "/")}), true
		}
	}
	if len(segs) != len(t.Segments) {
		return nil, false
	}
	return out, true
}

// Greedy reports whether the template ends in a greedy parameter.
func (t PathTemplate) Greedy() bool {
	n := len(t.Segments)
	return n > 0 && t.Segments[n-1].Kind == SegmentGreedy
}

func (t PathTemplate) render(name func(Segment) string) string {
	if len(t.Segments) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, s := range t.Segments {
		b.WriteByte('/')
		switch s.Kind {
		case SegmentLiteral:
			b.WriteString(s.Value)
		case SegmentParam:
			b.WriteString("{" + name(s) + "}")
		case SegmentGreedy:
			b.WriteString("{" + name(s) + "+}")
		}
	}
	return b.String()
}
