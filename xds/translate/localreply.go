package translate

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	celv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/extproc/mapping"
)

// messageNetworkError is $context.error.message of API Gateway's
// INTEGRATION_FAILURE when the endpoint cannot be reached: a REST API's
// HTTP proxy to an unreachable backend answers 504 {"message": "Network
// error communicating with endpoint"} with x-amzn-ErrorType
// InternalServerErrorException. It is extproc.MessageNetworkError, which
// the translator does not import (see TestExtProcAgreesWithService).
const messageNetworkError = "Network error communicating with endpoint"

// timeoutFlags are Envoy's response flags of its replies when the backend
// did not answer in time (UT, the route's timeout; UMSDR, a stream's
// maximum duration).
func timeoutFlags() []string { return []string{"UT", "UMSDR"} }

// failureFlags are Envoy's response flags of its replies when the backend
// could not be reached or failed before answering (UF connection failure,
// UH no healthy endpoint, URX retries or connect attempts used up, UC
// connection terminated, UR remote reset, UO circuit breaker open, UPE
// protocol error, DF DNS resolution failed).
func failureFlags() []string { return []string{"UF", "UH", "URX", "UC", "UR", "UO", "UPE", "DF"} }

// codeDetailsTooLarge are Envoy's response code details of its 413 for a
// request body over the route's buffer limit, which carries no response
// flag.
const codeDetailsTooLarge = "request_payload_too_large"

// celFilterName is the access log filter extension that evaluates a CEL
// expression.
const celFilterName = "envoy.access_loggers.extension_filters.cel"

// localReplyConfig makes Envoy's own replies for a failed integration look
// like API Gateway's: without it a client would get Envoy's text
// ("upstream request timeout", "upstream connect error or disconnect/reset
// before headers...", "Payload Too Large").
//
//   - a backend that does not answer within the route's timeout:
//     INTEGRATION_TIMEOUT, 504 {"message":"Endpoint request timed out"};
//   - a backend that cannot be reached or resets before answering:
//     INTEGRATION_FAILURE, 504 {"message":"Network error communicating with
//     endpoint"}, the message API Gateway gives an unreachable HTTP
//     endpoint;
//   - a request body over the route's buffer limit: REQUEST_TOO_LARGE, 413
//     {"message":"Request Too Long"}.
//
// Status, headers and body are API Gateway's defaults as the
// gatewayresponse package renders them, so that there is one source of
// them. Each mapper matches Envoy's response flags, or, for the 413, its
// response code details, and nothing else: a route's direct response (a
// mock's 504), an ext_authz denial (flag UAEX) and an ext_proc immediate
// response pass unchanged. An API that customizes these types gets its
// override from the ext_proc service, which sees the mapped reply (see
// extProcFilter's response attributes).
func localReplyConfig() (*hcmv3.LocalReplyConfig, error) {
	defaults, err := gatewayresponse.Compile(nil)
	if err != nil {
		return nil, err
	}
	celTooLarge, err := toAny(&celv3.ExpressionFilter{Expression: "response.code_details == '" + codeDetailsTooLarge + "'"})
	if err != nil {
		return nil, err
	}
	mappers := []struct {
		t       gatewayresponse.Type
		message string
		filter  *accesslogv3.AccessLogFilter
	}{
		{gatewayresponse.IntegrationTimeout, "", flagFilter(timeoutFlags())},
		{gatewayresponse.IntegrationFailure, messageNetworkError, flagFilter(failureFlags())},
		{gatewayresponse.RequestTooLarge, "", &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ExtensionFilter{
			ExtensionFilter: &accesslogv3.ExtensionFilter{Name: celFilterName, ConfigType: &accesslogv3.ExtensionFilter_TypedConfig{TypedConfig: celTooLarge}},
		}}},
	}
	cfg := &hcmv3.LocalReplyConfig{}
	for _, m := range mappers {
		r, err := defaults.Render(m.t, nil, mapping.ErrorInfo{Message: m.message}, "")
		if err != nil {
			return nil, err
		}
		cfg.Mappers = append(cfg.Mappers, responseMapper(m.filter, r))
	}
	return cfg, nil
}

// flagFilter matches replies with any of Envoy's response flags.
func flagFilter(flags []string) *accesslogv3.AccessLogFilter {
	return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{
		ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: flags},
	}}
}

// responseMapper replaces the status, headers and body of the replies f
// matches with r. The body is r's alone (%LOCAL_REPLY_BODY% is the
// mapper's body), with r's content type.
func responseMapper(f *accesslogv3.AccessLogFilter, r gatewayresponse.Response) *hcmv3.ResponseMapper {
	m := &hcmv3.ResponseMapper{
		Filter:     f,
		StatusCode: wrapperspb.UInt32(uint32(r.Status)),
		Body:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: string(r.Body)}},
		BodyFormatOverride: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &corev3.DataSource{
				Specifier: &corev3.DataSource_InlineString{InlineString: "%LOCAL_REPLY_BODY%"},
			}},
			ContentType: r.Headers.Get("Content-Type"),
		},
	}
	for _, name := range slices.Sorted(maps.Keys(r.Headers)) {
		if name != http.CanonicalHeaderKey("Content-Type") {
			m.HeadersToAdd = append(m.HeadersToAdd, setHeader(strings.ToLower(name), r.Headers.Get(name)))
		}
	}
	return m
}
