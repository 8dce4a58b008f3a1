package extproc

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/archway-gateway/archway/extproc/gatewayresponse"
)

// TestLocalReplyType maps the response code details the real Envoy (1.40)
// gives its own replies to gateway response types and messages.
func TestLocalReplyType(t *testing.T) {
	for name, c := range map[string]struct {
		details string
		status  int
		want    gatewayresponse.Type
		message string
	}{
		"route timeout":          {"response_timeout", 504, gatewayresponse.IntegrationTimeout, ""},
		"retry timeout":          {"upstream_per_try_timeout", 504, gatewayresponse.IntegrationTimeout, ""},
		"max stream duration":    {"upstream_max_stream_duration_reached", 408, gatewayresponse.IntegrationTimeout, ""},
		"connection refused":     {"upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}", 504, gatewayresponse.IntegrationFailure, MessageNetworkError},
		"reset before answering": {"upstream_reset_before_response_started{remote_reset}", 503, gatewayresponse.IntegrationFailure, MessageNetworkError},
		"no healthy upstream":    {"no_healthy_upstream", 503, gatewayresponse.IntegrationFailure, MessageNetworkError},
		"body over the limit":    {"request_payload_too_large", 413, gatewayresponse.RequestTooLarge, ""},
		"stage throttle":         {"request_rate_limited", 429, gatewayresponse.Throttled, ""},
		"too large, remapped":    {"request_payload_too_large", 400, gatewayresponse.RequestTooLarge, ""},
		"other 4XX":              {"path_normalization_failed", 400, gatewayresponse.Default4XX, ""},
		"other 5XX":              {"response_payload_too_large", 500, gatewayresponse.Default5XX, ""},
		"no status":              {"something_new", 0, gatewayresponse.Default5XX, ""},
	} {
		t.Run(name, func(t *testing.T) {
			if got := LocalReplyType(c.details, c.status); got != c.want {
				t.Errorf("LocalReplyType(%q, %d) = %s, want %s", c.details, c.status, got, c.want)
			}
			if got := LocalReplyMessage(c.details); got != c.message {
				t.Errorf("LocalReplyMessage(%q) = %q, want %q", c.details, got, c.message)
			}
		})
	}
}

// exchangeLog keeps a copy of every Exchange a processor's Response got.
type exchangeLog struct {
	mu   sync.Mutex
	seen []Exchange
}

// respond returns a Response phase that records the exchange and decides
// d, or fails with err.
func (l *exchangeLog) respond(d *Decision, err error) func(context.Context, *Exchange) (*Decision, error) {
	return func(_ context.Context, x *Exchange) (*Decision, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.seen = append(l.seen, *x)
		return d, err
	}
}

