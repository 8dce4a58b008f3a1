package extproc

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
)

// testMaxBody is the Server's body limit in these tests.
const testMaxBody = 16

// testRoute is the route the tests' streams belong to.
var testRoute = RouteMetadata{APIID: "a1", Stage: "prod", RouteID: "r1", DeploymentID: "d1"}

// refuse is a processor phase that must not be reached.
func refuse(context.Context, *Exchange) (*Decision, error) {
	return nil, errors.New("processor called")
}

// decided returns a processor phase that decides d.
func decided(d *Decision) func(context.Context, *Exchange) (*Decision, error) {
	return func(context.Context, *Exchange) (*Decision, error) { return d, nil }
}

// TestProcess sends the message sequences Envoy sends over real gRPC and
// checks every answer.
func TestProcess(t *testing.T) {
	continues := newContinueResponses()
	internalError := immediate(500, bodyInternalError, "content-type", "application/json", "x-amzn-errortype", errorTypeInternal)
	postHeaders := reqHeaders(false, ":method", "POST", ":path", "/pets?token=abc", "content-length", "5")
	for name, c := range map[string]struct {
		proc     Processor // nil: the route has none
		msgs     []*extprocv3.ProcessingRequest
		want     []*extprocv3.ProcessingResponse
		wantCode codes.Code // of the stream, when it fails
		wantLog  string     // in the one error line, when one is logged
	}{
		"route without a processor continues unchanged": {
			msgs: []*extprocv3.ProcessingRequest{postHeaders, reqBody("hello"), respHeaders(false, ":status", "200"), respBody("ok")},
			want: []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], continues[phaseRequestBody], continues[phaseResponseHeaders], continues[phaseResponseBody]},
		},
		"headers only, continue": {
			proc: Funcs{OnRequest: decided(nil), OnResponse: refuse},
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(true, ":method", "GET", ":path", "/pets"), respHeaders(true, ":status", "200")},
			want: []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], continues[phaseResponseHeaders]},
		},
		"header mutation": {
			proc: Funcs{OnRequest: decided(&Decision{
				Set:    []HeaderOp{{Name: "x-a", Value: "1"}, {Name: "x-b", Value: "2", Append: true}},
				Remove: []string{"x-c"},
			})},
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(true, ":method", "GET", "x-c", "gone")},
			want: []*extprocv3.ProcessingResponse{answer(phaseRequestHeaders, &extprocv3.CommonResponse{
				HeaderMutation: &extprocv3.HeaderMutation{
					SetHeaders:    []*corev3.HeaderValueOption{headerOption("x-a", "1", false), headerOption("x-b", "2", true)},
					RemoveHeaders: []string{"x-c"},
				},
			})},
		},
		"request body replaced, content-length fixed": {
			proc: Funcs{Modes: Mode{RequestBody: true}, OnRequest: decided(&Decision{
				Set:         []HeaderOp{{Name: "content-length", Value: "999"}, {Name: "content-type", Value: "application/json"}},
				ReplaceBody: true, Body: []byte(`{"a":1}`),
			})},
			msgs: []*extprocv3.ProcessingRequest{postHeaders, reqBody("hello")},
			want: []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], answer(phaseRequestBody, &extprocv3.CommonResponse{
				HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: set("content-type", "application/json", "content-length", "7")},
				BodyMutation:   bodyMutation([]byte(`{"a":1}`)),
			})},
		},
		"chunked request body replaced, stays chunked": {
			proc: Funcs{Modes: Mode{RequestBody: true}, OnRequest: decided(&Decision{ReplaceBody: true, Body: []byte("new")})},
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(false, ":method", "POST", "transfer-encoding", "chunked"), reqBody("old")},
			want: []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], answer(phaseRequestBody, &extprocv3.CommonResponse{
				BodyMutation: bodyMutation([]byte("new")),
			})},
		},
		"request body cleared": {
			proc: Funcs{Modes: Mode{RequestBody: true}, OnRequest: decided(&Decision{ReplaceBody: true})},
			msgs: []*extprocv3.ProcessingRequest{postHeaders, reqBody("hello")},
			want: []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], answer(phaseRequestBody, &extprocv3.CommonResponse{
				HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: set("content-length", "0")},
				BodyMutation:   &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}},
			})},
		},
		"body added to a request without one": {
			proc: Funcs{Modes: Mode{RequestBody: true}, OnRequest: decided(&Decision{ReplaceBody: true, Body: []byte("added")})},
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(true, ":method", "GET")},
			want: []*extprocv3.ProcessingResponse{answer(phaseRequestHeaders, &extprocv3.CommonResponse{
				Status:         extprocv3.CommonResponse_CONTINUE_AND_REPLACE,
				HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: set("content-length", "5")},
				BodyMutation:   bodyMutation([]byte("added")),
			})},
		},
		"immediate response from the request phase": {
			proc: Funcs{Modes: Mode{RequestBody: true}, OnRequest: decided(Respond(400,
				Headers{{"content-type", "application/json"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"}},
				[]byte(`{"message": "Invalid request body"}`)))},
			msgs: []*extprocv3.ProcessingRequest{postHeaders, reqBody("hello"), respHeaders(true, ":status", "200")},
			want: []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], func() *extprocv3.ProcessingResponse {
				r := immediate(400, `{"message": "Invalid request body"}`, "content-type", "application/json", "set-cookie", "a=1")
				h := r.GetImmediateResponse().GetHeaders()
				h.SetHeaders = append(h.SetHeaders, headerOption("set-cookie", "b=2", true))
				return r
			}()},
		},
		"response body and status rewritten": {
			proc: Funcs{Modes: Mode{ResponseBody: true}, OnResponse: decided(&Decision{
				Status: 201, Set: []HeaderOp{{Name: "x-t", Value: "1"}}, ReplaceBody: true, Body: []byte("rewritten"),
			})},
			msgs: []*extprocv3.ProcessingRequest{
				reqHeaders(true, ":method", "GET"),
				respHeaders(false, ":status", "200", "content-length", "8"), respBody("original"),
			},
			want: []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], continues[phaseResponseHeaders], answer(phaseResponseBody, &extprocv3.CommonResponse{
				HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: set(":status", "201", "x-t", "1", "content-length", "9")},
				BodyMutation:   bodyMutation([]byte("rewritten")),
			})},
		},
		"response status changed with the headers": {
			proc: Funcs{Modes: Mode{ResponseHeaders: true}, OnResponse: decided(&Decision{Status: 404})},
			msgs: []*extprocv3.ProcessingRequest{reqHeaders(true, ":method", "GET"), respHeaders(false, ":status", "200")},
			want: []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], answer(phaseResponseHeaders, &extprocv3.CommonResponse{
				HeaderMutation: &extprocv3.HeaderMutation{SetHeaders: set(":status", "404")},
			})},
		},
		"request body over the limit": {
			proc: Funcs{Modes: Mode{RequestBody: true}, OnRequest: refuse},
			msgs: []*extprocv3.ProcessingRequest{postHeaders, reqBody(strings.Repeat("x", testMaxBody+1))},
			want: []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], immediate(413, bodyRequestTooLong, "content-type", "application/json")},
		},
		"request body at the limit": {
			proc: Funcs{Modes: Mode{RequestBody: true}},
			msgs: []*extprocv3.ProcessingRequest{postHeaders, reqBody(strings.Repeat("x", testMaxBody))},
			want: []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], continues[phaseRequestBody]},
		},
		"response body over the limit": {
			proc:    Funcs{Modes: Mode{ResponseBody: true}, OnResponse: refuse},
			msgs:    []*extprocv3.ProcessingRequest{reqHeaders(true), respHeaders(false, ":status", "200"), respBody(strings.Repeat("x", testMaxBody+1))},
			want:    []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], continues[phaseResponseHeaders], internalError},
			wantLog: "over the limit",
		},
		"processor error": {
			proc:    Funcs{Modes: Mode{RequestBody: true}, OnRequest: refuse},
			msgs:    []*extprocv3.ProcessingRequest{postHeaders, reqBody("s3cr3t")},
			want:    []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], internalError},
			wantLog: "route_id=r1 phase=request_body method=POST path=/pets error=processor called",
		},
		"processor panic": {
			proc: Funcs{OnRequest: func(context.Context, *Exchange) (*Decision, error) {
				panic("template bug")
			}},
			msgs:    []*extprocv3.ProcessingRequest{reqHeaders(true, ":method", "GET")},
			want:    []*extprocv3.ProcessingResponse{internalError},
			wantLog: "processor panicked: template bug",
		},
		"status set in the request phase": {
			proc:    Funcs{OnRequest: decided(&Decision{Status: 201})},
			msgs:    []*extprocv3.ProcessingRequest{reqHeaders(true)},
			want:    []*extprocv3.ProcessingResponse{internalError},
			wantLog: errRequestStatus.Error(),
		},
		"reply with an impossible status": {
			proc:    Funcs{OnRequest: decided(Respond(99, nil, nil))},
			msgs:    []*extprocv3.ProcessingRequest{reqHeaders(true)},
			want:    []*extprocv3.ProcessingResponse{internalError},
			wantLog: "reply status 99",
		},
		"envoy's own answer before the body passes unchanged": {
			proc:    Funcs{Modes: Mode{RequestBody: true, ResponseBody: true}, OnRequest: refuse, OnResponse: refuse},
			msgs:    []*extprocv3.ProcessingRequest{postHeaders, respHeaders(false, ":status", "503"), respBody("upstream connect error")},
			want:    []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], continues[phaseResponseHeaders], continues[phaseResponseBody]},
			wantLog: "",
		},
		"envoy's 413 for a body over the route's buffer becomes AWS's": {
			proc: Funcs{Modes: Mode{RequestBody: true, ResponseBody: true}, OnRequest: refuse, OnResponse: refuse},
			msgs: []*extprocv3.ProcessingRequest{postHeaders, respHeaders(false, ":status", "413", "content-type", "text/plain")},
			want: []*extprocv3.ProcessingResponse{continues[phaseRequestHeaders], replacement(phaseResponseHeaders, 413, bodyRequestTooLong, nil, "content-type", "application/json")},
		},
		"streamed body mode refused": {
			proc: Funcs{Modes: Mode{RequestBody: true}},
			msgs: []*extprocv3.ProcessingRequest{func() *extprocv3.ProcessingRequest {
				m := reqHeaders(false)
				m.ProtocolConfig.RequestBodyMode = extprocfilterv3.ProcessingMode_STREAMED
				return m
			}()},
			wantCode: codes.FailedPrecondition,
			wantLog:  "BUFFERED",
		},
		"message of no known type refused": {
			msgs:     []*extprocv3.ProcessingRequest{{}},
			wantCode: codes.InvalidArgument,
			wantLog:  "unexpected ProcessingRequest",
		},
	} {
		t.Run(name, func(t *testing.T) {
			logs := &logRecorder{}
			s := New(Options{
				Lookup: func(r RouteMetadata) Processor {
					if r != testRoute || c.proc == nil {
						return nil
					}
					return c.proc
				},
				Logger:  slog.New(logs),
				MaxBody: testMaxBody,
			})
			got, err := run(t, dial(t, serveGRPC(t, s)), testRoute, c.msgs)
			if status.Code(err) != c.wantCode {
				t.Fatalf("stream error %v, want code %v", err, c.wantCode)
			}
			if diff := cmp.Diff(c.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
			checkLog(t, logs.Lines(), c.wantLog)
		})
	}
}

