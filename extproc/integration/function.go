package integration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/extproc/lambda"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/internal/model"
)

// Headers of the exchange between Envoy and a function.
const (
	// headerFunctionError is how Lambda's Invoke API marks a result that
	// is the function's error ({"errorMessage": ...}) rather than its
	// answer, with a status of 200.
	headerFunctionError = "x-amz-function-error"
	headerAcceptEnc     = "accept-encoding"
	headerContentEnc    = "content-encoding"
	headerContentLength = "content-length"
	headerDate          = "date"
	headerSetCookie     = "set-cookie"
	pseudoMethod        = ":method"
	pseudoPath          = ":path"
)

// Payload format versions (model.Function.Version).
const (
	payloadV1 = "1.0"
	payloadV2 = "2.0"
)

// functionProcessor runs one request of a route whose integration is a
// function (API Gateway's Lambda proxy integration): it turns the request
// into the proxy event Envoy POSTs to the function, and the function's
// result into the client's response. One is made per route when the
// configuration changes.
type functionProcessor struct {
	l  *lookup
	fn *model.Function
	// version is the function's payload format on the route's API.
	version string
	rr      routeRequest
}

// Mode asks for everything: the event holds the request body, and the
// function's whole result is needed to build the response.
func (p *functionProcessor) Mode() extproc.Mode {
	return extproc.Mode{RequestBody: true, ResponseHeaders: true, ResponseBody: true}
}

// Request replaces the request with the function's invocation: a POST of
// the proxy event as JSON to the function's invoke path, so that the
// client's path and query reach the function only inside the event (the
// route's own path rewrite would keep the query string; its Host rewrite
// names the function's host). Envoy applies :method only where the
// filter's mutation_rules allow it. The client's content codings are
// dropped: the body is now the event, and the result must come back
// uncompressed for the gateway to read it.
func (p *functionProcessor) Request(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	req := p.l.lambdaRequest(x, p.rr)
	var event []byte
	var err error
	switch v := p.version; v {
	case payloadV1:
		event, err = lambda.EventV1(req, p.lambdaOptions())
	case payloadV2:
		event, err = lambda.EventV2(req, p.lambdaOptions())
	default:
		err = fmt.Errorf("function payload format version %q is not supported", v)
	}
	if err != nil {
		return nil, fmt.Errorf("building the function's event: %w", err)
	}
	return &extproc.Decision{
		Set: []extproc.HeaderOp{
			{Name: pseudoMethod, Value: http.MethodPost},
			{Name: pseudoPath, Value: p.fn.InvokePath},
			{Name: headerContentType, Value: defaultContentType},
		},
		Remove:      []string{headerContentEnc, headerAcceptEnc},
		ReplaceBody: true,
		Body:        event,
	}, nil
}

// eventHeaders are the client's headers as the event carries them:
// without the headers Envoy and Archway's services use among themselves
// (x-envoy-*, x-archway-*), which API Gateway's events do not have.
func eventHeaders(h extproc.Headers) http.Header {
	out := make(http.Header, len(h))
	for _, f := range h {
		if internalHeader(f.Name) {
			continue
		}
		out.Add(f.Name, f.Value)
	}
	return out
}

// internalHeader reports whether name is one of Envoy's or Archway's own.
func internalHeader(name string) bool {
	return strings.HasPrefix(name, "x-envoy-") || strings.HasPrefix(name, envoy.InternalHeaderPrefix)
}

// paramMap turns path parameters into the event's pathParameters.
func paramMap(params []mapping.Param) map[string]string {
	if len(params) == 0 {
		return nil
	}
	m := make(map[string]string, len(params))
	for _, p := range params {
		m[p.Name] = p.Value
	}
	return m
}

// Response turns the function's result into the client's response, by
// the rules of the route's payload format. A function that failed (a
// status other than 2xx, which the Runtime Interface Emulator never sends
// for a result, or Lambda's function-error marker) or whose result API
// Gateway would refuse gets API Gateway's answer for a failed Lambda
// integration instead.
func (p *functionProcessor) Response(ctx context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	if x.LocalReply != "" {
		return p.l.envoyReply(x, p.rr)
	}
	if x.Status < 200 || x.Status > 299 {
		return p.failed(ctx, x, fmt.Errorf("function answered HTTP status %d", x.Status)), nil
	}
	if x.ResponseHeaders.Has(headerFunctionError) {
		return p.failed(ctx, x, fmt.Errorf("function error (%s %s)", headerFunctionError, x.ResponseHeaders.Get(headerFunctionError))), nil
	}
	var resp *lambda.Response
	var err error
	if p.version == payloadV1 {
		resp, err = lambda.DecodeV1(x.ResponseBody, x.Headers.Get(headerAccept), p.lambdaOptions())
	} else {
		resp, err = lambda.DecodeV2(x.ResponseBody)
	}
	if err == nil && resp.StatusCode < 200 {
		err = fmt.Errorf("%w: statusCode %d is not a final HTTP status", lambda.ErrMalformed, resp.StatusCode)
	}
	if err != nil {
		return p.failed(ctx, x, err), nil
	}
	return replaceResponse(x.ResponseHeaders, resp), nil
}

