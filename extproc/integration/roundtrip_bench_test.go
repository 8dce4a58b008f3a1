package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	encodingproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/extproc/vtl"
	"github.com/archway-gateway/archway/internal/model"
)

// benchRequestTemplate is a typical API Gateway request template for a
// JSON API: it reads the payload once, copies a sub-document as JSON,
// reshapes a list with #foreach, and mixes in the request's context,
// parameters and an escaped header.
const benchRequestTemplate = `#set($b = $input.path('$'))
{
  "requestId": "$context.requestId",
  "stage": "$context.stage",
  "sourceIp": "$context.identity.sourceIp",
  "orderId": "$input.params('id')",
  "limit": "$input.params('limit')",
  "user": "$util.escapeJavaScript($input.params('x-user'))",
  "customer": $input.json('$.customer'),
  "lines": [
#foreach($item in $b.items)
    {"sku": "$item.sku", "name": "$util.escapeJavaScript($item.name)", "qty": $item.qty, "price": $item.price, "gift": #if($item.gift)true#{else}false#end}#if($foreach.hasNext),#end

#end
  ],
  "count": $b.items.size(),
  "note": "$util.escapeJavaScript($b.note)"
}
`

// benchResponseTemplate is the matching response template: it picks
// fields of the backend's answer and passes its list through as JSON.
const benchResponseTemplate = `#set($r = $input.path('$'))
{
  "id": "$r.orderId",
  "status": "$r.status.toUpperCase()",
  "requestId": "$context.requestId",
  "total": $r.total,
  "lines": $input.json('$.lines')
}
`

// benchRequestBody is a 2 KB JSON order of 16 items.
func benchRequestBody() string {
	var b strings.Builder
	b.WriteString(`{"customer":{"id":"c-1001","name":"Ada Lovelace","email":"ada@example.com","tier":"gold"},"items":[`)
	for i := range 16 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%04d","name":"Widget \"%d\" / blue","qty":%d,"price":%d.99,"gift":%t}`, i, i, i%5+1, 10+i, i%3 == 0)
	}
	b.WriteString(`],"note":"leave it at the door, it's fine"}`)
	return b.String()
}

// benchResponseBody is the backend's 1 KB answer.
func benchResponseBody() string {
	var b strings.Builder
	b.WriteString(`{"orderId":"o-42","status":"accepted","total":517.84,"lines":[`)
	for i := range 16 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%04d","ok":true,"eta":"2026-12-0%dT10:00:00Z"}`, i, i%9+1)
	}
	b.WriteString(`]}`)
	return b.String()
}

// benchHTTP is a non-proxy HTTP integration with the two templates and
// a few parameter mappings, as a typical REST API has them.
func benchHTTP() *model.HTTP {
	return &model.HTTP{
		URI:              "http://orders.internal:8080/v1/orders/{id}",
		Method:           "PUT",
		Timeout:          model.DefaultTimeout,
		RequestTemplates: map[string]string{"application/json": benchRequestTemplate},
		RequestParameters: map[string]string{
			"integration.request.header.x-request":  "context.requestId",
			"integration.request.header.x-user":     "method.request.header.x-user",
			"integration.request.querystring.limit": "method.request.querystring.limit",
			"integration.request.path.id":           "method.request.path.id",
		},
		Responses: []model.IntegrationResponse{
			{
				StatusCode: 200,
				Headers:    map[string]string{"X-Backend-Version": "integration.response.header.x-version"},
				Templates:  map[string]string{"application/json": benchResponseTemplate},
			},
			{Pattern: `5\d\d`, StatusCode: 502},
		},
	}
}

// benchRoute names the benchmark's route as Envoy does on its stream.
func benchRoute() extproc.RouteMetadata {
	return extproc.RouteMetadata{APIID: "api1", Stage: "prod", RouteID: "r1", DeploymentID: "d1"}
}

