package authz

import (
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/internal/model"
)

// responseType is the gateway response type of a refusal with o, and the
// status Archway answers it with when that type's default is not the
// answer (the store's failures, which API Gateway has no type for).
func responseType(o outcome) (gatewayresponse.Type, int) {
	switch o {
	case outcomeThrottled:
		return gatewayresponse.Throttled, 0
	case outcomeQuotaExceeded:
		return gatewayresponse.QuotaExceeded, 0
	case outcomeUnavailable:
		return gatewayresponse.Default5XX, 503
	case outcomeInternal:
		return gatewayresponse.Default5XX, 500
	default:
		return gatewayresponse.InvalidAPIKey, 0
	}
}

// refuse answers a request refused with o. An API that customizes the
// refusal's gateway response type gets its override, rendered for the
// request; any other gets API Gateway's fixed answer (the Server's shared
// one for a plain 403). The rate-limit headers of l are added either way.
func (s *Server) refuse(cfg *model.Config, req *authv3.CheckRequest, in input, o outcome, l limits) *authv3.CheckResponse {
	t, status := responseType(o)
	api := cfg.API(in.apiID)
	set := s.responses.For(cfg, api)
	if !set.Customized(t) {
		if o == outcomeForbidden && !l.set {
			return s.forbidden
		}
		return deniedResponse(o, l)
	}
	r, accept := mappingRequest(req, in, api, s.now())
	msg := ""
	if o == outcomeUnavailable {
		msg = "Service Unavailable"
	}
	resp, err := set.RenderAs(t, status, r, mapping.ErrorInfo{Message: msg}, accept)
	if err != nil {
		s.log.Warn("gateway response does not render; answering with the default",
			"api_id", in.apiID, "type", string(t), "error", err)
		return deniedResponse(o, l)
	}
	// RenderAs gives every header one value.
	headers := make([]*corev3.HeaderValueOption, 0, len(resp.Headers)+4)
	for name := range resp.Headers {
		headers = append(headers, header(strings.ToLower(name), resp.Headers.Get(name)))
	}
	headers = append(headers, l.headers()...)
	return &authv3.CheckResponse{
		Status: &rpcstatus.Status{Code: int32(refusalOf(o).code)},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode(resp.Status)},
			Headers: headers,
			Body:    string(resp.Body),
		}},
	}
}

// mappingRequest describes the refused request, to a route of api, to a
// gateway response's templates and header mappings, and returns its
// Accept header. Path
// parameters are not matched here; mappings from them are left out.
func mappingRequest(req *authv3.CheckRequest, in input, api *model.API, now time.Time) (*mapping.Request, string) {
	h := req.GetAttributes().GetRequest().GetHttp()
	r := &mapping.Request{
		Method:     h.GetMethod(),
		Stage:      in.stage,
		ResourceID: in.routeID,
		RequestID:  h.GetId(),
		Time:       now,
		Protocol:   h.GetProtocol(),
		DomainName: mapping.HostOnly(h.GetHost()),
		APIID:      in.apiID,
		SourceIP:   req.GetAttributes().GetSource().GetAddress().GetSocketAddress().GetAddress(),
	}
	path, rawQuery, _ := strings.Cut(h.GetPath(), "?")
	r.Path, r.Query = path, mapping.ParseQuery(rawQuery)
	for name, v := range h.GetHeaders() {
		if !strings.HasPrefix(name, ":") {
			r.Header = append(r.Header, mapping.Param{Name: name, Value: v})
		}
	}
	for _, hv := range h.GetHeaderMap().GetHeaders() {
		if !strings.HasPrefix(hv.GetKey(), ":") {
			v := hv.GetValue()
			if hv.GetRawValue() != nil {
				v = string(hv.GetRawValue())
			}
			r.Header = append(r.Header, mapping.Param{Name: hv.GetKey(), Value: v})
		}
	}
	if api != nil {
		if st := api.Stage(in.stage); st != nil {
			r.StageVariables = st.Variables
			if st.Deployment != nil {
				if rt := st.Deployment.Route(in.routeID); rt != nil {
					r.ResourcePath = rt.Path.String()
				}
			}
		}
	}
	// $context.requestId is the x-request-id Envoy gives every request,
	// as the ext_proc service reads it; the CheckRequest's own id is
	// Envoy's stream number.
	accept := ""
	for _, p := range r.Header {
		switch p.Name {
		case "accept":
			accept = p.Value
		case "x-request-id":
			r.RequestID = p.Value
		}
	}
	return r, accept
}
