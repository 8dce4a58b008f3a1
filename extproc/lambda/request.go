package lambda

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Request is everything API Gateway puts into a proxy event: the client's
// HTTP request as the route saw it, plus what the gateway knows about the
// route, the stage and the caller. EventV1 and EventV2 read it and never
// modify it.
type Request struct {
	// Method is the client's HTTP method, such as "GET".
	Method string
	// Path is the request path inside the API, without the stage or the
	// custom-domain base path: payload 1.0's top-level "path".
	Path string
	// RawPath is the path exactly as the client sent it, including a stage
	// or base-path prefix: 1.0's requestContext.path and 2.0's rawPath and
	// requestContext.http.path. Empty means Path.
	RawPath string
	// RawQuery is the query string without the leading '?', still encoded.
	RawQuery string
	// Header holds the client's headers. Names are matched case-insensitively;
	// 1.0 sends them in canonical form ("Content-Type"), 2.0 in lower case,
	// because Envoy has already lower-cased the client's spelling.
	Header http.Header
	// Body is the request payload, not yet encoded.
	Body []byte

	// RouteKey is the matched route, such as "GET /pets/{id}" or "$default";
	// empty means "$default". Payload 2.0 only.
	RouteKey string
	// ResourcePath is the matched resource template, such as "/pets/{id}":
	// 1.0's resource and requestContext.resourcePath.
	ResourcePath string
	// ResourceID is the identifier of the matched resource: 1.0's
	// requestContext.resourceId.
	ResourceID string
	// PathParameters are the values of the template's variables, keyed by
	// name without braces or '+'.
	PathParameters map[string]string

	// Stage is the name of the deployed stage serving the request.
	Stage string
	// StageVariables are the stage's variables.
	StageVariables map[string]string

	// RequestID is the identifier the gateway gave the request.
	RequestID string
	// Time is when the gateway received the request.
	Time time.Time
	// SourceIP is the address of the client that connected to the gateway.
	SourceIP string
	// UserAgent is the client's User-Agent; empty means the User-Agent header.
	UserAgent string
	// Protocol is the client's protocol, such as "HTTP/1.1"; empty means
	// "HTTP/1.1".
	Protocol string
	// DomainName is the host name the client called; its first label is
	// sent as domainPrefix.
	DomainName string
	// APIID is the identifier of the API.
	APIID string
	// AccountID is the owner of the API; API Gateway sends the AWS account.
	AccountID string
	// APIKey and APIKeyID identify the API key the request was authorized
	// with, when the method requires one. Payload 1.0 only
	// (requestContext.identity.apiKey and apiKeyId); empty sends null.
	APIKey, APIKeyID string

	// Authorizer is what the route's authorizer established about the
	// caller; nil when the route has none.
	Authorizer *Authorizer
}

// Authorizer is the output of an authorizer that API Gateway passes on to
// the function in requestContext.authorizer. The two payload formats shape it
// differently: 1.0 flattens a Lambda authorizer's principal and context into
// the object and puts JWT or Cognito claims under "claims"; 2.0 nests them
// under "lambda" and "jwt".
type Authorizer struct {
	// PrincipalID is the principal a Lambda authorizer returned (1.0 only).
	PrincipalID string
	// Context is the context map a Lambda authorizer returned.
	Context map[string]any
	// Claims are the claims of a verified JWT or Cognito token.
	Claims map[string]string
	// Scopes are the token's scopes, when the route asked for any.
	Scopes []string
}

// Options is the API-level configuration that changes how payloads are
// encoded.
type Options struct {
	// BinaryMediaTypes are the REST API's binary media types, such as
	// "image/png", "image/*" or "*/*". Payload 1.0 base64-encodes a request
	// body whose Content-Type matches one, and decodes a base64 result only
	// when the client's first Accept type matches one. HTTP APIs have no such
	// setting, so EventV2 and DecodeV2 ignore it.
	BinaryMediaTypes []string
}

// errNoRequest is returned for a nil or method-less request: a proxy event
// without an HTTP method would be rejected by every Lambda runtime library.
var errNoRequest = errors.New("lambda: request has no method")

// requestTimeLayout is API Gateway's CLF-style requestTime, always in UTC.
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

func (r *Request) rawPath() string {
	if r.RawPath != "" {
		return r.RawPath
	}
	return r.Path
}

func (r *Request) userAgent() string {
	if r.UserAgent != "" {
		return r.UserAgent
	}
	return r.Header.Get("User-Agent")
}

func (r *Request) protocol() string {
	if r.Protocol != "" {
		return r.Protocol
	}
	return "HTTP/1.1"
}

func (r *Request) requestTime() string {
	return r.Time.UTC().Format(requestTimeLayout)
}

// domainPrefix is the first label of the host name, as API Gateway reports
// it for both payload formats.
func domainPrefix(domain string) string {
	prefix, _, _ := strings.Cut(domain, ".")
	return prefix
}

// queryParam is one decoded name=value pair of a query string.
type queryParam struct{ name, value string }

// parseQuery splits a raw query string into decoded pairs in order. Unlike
// url.ParseQuery it never fails: a pair with a bad escape keeps its raw text,
// because API Gateway passes such requests to the function rather than
// rejecting them.
func parseQuery(raw string) []queryParam {
	var params []queryParam
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		params = append(params, queryParam{unescapeQuery(name), unescapeQuery(value)})
	}
	return params
}

func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// mediaType returns the lower-case type/subtype of a Content-Type or Accept
// element, without parameters.
func mediaType(v string) string {
	if t, _, err := mime.ParseMediaType(v); err == nil {
		return t
	}
	t, _, _ := strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(t))
}

// matchesBinary reports whether a media type is one of the API's binary
// media types. A pattern may be "*/*" (everything, including no type),
// "type/*" or an exact type; matching ignores case.
func matchesBinary(typ string, patterns []string) bool {
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == "*/*":
			return true
		case typ == "":
			continue
		case p == typ:
			return true
		case strings.HasSuffix(p, "/*") && strings.HasPrefix(typ, p[:len(p)-1]):
			return true
		}
	}
	return false
}

// marshal encodes an event the way API Gateway does: no HTML escaping, no
// trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// nilIfEmpty turns an empty map into nil so that it encodes as JSON null or
// is omitted, as API Gateway sends absent data.
func nilIfEmpty[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	return m
}
