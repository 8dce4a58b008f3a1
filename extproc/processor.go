package extproc

import (
	"context"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"

	"github.com/archway-gateway/archway/envoy"
)

// Mode says which phases of an exchange a Processor needs beyond the
// request headers, which Envoy sends unless SkipRequest is set. Envoy
// skips what a route's mode leaves out, so a route that only validates
// headers costs one round trip and never buffers a body.
type Mode struct {
	// RequestBody buffers the whole request body before Request is called.
	RequestBody bool
	// ResponseHeaders calls Response once the upstream's status and
	// headers arrive.
	ResponseHeaders bool
	// ResponseBody buffers the whole response body before Response is
	// called; it implies ResponseHeaders.
	ResponseBody bool
	// SkipRequest leaves the request out: Envoy opens the stream only
	// when the response headers arrive, and Request is never called. It
	// is for a processor of Envoy's own replies on a route Envoy proxies
	// by itself, which reads the request from Envoy's attributes (see
	// Exchange.LocalReply); RequestBody is then ignored.
	SkipRequest bool
}

// ProcessingMode is the per-route processing_mode the translator gives
// Envoy for a route whose processor has mode m: bodies BUFFERED (the one
// body mode in which Envoy sends a body in one message and accepts header
// mutations with the body's answer), trailers never.
func (m Mode) ProcessingMode() *extprocfilterv3.ProcessingMode {
	pm := &extprocfilterv3.ProcessingMode{
		RequestHeaderMode:   extprocfilterv3.ProcessingMode_SEND,
		ResponseHeaderMode:  extprocfilterv3.ProcessingMode_SKIP,
		RequestTrailerMode:  extprocfilterv3.ProcessingMode_SKIP,
		ResponseTrailerMode: extprocfilterv3.ProcessingMode_SKIP,
	}
	if m.SkipRequest {
		pm.RequestHeaderMode = extprocfilterv3.ProcessingMode_SKIP
	} else if m.RequestBody {
		pm.RequestBodyMode = extprocfilterv3.ProcessingMode_BUFFERED
	}
	if m.ResponseHeaders || m.ResponseBody {
		pm.ResponseHeaderMode = extprocfilterv3.ProcessingMode_SEND
	}
	if m.ResponseBody {
		pm.ResponseBodyMode = extprocfilterv3.ProcessingMode_BUFFERED
	}
	return pm
}

// Processor carries out what one route needs: validation, mapping
// templates, a Lambda-proxy or mock integration, gateway responses. The
// Server calls Request once per exchange, after the request headers (and
// body, if Mode asks for it), and Response once after the response
// headers (and body), if Mode asks for them, for the backend's response
// and for Envoy's own replies (Exchange.LocalReply, the rate-limit
// filter's 429 among them), never for an ext_authz denial or a direct
// response to a request the processor did not see. A nil Decision lets the message through unchanged. An error answers the
// client with API Gateway's 500 and is logged; it should not carry request
// bodies or secrets.
//
// A Reply decided on Envoy's own reply replaces its status, headers and
// body (Envoy ignores an immediate response there); the client gets it
// all the same.
type Processor interface {
	// Mode says which phases the processor needs. The translator sets the
	// route's processing_mode from the same value, so both agree.
	Mode() Mode
	// Request decides on the request.
	Request(ctx context.Context, x *Exchange) (*Decision, error)
	// Response decides on the upstream's response.
	Response(ctx context.Context, x *Exchange) (*Decision, error)
}

// Funcs adapts plain functions to a Processor. A nil function lets its
// phase through unchanged.
type Funcs struct {
	// Modes is what Mode returns.
	Modes Mode
	// OnRequest is called by Request.
	OnRequest func(ctx context.Context, x *Exchange) (*Decision, error)
	// OnResponse is called by Response.
	OnResponse func(ctx context.Context, x *Exchange) (*Decision, error)
}

// Mode returns f.Modes.
func (f Funcs) Mode() Mode { return f.Modes }

// Request calls f.OnRequest.
func (f Funcs) Request(ctx context.Context, x *Exchange) (*Decision, error) {
	if f.OnRequest == nil {
		return nil, nil
	}
	return f.OnRequest(ctx, x)
}

// Response calls f.OnResponse.
func (f Funcs) Response(ctx context.Context, x *Exchange) (*Decision, error) {
	if f.OnResponse == nil {
		return nil, nil
	}
	return f.OnResponse(ctx, x)
}

// RouteMetadata names what a request matched: the IDs the translator
// stamps into the route's filter_metadata, which services look policies up
// by instead of matching paths again.
type RouteMetadata struct {
	APIID, Stage, RouteID, DeploymentID string
}

