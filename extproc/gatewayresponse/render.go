package gatewayresponse

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/extproc/vtl"
)

// headerErrorType is the header in which API Gateway names the error, for
// AWS SDKs to tell errors apart.
const headerErrorType = "x-amzn-ErrorType"

// Bounds on rendering one gateway response. A gateway response is a short
// error answer, sent when something has already gone wrong; a template
// that needs more than this fails rather than holding the service's
// memory or time.
const (
	// MaxBodyBytes bounds the rendered body and every string the template
	// builds.
	MaxBodyBytes = 1 << 20
	// MaxSteps bounds the template's evaluation steps (see vtl.Limits).
	MaxSteps = 100_000
)

// Response is a rendered gateway response, for the caller to send in place
// of the backend's answer.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Headers holds Content-Type (the chosen template's content type),
	// x-amzn-ErrorType when the type has one, and the override's header
	// mappings, which win over both.
	Headers http.Header
	// Body is the rendered template.
	Body []byte
}

// Render answers a request with the gateway response of type t: the API's
// override of t, else its DEFAULT_4XX or DEFAULT_5XX override, else API
// Gateway's default. r is the request being answered (nil for none); e is
// the error it reports through $context.error, where an empty Message
// takes t's default message and ResponseType is always t. accept is the
// request's Accept header, which chooses among the templates.
//
// An error means the template failed to render (a limit, or a method that
// Java would throw from); the caller should then answer 500 Internal
// server error, as API Gateway does when it fails itself.
func (s *Set) Render(t Type, r *mapping.Request, e mapping.ErrorInfo, accept string) (Response, error) {
	return s.RenderAs(t, 0, r, e, accept)
}

// Customized reports whether the API overrides t, with an override of its
// own or of its class (DEFAULT_4XX, DEFAULT_5XX). A caller whose answer
// carries more than the type's default (a Retry-After, a status of its
// own) keeps its answer unless the API customizes the type.
func (s *Set) Customized(t Type) bool {
	r, ok := s.responses[t]
	return ok && r.custom
}

// RenderAs is Render with status as t's default status, for an answer
// API Gateway has no type of its own for (Archway's 503 when the
// rate-limit store is unreachable is rendered as DEFAULT_5XX with status
// 503): the API's override sets the status only if it names one. A zero
// status is t's default.
func (s *Set) RenderAs(t Type, status int, r *mapping.Request, e mapping.ErrorInfo, accept string) (Response, error) {
	resp, ok := s.responses[t]
	if !ok {
		return Response{}, fmt.Errorf("gateway response: %q is not a gateway response type", t)
	}
	code := resp.status
	if status != 0 && !resp.explicit {
		code = status
	}
	if e.Message == "" {
		e.Message = t.Message()
	}
	e.ResponseType = string(t)
	req := mapping.Request{}
	if r != nil {
		req = *r // a copy, so that setting Error leaves the caller's alone
	}
	req.Error = &e
	vars := mapping.Vars(&req)

	h := make(http.Header, 2+len(resp.headers))
	tmpl := chooseTemplate(resp.templates, accept)
	h.Set("Content-Type", tmpl.contentType)
	if et := t.ErrorType(); et != "" {
		h.Set(headerErrorType, et)
	}
	// Header mappings read $context before the template can change it.
	ctx, _ := vars["context"].(*vtl.Map)
	for _, m := range resp.headers {
		if v, ok := m.expr.eval(&req, ctx); ok && validHeaderValue(v) {
			h.Set(m.name, v)
		}
	}

	body, err := tmpl.tmpl.Render(vars, vtl.Limits{MaxSteps: MaxSteps, MaxOutputBytes: MaxBodyBytes})
	if err != nil {
		return Response{}, fmt.Errorf("gateway response %s: template %s: %w", t, tmpl.contentType, err)
	}
	return Response{Status: code, Headers: h, Body: []byte(body)}, nil
}

// validHeaderValue reports whether v can be sent as a header value: a
// request parameter mapped into a header (a query string holding %0D%0A)
// must not split the response.
func validHeaderValue(v string) bool {
	return !strings.ContainsAny(v, "\r\n\x00")
}

// chooseTemplate picks the body template for the client's Accept header:
// the first media range, in the order written, that a template matches
// (type/* matches the first template of that type; */* expresses no
// preference), else application/json, else the first template by media
// type. Quality values are not weighed.
func chooseTemplate(ts []template, accept string) template {
	for _, rng := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(rng, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		if mt == "" || mt == "*/*" {
			continue
		}
		prefix, wildcard := strings.CutSuffix(mt, "/*")
		for _, t := range ts {
			if t.mediaType == mt || wildcard && strings.HasPrefix(t.mediaType, prefix+"/") {
				return t
			}
		}
	}
	for _, t := range ts {
		if t.mediaType == ContentTypeJSON {
			return t
		}
	}
	return ts[0]
}
