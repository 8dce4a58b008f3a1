package extproc

import (
	"strings"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/archway-gateway/archway/extproc/gatewayresponse"
)

// The attributes the Server reads from the response_headers message: the
// ext_proc filter's response_attributes, which the translator configures
// (see ResponseAttributes). Envoy sends them under the filter's name, each
// evaluated as a CEL expression when the response headers pass the
// filter; an expression that yields nothing (a missing header) is left
// out.
const (
	// AttrCodeDetails is Envoy's response code details: via_upstream for
	// a backend's response, direct_response for a route's, the reason for
	// a reply Envoy made itself (response_timeout,
	// upstream_reset_before_response_started{...},
	// request_payload_too_large).
	AttrCodeDetails = "response.code_details"
	// AttrMethod, AttrPath (with its query string), AttrHost and
	// AttrRequestID describe the request on a stream Envoy opened at the
	// response, whose request headers the route's mode skipped. Envoy
	// evaluates them when the response arrives, after the router rewrote
	// the request: AttrPath is the path the backend got, not the
	// client's (Envoy keeps no x-envoy-original-path when it suppresses
	// its own headers, as Archway's router does).
	AttrMethod    = "request.method"
	AttrPath      = "request.path"
	AttrHost      = "request.host"
	AttrRequestID = "request.id"
)

// attributesKey is the key under which Envoy sends the filter's attributes.
const attributesKey = "envoy.filters.http.ext_proc"

// headerRequestID is the request's ID, which Envoy generates.
const headerRequestID = "x-request-id"

// attributeHeaders are the request headers the Server asks Envoy for as
// attributes, for a stream opened at the response: what a gateway
// response's template choice and $context need.
func attributeHeaders() [3]string { return [...]string{"accept", "user-agent", "x-forwarded-for"} }

// headerAttribute is the CEL expression of request header name.
func headerAttribute(name string) string { return "request.headers['" + name + "']" }

// ResponseAttributes are the response_attributes the ext_proc filter must
// send for the Server to tell Envoy's own replies from the backend's
// responses (Exchange.LocalReply) and to know the request on a stream
// opened at the response. The translator configures them on the filter.
func ResponseAttributes() []string {
	out := []string{AttrCodeDetails, AttrMethod, AttrPath, AttrHost, AttrRequestID}
	for _, h := range attributeHeaders() {
		out = append(out, headerAttribute(h))
	}
	return out
}

// Response code details Envoy gives responses that are not its own
// replies, or that Archway's services asked for.
const (
	detailsUpstream = "via_upstream"
	detailsDirect   = "direct_response"
	// detailsAuthzDenied is an ext_authz denial, rendered by Archway's
	// authorization service.
	detailsAuthzDenied = "ext_authz_denied"
	// detailsRateLimited is the 429 of Envoy's rate-limit filter, which
	// Archway's rate-limit service asked for: a stage or route throttle.
	// Envoy makes the reply (with the service's body), so it reaches the
	// processor, which may render the API's THROTTLED override.
	detailsRateLimited = "request_rate_limited"
)

// detailsTooLarge are the response code details of Envoy's 413 for a
// request body over the route's buffer limit.
const detailsTooLarge = "request_payload_too_large"

// isTimeout reports whether details are those of Envoy's reply when the
// backend did not answer within the route's timeout (or a retry's).
func isTimeout(details string) bool {
	return hasAnyPrefix(details, "response_timeout", "upstream_per_try_timeout",
		"upstream_per_try_idle_timeout", "upstream_max_stream_duration_reached")
}

// isFailure reports whether details are those of Envoy's reply when the
// backend could not be reached (connection refused or timed out, no
// healthy endpoint, a circuit breaker open) or reset the stream before
// answering. The reset's reason follows in braces:
// upstream_reset_before_response_started{remote_connection_failure|...}.
func isFailure(details string) bool {
	return hasAnyPrefix(details, "upstream_reset_before_response_started", "no_healthy_upstream", "maintenance_mode")
}

// MessageNetworkError is $context.error.message of API Gateway's
// INTEGRATION_FAILURE when the integration's endpoint cannot be reached:
// it answers 504 {"message": "Network error communicating with endpoint"}
// with x-amzn-ErrorType InternalServerErrorException.
const MessageNetworkError = "Network error communicating with endpoint"

// LocalReplyType is the gateway response type that stands for Envoy's own
// reply with response code details details (Exchange.LocalReply) and
// status: INTEGRATION_TIMEOUT when the backend did not answer within the
// route's timeout; INTEGRATION_FAILURE when it could not be reached, reset
// the stream before answering or had no healthy endpoint;
// REQUEST_TOO_LARGE for a request body over the route's buffer limit;
// THROTTLED for the 429 of a stage or route throttle; otherwise
// DEFAULT_4XX for a 4XX status and DEFAULT_5XX for any other.
func LocalReplyType(details string, status int) gatewayresponse.Type {
	switch {
	case details == detailsTooLarge:
		return gatewayresponse.RequestTooLarge
	case details == detailsRateLimited:
		return gatewayresponse.Throttled
	case isTimeout(details):
		return gatewayresponse.IntegrationTimeout
	case isFailure(details):
		return gatewayresponse.IntegrationFailure
	case status >= 400 && status < 500:
		return gatewayresponse.Default4XX
	}
	return gatewayresponse.Default5XX
}

// LocalReplyMessage is $context.error.message for Envoy's own reply with
// response code details details when its cause has a message of its own:
// MessageNetworkError when the backend could not be reached. It is ""
// otherwise: the type's default message (gatewayresponse.Type.Message)
// applies.
func LocalReplyMessage(details string) string {
	if isFailure(details) {
		return MessageNetworkError
	}
	return ""
}

// hasAnyPrefix reports whether s starts with one of prefixes.
func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// responseOrigin is who made a response, by its response code details.
type responseOrigin int

const (
	// fromBackend: the backend answered, or the attributes are missing.
	fromBackend responseOrigin = iota
	// fromEnvoy: Envoy answered itself.
	fromEnvoy
	// fromArchway: a route's direct response, or an ext_authz denial,
	// which Archway's authorization service rendered. (The rate-limit
	// filter's 429 is Envoy's reply: fromEnvoy.)
	fromArchway
)

// originOf tells who made a response with response code details details.
func originOf(details string) responseOrigin {
	switch details {
	case "", detailsUpstream:
		return fromBackend
	case detailsDirect, detailsAuthzDenied:
		return fromArchway
	}
	return fromEnvoy
}

// attributes returns the filter's attributes of a message, or nil.
func attributes(req *extprocv3.ProcessingRequest) map[string]*structpb.Value {
	return req.GetAttributes()[attributesKey].GetFields()
}

// requestFromAttributes fills in x's request from the attributes of a
// stream opened at the response: its method, path, authority, request ID
// and the headers of attributeHeaders.
func requestFromAttributes(x *Exchange, attrs map[string]*structpb.Value) {
	x.Method = attrs[AttrMethod].GetStringValue()
	x.Path = attrs[AttrPath].GetStringValue()
	x.Authority = attrs[AttrHost].GetStringValue()
	names := attributeHeaders()
	x.Headers = make(Headers, 0, len(names)+1)
	for _, h := range names {
		if v, ok := attrs[headerAttribute(h)]; ok {
			x.Headers = append(x.Headers, Header{Name: h, Value: v.GetStringValue()})
		}
	}
	if id := attrs[AttrRequestID].GetStringValue(); id != "" {
		x.Headers = append(x.Headers, Header{Name: headerRequestID, Value: id})
	}
}
