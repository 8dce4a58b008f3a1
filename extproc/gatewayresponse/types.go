package gatewayresponse

// Type is a gateway response type: the reason API Gateway answers a request
// itself instead of passing on the backend's response. A REST API customizes
// its gateway responses per Type.
type Type string

// The gateway response types of API Gateway's REST APIs, as named by the
// GatewayResponse resource's responseType and the
// x-amazon-apigateway-gateway-responses OpenAPI extension.
const (
	// Default4XX is the fallback for every 4XX type the API does not
	// customize. It has no status code of its own.
	Default4XX Type = "DEFAULT_4XX"
	// Default5XX is the fallback for every 5XX type the API does not
	// customize. It has no status code of its own.
	Default5XX Type = "DEFAULT_5XX"
	// AccessDenied: an authorizer denied the request (403).
	AccessDenied Type = "ACCESS_DENIED"
	// APIConfigurationError: the API is misconfigured, for example an
	// integration response matched no template (500).
	APIConfigurationError Type = "API_CONFIGURATION_ERROR"
	// AuthorizerConfigurationError: the authorizer could not be reached or
	// answered something unusable (500).
	AuthorizerConfigurationError Type = "AUTHORIZER_CONFIGURATION_ERROR"
	// AuthorizerFailure: the authorizer failed to authenticate the caller
	// (500).
	AuthorizerFailure Type = "AUTHORIZER_FAILURE"
	// BadRequestParameters: a request validator found missing parameters
	// (400).
	BadRequestParameters Type = "BAD_REQUEST_PARAMETERS"
	// BadRequestBody: a request validator found the body invalid against its
	// model (400).
	BadRequestBody Type = "BAD_REQUEST_BODY"
	// ExpiredToken: the AWS security token has expired (403).
	ExpiredToken Type = "EXPIRED_TOKEN"
	// IntegrationFailure: the integration failed (504).
	IntegrationFailure Type = "INTEGRATION_FAILURE"
	// IntegrationTimeout: the integration did not answer in time (504).
	IntegrationTimeout Type = "INTEGRATION_TIMEOUT"
	// InvalidAPIKey: the method requires an API key and none valid was sent
	// (403).
	InvalidAPIKey Type = "INVALID_API_KEY"
	// InvalidSignature: the request's AWS signature is wrong (403).
	InvalidSignature Type = "INVALID_SIGNATURE"
	// MissingAuthenticationToken: no authentication token, which API
	// Gateway also answers for a method or resource the API does not have
	// (403).
	MissingAuthenticationToken Type = "MISSING_AUTHENTICATION_TOKEN"
	// QuotaExceeded: the usage plan's quota is used up (429).
	QuotaExceeded Type = "QUOTA_EXCEEDED"
	// RequestTooLarge: the request is over the payload limit (413).
	RequestTooLarge Type = "REQUEST_TOO_LARGE"
	// ResourceNotFound: the resource was not found after authentication and
	// authorization passed (404).
	ResourceNotFound Type = "RESOURCE_NOT_FOUND"
	// Throttled: a usage plan, method, stage or account rate limit was
	// exceeded (429).
	Throttled Type = "THROTTLED"
	// Unauthorized: the authorizer failed to authenticate the caller (401).
	Unauthorized Type = "UNAUTHORIZED"
	// UnsupportedMediaType: the payload's media type has no template and the
	// passthrough behavior is strict (415).
	UnsupportedMediaType Type = "UNSUPPORTED_MEDIA_TYPE"
	// WAFFiltered: AWS WAF blocked the request (403).
	WAFFiltered Type = "WAF_FILTERED"
)

// builtin is API Gateway's default answer for one type, before any
// customization.
type builtin struct {
	// status is the default status code; 0 for the DEFAULT_* fallbacks,
	// whose status AWS documents as null.
	status int
	// message is $context.error.message when the cause gives no more
	// detail.
	message string
	// errorType is the x-amzn-ErrorType header, or "" when none is
	// recorded for the type.
	errorType string
}

