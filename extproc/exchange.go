package extproc

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/archway-gateway/archway/extproc/gatewayresponse"
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
	// requestSeen is set once the request headers arrived; requestDone
	// once the processor's Request was called.
	requestSeen, requestDone bool
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
		return e.responseHeaders(ctx, m.ResponseHeaders, attributes(req))
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
	e.requestSeen = true
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
// attrs are the filter's response attributes, which tell a backend's
// response from Envoy's own reply (Exchange.LocalReply).
//
// Response headers may come without the request having reached the
// processor: on a route whose mode skips the request (Envoy opens the
// stream at the response; the request is then read from attrs), and when
// Envoy or a filter before ext_proc answered before the request was
// whole. An ext_authz denial and a route's direct response then pass
// unchanged: the processor has nothing to add to a request it never saw,
// and they are Archway's answers already. Envoy's own replies, the
// rate-limit filter's 429 among them, go to the processor.
func (e *exchange) responseHeaders(ctx context.Context, h *extprocv3.HttpHeaders, attrs map[string]*structpb.Value) (*extprocv3.ProcessingResponse, bool, error) {
	if e.proc == nil {
		return e.s.continues[phaseResponseHeaders], false, nil
	}
	details := attrs[AttrCodeDetails].GetStringValue()
	origin := originOf(details)
	if origin == fromEnvoy {
		e.x.LocalReply = details
	}
	var p pseudo
	e.x.ResponseHeaders, p = decodeHeaders(h.GetHeaders())
	e.x.Status = p.status
	if !e.requestDone {
		early := e.awaitRequestBody
		e.awaitRequestBody = false
		switch {
		case origin == fromArchway || origin == fromBackend && early:
			// A reply Archway's services asked for, or one Envoy sent
			// without saying so (no attributes) while the body was awaited.
			return e.unseen(ctx, p.status)
		case !e.requestSeen:
			requestFromAttributes(&e.x, attrs)
		}
	}
	if !e.mode.ResponseHeaders && !e.mode.ResponseBody {
		return e.passReply(ctx, phaseResponseHeaders)
	}
	e.responseLength = e.x.ResponseHeaders.Has(headerContentLength)
	if e.mode.ResponseBody && !h.GetEndOfStream() {
		e.awaitResponseBody = true
		return e.s.continues[phaseResponseHeaders], false, nil
	}
	return e.decide(ctx, phaseResponseHeaders)
}

// unseen passes a response to a request that never reached the processor
// and that Envoy did not make itself, logged; later messages of the
// exchange pass unchanged. Without response attributes a 413 is taken for
// Envoy's own, for a body over the route's buffer limit, and gets API
// Gateway's 413.
func (e *exchange) unseen(ctx context.Context, status int) (*extprocv3.ProcessingResponse, bool, error) {
	if status == http.StatusRequestEntityTooLarge && e.x.LocalReply == "" && e.requestSeen {
		e.x.LocalReply = detailsTooLarge
		return e.replaceReply(ctx, phaseResponseHeaders, tooLongReply())
	}
	e.s.log.DebugContext(ctx, "response to a request the processor did not see",
		"status", status, "route", e.x.Route.RouteID)
	e.proc = nil
	return e.s.continues[phaseResponseHeaders], false, nil
}

// passReply answers a response the processor does not read: unchanged,
// except Envoy's 413 for a body over the route's buffer limit, which gets
// API Gateway's 413 {"message":"Request Too Long"} whether or not Envoy's
// local reply configuration already made it so.
func (e *exchange) passReply(ctx context.Context, p phase) (*extprocv3.ProcessingResponse, bool, error) {
	if e.x.LocalReply != "" && LocalReplyType(e.x.LocalReply, e.x.Status) == gatewayresponse.RequestTooLarge {
		return e.replaceReply(ctx, p, tooLongReply())
	}
	return e.s.continues[p], false, nil
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
		return e.failed(ctx, p)
	}
	if d == nil && !p.request() {
		return e.passReply(ctx, p)
	}
	if d == nil {
		return e.s.continues[p], false, nil
	}
	if d.Reply != nil && e.x.LocalReply != "" && !p.request() {
		return e.replaceReply(ctx, p, d.Reply)
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
		return e.failed(ctx, p)
	}
	return resp, d.Reply != nil, nil
}

// failed answers API Gateway's 500 after a logged failure.
func (e *exchange) failed(ctx context.Context, p phase) (*extprocv3.ProcessingResponse, bool, error) {
	if e.x.LocalReply != "" && !p.request() {
		return e.replaceReply(ctx, p, internalErrorReply())
	}
	return e.s.internalError, true, nil
}

// replaceReply answers Envoy's own reply, in response phase p, with r.
// Envoy 1.40 ignores an immediate response to the response of its own
// local reply (checked against the real Envoy: the local reply reached the
// client unchanged), so r replaces the reply's status, headers and body
// instead; Envoy then sends the response on, and the stream goes on until
// Envoy closes it.
func (e *exchange) replaceReply(ctx context.Context, p phase, r *Reply) (*extprocv3.ProcessingResponse, bool, error) {
	d := &Decision{Status: r.Status, ReplaceBody: true, Body: r.Body}
	for i, h := range r.Headers {
		d.Set = append(d.Set, HeaderOp{Name: strings.ToLower(h.Name), Value: h.Value, Append: r.Headers[:i].hasFold(h.Name)})
	}
	for _, h := range e.x.ResponseHeaders {
		if h.Name != headerContentLength && !r.Headers.hasFold(h.Name) && !slices.Contains(d.Remove, h.Name) {
			d.Remove = append(d.Remove, h.Name)
		}
	}
	resp, err := encodeContinue(p, d, e.responseLength || p == phaseResponseHeaders)
	if err != nil {
		e.logFailure(ctx, p, err)
		d = &Decision{Status: http.StatusInternalServerError, ReplaceBody: true, Body: []byte(bodyInternalError)}
		resp, _ = encodeContinue(p, d, true)
	}
	e.awaitResponseBody = false
	return resp, false, nil
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
		e.requestDone = true
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
