package extproc

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// exchange is the state of one stream: the exchange the processor sees and
// which body, if any, is awaited.
type exchange struct {
	s    *Server
	proc Processor
	mode Mode
	x    Exchange
	// awaitRequestBody and awaitResponseBody are set between a headers
	// message whose decision waits for the body and the body message.
	awaitRequestBody, awaitResponseBody bool
	// requestLength and responseLength record whether the message came
	// with a content-length header.
	requestLength, responseLength bool
}

// handle answers one message. done says the exchange is over: the answer
// is an immediate response, and Envoy will send nothing more. An error
// ends the stream with that gRPC status; Envoy then fails the request
// (failure_mode_allow is off on Archway's routes).
func (e *exchange) handle(ctx context.Context, req *extprocv3.ProcessingRequest) (*extprocv3.ProcessingResponse, bool, error) {
	if pc := req.GetProtocolConfig(); pc != nil {
		if err := checkProtocol(pc); err != nil {
			return nil, true, err
		}
	}
	switch m := req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return e.requestHeaders(ctx, m.RequestHeaders)
	case *extprocv3.ProcessingRequest_RequestBody:
		return e.requestBody(ctx, m.RequestBody)
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return e.s.continues[phaseRequestTrailers], false, nil
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return e.responseHeaders(ctx, m.ResponseHeaders)
	case *extprocv3.ProcessingRequest_ResponseBody:
		return e.responseBody(ctx, m.ResponseBody)
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return e.s.continues[phaseResponseTrailers], false, nil
	default:
		return nil, true, status.Errorf(codes.InvalidArgument, "unexpected ProcessingRequest %T", m)
	}
}

// checkProtocol refuses body modes other than BUFFERED: the Server
// expects a whole body in one message, and would otherwise hand a
// processor part of one.
func checkProtocol(pc *extprocv3.ProtocolConfiguration) error {
	for _, m := range [...]extprocfilterv3.ProcessingMode_BodySendMode{pc.GetRequestBodyMode(), pc.GetResponseBodyMode()} {
		if m != extprocfilterv3.ProcessingMode_NONE && m != extprocfilterv3.ProcessingMode_BUFFERED {
			return status.Errorf(codes.FailedPrecondition, "body send mode %s is not supported: use BUFFERED", m)
		}
	}
	return nil
}

// requestHeaders decides on the request now, or waits for its body.
func (e *exchange) requestHeaders(ctx context.Context, h *extprocv3.HttpHeaders) (*extprocv3.ProcessingResponse, bool, error) {
	if e.proc == nil {
		return e.s.continues[phaseRequestHeaders], false, nil
	}
	var p pseudo
	e.x.Headers, p = decodeHeaders(h.GetHeaders())
	e.x.Method, e.x.Path, e.x.Authority = p.method, p.path, p.authority
	e.requestLength = e.x.Headers.Has(headerContentLength)
	if e.mode.RequestBody && !h.GetEndOfStream() {
		e.awaitRequestBody = true
		return e.s.continues[phaseRequestHeaders], false, nil
	}
	return e.decide(ctx, phaseRequestHeaders)
}

// requestBody decides on the request with its whole body.
func (e *exchange) requestBody(ctx context.Context, b *extprocv3.HttpBody) (*extprocv3.ProcessingResponse, bool, error) {
	if !e.awaitRequestBody {
		return e.s.continues[phaseRequestBody], false, nil
	}
	e.awaitRequestBody = false
	if len(b.GetBody()) > e.s.maxBody {
		return e.s.tooLong, true, nil
	}
	e.x.Body = b.GetBody()
	return e.decide(ctx, phaseRequestBody)
}

// responseHeaders decides on the response now, or waits for its body.
func (e *exchange) responseHeaders(ctx context.Context, h *extprocv3.HttpHeaders) (*extprocv3.ProcessingResponse, bool, error) {
	if e.awaitRequestBody {
		return e.envoyReply(ctx, h)
	}
	if e.proc == nil || !e.mode.ResponseHeaders && !e.mode.ResponseBody {
		return e.s.continues[phaseResponseHeaders], false, nil
	}
	var p pseudo
	e.x.ResponseHeaders, p = decodeHeaders(h.GetHeaders())
	e.x.Status = p.status
	e.responseLength = e.x.ResponseHeaders.Has(headerContentLength)
	if e.mode.ResponseBody && !h.GetEndOfStream() {
		e.awaitResponseBody = true
		return e.s.continues[phaseResponseHeaders], false, nil
	}
	return e.decide(ctx, phaseResponseHeaders)
}

