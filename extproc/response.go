package extproc

import (
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/types/known/wrapperspb"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// phase is the message of an exchange a ProcessingResponse answers. Envoy
// requires the answer to every message to be of the matching type.
type phase int

const (
	phaseRequestHeaders phase = iota
	phaseRequestBody
	phaseRequestTrailers
	phaseResponseHeaders
	phaseResponseBody
	phaseResponseTrailers
)

// String names the phase in logs.
func (p phase) String() string {
	return [...]string{
		"request_headers", "request_body", "request_trailers",
		"response_headers", "response_body", "response_trailers",
	}[p]
}

// request reports whether p is part of the request path.
func (p phase) request() bool { return p <= phaseRequestTrailers }

// body reports whether p answers a body message.
func (p phase) body() bool { return p == phaseRequestBody || p == phaseResponseBody }

// replyDetails is the %RESPONSE_CODE_DETAILS% of Archway's immediate
// responses in Envoy's access log.
const replyDetails = "archway_ext_proc"

// API Gateway's answers to failures of its own, which the Server sends when
// a processor fails or a body is over the limit. API Gateway does not let
// users customize the 413.
const (
	bodyInternalError  = `{"message":"Internal server error"}`
	bodyRequestTooLong = `{"message":"Request Too Long"}`
	errorTypeInternal  = "InternalServerErrorException"
)

// continueResponses holds the answer to each phase that changes nothing.
// They are shared by every stream and never modified.
type continueResponses [phaseResponseTrailers + 1]*extprocv3.ProcessingResponse

// newContinueResponses builds the empty answer to every phase.
func newContinueResponses() *continueResponses {
	var c continueResponses
	for p := range c {
		c[p] = wrap(phase(p), nil)
	}
	return &c
}

// wrap puts common into the ProcessingResponse type that answers p.
func wrap(p phase, common *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	r := &extprocv3.ProcessingResponse{}
	switch p {
	case phaseRequestHeaders:
		r.Response = &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{Response: common}}
	case phaseRequestBody:
		r.Response = &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: common}}
	case phaseRequestTrailers:
		r.Response = &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}
	case phaseResponseHeaders:
		r.Response = &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{Response: common}}
	case phaseResponseBody:
		r.Response = &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: common}}
	case phaseResponseTrailers:
		r.Response = &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}
	}
	return r
}

// errRequestStatus is a Decision that changes the status of a request.
var errRequestStatus = errors.New("a decision on a request cannot set a status")

// continueReply holds every message of a continue answer, so that one
// costs a handful of allocations however many headers it sets.
type continueReply struct {
	resp     extprocv3.ProcessingResponse
	common   extprocv3.CommonResponse
	headers  extprocv3.HeadersResponse
	body     extprocv3.BodyResponse
	mutation extprocv3.HeaderMutation
	bodyMut  extprocv3.BodyMutation
	newBody  extprocv3.BodyMutation_Body
	clear    extprocv3.BodyMutation_ClearBody
	// The oneof wrappers of the four phases that carry a CommonResponse.
	reqHeaders  extprocv3.ProcessingResponse_RequestHeaders
	reqBody     extprocv3.ProcessingResponse_RequestBody
	respHeaders extprocv3.ProcessingResponse_ResponseHeaders
	respBody    extprocv3.ProcessingResponse_ResponseBody
}

// encodeContinue turns d, made in phase p, into Envoy's answer. hadLength
// says whether the message came with a content-length header.
//
// A new body sent with the answer to a body message replaces the buffered
// body; Envoy accepts it with content-length set to the new length, and
// rejects it when the two disagree. A message without a content-length
// stays chunked. Sent with the answer to a headers message (the message
// had no body, or its route's mode buffers none), a new body needs
// CONTINUE_AND_REPLACE, which also ends processing of that direction.
func encodeContinue(p phase, d *Decision, hadLength bool) (*extprocv3.ProcessingResponse, error) {
	if d.Status != 0 && p.request() {
		return nil, errRequestStatus
	}
	if d.Status != 0 && (d.Status < 200 || d.Status > 599) {
		return nil, fmt.Errorf("status %d is not a final HTTP status", d.Status)
	}
	setLength := d.ReplaceBody && (hadLength || !p.body())
	n, size := 0, 0
	if d.Status != 0 {
		n, size = n+1, size+3
	}
	if setLength {
		n, size = n+1, size+20
	}
	for _, h := range d.Set {
		n, size = n+1, size+len(h.Value)
	}
	hb := newHeaderBuilder(n, size)
	if d.Status != 0 {
		hb.addInt(pseudoStatus, d.Status)
	}
	for _, h := range d.Set {
		if d.ReplaceBody && h.Name == headerContentLength {
			continue // set below, to the new body's length
		}
		hb.add(h.Name, h.Value, h.Append)
	}
	if setLength {
		hb.addInt(headerContentLength, len(d.Body))
	}
	r := &continueReply{}
	if len(hb.ptrs) > 0 || len(d.Remove) > 0 {
		r.mutation.SetHeaders, r.mutation.RemoveHeaders = hb.ptrs, d.Remove
		r.common.HeaderMutation = &r.mutation
	}
	if d.ReplaceBody {
		if !p.body() {
			r.common.Status = extprocv3.CommonResponse_CONTINUE_AND_REPLACE
		}
		r.setBody(d.Body)
	}
	return r.wrap(p), nil
}