// benchConfig is a Config whose route r1 (POST /orders/{id} on stage
// prod of api1) has the integration h.
func benchConfig(b testing.TB, h *model.HTTP) *model.Config {
	b.Helper()
	path, err := model.ParsePathTemplate("/orders/{id}")
	if err != nil {
		b.Fatal(err)
	}
	in := &model.Integration{ID: "i1", Name: "orders", HTTP: h}
	dep, err := model.NewDeployment("d1", []*model.Route{{ID: "r1", Method: "POST", Path: path, Integration: in}}, []*model.Integration{in})
	if err != nil {
		b.Fatal(err)
	}
	return apiConfig(b, model.ProtocolREST, &model.Stage{Name: "prod", Deployment: dep})
}

// benchRequestHeaders are the request headers Envoy sends for a client's
// POST with a 2 KB JSON body, in Envoy's order, pseudo-headers first.
func benchRequestHeaders(bodyLen int) [][2]string {
	return [][2]string{
		{":authority", "api.example.com"},
		{":path", "/prod/orders/42?limit=10&expand=lines"},
		{":method", "POST"},
		{":scheme", "https"},
		{"user-agent", "okhttp/4.12.0"},
		{"accept", "application/json"},
		{"content-type", "application/json; charset=utf-8"},
		{"content-length", strconv.Itoa(bodyLen)},
		{"x-user", "ann \"the admin\""},
		{"authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"},
		{"x-forwarded-for", "203.0.113.9"},
		{"x-forwarded-proto", "https"},
		{"x-envoy-external-address", "203.0.113.9"},
		{"x-request-id", "c0ffee00-0000-4000-8000-000000000000"},
		{"x-archway-api-key-id", "key-1"},
	}
}

// benchResponseHeaders are the backend's response headers.
func benchResponseHeaders(bodyLen int) [][2]string {
	return [][2]string{
		{":status", "200"},
		{"content-type", "application/json"},
		{"content-length", strconv.Itoa(bodyLen)},
		{"x-version", "v9"},
		{"date", "Mon, 23 Nov 2026 10:00:00 GMT"},
		{"x-envoy-upstream-service-time", "3"},
	}
}

// headerMap is a HeaderMap as Envoy sends it: values in raw_value.
func headerMap(kv [][2]string) *corev3.HeaderMap {
	m := &corev3.HeaderMap{Headers: make([]*corev3.HeaderValue, 0, len(kv))}
	for _, h := range kv {
		m.Headers = append(m.Headers, &corev3.HeaderValue{Key: h[0], RawValue: []byte(h[1])})
	}
	return m
}

// benchMessages is the ProcessingRequest stream Envoy sends on the route
// of an HTTP integration (processing mode: request headers, request body
// BUFFERED, response headers, response body BUFFERED): the first message
// carries the protocol configuration.
func benchMessages() []*extprocv3.ProcessingRequest {
	reqBody, respBody := benchRequestBody(), benchResponseBody()
	return []*extprocv3.ProcessingRequest{
		{
			Request: &extprocv3.ProcessingRequest_RequestHeaders{RequestHeaders: &extprocv3.HttpHeaders{Headers: headerMap(benchRequestHeaders(len(reqBody)))}},
			ProtocolConfig: &extprocv3.ProtocolConfiguration{
				RequestBodyMode:  extprocfilterv3.ProcessingMode_BUFFERED,
				ResponseBodyMode: extprocfilterv3.ProcessingMode_BUFFERED,
			},
		},
		{Request: &extprocv3.ProcessingRequest_RequestBody{RequestBody: &extprocv3.HttpBody{Body: []byte(reqBody), EndOfStream: true}}},
		{Request: &extprocv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &extprocv3.HttpHeaders{Headers: headerMap(benchResponseHeaders(len(respBody)))}}},
		{Request: &extprocv3.ProcessingRequest_ResponseBody{ResponseBody: &extprocv3.HttpBody{Body: []byte(respBody), EndOfStream: true}}},
	}
}

// serviceClock measures the time the server spends on each message of an
// exchange: from the moment the server starts decoding a ProcessingRequest
// to the moment it has handed its ProcessingResponse to the transport, plus
// the lookup before the first message. It knows nothing of the Server; a
// stream interceptor and a codec installed in the benchmark's gRPC server
// feed it. It assumes one stream at a time.
type serviceClock struct {
	// decodeStart is when the codec last started decoding a message, in
	// Unix nanoseconds.
	decodeStart atomic.Int64

	mu sync.Mutex
	// exchanges are the per-exchange sums; perMessage[i] the times of the
	// i-th message of each exchange.
	exchanges  []time.Duration
	perMessage [][]time.Duration
}

