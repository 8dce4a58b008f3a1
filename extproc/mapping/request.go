package mapping

import (
	"sort"
	"strings"
	"time"

	"github.com/archway-gateway/archway/extproc/vtl"
)

// Param is one request parameter (a path parameter, query string parameter
// or header) as the client sent it. Lists of Params keep the request's
// order and may repeat a name, which a Go map could not.
type Param struct {
	Name  string
	Value string
}

// ErrorInfo is the error a gateway response reports through
// $context.error.*.
type ErrorInfo struct {
	// Message is $context.error.message, for example "Invalid request body".
	Message string
	// ResponseType is the gateway response type, such as BAD_REQUEST_BODY.
	ResponseType string
	// ValidationErrorString is the request validator's detailed message.
	ValidationErrorString string
}

// Request is what a mapping template may see of one API request: the
// method request's parameters and payload, and the context API Gateway
// records for it. The ext_proc service builds it from Envoy's headers, the
// buffered body and the route's metadata.
type Request struct {
	// Method is the HTTP method ($context.httpMethod).
	Method string
	// Path is the request path as the client sent it, stage included on
	// AWS-style hosts ($context.path), for example /prod/pets/1.
	Path string
	// ResourcePath is the route's path template ($context.resourcePath),
	// for example /pets/{petId}.
	ResourcePath string
	// ResourceID identifies the route ($context.resourceId).
	ResourceID string
	// PathParams, Query and Header are the method request's parameters.
	PathParams []Param
	Query      []Param
	Header     []Param
	// Body is the method request payload ($input.body).
	Body []byte
	// Stage is the stage name ($context.stage).
	Stage string
	// StageVariables are the stage's variables ($stageVariables).
	StageVariables map[string]string
	// RequestID and ExtendedRequestID identify the request.
	RequestID         string
	ExtendedRequestID string
	// Time is when the request arrived ($context.requestTime and
	// requestTimeEpoch).
	Time time.Time
	// SourceIP is the client's address ($context.identity.sourceIp).
	SourceIP string
	// UserAgent is $context.identity.userAgent; when empty, the User-Agent
	// header is used.
	UserAgent string
	// Protocol is the request protocol, for example HTTP/1.1.
	Protocol string
	// DomainName is the host the API was called on ($context.domainName).
	DomainName string
	// APIID and AccountID identify the API and its owner.
	APIID     string
	AccountID string
	// APIKey and APIKeyID are the caller's API key and its id, set when the
	// route requires a key ($context.identity.apiKey, apiKeyId). The key is
	// a secret: never log a Request.
	APIKey   string
	APIKeyID string
	// Authorizer is what the route's authorizer returned: principalId, the
	// context map's entries and, for JWT authorizers, "claims" (a map).
	// Templates see each value as a string, as API Gateway stringifies them.
	Authorizer map[string]any
	// Error is set when the template renders a gateway response.
	Error *ErrorInfo
}

// Vars returns the top-level references API Gateway defines for mapping
// templates, keyed by name without the "$": input, context, stageVariables
// and util. The values are built for one rendering of one request: a
// template may change them ($context.responseOverride, a map's put), so do
// not share them between requests.
func Vars(r *Request) map[string]any {
	return map[string]any{
		"input":          newInput(r),
		"context":        contextMap(r),
		"stageVariables": stringMap(r.StageVariables),
		"util":           Util{},
	}
}

// stringMap converts m to a vtl.Map with its keys in sorted order, so that
// a template that iterates over it renders the same every time.
func stringMap(m map[string]string) *vtl.Map {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := vtl.NewMapCap(len(keys))
	for _, k := range keys {
		out.Set(k, m[k])
	}
	return out
}

// paramMap converts params to a vtl.Map in request order; a repeated name
// keeps its first position and its last value.
func paramMap(params []Param) *vtl.Map {
	out := vtl.NewMapCap(len(params))
	for _, p := range params {
		out.Set(p.Name, p.Value)
	}
	return out
}

// lastValue returns the last value of the parameter name, as paramMap
// keeps it.
func lastValue(params []Param, name string) (string, bool) {
	for i := len(params) - 1; i >= 0; i-- {
		if params[i].Name == name {
			return params[i].Value, true
		}
	}
	return "", false
}

// header returns the last value of the named header, matching the name
// without regard to case as HTTP does.
func header(params []Param, name string) (string, bool) {
	value, found := "", false
	for _, p := range params {
		if strings.EqualFold(p.Name, name) {
			value, found = p.Value, true
		}
	}
	return value, found
}
