package integration

import (
	"net/http"
	"strconv"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/model"
)

// functionConfig returns a Config of one API of protocol p with a stage
// "test" serving the route r1 (route1), method /pets/{id}, whose integration is a
// function with payload format version (empty: the API's default).
func functionConfig(t *testing.T, p model.Protocol, method, version string) *model.Config {
	t.Helper()
	path, err := model.ParsePathTemplate("/pets/{id}")
	if err != nil {
		t.Fatal(err)
	}
	in := &model.Integration{ID: "i1", Name: "pets", Function: &model.Function{
		URI: "http://127.0.0.1:9000", InvokePath: model.DefaultInvokePath, PayloadVersion: version, Timeout: model.DefaultTimeout,
	}}
	dep, err := model.NewDeployment("d1", []*model.Route{{ID: "r1", Method: method, Path: path, Integration: in}}, []*model.Integration{in})
	if err != nil {
		t.Fatal(err)
	}
	stage := &model.Stage{Name: "test", Variables: map[string]string{"color": "blue"}, Deployment: dep}
	return apiConfig(t, p, stage)
}

// upstream is the request Envoy sends the function after the processor's
// mutations: the headers it set and removed, and the new body.
type upstream struct {
	set     map[string]string
	removed []string
	body    string
	// replaced says the body was replaced with CONTINUE_AND_REPLACE, in
	// answer to the request headers.
	replaced bool
}

// functionResult is the function's HTTP response as Envoy describes it.
type functionResult struct {
	status  int
	headers [][2]string
	body    string
}

// responseAttributes are the ext_proc filter's response attributes Envoy
// sends with response headers: their response code details, via_upstream
// for a backend's response (details empty), the cause for Envoy's own
// reply; and more attributes, name and value.
func responseAttributes(details string, more ...[2]string) map[string]*structpb.Struct {
	if details == "" {
		details = "via_upstream"
	}
	fields := map[string]*structpb.Value{extproc.AttrCodeDetails: structpb.NewStringValue(details)}
	for _, kv := range more {
		fields[kv[0]] = structpb.NewStringValue(kv[1])
	}
	return map[string]*structpb.Struct{"envoy.filters.http.ext_proc": {Fields: fields}}
}

// clientResponse is the response the client gets: the function's, with
// the processor's mutations applied the way Envoy applies them, or the
// processor's immediate response.
type clientResponse struct {
	status    int
	headers   http.Header
	body      string
	immediate bool
}

// invoke runs the ProcessingRequest sequence Envoy sends for a function
// route (request headers, the buffered request body if the request has
// one, response headers, the buffered response body if the function sent
// one) over real gRPC, answering each message as Envoy would.
func invoke(t *testing.T, c extprocv3.ExternalProcessorClient, req request, fn functionResult) (upstream, clientResponse) {
	t.Helper()
	return invokeReply(t, c, req, fn, "")
}

// invokeReply is invoke where the response is Envoy's own reply with
// response code details details, or the backend's when details is empty.
func invokeReply(t *testing.T, c extprocv3.ExternalProcessorClient, req request, fn functionResult, details string) (upstream, clientResponse) {
	t.Helper()
	exchange := openStream(t, c, route1)
	hs := []*corev3.HeaderValue{
		{Key: ":method", RawValue: []byte(req.method)},
		{Key: ":path", RawValue: []byte(req.path)},
		{Key: ":authority", RawValue: []byte("api1.example.com:10000")},
	}
	for _, h := range req.headers {
		hs = append(hs, &corev3.HeaderValue{Key: h[0], RawValue: []byte(h[1])})
	}
	if req.body != "" {
		hs = append(hs, &corev3.HeaderValue{Key: "content-length", RawValue: []byte(strconv.Itoa(len(req.body)))})
	}
	resp := exchange(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestHeaders{
		RequestHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{Headers: hs}, EndOfStream: req.body == ""},
	}})
	common := resp.GetRequestHeaders().GetResponse()
	if req.body != "" {
		if common.GetHeaderMutation() != nil || common.GetBodyMutation() != nil {
			t.Fatalf("the request headers were changed before the body came: %v", resp)
		}
		resp = exchange(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_RequestBody{
			RequestBody: &extprocv3.HttpBody{Body: []byte(req.body), EndOfStream: true},
		}})
		common = resp.GetRequestBody().GetResponse()
	}
	if common == nil {
		t.Fatalf("the request got %v, want a continue answer", resp)
	}
	up := upstream{
		set:      map[string]string{},
		removed:  common.GetHeaderMutation().GetRemoveHeaders(),
		body:     string(common.GetBodyMutation().GetBody()),
		replaced: common.GetStatus() == extprocv3.CommonResponse_CONTINUE_AND_REPLACE,
	}
	for _, o := range common.GetHeaderMutation().GetSetHeaders() {
		up.set[o.GetHeader().GetKey()] = string(o.GetHeader().GetRawValue())
	}
	return up, respond(t, exchange, fn, details)
}