// codec is the gRPC proto codec with the start of each decoding noted.
func (c *serviceClock) codec() encoding.CodecV2 {
	return &clockedCodec{CodecV2: encoding.GetCodecV2(encodingproto.Name), clock: c}
}

// intercept wraps each stream so that its messages are timed, and records
// the exchange when the handler returns.
func (c *serviceClock) intercept(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ts := &timedStream{ServerStream: ss, clock: c, start: time.Now()}
	err := handler(srv, ts)
	c.record(ts.total, ts.messages)
	return err
}

// record keeps one exchange's times.
func (c *serviceClock) record(total time.Duration, messages []time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exchanges = append(c.exchanges, total)
	for i, d := range messages {
		if i == len(c.perMessage) {
			c.perMessage = append(c.perMessage, nil)
		}
		c.perMessage[i] = append(c.perMessage[i], d)
	}
}

// reset forgets what was recorded, keeping the capacity.
func (c *serviceClock) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exchanges = c.exchanges[:0]
	for i := range c.perMessage {
		c.perMessage[i] = c.perMessage[i][:0]
	}
}

// report adds the percentiles of what was recorded to b's results.
func (c *serviceClock) report(b *testing.B) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reportPercentiles(b, "svc", c.exchanges)
	for i, ds := range c.perMessage {
		b.ReportMetric(percentile(ds, 0.50), fmt.Sprintf("msg%d-p50-µs", i+1))
	}
}

// clockedCodec notes when the server starts decoding each message.
type clockedCodec struct {
	encoding.CodecV2
	clock *serviceClock
}

// Unmarshal notes the time and decodes.
func (c *clockedCodec) Unmarshal(data mem.BufferSlice, v any) error {
	c.clock.decodeStart.Store(time.Now().UnixNano())
	return c.CodecV2.Unmarshal(data, v)
}

// timedStream times each message of one stream: from the start of its
// decoding to the return of the answer's SendMsg.
type timedStream struct {
	grpc.ServerStream
	clock *serviceClock
	// start is when the current message's work began; before the first
	// message, when the handler began (the route's lookup).
	start    time.Time
	setup    time.Duration
	received bool
	total    time.Duration
	messages []time.Duration
}

// RecvMsg receives a message and starts its clock at its decoding.
func (s *timedStream) RecvMsg(m any) error {
	if !s.received {
		s.setup, s.received = time.Since(s.start), true
	}
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.start = time.Unix(0, s.clock.decodeStart.Load())
	}
	return err
}

// SendMsg sends the answer and stops the message's clock.
func (s *timedStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	d := time.Since(s.start)
	if len(s.messages) == 0 {
		d += s.setup
	}
	s.messages = append(s.messages, d)
	s.total += d
	return err
}

// percentile returns the q-quantile of ds in microseconds; ds is sorted.
func percentile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := min(int(q*float64(len(ds))), len(ds)-1)
	return float64(ds[i]) / float64(time.Microsecond)
}

// reportPercentiles reports p50, p90 and p99 of ds under prefix.
func reportPercentiles(b *testing.B, prefix string, ds []time.Duration) {
	b.ReportMetric(percentile(ds, 0.50), prefix+"-p50-µs")
	b.ReportMetric(percentile(ds, 0.90), prefix+"-p90-µs")
	b.ReportMetric(percentile(ds, 0.99), prefix+"-p99-µs")
}

// serveBench runs the ext_proc Server with lookup on loopback, its gRPC
// server timed by clock, and returns a client of it.
func serveBench(b *testing.B, lookup func(extproc.RouteMetadata) extproc.Processor, clock *serviceClock) extprocv3.ExternalProcessorClient {
	b.Helper()
	return dial(b, listenBench(b, lookup, clock))
}