// TestLocalReplies sends the messages the real Envoy sends for its own
// replies (recorded with Envoy 1.40: their headers after the local reply
// mappers, and the attributes the translator asks for) and checks what
// the processor sees and what Envoy is told.
func TestLocalReplies(t *testing.T) {
	continues := newContinueResponses()
	timeoutHeaders := func() *extprocv3.ProcessingRequest {
		return withAttributes(respHeaders(false, ":status", "504", "x-amzn-errortype", "InternalServerErrorException",
			"content-length", "41", "content-type", "application/json"),
			AttrCodeDetails, "response_timeout", AttrMethod, "GET", AttrPath, "/prod/pets?x=1", AttrHost, "api.example",
			AttrRequestID, "id-1", headerAttribute("accept"), "application/xml")
	}
	refusedHeaders := withAttributes(respHeaders(false, ":status", "504", "x-amzn-errortype", "InternalServerErrorException",
		"content-length", "56", "content-type", "application/json"),
		AttrCodeDetails, "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}",
		AttrMethod, "POST", AttrPath, "/prod/items")
	postHeaders := reqHeaders(false, ":method", "POST", ":path", "/prod/items", "content-length", "5", "accept", "text/html")
	custom := Respond(599, Headers{{Name: "content-type", Value: "application/xml"}, {Name: "X-Custom", Value: "a"}}, []byte("<timeout/>"))
	responseOnly := Mode{ResponseHeaders: true}
	exchangeMode := Mode{RequestBody: true, ResponseBody: true}

	for name, c := range map[string]struct {
		mode     Mode
		decision *Decision
		err      error
		msgs     []*extprocv3.ProcessingRequest
		want     []*extprocv3.ProcessingResponse
		seen     []Exchange // what Response got, compared without State
	}{
		"timeout on a route that skips the request": {
			mode: responseOnly, decision: custom,
			msgs: []*extprocv3.ProcessingRequest{timeoutHeaders()},
			want: []*extprocv3.ProcessingResponse{replacement(phaseResponseHeaders, 599, "<timeout/>", []string{"x-amzn-errortype"},
				"content-type", "application/xml", "x-custom", "a")},
			seen: []Exchange{{
				Route: testRoute, Method: "GET", Path: "/prod/pets?x=1", Authority: "api.example",
				Headers: Headers{{Name: "accept", Value: "application/xml"}, {Name: "x-request-id", Value: "id-1"}},
				Status:  504, LocalReply: "response_timeout",
				ResponseHeaders: Headers{
					{Name: "x-amzn-errortype", Value: "InternalServerErrorException"},
					{Name: "content-length", Value: "41"},
					{Name: "content-type", Value: "application/json"},
				},
			}},
		},
		"backend's response on a route that skips the request": {
			mode: responseOnly,
			msgs: []*extprocv3.ProcessingRequest{withAttributes(respHeaders(false, ":status", "200"),
				AttrCodeDetails, "via_upstream", AttrMethod, "GET", AttrPath, "/prod/pets")},
			want: []*extprocv3.ProcessingResponse{continues[phaseResponseHeaders]},
			seen: []Exchange{{Route: testRoute, Method: "GET", Path: "/prod/pets", Headers: Headers{}, Status: 200, ResponseHeaders: Headers{}}},
		},
		"ext_authz denial before the request passes unchanged": {
			mode: exchangeMode, decision: custom,
			msgs: []*extprocv3.ProcessingRequest{
				withAttributes(respHeaders(false, ":status", "403", "content-type", "application/json"), AttrCodeDetails, "ext_authz_denied"),
				respBody(`{"message":"Forbidden"}`),
			},
			want: []*extprocv3.ProcessingResponse{continues[phaseResponseHeaders], continues[phaseResponseBody]},
		},
		"rate limit before the request reaches the processor": {
			mode: responseOnly,
			msgs: []*extprocv3.ProcessingRequest{withAttributes(respHeaders(true, ":status", "429"), AttrCodeDetails, "request_rate_limited")},
			want: []*extprocv3.ProcessingResponse{continues[phaseResponseHeaders]},
			seen: []Exchange{{Route: testRoute, Headers: Headers{}, Status: 429, ResponseHeaders: Headers{}, LocalReply: "request_rate_limited"}},
		},
		"connection refused after the request, decided with the body": {
			mode: exchangeMode, decision: custom,
			msgs: []*extprocv3.ProcessingRequest{postHeaders, reqBody("hello"), refusedHeaders, respBody(`{"message": "Network error communicating with endpoint"}`)},
			want: []*extprocv3.ProcessingResponse{
				continues[phaseRequestHeaders], continues[phaseRequestBody], continues[phaseResponseHeaders],
				replacement(phaseResponseBody, 599, "<timeout/>", []string{"x-amzn-errortype"}, "content-type", "application/xml", "x-custom", "a"),
			},
			seen: []Exchange{{
				Route: testRoute, Method: "POST", Path: "/prod/items",
				Headers: Headers{{Name: "content-length", Value: "5"}, {Name: "accept", Value: "text/html"}}, Body: []byte("hello"),
				Status: 504, LocalReply: "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}",
				ResponseHeaders: Headers{
					{Name: "x-amzn-errortype", Value: "InternalServerErrorException"},
					{Name: "content-length", Value: "56"},
					{Name: "content-type", Value: "application/json"},
				},
				ResponseBody: []byte(`{"message": "Network error communicating with endpoint"}`),
			}},
		},
		"envoy's 413 reaches a processor that reads responses, which keeps it": {
			mode: exchangeMode,
			msgs: []*extprocv3.ProcessingRequest{
				postHeaders,
				withAttributes(respHeaders(false, ":status", "413", "content-length", "30", "content-type", "application/json"), AttrCodeDetails, "request_payload_too_large"),
				respBody(bodyRequestTooLong),
			},
			want: []*extprocv3.ProcessingResponse{
				continues[phaseRequestHeaders], continues[phaseResponseHeaders],
				replacement(phaseResponseBody, 413, bodyRequestTooLong, nil, "content-type", "application/json"),
			},
			seen: []Exchange{{
				Route: testRoute, Method: "POST", Path: "/prod/items",
				Headers: Headers{{Name: "content-length", Value: "5"}, {Name: "accept", Value: "text/html"}},
				Status:  413, LocalReply: "request_payload_too_large",
				ResponseHeaders: Headers{{Name: "content-length", Value: "30"}, {Name: "content-type", Value: "application/json"}},
				ResponseBody:    []byte(bodyRequestTooLong),
			}},
		},
		"envoy's 413 to a processor that reads no response": {
			mode: Mode{RequestBody: true},
			msgs: []*extprocv3.ProcessingRequest{
				postHeaders,
				withAttributes(respHeaders(false, ":status", "413", "content-type", "text/plain"), AttrCodeDetails, "request_payload_too_large"),
			},
			want: []*extprocv3.ProcessingResponse{
				continues[phaseRequestHeaders],
				replacement(phaseResponseHeaders, 413, bodyRequestTooLong, nil, "content-type", "application/json"),
			},
		},
		"processor failure on envoy's reply": {
			mode: responseOnly, err: errors.New("template failed"),
			msgs: []*extprocv3.ProcessingRequest{timeoutHeaders()},
			want: []*extprocv3.ProcessingResponse{replacement(phaseResponseHeaders, 500, bodyInternalError, nil,
				"content-type", "application/json", "x-amzn-errortype", errorTypeInternal)},
		},
	} {
		t.Run(name, func(t *testing.T) {
			log := &exchangeLog{}
			proc := Funcs{Modes: c.mode, OnResponse: log.respond(c.decision, c.err)}
			s := New(Options{
				Lookup: func(RouteMetadata) Processor { return proc },
				Logger: slog.New(&logRecorder{}),
			})
			got, err := run(t, dial(t, serveGRPC(t, s)), testRoute, c.msgs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
			if c.seen == nil {
				c.seen = []Exchange{}
			}
			seen := slices.Clone(log.seen)
			if seen == nil {
				seen = []Exchange{}
			}
			if diff := cmp.Diff(c.seen, seen); diff != "" && c.err == nil {
				t.Errorf("Response got (-want +got):\n%s", diff)
			}
		})
	}
}