// envoyReply answers response headers that came while the request body was
// still awaited: the request never reached the processor, so this is
// Envoy's own answer, such as its 413 for a body over the route's buffer
// limit. A 413 becomes API Gateway's; anything else passes unchanged,
// logged, since the processor has nothing to add to a request it never saw.
// (A route whose processing mode buffers no body for a processor that needs
// one ends here too; the translator's tests pin the modes to the
// processors'.)
func (e *exchange) envoyReply(ctx context.Context, h *extprocv3.HttpHeaders) (*extprocv3.ProcessingResponse, bool, error) {
	_, p := decodeHeaders(h.GetHeaders())
	if p.status == http.StatusRequestEntityTooLarge {
		return e.s.tooLong, true, nil
	}
	e.s.log.DebugContext(ctx, "envoy answered before the request reached the processor",
		"status", p.status, "route", e.x.Route.RouteID)
	e.awaitRequestBody = false
	e.proc = nil // later messages of the exchange pass unchanged
	return e.s.continues[phaseResponseHeaders], false, nil
}

// responseBody decides on the response with its whole body.
func (e *exchange) responseBody(ctx context.Context, b *extprocv3.HttpBody) (*extprocv3.ProcessingResponse, bool, error) {
	if !e.awaitResponseBody {
		return e.s.continues[phaseResponseBody], false, nil
	}
	e.awaitResponseBody = false
	if len(b.GetBody()) > e.s.maxBody {
		e.logFailure(ctx, phaseResponseBody, fmt.Errorf("response body of %d bytes is over the limit of %d", len(b.GetBody()), e.s.maxBody))
		return e.s.internalError, true, nil
	}
	e.x.ResponseBody = b.GetBody()
	return e.decide(ctx, phaseResponseBody)
}

// decide asks the processor about phase p and encodes its decision.
func (e *exchange) decide(ctx context.Context, p phase) (*extprocv3.ProcessingResponse, bool, error) {
	d, err := e.call(ctx, p)
	if err != nil {
		if ctx.Err() != nil {
			// Envoy gave up on the exchange; nobody reads the answer.
			return nil, true, status.FromContextError(ctx.Err()).Err()
		}
		e.logFailure(ctx, p, err)
		return e.s.internalError, true, nil
	}
	if d == nil {
		return e.s.continues[p], false, nil
	}
	var resp *extprocv3.ProcessingResponse
	if d.Reply != nil {
		resp, err = encodeReply(d.Reply)
	} else {
		hadLength := e.requestLength
		if !p.request() {
			hadLength = e.responseLength
		}
		resp, err = encodeContinue(p, d, hadLength)
	}
	if err != nil {
		e.logFailure(ctx, p, err)
		return e.s.internalError, true, nil
	}
	return resp, d.Reply != nil, nil
}

// call runs the processor, turning a panic into an error so that one bad
// template cannot take the service down.
func (e *exchange) call(ctx context.Context, p phase) (d *Decision, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("processor panicked: %v", r)
		}
	}()
	if p.request() {
		return e.proc.Request(ctx, &e.x)
	}
	return e.proc.Response(ctx, &e.x)
}

// logFailure logs why an exchange got API Gateway's 500. It names the
// route and the request's method and path, never its query string,
// headers or body, which may hold secrets.
func (e *exchange) logFailure(ctx context.Context, p phase, err error) {
	path, _, _ := strings.Cut(e.x.Path, "?")
	e.s.log.LogAttrs(ctx, slog.LevelError, "ext_proc processor failed",
		slog.String("api_id", e.x.Route.APIID), slog.String("stage", e.x.Route.Stage),
		slog.String("route_id", e.x.Route.RouteID), slog.String("phase", p.String()),
		slog.String("method", e.x.Method), slog.String("path", path),
		slog.Any("error", err))
}
