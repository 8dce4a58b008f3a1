package testinvoke

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/archway-gateway/archway/extproc"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// requestExchange is r's exchange as a processor of mode m gets it in the
// request phase: with the body only when m buffers it.
func (r *run) requestExchange(m extproc.Mode) extproc.Exchange {
	x := r.x
	x.Headers = append(extproc.Headers(nil), r.x.Headers...)
	if !m.RequestBody {
		x.Body = nil
	}
	return x
}

// validate runs the route's request validator on the request. It returns
// the validator's answer and true when the request goes no further: a
// refusal, or API Gateway's 500 when the validator failed.
func (r *run) validate(ctx context.Context) (response, bool) {
	x := r.requestExchange(r.validator.Mode())
	d, err := call(ctx, r.validator, &x, true)
	if err == nil {
		err = checkDecision(d, true)
	}
	step := &adminv1.TestInvokeStep{Name: "request validation"}
	defer func() { r.steps = append(r.steps, step) }()
	switch {
	case err != nil:
		resp := r.failed(ctx, "request validation", err)
		fillStep(step, resp)
		step.Detail = joinDetail("the validator failed: "+err.Error(), r.drainLogs())
		return resp, true
	case d != nil && d.Reply != nil:
		resp := fromReply(d.Reply)
		fillStep(step, resp)
		step.Detail = joinDetail("the request failed validation", r.drainLogs())
		return resp, true
	}
	step.Detail = joinDetail("the request passed validation", r.drainLogs())
	return response{}, false
}

// integrationRequest runs the integration's processor on the request and
// applies its decision to the exchange. It returns the processor's answer
// and true when the exchange ends there: an immediate response (a
// template mock's answer, a 415), or API Gateway's 500 when the processor
// failed.
func (r *run) integrationRequest(ctx context.Context) (response, bool) {
	x := r.requestExchange(r.proc.Mode())
	d, err := call(ctx, r.proc, &x, true)
	if err == nil {
		err = checkDecision(d, true)
	}
	switch {
	case err != nil:
		resp := r.failed(ctx, "integration request", err)
		r.note("the integration request failed in Archway's ext_proc service: " + err.Error())
		return resp, true
	case d != nil && d.Reply != nil:
		return fromReply(d.Reply), true
	}
	// The processor's state (what a non-proxy integration's response
	// template reads) carries over to the response phase.
	r.x.State = x.State
	x.Body = r.x.Body
	if d != nil {
		apply(d, message{method: &x.Method, path: &x.Path, headers: &x.Headers, body: &x.Body})
	}
	r.x.Method, r.x.Path, r.x.Headers, r.x.Body = x.Method, x.Path, x.Headers, x.Body
	return response{}, false
}

// note records a step that only says something, with the processors' log
// lines.
func (r *run) note(detail string) {
	r.steps = append(r.steps, &adminv1.TestInvokeStep{Name: "integration request", Detail: joinDetail(detail, r.drainLogs())})
}

// integrationResponse hands the endpoint's response to the integration's
// processor, as Envoy does for a mode that asks for it, and returns the
// method response.
func (r *run) integrationResponse(ctx context.Context, resp response) response {
	m := r.proc.Mode()
	if !m.ResponseHeaders && !m.ResponseBody {
		return r.methodResponse(resp, "the endpoint's response, unchanged")
	}
	if m.ResponseBody && resp.cut {
		return r.methodResponse(internalError(), fmt.Sprintf(
			"the endpoint's response body is over the limit of %d bytes", r.iv.opts.MaxBody))
	}
	x := r.x
	x.Status, x.ResponseHeaders = resp.status, append(extproc.Headers(nil), resp.headers...)
	x.LocalReply = resp.localReply
	if m.ResponseBody {
		x.ResponseBody = resp.body
	}
	d, err := call(ctx, r.proc, &x, false)
	if err == nil {
		err = checkDecision(d, false)
	}
	switch {
	case err != nil:
		return r.methodResponse(r.failed(ctx, "integration response", err),
			"the integration response failed in Archway's ext_proc service: "+err.Error())
	case d == nil:
		return r.methodResponse(resp, "the response passed Archway's ext_proc service unchanged")
	case d.Reply != nil:
		return r.methodResponse(fromReply(d.Reply), "Archway's ext_proc service answered in place of the endpoint's response")
	}
	out := response{status: resp.status, headers: x.ResponseHeaders, body: resp.body}
	apply(d, message{status: &out.status, headers: &out.headers, body: &out.body})
	return r.methodResponse(out, "after the integration response")
}

// failed logs a processor's failure in phase, with what the ext_proc
// Server's line names (never the query, headers or body), and returns
// API Gateway's 500, with which the Server answers it.
func (r *run) failed(ctx context.Context, phase string, err error) response {
	r.iv.opts.Logger.LogAttrs(ctx, slog.LevelError, "test invocation: ext_proc processor failed",
		slog.String("api_id", r.api.ID), slog.String("route_id", r.route.ID), slog.String("phase", phase),
		slog.String("method", r.inv.Method), slog.String("path", pathOnly(r.inv.PathWithQueryString)),
		slog.Any("error", err))
	return internalError()
}

// fillStep copies resp into a step.
func fillStep(step *adminv1.TestInvokeStep, resp response) {
	step.Status = int32(resp.status)
	step.Headers = headerValues(resp.headers)
	step.Body = resp.body
}
