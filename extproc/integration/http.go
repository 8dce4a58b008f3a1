package integration

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/extproc/vtl"
)

// httpProcessor runs one request of a route whose integration is a
// non-proxy HTTP integration: it turns the method request into the
// integration request (template, parameter mappings, the URI's path), and
// the backend's answer into the method response (integration response
// chosen by status, its template and header mappings). One is made per
// route when the configuration changes; the compiled integration is shared
// between the routes that use it.
type httpProcessor struct {
	l  *lookup
	h  *compiledHTTP
	rr routeRequest
}

// Mode asks for everything: the request template reads the body, and the
// response template the backend's whole answer.
func (p *httpProcessor) Mode() extproc.Mode {
	return extproc.Mode{RequestBody: true, ResponseHeaders: true, ResponseBody: true}
}

// integrationRequest is what the parameter mappings and the template's
// $context.requestOverride set.
type integrationRequest struct {
	headers []mapping.Param
	query   []mapping.Param
	path    []mapping.Param
}

// Request turns the method request into the integration request. The
// body is the request template's output, or the client's as
// passthroughBehavior allows (else API Gateway's 415). As on API Gateway,
// the backend gets only what is mapped: the client's headers and query
// string do not pass, except the Content-Type of a body passed through,
// and the headers Envoy needs or adds itself.
func (p *httpProcessor) Request(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	req := p.l.mappingRequest(x, p.rr)
	x.State = req
	t, pass := p.h.requestTemplate(x.Headers.Get(headerContentType))
	if t == nil && !pass {
		return p.rr.unsupportedMediaType(req, x.Headers.Get(headerAccept))
	}
	// The mappings read $context before the template renders with the
	// same variables.
	var vars map[string]any
	if t != nil || p.h.readsContext {
		vars = mapping.Vars(req)
	}
	ctx, _ := vars["context"].(*vtl.Map)
	ir := p.mapParams(req, ctx)
	d := &extproc.Decision{}
	if t != nil {
		out, err := p.l.render(t, vars)
		if err != nil {
			return nil, err
		}
		ir.override(mapping.ReadOverrides(vars))
		// A request without a body keeps none when the template renders
		// nothing (a GET's usual template).
		d.ReplaceBody, d.Body = out != "" || len(x.Body) > 0, []byte(out)
		d.Set = append(d.Set, extproc.HeaderOp{Name: headerContentType, Value: t.contentType})
	}
	d.Set = append(d.Set, extproc.HeaderOp{Name: pseudoPath, Value: p.upstreamPath(req, ir)})
	if p.h.method != "" {
		d.Set = append(d.Set, extproc.HeaderOp{Name: pseudoMethod, Value: p.h.method})
	}
	for _, h := range ir.headers {
		d.Set = append(d.Set, extproc.HeaderOp{Name: h.Name, Value: h.Value})
	}
	d.Remove = unmappedHeaders(x.Headers, d.Set)
	return d, nil
}

// mapParams evaluates the request parameter mappings for req, whose
// $context is ctx (needed only when a mapping reads it). A mapping whose
// source has no value sets nothing, as on API Gateway.
func (p *httpProcessor) mapParams(req *mapping.Request, ctx *vtl.Map) integrationRequest {
	var ir integrationRequest
	for _, pm := range p.h.params {
		var v string
		var ok bool
		if pm.from.kind == sourceContext {
			v, ok = contextValue(ctx, pm.from.name)
		} else {
			v, ok = p.sourceValue(req, pm.from)
		}
		if !ok {
			continue
		}
		param := mapping.Param{Name: pm.name, Value: v}
		switch pm.target {
		case targetHeader:
			ir.headers = append(ir.headers, param)
		case targetQuery:
			ir.query = append(ir.query, param)
		case targetPath:
			ir.path = append(ir.path, param)
		}
	}
	return ir
}

// sourceValue is the value of a mapping's source other than $context:
// the method request's last value of a parameter, as API Gateway's
// single-valued parameters, a stage variable, or a static value.
func (p *httpProcessor) sourceValue(req *mapping.Request, s source) (string, bool) {
	switch s.kind {
	case sourceStatic:
		return s.name, true
	case sourceHeader:
		return lastParam(req.Header, s.name, strings.EqualFold)
	case sourceQuery:
		return lastParam(req.Query, s.name, equal)
	case sourcePath:
		return lastParam(req.PathParams, s.name, equal)
	case sourceStageVariable:
		v, ok := p.rr.stage.Variables[s.name]
		return v, ok
	}
	return "", false
}

// equal compares parameter names case-sensitively, as API Gateway does
// for query strings and path parameters.
func equal(a, b string) bool { return a == b }

// lastParam returns the last value of the parameter name.
func lastParam(params []mapping.Param, name string, eq func(a, b string) bool) (string, bool) {
	value, found := "", false
	for _, p := range params {
		if eq(p.Name, name) {
			value, found = p.Value, true
		}
	}
	return value, found
}