// respond sends the function's response and applies the answer to it.
func respond(t *testing.T, exchange func(*extprocv3.ProcessingRequest) *extprocv3.ProcessingResponse, fn functionResult, details string, attrs ...[2]string) clientResponse {
	t.Helper()
	hs := []*corev3.HeaderValue{{Key: ":status", RawValue: []byte(strconv.Itoa(fn.status))}}
	for _, h := range fn.headers {
		hs = append(hs, &corev3.HeaderValue{Key: h[0], RawValue: []byte(h[1])})
	}
	resp := exchange(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseHeaders{
		ResponseHeaders: &extprocv3.HttpHeaders{Headers: &corev3.HeaderMap{Headers: hs}, EndOfStream: fn.body == ""},
	}, Attributes: responseAttributes(details, attrs...)})
	common := resp.GetResponseHeaders().GetResponse()
	if fn.body != "" && resp.GetImmediateResponse() == nil {
		if common.GetHeaderMutation() != nil || common.GetBodyMutation() != nil {
			t.Fatalf("the response headers were changed before the body came: %v", resp)
		}
		resp = exchange(&extprocv3.ProcessingRequest{Request: &extprocv3.ProcessingRequest_ResponseBody{
			ResponseBody: &extprocv3.HttpBody{Body: []byte(fn.body), EndOfStream: true},
		}})
		common = resp.GetResponseBody().GetResponse()
	}
	if ir := resp.GetImmediateResponse(); ir != nil {
		got := clientResponse{status: int(ir.GetStatus().GetCode()), headers: http.Header{}, body: string(ir.GetBody()), immediate: true}
		for _, o := range ir.GetHeaders().GetSetHeaders() {
			got.headers.Add(o.GetHeader().GetKey(), string(o.GetHeader().GetRawValue()))
		}
		return got
	}
	if resp.GetResponseHeaders() == nil && resp.GetResponseBody() == nil {
		t.Fatalf("the response got %v, want a continue or immediate answer", resp)
	}
	return applyMutation(fn, common) // a nil common changes nothing
}

// applyMutation applies a continue answer to the function's response as
// Envoy does: removals, then each set header in order, :status among
// them, then the body. Envoy's ext_proc filter (mutation_utils.cc) adds a
// value only when the deprecated append field is true, and overwrites
// otherwise: it ignores append_action.
func applyMutation(fn functionResult, common *extprocv3.CommonResponse) clientResponse {
	got := clientResponse{status: fn.status, headers: http.Header{}, body: fn.body}
	for _, h := range fn.headers {
		got.headers.Add(h[0], h[1])
	}
	for _, name := range common.GetHeaderMutation().GetRemoveHeaders() {
		got.headers.Del(name)
	}
	for _, o := range common.GetHeaderMutation().GetSetHeaders() {
		name, value := o.GetHeader().GetKey(), string(o.GetHeader().GetRawValue())
		switch {
		case name == ":status":
			got.status, _ = strconv.Atoi(value)
		case o.GetAppend().GetValue(): //nolint:staticcheck // what Envoy's ext_proc reads
			got.headers.Add(name, value)
		default:
			got.headers.Set(name, value)
		}
	}
	if bm := common.GetBodyMutation(); bm != nil {
		got.body = string(bm.GetBody())
	}
	return got
}
