package extproc

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// BenchmarkProcess measures one exchange over real gRPC on loopback, as
// Envoy has it with a route that buffers the request body: request
// headers, a 2 KB JSON body that a trivial processor replaces, and the
// response headers. Allocations include the gRPC client's.
func BenchmarkProcess(b *testing.B) {
	proc := Funcs{
		Modes: Mode{RequestBody: true, ResponseHeaders: true},
		OnRequest: func(_ context.Context, x *Exchange) (*Decision, error) {
			return &Decision{
				Set:         []HeaderOp{{Name: "content-type", Value: "application/json"}},
				ReplaceBody: true, Body: x.Body,
			}, nil
		},
	}
	s := New(Options{Lookup: func(RouteMetadata) Processor { return proc }})
	c := dial(b, serveGRPC(b, s))
	body := `{"items":[` + strings.Repeat(`{"id":"0123456789","name":"a pet's name","price":12.5},`, 36) + `{}]}`
	msgs := []*extprocv3.ProcessingRequest{
		reqHeaders(false, ":authority", "api.example.com", ":path", "/prod/pets?limit=10", ":method", "POST", ":scheme", "http",
			"content-type", "application/json", "content-length", "2048", "user-agent", "bench/1.0",
			"accept", "*/*", "x-forwarded-for", "192.0.2.1", "x-request-id", "c0ffee00-0000-4000-8000-000000000000"),
		reqBody(body),
		respHeaders(false, ":status", "200", "content-type", "application/json", "content-length", "2"),
	}
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := exchangeOnce(ctx, c, msgs); err != nil {
			b.Fatal(err)
		}
	}
}

// exchangeOnce sends msgs on one stream, each after the answer to the one
// before, and closes it.
func exchangeOnce(ctx context.Context, c extprocv3.ExternalProcessorClient, msgs []*extprocv3.ProcessingRequest) error {
	st, err := openStream(ctx, c, testRoute)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := st.Send(m); err != nil {
			return err
		}
		if _, err := st.Recv(); err != nil {
			return err
		}
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	if _, err := st.Recv(); !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