// listenBench runs the ext_proc Server with lookup on 127.0.0.1:0, its
// gRPC server timed by clock, until tb's cleanup, and returns its address.
// The gRPC server has the pool of stream workers of the production
// Envoy-facing server (internal/server: 8 per CPU), whose goroutines keep
// the stacks a rendering grows.
func listenBench(tb testing.TB, lookup func(extproc.RouteMetadata) extproc.Processor, clock *serviceClock) string {
	tb.Helper()
	return listen(tb, lookup,
		grpc.NumStreamWorkers(uint32(8*runtime.GOMAXPROCS(0))),
		grpc.StreamInterceptor(clock.intercept), grpc.ForceServerCodecV2(clock.codec()))
}

// exchange sends msgs on a new stream of route md as Envoy does, each
// after the answer to the one before, and returns the answers.
func exchange(ctx context.Context, c extprocv3.ExternalProcessorClient, md extproc.RouteMetadata, msgs []*extprocv3.ProcessingRequest) ([]*extprocv3.ProcessingResponse, error) {
	st, err := c.Process(routeContext(ctx, md))
	if err != nil {
		return nil, err
	}
	out := make([]*extprocv3.ProcessingResponse, 0, len(msgs))
	for _, m := range msgs {
		if err := st.Send(m); err != nil {
			return out, err
		}
		resp, err := st.Recv()
		if err != nil {
			return out, err
		}
		out = append(out, resp)
	}
	if err := st.CloseSend(); err != nil {
		return out, err
	}
	if _, err := st.Recv(); !errors.Is(err, io.EOF) {
		return out, fmt.Errorf("stream not closed: %w", err)
	}
	return out, nil
}

// checkTemplated fails b unless the answers are the templates' work: the
// request body replaced, then the response body.
func checkTemplated(b *testing.B, answers []*extprocv3.ProcessingResponse) {
	b.Helper()
	req := answers[1].GetRequestBody().GetResponse().GetBodyMutation().GetBody()
	resp := answers[3].GetResponseBody().GetResponse().GetBodyMutation().GetBody()
	if !strings.Contains(string(req), `"sku": "SKU-0015"`) || !strings.Contains(string(req), `ann \"the admin\"`) ||
		!strings.Contains(string(resp), `"status": "ACCEPTED"`) {
		b.Fatalf("the templates did not run:\nrequest %s\nresponse %s", req, resp)
	}
}

// BenchmarkExtProcRoundTrip measures the ext_proc exchange of one request
// to a non-proxy HTTP integration with a request template over a 2 KB JSON
// body and a response template over a 1 KB answer: the four messages
// Envoy sends for the route, over real gRPC on loopback.
//
// ns/op, allocs/op and rt-p50/p90/p99 are the whole exchange as the client
// sees it (stream set-up, four round trips, close). svc-p50/p90/p99 is the
// time inside the service, summed over the exchange's messages: from the
// start of decoding each ProcessingRequest to the return of the SendMsg
// of its answer, plus the route's lookup; msgN-p50 is the same per
// message.
//
// "template" and "passthrough" (the same messages on a route without a
// processor: gRPC's floor) run client and server in this process, sharing
// its CPUs, and allocs/op counts both. "template-process" runs the server
// in a child process, as Envoy and the service are separate processes:
// every message then wakes the other process, and allocs/op is the
// client's alone.
func BenchmarkExtProcRoundTrip(b *testing.B) {
	cfg := benchConfig(b, benchHTTP())
	msgs := benchMessages()
	lookup := NewLookup(func() *model.Config { return cfg }, Options{})
	cases := []struct {
		name   string
		lookup func(extproc.RouteMetadata) extproc.Processor
	}{
		{"template", lookup},
		{"passthrough", func(extproc.RouteMetadata) extproc.Processor { return nil }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var clock serviceClock
			c := serveBench(b, tc.lookup, &clock)
			runExchanges(b, c, msgs, tc.name == "template", clock.reset)
			clock.report(b)
		})
	}
	b.Run("template-process", func(b *testing.B) {
		p := startServerProcess(b)
		runExchanges(b, dial(b, p.addr), msgs, true, func() { p.reset(b) })
		reportPercentiles(b, "svc", p.stop(b))
	})
}

