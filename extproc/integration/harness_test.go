package integration

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/model"
)

// answer is the immediate response a stream ended with.
type answer struct {
	status  int
	headers map[string]string
	body    string
}

// configHolder is a swappable current configuration, as the watcher's.
type configHolder struct{ p atomic.Pointer[model.Config] }

func (h *configHolder) current() *model.Config { return h.p.Load() }

// serve runs the ext_proc Server with the lookup of cfg on 127.0.0.1:0
// and returns a client of it.
func serve(t *testing.T, cfg func() *model.Config, o Options) extprocv3.ExternalProcessorClient {
	t.Helper()
	return dial(t, listen(t, NewLookup(cfg, o)))
}

// listen runs the ext_proc Server with lookup on 127.0.0.1:0, its gRPC
// server made with the Server's options and opts, until tb's cleanup, and
// returns its address.
func listen(tb testing.TB, lookup func(extproc.RouteMetadata) extproc.Processor, opts ...grpc.ServerOption) string {
	tb.Helper()
	srv := extproc.New(extproc.Options{Lookup: lookup})
	g := grpc.NewServer(append(srv.ServerOptions(), opts...)...)
	srv.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	tb.Cleanup(g.Stop)
	return lis.Addr().String()
}

// dial returns a client of the ext_proc server at addr, closed with tb.
func dial(tb testing.TB, addr string) extprocv3.ExternalProcessorClient {
	tb.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return extprocv3.NewExternalProcessorClient(conn)
}

// routeContext is ctx with the metadata Envoy gives the stream of the
// route md names: its IDs.
func routeContext(ctx context.Context, md extproc.RouteMetadata) context.Context {
	ids := md.GRPCInitialMetadata()
	kv := make([]string, 0, 2*len(ids))
	for _, h := range ids {
		kv = append(kv, h.GetKey(), h.GetValue())
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// openStream opens an ext_proc stream the way Envoy does for a route md
// names (its IDs as the stream's metadata) and returns a function that
// sends one message and returns the answer. The stream ends with the test.
func openStream(t *testing.T, c extprocv3.ExternalProcessorClient, md extproc.RouteMetadata) func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
	t.Helper()
	ctx, cancel := context.WithCancel(routeContext(context.Background(), md))
	t.Cleanup(cancel)
	st, err := c.Process(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return func(m *extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse {
		t.Helper()
		if err := st.Send(m); err != nil {
			t.Fatal(err)
		}
		resp, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
}

// apiConfig is a Config of one API, api1 ("pets") of protocol p, with the
// given stages.
func apiConfig(t testing.TB, p model.Protocol, stages ...*model.Stage) *model.Config {
	t.Helper()
	api, err := model.NewAPI("api1", "pets", p, stages)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.NewConfig(1, []*model.API{api})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// request is an HTTP request as Envoy describes it to ext_proc.
type request struct {
	method, path string
	headers      [][2]string
	body         string
}

// send sends r the way Envoy does for a template-mock route: the route's
// IDs as the stream's metadata, the request headers, and the buffered
// body in one message (none when the request has no body). It expects the
// exchange to end with an immediate response.
func send(t *testing.T, c extprocv3.ExternalProcessorClient, md extproc.RouteMetadata, r request) answer {
	t.Helper()
	exchange := openStream(t, c, md)
	hs := []*corev3.HeaderValue{
		{Key: ":method", RawValue: []byte(r.method)},
		{Key: ":path", RawValue: []byte(r.path)},
		{Key: ":authority", RawValue: []byte("api1.example.com:10000")},
	}
	for _, h := range r.headers {
		hs = append(hs, &corev3.HeaderValue{Key: h[0], RawValue: []byte(h[1])})
	}
	msgs := []*extprocv3.ProcessingRequest{{Request: &extprocv3.ProcessingRequest_RequestHeaders{
		RequestHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{Headers: hs}, EndOfStream: r.body == ""},
	}}}
	if r.body != "" {
		msgs = append(msgs, &extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
			RequestBody: &extprocv3.HttpBody{Body: []byte(r.body), EndOfStream: true},
		}})
	}
	for i, m := range msgs {
		resp := exchange(m)
		if ir := resp.GetImmediateResponse(); ir != nil {
			a := answer{status: int(ir.GetStatus().GetCode()), headers: map[string]string{}, body: string(ir.GetBody())}
			for _, h := range ir.GetHeaders().GetSetHeaders() {
				a.headers[h.GetHeader().GetKey()] = string(h.GetHeader().GetRawValue())
			}
			return a
		}
		if i == len(msgs)-1 {
			t.Fatalf("no immediate response; last answer %v", resp)
		}
	}
	return answer{}
}
