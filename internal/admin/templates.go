package admin

import (
	"errors"
	"maps"
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
	v.passthrough(field+".passthrough_behavior", m.GetPassthroughBehavior())
	if len(m.GetIntegrationResponses()) == 0 {
		v.add(field+".integration_responses", "at least one integration response is required")
	}
	v.integrationResponses(field+".integration_responses", m.GetIntegrationResponses(), false)
}

// httpIntegration checks a non-proxy HTTP integration: the URI, method and
// timeout as an HTTP proxy's, then its templates, parameter mappings and
// integration responses.
func (v *violations) httpIntegration(field string, h *adminv1.HttpIntegration) {
	v.httpProxy(field, &adminv1.HttpProxyIntegration{Uri: h.GetUri(), Method: h.GetMethod(), Timeout: h.GetTimeout()})
	v.templates(field+".request_templates", h.GetRequestTemplates())
	v.passthrough(field+".passthrough_behavior", h.GetPassthroughBehavior())
	v.requestParameters(field+".request_parameters", h.GetRequestParameters())
	for _, p := range uriPathParams(h.GetUri()) {
		if _, ok := h.GetRequestParameters()["integration.request.path."+p]; !ok {
			v.add(field+".request_parameters", "the uri's {%s} needs a mapping integration.request.path.%s, as AWS requires", p, p)
		}
	}
	v.integrationResponses(field+".integration_responses", h.GetIntegrationResponses(), true)
}

// passthrough checks what a templated integration does with a request
// whose content type has no template.
func (v *violations) passthrough(field string, pb adminv1.PassthroughBehavior) {
	if _, known := adminv1.PassthroughBehavior_name[int32(pb)]; !known {
		v.add(field, "unknown value %d", pb)
	}
}

// uriPathParams returns the {name} parameters of an integration URI's path,
// in order; ${stageVariables.x} references are not parameters.
func uriPathParams(uri string) []string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return nil
	}
	_, path, ok := strings.Cut(rest, "/")
	if !ok {
		return nil
	}
	var names []string
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			return names
		}
		end := strings.IndexByte(path[i:], '}')
		if end < 0 {
			return names
		}
		if i == 0 || path[i-1] != '$' {
			names = append(names, strings.TrimSuffix(path[i+1:i+end], "+"))
		}
		path = path[i+end+1:]
	}
}

// requestParameters checks AWS-style request parameter mappings.
func (v *violations) requestParameters(field string, ps map[string]string) {
	if len(ps) > maxMockHeaders {
		v.add(field, "at most %d mappings are allowed, got %d", maxMockHeaders, len(ps))
	}
	for _, k := range slices.Sorted(maps.Keys(ps)) {
		f := mapField(field, k)
		if !validMappingTarget(k) {
			v.add(f, "the key must be integration.request.header.NAME, integration.request.querystring.NAME or integration.request.path.NAME")
		}
		if !validMappingSource(ps[k]) {
			v.add(f, "must be method.request.header.NAME, method.request.querystring.NAME, method.request.path.NAME, context.NAME, stageVariables.NAME or a static 'value'")
		}
	}
}

func validMappingTarget(k string) bool {
	_, valid := prefixedName(k, "integration.request.header.", "integration.request.querystring.", "integration.request.path.")
	return valid
}

func validMappingSource(s string) bool {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return httpguts.ValidHeaderFieldValue(s[1 : len(s)-1])
	}
	_, valid := prefixedName(s, "method.request.header.", "method.request.querystring.", "method.request.path.", "context.", "stageVariables.")
	return valid
}

// prefixedName returns the one of prefixes s starts with, or "", and
// whether a parameter name follows it: one a header could have, which
// covers query string and path parameter names too.
func prefixedName(s string, prefixes ...string) (prefix string, valid bool) {
	for _, p := range prefixes {
		if name, ok := strings.CutPrefix(s, p); ok {
			return p, name != "" && httpguts.ValidHeaderFieldName(name)
		}
	}
	return "", false
}

// integrationResponses checks a list of integration responses. Headers may
// map the backend's (integration.response.header.NAME) only when there is a
// backend.
func (v *violations) integrationResponses(field string, rs []*adminv1.IntegrationResponse, backend bool) {
	if len(rs) > maxIntegrationResponses {
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
		v.responseHeaders(f+".response_headers", r.GetResponseHeaders(), backend)
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

// responseHeaders checks response header mappings: static values in single
// quotes as AWS writes them ('application/xml'), and, with a backend,
// integration.response.header.NAME.
func (v *violations) responseHeaders(field string, hs map[string]string, backend bool) {
	if len(hs) > maxMockHeaders {
		v.add(field, "at most %d headers are allowed, got %d", maxMockHeaders, len(hs))
	}
	for _, k := range slices.Sorted(maps.Keys(hs)) {
		val := hs[k]
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			v.add(mapField(field, k), "not a valid HTTP header name")
		case backend && strings.HasPrefix(val, "integration.response.header."):
			if !httpguts.ValidHeaderFieldName(strings.TrimPrefix(val, "integration.response.header.")) {
				v.add(mapField(field, k), "integration.response.header. must be followed by a header name")
			}
		case len(val) < 2 || val[0] != '\'' || val[len(val)-1] != '\'':
			if backend {
				v.add(mapField(field, k), "must be a static value in single quotes, such as 'application/xml', or integration.response.header.NAME")
			} else {
				v.add(mapField(field, k), "must be a static value in single quotes, such as 'application/xml'")
			}
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
		if !plainMediaType(ct) {
			v.add(f, "the key must be a media type such as application/json, in lower case without parameters")
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