// runExchanges warms the server up with a few exchanges, calls reset,
// then runs the timed exchanges and reports their round trips. check
// says the answers must be the templates' work.
func runExchanges(b *testing.B, c extprocv3.ExternalProcessorClient, msgs []*extprocv3.ProcessingRequest, check bool, reset func()) {
	b.Helper()
	ctx := context.Background()
	answers, err := exchange(ctx, c, benchRoute(), msgs)
	if err != nil {
		b.Fatal(err)
	}
	if check {
		checkTemplated(b, answers)
	}
	for range 200 { // warm up: connection windows, pools, caches
		if _, err := exchange(ctx, c, benchRoute(), msgs); err != nil {
			b.Fatal(err)
		}
	}
	reset()
	roundTrips := make([]time.Duration, 0, 1<<16)
	b.SetBytes(int64(len(msgs[1].GetRequestBody().GetBody())))
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := exchange(ctx, c, benchRoute(), msgs); err != nil {
			b.Fatal(err)
		}
		roundTrips = append(roundTrips, time.Since(start))
	}
	reportPercentiles(b, "rt", roundTrips)
}

// BenchmarkExtProcProcessor measures the route's processor alone, in
// process: Request on the exchange as the Server hands it over after the
// request body, then Response after the response body. It is what the
// service adds to gRPC's floor, less the encoding of the decisions.
func BenchmarkExtProcProcessor(b *testing.B) {
	cfg := benchConfig(b, benchHTTP())
	proc := NewLookup(func() *model.Config { return cfg }, Options{})(benchRoute())
	if proc == nil {
		b.Fatal("no processor for the route")
	}
	reqBody, respBody := []byte(benchRequestBody()), []byte(benchResponseBody())
	var reqHeaders, respHeaders extproc.Headers
	for _, h := range benchRequestHeaders(len(reqBody))[4:] {
		reqHeaders = append(reqHeaders, extproc.Header{Name: h[0], Value: h[1]})
	}
	for _, h := range benchResponseHeaders(len(respBody))[1:] {
		respHeaders = append(respHeaders, extproc.Header{Name: h[0], Value: h[1]})
	}
	ctx := context.Background()
	b.SetBytes(int64(len(reqBody)))
	b.ReportAllocs()
	for b.Loop() {
		x := &extproc.Exchange{
			Route: benchRoute(), Method: "POST", Path: "/prod/orders/42?limit=10&expand=lines", Authority: "api.example.com",
			Headers: reqHeaders, Body: reqBody,
		}
		if _, err := proc.Request(ctx, x); err != nil {
			b.Fatal(err)
		}
		x.Status, x.ResponseHeaders, x.ResponseBody = 200, respHeaders, respBody
		if _, err := proc.Response(ctx, x); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtProcTemplates measures the two templates' rendering alone
// (mapping.Vars and vtl's Render, JSON decoding of the body included),
// with the request the processor builds.
func BenchmarkExtProcTemplates(b *testing.B) {
	reqBody, respBody := []byte(benchRequestBody()), []byte(benchResponseBody())
	req := &mapping.Request{
		Method: "POST", Path: "/prod/orders/42", ResourcePath: "/orders/{id}", ResourceID: "r1",
		PathParams: []mapping.Param{{Name: "id", Value: "42"}},
		Query:      []mapping.Param{{Name: "limit", Value: "10"}, {Name: "expand", Value: "lines"}},
		Body:       reqBody, Stage: "prod", RequestID: "c0ffee00-0000-4000-8000-000000000000",
		Time: time.Unix(1_800_000_000, 0), SourceIP: "203.0.113.9", DomainName: "api.example.com", APIID: "api1",
	}
	for _, h := range benchRequestHeaders(len(reqBody))[4:] {
		req.Header = append(req.Header, mapping.Param{Name: h[0], Value: h[1]})
	}
	resp := *req
	resp.Body = respBody
	cases := []struct {
		name, src string
		req       *mapping.Request
	}{
		{"request", benchRequestTemplate, req},
		{"response", benchResponseTemplate, &resp},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			t, err := vtl.Parse(tc.name, tc.src)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(tc.req.Body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := t.Render(mapping.Vars(tc.req), vtl.Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