// checkLog checks that lines hold one error line with want in it, or none
// when want is empty, and that no line holds the tests' secrets.
func checkLog(t *testing.T, lines []string, want string) {
	t.Helper()
	var errs []string
	for _, l := range lines {
		if strings.Contains(l, "s3cr3t") || strings.Contains(l, "token=abc") {
			t.Errorf("log line holds a request's body or query: %s", l)
		}
		if strings.HasPrefix(l, "ERROR") {
			errs = append(errs, l)
		}
	}
	switch {
	case want == "" && len(errs) > 0:
		t.Errorf("unexpected error lines %q", errs)
	case want != "" && (len(errs) != 1 || !strings.Contains(errs[0], want)):
		t.Errorf("error lines %q, want one with %q", errs, want)
	}
}

// TestExchangeSeen checks what a processor sees of an exchange, and that
// its state carries over from the request to the response.
func TestExchangeSeen(t *testing.T) {
	var seen []Exchange
	proc := Funcs{
		Modes: Mode{RequestBody: true, ResponseBody: true},
		OnRequest: func(_ context.Context, x *Exchange) (*Decision, error) {
			seen = append(seen, *x)
			x.State = "from request"
			return nil, nil
		},
		OnResponse: func(_ context.Context, x *Exchange) (*Decision, error) {
			seen = append(seen, *x)
			return &Decision{Set: []HeaderOp{{Name: "x-state", Value: x.State.(string)}}}, nil
		},
	}
	s := New(Options{Lookup: func(RouteMetadata) Processor { return proc }})
	msgs := []*extprocv3.ProcessingRequest{
		reqHeaders(false, ":authority", "api.example.com", ":path", "/pets?x=1", ":method", "POST",
			"x-multi", "a", "content-type", "application/json", "x-multi", "b"),
		reqBody(`{"a":1}`),
		respHeaders(false, ":status", "202", "content-type", "text/plain"),
		respBody("done"),
	}
	// Envoy with the runtime flag send_header_raw_value off sends value.
	msgs[2].GetResponseHeaders().Headers.Headers[1] = &corev3.HeaderValue{Key: "content-type", Value: "text/plain"}
	got, err := run(t, dial(t, serveGRPC(t, s)), testRoute, msgs)
	if err != nil || len(got) != 4 {
		t.Fatalf("got %v, %v", got, err)
	}
	if h := got[3].GetResponseBody().GetResponse().GetHeaderMutation().GetSetHeaders(); len(h) != 1 || string(h[0].GetHeader().GetRawValue()) != "from request" {
		t.Errorf("response decision lost the request's state: %v", h)
	}
	wantReq := Exchange{
		Route: testRoute, Method: "POST", Path: "/pets?x=1", Authority: "api.example.com",
		Headers: Headers{{"x-multi", "a"}, {"content-type", "application/json"}, {"x-multi", "b"}},
		Body:    []byte(`{"a":1}`),
	}
	wantResp := wantReq
	wantResp.State, wantResp.Status = "from request", 202
	wantResp.ResponseHeaders, wantResp.ResponseBody = Headers{{"content-type", "text/plain"}}, []byte("done")
	if diff := cmp.Diff([]Exchange{wantReq, wantResp}, seen); diff != "" {
		t.Errorf("exchanges (-want +got):\n%s", diff)
	}
	if v := seen[0].Headers.Values("x-multi"); !slices.Equal(v, []string{"a", "b"}) {
		t.Errorf("Values(x-multi) = %q", v)
	}
}