// Messages and error types API Gateway is recorded to answer with.
const (
	msgInternal   = "Internal server error"
	msgForbidden  = "Forbidden"
	errInternal   = "InternalServerErrorException"
	errForbidden  = "ForbiddenException"
	errBadRequest = "BadRequestException"
	msgSignature  = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Types returns every gateway response type, sorted by name.
func Types() []Type {
	return []Type{
		AccessDenied, APIConfigurationError, AuthorizerConfigurationError, AuthorizerFailure,
		BadRequestBody, BadRequestParameters, Default4XX, Default5XX, ExpiredToken,
		IntegrationFailure, IntegrationTimeout, InvalidAPIKey, InvalidSignature,
		MissingAuthenticationToken, QuotaExceeded, RequestTooLarge, ResourceNotFound,
		Throttled, Unauthorized, UnsupportedMediaType, WAFFiltered,
	}
}

// defaults returns API Gateway's default answer for t, and false if t is not
// a gateway response type.
func (t Type) defaults() (builtin, bool) {
	switch t {
	case Default4XX:
		return builtin{0, "Bad Request", errBadRequest}, true
	case Default5XX:
		return builtin{0, msgInternal, errInternal}, true
	case AccessDenied:
		return builtin{403, "User is not authorized to access this resource", "AccessDeniedException"}, true
	case APIConfigurationError, AuthorizerFailure:
		return builtin{500, msgInternal, errInternal}, true
	case AuthorizerConfigurationError:
		return builtin{500, msgInternal, "AuthorizerConfigurationException"}, true
	case BadRequestParameters:
		return builtin{400, "Bad Request", errBadRequest}, true
	case BadRequestBody:
		return builtin{400, "Invalid request body", errBadRequest}, true
	case ExpiredToken:
		return builtin{403, "The security token included in the request is expired", "ExpiredTokenException"}, true
	case IntegrationFailure:
		return builtin{504, msgInternal, errInternal}, true
	case IntegrationTimeout:
		return builtin{504, "Endpoint request timed out", errInternal}, true
	case InvalidAPIKey, WAFFiltered:
		return builtin{403, msgForbidden, errForbidden}, true
	case InvalidSignature:
		return builtin{403, msgSignature, "InvalidSignatureException"}, true
	case MissingAuthenticationToken:
		return builtin{403, "Missing Authentication Token", "MissingAuthenticationTokenException"}, true
	case QuotaExceeded:
		return builtin{429, "Limit Exceeded", "LimitExceededException"}, true
	case RequestTooLarge:
		return builtin{413, "Request Too Long", ""}, true
	case ResourceNotFound:
		return builtin{404, "Not Found", "NotFoundException"}, true
	case Throttled:
		return builtin{429, "Too Many Requests", "TooManyRequestsException"}, true
	case Unauthorized:
		return builtin{401, "Unauthorized", "UnauthorizedException"}, true
	case UnsupportedMediaType:
		return builtin{415, "Unsupported Media Type", "UnsupportedMediaTypeException"}, true
	}
	return builtin{}, false
}

// Valid reports whether t is one of API Gateway's gateway response types.
// Type names are case-sensitive, as in API Gateway's API.
func (t Type) Valid() bool {
	_, ok := t.defaults()
	return ok
}

// DefaultStatus is the status code API Gateway answers t with when the API
// does not change it: 403 for ACCESS_DENIED, 429 for THROTTLED, and so on.
// It is 0 for DEFAULT_4XX and DEFAULT_5XX, whose status AWS documents as
// null, and for a type that is not Valid.
func (t Type) DefaultStatus() int {
	b, _ := t.defaults()
	return b.status
}

// Message is $context.error.message for t when the cause adds no detail,
// for example "Too Many Requests" for THROTTLED or "Missing Authentication
// Token" for MISSING_AUTHENTICATION_TOKEN. Some causes have a message of
// their own (a request validator's "Missing required request parameters:
// [...]"), which the caller passes in ErrorInfo.Message.
func (t Type) Message() string {
	b, _ := t.defaults()
	return b.message
}

// ErrorType is the x-amzn-ErrorType header API Gateway sends with t, for
// example "MissingAuthenticationTokenException", so that AWS SDKs can tell
// errors apart. It is "" for a type with no recorded error type.
func (t Type) ErrorType() string {
	b, _ := t.defaults()
	return b.errorType
}

// status is the status t is answered with when nothing overrides it: its
// default, or 400 and 500 for the fallbacks themselves, which API Gateway
// never answers with directly but Archway may (an Envoy local reply with
// no more specific type).
func (t Type) status() int {
	switch t {
	case Default4XX:
		return 400
	case Default5XX:
		return 500
	}
	return t.DefaultStatus()
}

// fallback is the type whose override applies to t when t has none of its
// own: DEFAULT_4XX or DEFAULT_5XX by t's status class. The fallbacks
// themselves have none.
func (t Type) fallback() (Type, bool) {
	switch s := t.DefaultStatus(); {
	case s >= 400 && s < 500:
		return Default4XX, true
	case s >= 500:
		return Default5XX, true
	}
	return "", false
}