// replaceResponse makes the function's HTTP response into resp: its
// status, its headers instead of the function's, and its body.
func replaceResponse(function extproc.Headers, resp *lambda.Response) *extproc.Decision {
	d := &extproc.Decision{Status: resp.StatusCode, ReplaceBody: true, Body: resp.Body}
	set := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(resp.Header)) {
		lower := strings.ToLower(name)
		if framingHeader(lower) {
			continue
		}
		for i, v := range resp.Header[name] {
			d.Set = append(d.Set, extproc.HeaderOp{Name: lower, Value: v, Append: i > 0})
		}
		set[lower] = true
	}
	for _, c := range resp.Cookies {
		d.Set = append(d.Set, extproc.HeaderOp{Name: headerSetCookie, Value: c, Append: set[headerSetCookie]})
		set[headerSetCookie] = true
	}
	d.Remove = dropHeaders(function, func(name string) bool { return set[name] || keptHeader(name) })
	return d
}

// framingHeader reports whether a result's header is one the gateway
// decides itself: the message's length and the hop-by-hop headers of its
// connection, which a function's result cannot set.
func framingHeader(name string) bool {
	switch name {
	case headerContentLength, "transfer-encoding", "connection", "keep-alive",
		"proxy-connection", "upgrade", "te", "trailer":
		return true
	}
	return false
}

// keptHeader reports whether a header of the function's HTTP response
// stays in the client's: its length, which the Server fixes to the new
// body; its date; Envoy's own headers, which Envoy does not let ext_proc
// remove; and the framing headers of the connection.
func keptHeader(name string) bool {
	return name == headerDate || strings.HasPrefix(name, "x-envoy-") || framingHeader(name)
}

// failed answers a failed invocation as API Gateway does, and logs why.
// REST APIs answer 502 {"message": "Internal server error"} for a
// function error or a malformed result; HTTP APIs answer 500
// {"message":"Internal Server Error"}. An API that customizes DEFAULT_5XX
// answers with its override, at the same status unless it sets one.
func (p *functionProcessor) failed(ctx context.Context, x *extproc.Exchange, err error) *extproc.Decision {
	path, _, _ := strings.Cut(x.Path, "?")
	p.l.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "function invocation failed",
		slog.String("api_id", p.rr.api.ID), slog.String("stage", p.rr.stage.Name),
		slog.String("route_id", p.rr.route.ID), slog.String("method", x.Method),
		slog.String("path", path), slog.Bool("malformed", errors.Is(err, lambda.ErrMalformed)),
		slog.Any("error", err))
	status := http.StatusBadGateway
	if p.rr.api.Protocol == model.ProtocolHTTP {
		status = http.StatusInternalServerError
	}
	if p.rr.responses.Customized(gatewayresponse.Default5XX) {
		req := p.l.mappingRequest(x, p.rr)
		d, rerr := p.rr.gatewayReply(gatewayresponse.Default5XX, status, req, mapping.ErrorInfo{}, x.Headers.Get(headerAccept))
		if rerr == nil {
			return d
		}
		p.l.opts.Logger.LogAttrs(ctx, slog.LevelError, "gateway response DEFAULT_5XX does not render; answering with the default",
			slog.String("api_id", p.rr.api.ID), slog.Any("error", rerr))
	}
	if p.rr.api.Protocol == model.ProtocolHTTP {
		return extproc.Respond(http.StatusInternalServerError,
			extproc.Headers{{Name: headerContentType, Value: defaultContentType}},
			[]byte(`{"message":"Internal Server Error"}`))
	}
	return extproc.Respond(http.StatusBadGateway,
		extproc.Headers{{Name: headerContentType, Value: defaultContentType}},
		[]byte(`{"message": "Internal server error"}`))
}

// lambdaOptions are the API's settings that change the payloads: its
// binary media types, whose request bodies reach the function
// base64-encoded (payload 1.0) and whose base64 results are decoded for
// clients that accept them.
func (p *functionProcessor) lambdaOptions() lambda.Options {
	return lambda.Options{BinaryMediaTypes: p.rr.api.BinaryMediaTypes}
}