// TestCancelledStream checks that a stream Envoy cancels ends, cancels the
// processor's context, and logs no error.
func TestCancelledStream(t *testing.T) {
	logs := &logRecorder{}
	started, stopped := make(chan struct{}), make(chan error, 1)
	proc := Funcs{OnRequest: func(ctx context.Context, _ *Exchange) (*Decision, error) {
		close(started)
		<-ctx.Done()
		stopped <- ctx.Err()
		return nil, ctx.Err()
	}}
	s := New(Options{Lookup: func(RouteMetadata) Processor { return proc }, Logger: slog.New(logs)})
	g := grpc.NewServer()
	s.Register(g)
	addr := serveOn(t, g)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := openStream(ctx, dial(t, addr), testRoute)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(reqHeaders(true, ":method", "GET")); err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("processor's context ended with %v", err)
	}
	g.GracefulStop() // returns once Process has
	checkLog(t, logs.Lines(), "")
}

// TestModeProcessingMode checks the processing_mode the translator gets
// for each mode.
func TestModeProcessingMode(t *testing.T) {
	const send, skip, buffered, none = extprocfilterv3.ProcessingMode_SEND, extprocfilterv3.ProcessingMode_SKIP,
		extprocfilterv3.ProcessingMode_BUFFERED, extprocfilterv3.ProcessingMode_NONE
	for name, c := range map[string]struct {
		mode              Mode
		respHeaders       extprocfilterv3.ProcessingMode_HeaderSendMode
		reqBody, respBody extprocfilterv3.ProcessingMode_BodySendMode
	}{
		"headers only":     {Mode{}, skip, none, none},
		"request body":     {Mode{RequestBody: true}, skip, buffered, none},
		"response headers": {Mode{ResponseHeaders: true}, send, none, none},
		"response body":    {Mode{ResponseBody: true}, send, none, buffered},
		"everything":       {Mode{RequestBody: true, ResponseHeaders: true, ResponseBody: true}, send, buffered, buffered},
	} {
		t.Run(name, func(t *testing.T) {
			want := &extprocfilterv3.ProcessingMode{
				RequestHeaderMode: send, ResponseHeaderMode: c.respHeaders,
				RequestBodyMode: c.reqBody, ResponseBodyMode: c.respBody,
				RequestTrailerMode: skip, ResponseTrailerMode: skip,
			}
			if diff := cmp.Diff(want, c.mode.ProcessingMode(), protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestGRPCInitialMetadata checks that the metadata the translator gives a
// route is what the Server reads back.
func TestGRPCInitialMetadata(t *testing.T) {
	for name, r := range map[string]RouteMetadata{
		"all IDs":  testRoute,
		"some IDs": {APIID: "a1", RouteID: "r1"},
		"no IDs":   {},
	} {
		t.Run(name, func(t *testing.T) {
			var got RouteMetadata
			s := New(Options{Lookup: func(r RouteMetadata) Processor { got = r; return nil }})
			if _, err := run(t, dial(t, serveGRPC(t, s)), r, []*extprocv3.ProcessingRequest{reqHeaders(true)}); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, r) {
				t.Errorf("Lookup got %+v, want %+v", got, r)
			}
		})
	}
}