// setBody replaces the message's body with b.
func (r *continueReply) setBody(b []byte) {
	if len(b) == 0 {
		r.clear.ClearBody = true
		r.bodyMut.Mutation = &r.clear
	} else {
		r.newBody.Body = b
		r.bodyMut.Mutation = &r.newBody
	}
	r.common.BodyMutation = &r.bodyMut
}

// wrap returns r's CommonResponse as the answer to p, a headers or body
// phase.
func (r *continueReply) wrap(p phase) *extprocv3.ProcessingResponse {
	r.headers.Response, r.body.Response = &r.common, &r.common
	switch p {
	case phaseRequestHeaders:
		r.reqHeaders.RequestHeaders = &r.headers
		r.resp.Response = &r.reqHeaders
	case phaseRequestBody:
		r.reqBody.RequestBody = &r.body
		r.resp.Response = &r.reqBody
	case phaseResponseHeaders:
		r.respHeaders.ResponseHeaders = &r.headers
		r.resp.Response = &r.respHeaders
	default:
		r.respBody.ResponseBody = &r.body
		r.resp.Response = &r.respBody
	}
	return &r.resp
}

// headerBuilder builds a list of header options in four allocations: the
// options, their values, the list of pointers, and one buffer for every
// value's bytes.
type headerBuilder struct {
	ptrs []*corev3.HeaderValueOption
	opts []corev3.HeaderValueOption
	vals []corev3.HeaderValue
	buf  []byte
}

// newHeaderBuilder makes room for n headers whose values have size bytes
// in all.
func newHeaderBuilder(n, size int) headerBuilder {
	if n == 0 {
		return headerBuilder{}
	}
	return headerBuilder{
		ptrs: make([]*corev3.HeaderValueOption, 0, n),
		opts: make([]corev3.HeaderValueOption, n),
		vals: make([]corev3.HeaderValue, n),
		buf:  make([]byte, 0, size),
	}
}

// add sets name to value, replacing its values or adding one. The value
// goes in raw_value, which is where Envoy reads it.
func (b *headerBuilder) add(name, value string, appendValue bool) {
	start := len(b.buf)
	b.buf = append(b.buf, value...)
	b.push(name, start, appendValue)
}

// addInt sets name to the decimal v, replacing its values.
func (b *headerBuilder) addInt(name string, v int) {
	start := len(b.buf)
	b.buf = strconv.AppendInt(b.buf, int64(v), 10)
	b.push(name, start, false)
}

// push adds the option for name whose value is b.buf[start:].
func (b *headerBuilder) push(name string, start int, appendValue bool) {
	i := len(b.ptrs)
	end := len(b.buf)
	b.vals[i] = corev3.HeaderValue{Key: name, RawValue: b.buf[start:end:end]}
	action := corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	if appendValue {
		action = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
	}
	// Envoy's ext_proc filter (1.40) still reads only the deprecated append
	// field of its mutations and ignores append_action, so an appended
	// value sets both: without append a second set-cookie would overwrite
	// the first.
	b.opts[i] = corev3.HeaderValueOption{Header: &b.vals[i], AppendAction: action}
	if appendValue {
		b.opts[i].Append = wrapperspb.Bool(true) //nolint:staticcheck // deprecated, but the only field Envoy's ext_proc reads
	}
	b.ptrs = append(b.ptrs, &b.opts[i])
}

// encodeReply turns r into an ImmediateResponse. Envoy's local reply
// starts with a content-type of its own, so every header of r replaces
// what is there, except the repeats of a name, which are added.
func encodeReply(r *Reply) (*extprocv3.ProcessingResponse, error) {
	if r.Status < 200 || r.Status > 599 {
		return nil, fmt.Errorf("reply status %d is not a final HTTP status", r.Status)
	}
	size := 0
	for _, h := range r.Headers {
		size += len(h.Value)
	}
	hb := newHeaderBuilder(len(r.Headers), size)
	for i, h := range r.Headers {
		hb.add(h.Name, h.Value, r.Headers[:i].Has(h.Name))
	}
	set := hb.ptrs
	ir := &extprocv3.ImmediateResponse{
		Status:  &typev3.HttpStatus{Code: typev3.StatusCode(r.Status)},
		Body:    r.Body,
		Details: replyDetails,
	}
	if len(set) > 0 {
		ir.Headers = &extprocv3.HeaderMutation{SetHeaders: set}
	}
	return &extprocv3.ProcessingResponse{
		Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: ir},
	}, nil
}

// mustReply encodes one of the Server's own fixed replies.
func mustReply(r *Reply) *extprocv3.ProcessingResponse {
	resp, err := encodeReply(r)
	if err != nil {
		panic(err)
	}
	return resp
}

// internalErrorReply is API Gateway's answer when something fails inside
// it: 500 {"message":"Internal server error"}.
func internalErrorReply() *Reply {
	return &Reply{
		Status: 500,
		Headers: Headers{
			{Name: headerContentType, Value: "application/json"},
			{Name: headerErrorType, Value: errorTypeInternal},
		},
		Body: []byte(bodyInternalError),
	}
}

// tooLongReply is API Gateway's answer to a request body over its payload
// limit: 413 {"message":"Request Too Long"}.
func tooLongReply() *Reply {
	return &Reply{
		Status:  413,
		Headers: Headers{{Name: headerContentType, Value: "application/json"}},
		Body:    []byte(bodyRequestTooLong),
	}
}