// contextValue looks a dotted name (identity.sourceIp) up in $context.
// Only text, numbers and booleans map to a parameter.
func contextValue(ctx *vtl.Map, name string) (string, bool) {
	var v any = ctx
	for key := range strings.SplitSeq(name, ".") {
		m, ok := v.(*vtl.Map)
		if !ok || m == nil {
			return "", false
		}
		if v, ok = m.Get(key); !ok {
			return "", false
		}
	}
	switch v := v.(type) {
	case string:
		return v, true
	case int, int64, float64, bool:
		return fmt.Sprint(v), true
	}
	return "", false
}

// override applies a request template's $context.requestOverride, which
// replaces the parameter mappings of the same names.
func (ir *integrationRequest) override(o mapping.Overrides) {
	for i := range o.RequestHeader {
		o.RequestHeader[i].Name = strings.ToLower(o.RequestHeader[i].Name)
	}
	ir.headers = overrideParams(ir.headers, o.RequestHeader)
	ir.query = overrideParams(ir.query, o.RequestQuery)
	ir.path = overrideParams(ir.path, o.RequestPath)
}

// overrideParams replaces the parameters of params that over names.
func overrideParams(params, over []mapping.Param) []mapping.Param {
	if len(over) == 0 {
		return params
	}
	out := slices.DeleteFunc(params, func(p mapping.Param) bool {
		return slices.ContainsFunc(over, func(o mapping.Param) bool { return o.Name == p.Name })
	})
	return append(out, over...)
}

// upstreamPath is the integration request's path: the URI's path with
// its stage variables and {param} references substituted, each parameter
// escaped as a path segment (a greedy {param+} keeps its slashes), then
// the mapped query string parameters. A {param} with no path mapping
// takes the method request's path parameter of the same name.
func (p *httpProcessor) upstreamPath(req *mapping.Request, ir integrationRequest) string {
	var b strings.Builder
	for _, part := range p.h.path {
		switch part.kind {
		case partLiteral:
			b.WriteString(part.text)
		case partStageVariable:
			b.WriteString(p.rr.stage.Variables[part.text])
		case partParam, partGreedy:
			v, ok := lastParam(ir.path, part.text, equal)
			if !ok {
				v, _ = lastParam(req.PathParams, part.text, equal)
			}
			b.WriteString(escapePath(v, part.kind == partGreedy))
		}
	}
	sep := "?"
	if strings.Contains(b.String(), "?") {
		sep = "&"
	}
	for _, q := range ir.query {
		b.WriteString(sep)
		b.WriteString(escapeQuery(q.Name))
		b.WriteByte('=')
		b.WriteString(escapeQuery(q.Value))
		sep = "&"
	}
	return b.String()
}

// escapeQuery escapes a query string parameter's name or value, a space
// as %20, which every decoder reads as a space (+ means a space only in
// form encoding).
func escapeQuery(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// escapePath escapes a path parameter's value as a path segment, or, for
// a greedy parameter, each of its segments.
func escapePath(v string, greedy bool) string {
	if !greedy {
		return url.PathEscape(v)
	}
	segs := strings.Split(v, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// unmappedHeaders are the client's headers the backend must not get: all
// but the ones set, the message's framing, Envoy's own (which Envoy does
// not let ext_proc remove, and which it uses for tracing and forwarding)
// and Content-Type.
func unmappedHeaders(h extproc.Headers, set []extproc.HeaderOp) []string {
	return dropHeaders(h, func(name string) bool {
		return keptRequestHeader(name) || slices.ContainsFunc(set, func(op extproc.HeaderOp) bool { return op.Name == name })
	})
}

// keptRequestHeader reports whether a client's header reaches a non-proxy
// backend without a mapping.
func keptRequestHeader(name string) bool {
	switch name {
	case headerContentType, headerRequestID, headerForwardedFor, "x-forwarded-proto":
		return true
	}
	return strings.HasPrefix(name, "x-envoy-") || framingHeader(name)
}

// Response turns the backend's answer into the method response. The
// integration response is the first whose selection pattern matches the
// backend's whole status code, else the default; a backend status neither
// selects is API Gateway's configuration error, a 500. An integration
// with no integration responses passes the backend's answer unchanged.
func (p *httpProcessor) Response(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	if x.LocalReply != "" {
		return p.l.envoyReply(x, p.rr)
	}
	if len(p.h.responses) == 0 {
		return nil, nil
	}
	req, _ := x.State.(*mapping.Request)
	if req == nil {
		return nil, fmt.Errorf("response of status %d without a request", x.Status)
	}
	r, err := p.h.selectResponse(strconv.Itoa(x.Status))
	if err != nil {
		return nil, err
	}
	m, err := p.l.methodResponse(r, req, x.ResponseHeaders, x.ResponseBody, x.Headers.Get(headerAccept))
	if err != nil {
		return nil, err
	}
	d := &extproc.Decision{Status: m.status, ReplaceBody: m.rendered, Body: m.body}
	for _, h := range m.headers {
		d.Set = append(d.Set, extproc.HeaderOp{Name: h.Name, Value: h.Value})
	}
	d.Remove = dropHeaders(x.ResponseHeaders, func(name string) bool { return m.headers.Has(name) || keptHeader(name) })
	return d, nil
}
