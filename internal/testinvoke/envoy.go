package testinvoke

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/admin"
	"github.com/archway-gateway/archway/internal/model"
)

// Headers and pseudo-headers Envoy reads or sets itself.
const (
	headerHost            = "host"
	headerContentLength   = "content-length"
	headerContentType     = "content-type"
	headerRequestID       = "x-request-id"
	headerExternalAddress = "x-envoy-external-address"
	pseudoMethod          = ":method"
	pseudoPath            = ":path"
	pseudoStatus          = ":status"
)

// testSourceIP is the client address of a test invocation, as AWS's
// TestInvokeMethod gives $context.identity.sourceIp.
const testSourceIP = "test-invoke-source-ip"

// exchange is the request as Envoy hands it to the ext_proc service: the
// client's method; its path behind the stage's prefix (none for $default
// and for a test without a stage); the Host header as :authority, else the
// API's own host; the client's headers in lower case without the ones
// Envoy strips from external requests (x-envoy-*) and Archway's own
// (x-archway-*); and the headers Envoy adds: x-request-id, and the
// client's address as x-envoy-external-address. A processor whose mode
// buffers no body gets the exchange without it (see requestExchange).
func (iv *Invoker) exchange(inv *admin.TestInvocation, st *model.Stage, md extproc.RouteMetadata) extproc.Exchange {
	x := extproc.Exchange{Route: md, Method: inv.Method, Path: inv.PathWithQueryString, Body: inv.Body}
	if st.Name != admin.TestInvokeStageName && st.Name != "$default" {
		x.Path = "/" + st.Name + inv.PathWithQueryString
	}
	for _, h := range inv.Headers {
		name := strings.ToLower(h.GetName())
		switch {
		case name == headerHost:
			if x.Authority == "" {
				x.Authority = h.GetValue()
			}
		case strings.HasPrefix(name, "x-envoy-") || strings.HasPrefix(name, envoy.InternalHeaderPrefix):
		default:
			x.Headers = append(x.Headers, extproc.Header{Name: name, Value: h.GetValue()})
		}
	}
	if x.Authority == "" {
		x.Authority = md.APIID + "." + iv.opts.BaseDomain
	}
	if len(inv.Body) > 0 {
		x.Headers = append(x.Headers, extproc.Header{Name: headerContentLength, Value: strconv.Itoa(len(inv.Body))})
	}
	x.Headers = append(x.Headers,
		extproc.Header{Name: headerRequestID, Value: requestID()},
		extproc.Header{Name: headerExternalAddress, Value: testSourceIP})
	return x
}

// requestID is a random UUID (version 4), the form of the x-request-id
// Envoy generates.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// internalError is the ext_proc Server's answer when a processor fails:
// API Gateway's 500.
func internalError() response {
	return response{
		status: 500,
		headers: extproc.Headers{
			{Name: headerContentType, Value: "application/json"},
			{Name: "x-amzn-errortype", Value: "InternalServerErrorException"},
		},
		body: []byte(`{"message":"Internal server error"}`),
	}
}

// call runs one phase of p on x as the ext_proc Server does: a panic is
// an error. request says which phase.
func call(ctx context.Context, p extproc.Processor, x *extproc.Exchange, request bool) (d *extproc.Decision, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			d, err = nil, fmt.Errorf("processor panicked: %v", rec)
		}
	}()
	if request {
		return p.Request(ctx, x)
	}
	return p.Response(ctx, x)
}

// checkDecision refuses what the ext_proc Server cannot encode, which it
// answers with API Gateway's 500: a status in the request phase, a status
// or a reply status that is not a final HTTP status.
func checkDecision(d *extproc.Decision, request bool) error {
	switch {
	case d == nil:
		return nil
	case d.Reply != nil:
		if d.Reply.Status < 200 || d.Reply.Status > 599 {
			return fmt.Errorf("reply status %d is not a final HTTP status", d.Reply.Status)
		}
	case d.Status != 0 && request:
		return errors.New("a decision on a request cannot set a status")
	case d.Status != 0 && (d.Status < 200 || d.Status > 599):
		return fmt.Errorf("status %d is not a final HTTP status", d.Status)
	}
	return nil
}

// message is one HTTP message a decision changes: its pseudo-headers
// (method and path of a request, status of a response), headers and body.
type message struct {
	method, path *string
	status       *int
	headers      *extproc.Headers
	body         *[]byte
}

// apply applies d to m as Envoy's ext_proc filter does: removals, then
// each header set in order (pseudo-headers among them; a set replaces
// every value unless it appends), the status, then the new body, with
// content-length fixed to it when the message has one.
func apply(d *extproc.Decision, m message) {
	for _, name := range d.Remove {
		*m.headers = without(*m.headers, name)
	}
	for _, op := range d.Set {
		switch {
		case op.Name == pseudoMethod && m.method != nil:
			*m.method = op.Value
		case op.Name == pseudoPath && m.path != nil:
			*m.path = op.Value
		case op.Name == pseudoStatus && m.status != nil:
			if s, err := strconv.Atoi(op.Value); err == nil {
				*m.status = s
			}
		case op.Append:
			*m.headers = append(*m.headers, extproc.Header{Name: op.Name, Value: op.Value})
		default:
			*m.headers = append(without(*m.headers, op.Name), extproc.Header{Name: op.Name, Value: op.Value})
		}
	}
	if d.Status != 0 && m.status != nil {
		*m.status = d.Status
	}
	if d.ReplaceBody {
		*m.body = d.Body
		fixLength(m.headers, len(d.Body), true)
	}
}

// without returns h without the header name.
func without(h extproc.Headers, name string) extproc.Headers {
	out := h[:0:0]
	for _, f := range h {
		if f.Name != name {
			out = append(out, f)
		}
	}
	return out
}

// fixLength sets content-length to n, in its place, if the headers have
// one, or, with add, adds it when n is not zero. It makes a new list:
// headers may share their array with a processor's.
func fixLength(h *extproc.Headers, n int, add bool) {
	v := strconv.Itoa(n)
	out, found := make(extproc.Headers, 0, len(*h)+1), false
	for _, f := range *h {
		switch {
		case f.Name != headerContentLength:
			out = append(out, f)
		case !found:
			out = append(out, extproc.Header{Name: headerContentLength, Value: v})
			found = true
		}
	}
	if !found && add && n != 0 {
		out = append(out, extproc.Header{Name: headerContentLength, Value: v})
	}
	*h = out
}
