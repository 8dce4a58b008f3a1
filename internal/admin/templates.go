package admin

import (
	"errors"
	"maps"
	"mime"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/archway-gateway/archway/extproc/vtl"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// Limits of mapping templates and integration responses, as AWS's (10
// response templates per content type map; 64 KiB per template, where AWS
// allows 300 KB per API definition page).
const (
	maxTemplates            = 10
	maxTemplateBytes        = 64 << 10
	maxIntegrationResponses = 20
	maxSelectionPatternLen  = 1024
)

// mockTemplates checks the template form of a mock integration: every
// template must parse, every selection pattern compile, and the simple
// form's fields must be empty, so that nothing is accepted that the
// data plane would have to refuse.
func (v *violations) mockTemplates(field string, m *adminv1.MockIntegration) {
	if m.GetStatusCode() != 0 || len(m.GetHeaders()) > 0 || m.GetBody() != "" {
		v.add(field, "status_code, headers and body belong to the simple form; a mock with request templates answers from its integration responses")
	}
	if len(m.GetRequestTemplates()) == 0 {
		v.add(field+".request_templates", "at least one template is required with integration responses (AWS's {\"statusCode\": 200})")
	}
	v.templates(field+".request_templates", m.GetRequestTemplates())
	if pb := m.GetPassthroughBehavior(); adminv1.PassthroughBehavior_name[int32(pb)] == "" {
		v.add(field+".passthrough_behavior", "unknown value %d", pb)
	}
	v.integrationResponses(field+".integration_responses", m.GetIntegrationResponses())
}

// integrationResponses checks a list of integration responses.
func (v *violations) integrationResponses(field string, rs []*adminv1.IntegrationResponse) {
	switch {
	case len(rs) == 0:
		v.add(field, "at least one integration response is required")
	case len(rs) > maxIntegrationResponses:
		v.add(field, "at most %d integration responses are allowed, got %d", maxIntegrationResponses, len(rs))
	}
	defaults := 0
	for i, r := range rs {
		f := listField(field, i)
		if p := r.GetSelectionPattern(); p == "" {
			defaults++
			if defaults == 2 {
				v.add(f+".selection_pattern", "only one integration response may be the default (empty pattern)")
			}
		} else if err := checkSelectionPattern(p); err != "" {
			v.add(f+".selection_pattern", "%s", err)
		}
		if c := r.GetStatusCode(); c < 100 || c > 599 {
			v.add(f+".status_code", "must be 100-599, got %d", c)
		}
		v.staticHeaders(f+".response_headers", r.GetResponseHeaders())
		v.templates(f+".response_templates", r.GetResponseTemplates())
	}
}

func checkSelectionPattern(p string) string {
	if len(p) > maxSelectionPatternLen {
		return "must be at most 1024 bytes"
	}
	if _, err := regexp.Compile("^(?:" + p + ")$"); err != nil {
		return "not a regular expression (RE2): " + err.Error()
	}
	return ""
}

// staticHeaders checks response header mappings. Only static values, in
// single quotes as AWS writes them ('application/xml'), are supported.
func (v *violations) staticHeaders(field string, hs map[string]string) {
	if len(hs) > maxMockHeaders {
		v.add(field, "at most %d headers are allowed, got %d", maxMockHeaders, len(hs))
	}
	for _, k := range slices.Sorted(maps.Keys(hs)) {
		val := hs[k]
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			v.add(mapField(field, k), "not a valid HTTP header name")
		case len(val) < 2 || val[0] != '\'' || val[len(val)-1] != '\'':
			v.add(mapField(field, k), "must be a static value in single quotes, such as 'application/xml'")
		case !httpguts.ValidHeaderFieldValue(val[1 : len(val)-1]):
			v.add(mapField(field, k), "not a valid HTTP header value")
		}
	}
}

// templates checks a content type → VTL template map: valid media types,
// templates that parse, within the limits.
func (v *violations) templates(field string, ts map[string]string) {
	if len(ts) > maxTemplates {
		v.add(field, "at most %d templates are allowed, got %d", maxTemplates, len(ts))
	}
	for _, ct := range slices.Sorted(maps.Keys(ts)) {
		f := mapField(field, ct)
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != strings.ToLower(ct) {
			v.add(f, "the key must be a media type such as application/json, without parameters")
			continue
		}
		src := ts[ct]
		if len(src) > maxTemplateBytes {
			v.add(f, "must be at most %d bytes, got %d", maxTemplateBytes, len(src))
			continue
		}
		if _, err := vtl.Parse(ct, src); err != nil {
			var pe *vtl.ParseError
			if errors.As(err, &pe) {
				v.add(f, "line %d, column %d: %s", pe.Line, pe.Column, pe.Msg)
			} else {
				v.add(f, "%v", err)
			}
		}
	}
}
