package extproc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"
)

// dial returns a client of the ext_proc server at addr.
func dial(t testing.TB, addr string) extprocv3.ExternalProcessorClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return extprocv3.NewExternalProcessorClient(conn)
}

// openStream opens an ext_proc stream as Envoy does for a request of
// route r: with the route's IDs in the stream's metadata.
func openStream(ctx context.Context, c extprocv3.ExternalProcessorClient, r RouteMetadata) (extprocv3.ExternalProcessor_ProcessClient, error) {
	var kv []string
	for _, h := range r.GRPCInitialMetadata() {
		kv = append(kv, h.GetKey(), h.GetValue())
	}
	return c.Process(metadata.AppendToOutgoingContext(ctx, kv...))
}

// run sends msgs on a new stream, one at a time, each after the answer to
// the one before, as Envoy does, and returns the answers. It stops at an
// immediate response, after which the Server must end the stream, or at
// the first error, which it returns.
func run(t testing.TB, c extprocv3.ExternalProcessorClient, r RouteMetadata, msgs []*extprocv3.ProcessingRequest) ([]*extprocv3.ProcessingResponse, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := openStream(ctx, c, r)
	if err != nil {
		return nil, err
	}
	var out []*extprocv3.ProcessingResponse
	for _, m := range msgs {
		if err := st.Send(m); err != nil {
			return out, err
		}
		resp, err := st.Recv()
		if err != nil {
			return out, err
		}
		out = append(out, resp)
		if resp.GetImmediateResponse() != nil {
			if _, err := st.Recv(); !errors.Is(err, io.EOF) {
				t.Errorf("after an immediate response the stream goes on: %v", err)
			}
			return out, nil
		}
	}
	if err := st.CloseSend(); err != nil {
		return out, err
	}
	if _, err := st.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("the stream does not end when Envoy closes it: %v", err)
	}
	return out, nil
}

// hmap builds a HeaderMap from name, value pairs as Envoy sends it: values
// in raw_value.
func hmap(kv ...string) *corev3.HeaderMap {
	m := &corev3.HeaderMap{}
	for i := 0; i < len(kv); i += 2 {
		m.Headers = append(m.Headers, &corev3.HeaderValue{Key: kv[i], RawValue: []byte(kv[i+1])})
	}
	return m
}

// reqHeaders is Envoy's request_headers message; the first message of a
// stream also carries the protocol configuration.
func reqHeaders(eos bool, kv ...string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{
		Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: hmap(kv...), EndOfStream: eos}},
		ProtocolConfig: &extprocv3.ProtocolConfiguration{
			RequestBodyMode:  extprocfilterv3.ProcessingMode_BUFFERED,
			ResponseBodyMode: extprocfilterv3.ProcessingMode_BUFFERED,
		},
	}
}

// reqBody is Envoy's request_body message in BUFFERED mode: the whole body.
func reqBody(b string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: []byte(b), EndOfStream: true}}}
}

// respHeaders is Envoy's response_headers message.
func respHeaders(eos bool, kv ...string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{Headers: hmap(kv...), EndOfStream: eos}}}
}

// respBody is Envoy's response_body message in BUFFERED mode.
func respBody(b string) *extprocv3.ProcessingRequest {
	return &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: []byte(b), EndOfStream: true}}}
}

// answer is an expected answer of phase p with common, nil for none.
func answer(p phase, common *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	return wrap(p, common)
}

// bodyMutation is an expected replacement of a body with b.
func bodyMutation(b []byte) *extprocv3.BodyMutation {
	if len(b) == 0 {
		return &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}}
	}
	return &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: b}}
}

// set is an expected header mutation: name, value pairs, overwriting.
func set(kv ...string) []*corev3.HeaderValueOption {
	var out []*corev3.HeaderValueOption
	for i := 0; i < len(kv); i += 2 {
		out = append(out, headerOption(kv[i], kv[i+1], false))
	}
	return out
}

// immediate is an expected immediate response with headers as name,
// value pairs, all overwriting.
func immediate(status int, body string, kv ...string) *extprocv3.ProcessingResponse {
	ir := &extprocv3.ImmediateResponse{
		Status:  &typev3.HttpStatus{Code: typev3.StatusCode(status)},
		Body:    []byte(body),
		Details: replyDetails,
	}
	if len(kv) > 0 {
		ir.Headers = &extprocv3.HeaderMutation{SetHeaders: set(kv...)}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ImmediateResponse{ImmediateResponse: ir}}
}

// replacement is the expected answer, in response phase p, that replaces
// Envoy's own reply with status, headers as name, value pairs (all
// overwriting), and body, removing the reply's headers in remove.
func replacement(p phase, status int, body string, remove []string, kv ...string) *extprocv3.ProcessingResponse {
	headers := append(set(":status", strconv.Itoa(status)), set(kv...)...)
	common := &extprocv3.CommonResponse{
		HeaderMutation: &extprocv3.HeaderMutation{
			SetHeaders:    append(headers, set(headerContentLength, strconv.Itoa(len(body)))...),
			RemoveHeaders: remove,
		},
		BodyMutation: bodyMutation([]byte(body)),
	}
	if p == phaseResponseHeaders {
		common.Status = extprocv3.CommonResponse_CONTINUE_AND_REPLACE
	}
	return wrap(p, common)
}

// withAttributes adds the ext_proc filter's attributes to m, as name,
// value pairs of strings, as Envoy sends them.
func withAttributes(m *extprocv3.ProcessingRequest, kv ...string) *extprocv3.ProcessingRequest {
	fields := map[string]*structpb.Value{}
	for i := 0; i < len(kv); i += 2 {
		fields[kv[i]] = structpb.NewStringValue(kv[i+1])
	}
	m.Attributes = map[string]*structpb.Struct{attributesKey: {Fields: fields}}
	return m
}

// logRecorder is a slog handler that keeps every record's text.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

// Enabled enables every level.
func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

// Handle keeps the record as one line of text.
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, b.String())
	return nil
}

// WithAttrs is not used by the Server.
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }

// WithGroup is not used by the Server.
func (l *logRecorder) WithGroup(string) slog.Handler { return l }

// Lines returns what was logged so far.
func (l *logRecorder) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// headerOption is one header option built on its own.
func headerOption(name, value string, appendValue bool) *corev3.HeaderValueOption {
	b := newHeaderBuilder(1, len(value))
	b.add(name, value, appendValue)
	return b.ptrs[0]
}
