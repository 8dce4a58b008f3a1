package authz

import (
	"context"
	"crypto/sha256"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/testutil/testredis"
	"github.com/archway-gateway/archway/ratelimit"
)

// t0 is a Monday, 14 hours before the end of its UTC day.
var t0 = time.Date(2030, time.March, 4, 10, 0, 0, 0, time.UTC)

// untilMidnight is the x-ratelimit-reset of a daily quota at t0.
const untilMidnight = "50400"

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: t0} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The API key values of the fixture. Tests send them; no log may hold them.
const (
	valueGold     = "gold-key-value-0123456789abcdefghijklmno"
	valueDisabled = "disabled-key-value-0123456789abcdefghijk"
	valueFree     = "free-key-value-0123456789abcdefghijklmno"
	valueOpen     = "open-key-value-0123456789abcdefghijklmno"
	valueOther    = "other-key-value-0123456789abcdefghijklmn"
)

// fixture builds the Config the tests run against:
//
//   - API a1 (x-api-key header) with stages prod, beta and dev serving one
//     deployment: GET /pets and POST /pets require a key, GET /health not.
//   - API a2 (x-api-key header), stage prod, GET /items requires a key.
//   - API a3 (AUTHORIZER key source), stage prod, GET /items requires a key.
//   - Plan gold (1 rps, burst 2; 5 a day; fails closed) covers a1/prod,
//     a1/beta and a3/prod; on a1/prod, POST /pets has its own throttle
//     (1 rps, burst 1).
//   - Plan free (no limits) covers a1/dev; plan open (as gold, but failing
//     open) covers a1/prod; plan other covers a2/prod.
//   - Keys: gold and disabled (disabled) on gold, free on free, open on
//     open, other on other.
//
// Keys named in disabled are disabled too.
func fixture(t testing.TB, rev int64, disabled ...string) *model.Config {
	t.Helper()
	mock := &model.Integration{ID: "i1", Name: "mock", Mock: &model.Mock{StatusCode: 200}}
	route := func(id, method, path string, keyRequired bool) *model.Route {
		p, err := model.ParsePathTemplate(path)
		if err != nil {
			t.Fatal(err)
		}
		return &model.Route{ID: id, Method: method, Path: p, Integration: mock, APIKeyRequired: keyRequired}
	}
	deployment := func(id string, routes ...*model.Route) *model.Deployment {
		d, err := model.NewDeployment(id, routes, []*model.Integration{mock})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d1 := deployment("d1", route("rget", "GET", "/pets", true), route("rpost", "POST", "/pets", true),
		route("ropen", "GET", "/health", false))
	d2 := deployment("d2", route("rget", "GET", "/items", true))
	api := func(id string, src model.KeySource, d *model.Deployment, stages ...string) *model.API {
		var ss []*model.Stage
		for _, name := range stages {
			ss = append(ss, &model.Stage{Name: name, Deployment: d})
		}
		a, err := model.NewAPI(id, id, model.ProtocolREST, ss)
		if err != nil {
			t.Fatal(err)
		}
		a.KeySource = src
		return a
	}
	cfg, err := model.NewConfig(rev, []*model.API{
		api("a1", model.KeySourceHeader, d1, "prod", "beta", "dev"),
		api("a2", model.KeySourceHeader, d2, "prod"),
		api("a3", model.KeySourceAuthorizer, d2, "prod"),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keys = model.NewKeys(fixtureKeys(disabled))
	return cfg
}

func fixtureKeys(disabled []string) []*model.APIKey {
	daily := &model.Quota{Limit: 5, Period: model.QuotaDay}
	gold := &model.UsagePlan{
		ID: "gold", Throttle: &model.Throttle{Rate: 1, Burst: 2}, Quota: daily,
		Stages: map[string]*model.PlanStage{
			"a1/prod": {RouteThrottles: map[string]*model.Throttle{"POST /pets": {Rate: 1, Burst: 1}}},
			"a1/beta": {},
			"a3/prod": {},
		},
	}
	free := &model.UsagePlan{ID: "free", Stages: map[string]*model.PlanStage{"a1/dev": {}}}
	open := &model.UsagePlan{
		ID: "open", Throttle: &model.Throttle{Rate: 1, Burst: 2}, Quota: daily, FailOpen: true,
		Stages: map[string]*model.PlanStage{"a1/prod": {}},
	}
	other := &model.UsagePlan{ID: "other", Stages: map[string]*model.PlanStage{"a2/prod": {}}}
	key := func(id, value string, plan *model.UsagePlan) *model.APIKey {
		k := &model.APIKey{ID: id, Enabled: true, Hash: sha256.Sum256([]byte(value)), Plans: []*model.UsagePlan{plan}}
		for _, d := range disabled {
			if d == id {
				k.Enabled = false
			}
		}
		return k
	}
	dis := key("disabled", valueDisabled, gold)
	dis.Enabled = false
	return []*model.APIKey{
		key("gold", valueGold, gold), dis, key("free", valueFree, free),
		key("open", valueOpen, open), key("other", valueOther, other),
	}
}

// harness is an authz.Server behind a real gRPC server on loopback.
type harness struct {
	client authv3.AuthorizationClient
	config *atomic.Pointer[model.Config]
}

// serve starts a Server with o, on a gRPC server on 127.0.0.1, whose
// Config is whatever h.config holds.
func serve(t testing.TB, cfg *model.Config, o Options) *harness {
	t.Helper()
	h := &harness{config: new(atomic.Pointer[model.Config])}
	h.config.Store(cfg)
	o.Config = h.config.Load
	g := grpc.NewServer()
	New(o).Register(g)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = g.Serve(l)
	}()
	t.Cleanup(func() {
		g.Stop()
		<-served
	})
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	h.client = authv3.NewAuthorizationClient(conn)
	return h
}

// stores returns the stores the metering tests run against: the in-memory
// one and Redis on a real redis-server.
func stores() map[string]func(t *testing.T) ratelimit.Store {
	return map[string]func(t *testing.T) ratelimit.Store{
		"memory": func(*testing.T) ratelimit.Store { return ratelimit.NewMemoryStore() },
		"redis": func(t *testing.T) ratelimit.Store {
			return ratelimit.NewRedisStore(testredis.Start(t).Client())
		},
	}
}

// call is one request to a route, as Envoy describes it to ext_authz.
type call struct {
	api, stage, route string
	// key is sent as x-api-key unless empty.
	key string
	// headers are more request headers.
	headers map[string]string
	// headerMap sends the headers as Envoy does with encode_raw_headers.
	headerMap bool
	// noExtensions leaves out the context extensions.
	noExtensions bool
}

// request returns the CheckRequest Envoy sends for c: the route's context
// extensions and the request's attributes, headers (pseudo-headers
// included) in lower case.
func (c call) request() *authv3.CheckRequest {
	headers := map[string]string{
		":authority": c.api + ".execute-api.localhost", ":method": "GET", ":scheme": "http",
		":path": "/" + c.stage + "/pets", "user-agent": "curl/8.5.0", "x-request-id": "3f1c9a8e-0d6b-4a59-9c3e-7d2b61f0a4c5",
	}
	if c.key != "" {
		headers[APIKeyHeader] = c.key
	}
	for k, v := range c.headers {
		headers[k] = v
	}
	http := &authv3.AttributeContext_HttpRequest{
		// Envoy's id of the stream, not the x-request-id header.
		Id: "14350106818291621077", Method: "GET", Path: headers[":path"], Host: headers[":authority"],
		Scheme: "http", Protocol: "HTTP/1.1",
	}
	if c.headerMap {
		http.HeaderMap = &corev3.HeaderMap{}
		for k, v := range headers {
			http.HeaderMap.Headers = append(http.HeaderMap.Headers, &corev3.HeaderValue{Key: k, RawValue: []byte(v)})
		}
	} else {
		http.Headers = headers
	}
	attrs := &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{Http: http}}
	if !c.noExtensions {
		attrs.ContextExtensions = map[string]string{
			envoy.MetadataAPIID: c.api, envoy.MetadataStage: c.stage,
			envoy.MetadataRouteID: c.route, envoy.MetadataDeploymentID: "d1",
		}
	}
	return &authv3.CheckRequest{Attributes: attrs}
}

// result is what Envoy makes of a CheckResponse.
type result struct {
	// Status is 200 for a request let through, else the status Envoy
	// answers the client with.
	Status int
	Body   string
	// Upstream are the headers set on the request sent upstream.
	Upstream map[string]string
	// Downstream are the headers of the client's response.
	Downstream map[string]string
}

// check sends c over gRPC and decodes the answer.
func (h *harness) check(t testing.TB, c call) result {
	t.Helper()
	resp, err := h.client.Check(context.Background(), c.request())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return decodeResult(t, resp)
}

func decodeResult(t testing.TB, resp *authv3.CheckResponse) result {
	t.Helper()
	var r result
	headers := func(opts []*corev3.HeaderValueOption) map[string]string {
		if len(opts) == 0 {
			return nil
		}
		m := map[string]string{}
		for _, o := range opts {
			// append_action alone says what Envoy does with the header;
			// the deprecated append field stays unset.
			appendSet := o.GetAppend() != nil //nolint:staticcheck // deprecated, checked so that it stays unset
			if o.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD || appendSet {
				t.Errorf("header %s: append action %v, append set %v; want overwrite", o.GetHeader().GetKey(), o.GetAppendAction(), appendSet)
			}
			m[o.GetHeader().GetKey()] = o.GetHeader().GetValue()
		}
		return m
	}
	switch hr := resp.GetHttpResponse().(type) {
	case *authv3.CheckResponse_OkResponse:
		if c := resp.GetStatus().GetCode(); c != 0 {
			t.Errorf("OK response with gRPC status %d", c)
		}
		r.Status = 200
		r.Upstream = headers(hr.OkResponse.GetHeaders())
		r.Downstream = headers(hr.OkResponse.GetResponseHeadersToAdd())
	case *authv3.CheckResponse_DeniedResponse:
		if resp.GetStatus().GetCode() == 0 {
			t.Errorf("denied response with gRPC status OK")
		}
		r.Status = int(hr.DeniedResponse.GetStatus().GetCode())
		r.Body = hr.DeniedResponse.GetBody()
		r.Downstream = headers(hr.DeniedResponse.GetHeaders())
	default:
		t.Fatalf("unexpected http_response %T", hr)
	}
	return r
}

// allowed is the result of a request let through with the key and plan.
func allowed(key, plan string, rate map[string]string) result {
	return result{
		Status:     200,
		Upstream:   map[string]string{DefaultKeyIDHeader: key, DefaultPlanIDHeader: plan},
		Downstream: rate,
	}
}

// refused is the result of a refused request.
func refused(status int, body, errorType string, rate map[string]string) result {
	h := map[string]string{"content-type": "application/json", "x-amzn-errortype": errorType}
	for k, v := range rate {
		h[k] = v
	}
	return result{Status: status, Body: body, Downstream: h}
}

// forbidden is the result of a request without a valid key for the stage.
func forbidden() result {
	return refused(403, `{"message":"Forbidden"}`, "ForbiddenException", nil)
}

// rate returns rate-limit headers.
func rate(limit, remaining, reset string) map[string]string {
	return map[string]string{"x-ratelimit-limit": limit, "x-ratelimit-remaining": remaining, "x-ratelimit-reset": reset}
}

// withRetry adds retry-after to rate-limit headers.
func withRetry(h map[string]string, after string) map[string]string {
	h["retry-after"] = after
	return h
}