// The gRPC metadata keys through which Envoy tells the service which route
// an ext_proc stream belongs to. The translator sets them per route in
// ExtProcPerRoute.overrides.grpc_initial_metadata (see GRPCInitialMetadata),
// so Envoy sends them as headers of the stream it opens for each request.
const (
	MetadataAPIID        = envoy.InternalHeaderPrefix + "api-id"
	MetadataStage        = envoy.InternalHeaderPrefix + "stage"
	MetadataRouteID      = envoy.InternalHeaderPrefix + "route-id"
	MetadataDeploymentID = envoy.InternalHeaderPrefix + "deployment-id"
)

// GRPCInitialMetadata is the per-route grpc_initial_metadata that makes
// Envoy send r with every ext_proc stream of the route; empty IDs are left
// out.
func (r RouteMetadata) GRPCInitialMetadata() []*corev3.HeaderValue {
	out := make([]*corev3.HeaderValue, 0, 4)
	for _, kv := range [...][2]string{
		{MetadataAPIID, r.APIID},
		{MetadataStage, r.Stage},
		{MetadataRouteID, r.RouteID},
		{MetadataDeploymentID, r.DeploymentID},
	} {
		if kv[1] != "" {
			out = append(out, &corev3.HeaderValue{Key: kv[0], Value: kv[1]})
		}
	}
	return out
}

// Exchange is one HTTP request and its response as a processor sees them.
// The Server fills in the request before Request and the response before
// Response; State is the processor's own, kept between the two.
type Exchange struct {
	// Route is what the request matched.
	Route RouteMetadata
	// Method, Path (with its query string) and Authority are the request's
	// pseudo-headers.
	Method, Path, Authority string
	// Headers are the request's headers in Envoy's order, names in lower
	// case, pseudo-headers left out.
	Headers Headers
	// Body is the whole request body when Mode.RequestBody is set.
	Body []byte
	// Status and ResponseHeaders are the upstream's (or a local reply's)
	// in the response phase; ResponseBody is the whole response body when
	// Mode.ResponseBody is set.
	Status          int
	ResponseHeaders Headers
	ResponseBody    []byte
	// LocalReply, in the response phase, is set when Envoy made the
	// response itself rather than pass on the backend's: it holds Envoy's
	// response code details (response_timeout,
	// upstream_reset_before_response_started{...}, no_healthy_upstream,
	// request_payload_too_large, ...), which LocalReplyType maps to the
	// gateway response type and LocalReplyMessage to its message. It is
	// empty for the backend's response, a route's direct response and an
	// ext_authz denial (the rate-limit filter's 429 is Envoy's reply, with
	// details request_rate_limited). Status, ResponseHeaders and
	// ResponseBody are then Envoy's reply after its local reply mappers
	// (API Gateway's default answer for the type), and Request may not
	// have been called: Envoy refuses a body over the route's buffer limit
	// before the processor sees it, and a route whose mode skips the
	// request opens the stream at the response, with Method, Path (the
	// path the backend got, after the route's rewrite), Authority and a
	// few Headers (accept, user-agent, x-forwarded-for, x-request-id) from
	// Envoy's attributes.
	LocalReply string
	// State is for the processor to keep what its Request found for its
	// Response.
	State any
}

// Decision is what a processor makes of a message: either continue with
// changes to it, or, when Reply is set, answer the client directly and end
// the exchange. A nil Decision continues unchanged.
type Decision struct {
	// Reply, if set, is sent to the client instead of going on; the other
	// fields are then ignored.
	Reply *Reply
	// Status, in the response phase, replaces the upstream's status; zero
	// keeps it. It is an error in the request phase.
	Status int
	// Set adds or replaces headers of the message, in order.
	Set []HeaderOp
	// Remove deletes headers of the message.
	Remove []string
	// ReplaceBody replaces the message's body with Body, fixing the
	// content-length header to match.
	ReplaceBody bool
	Body        []byte
}

// HeaderOp sets one header: it replaces every value the header has, or
// adds one more when Append is set.
type HeaderOp struct {
	Name, Value string
	Append      bool
}

// Reply is a response Envoy sends to the client in place of (or instead of
// the rest of) the upstream's.
type Reply struct {
	Status  int
	Headers Headers
	Body    []byte
}

// Respond returns a Decision that answers the client with status, headers
// and body.
func Respond(status int, headers Headers, body []byte) *Decision {
	return &Decision{Reply: &Reply{Status: status, Headers: headers, Body: body}}
}
