package lambda

import (
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// eventV2 is payload format 2.0 in API Gateway's key order. Absent data is
// left out rather than sent as null, as HTTP APIs do.
type eventV2 struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	RequestContext        contextV2         `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
	StageVariables        map[string]string `json:"stageVariables,omitempty"`
}

type contextV2 struct {
	AccountID    string        `json:"accountId"`
	APIID        string        `json:"apiId"`
	Authorizer   *authorizerV2 `json:"authorizer,omitempty"`
	DomainName   string        `json:"domainName"`
	DomainPrefix string        `json:"domainPrefix"`
	HTTP         httpV2        `json:"http"`
	RequestID    string        `json:"requestId"`
	RouteKey     string        `json:"routeKey"`
	Stage        string        `json:"stage"`
	Time         string        `json:"time"`
	TimeEpoch    int64         `json:"timeEpoch"`
}

type httpV2 struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

type authorizerV2 struct {
	JWT    *jwtV2         `json:"jwt,omitempty"`
	Lambda map[string]any `json:"lambda,omitempty"`
}

type jwtV2 struct {
	Claims map[string]string `json:"claims"`
	Scopes []string          `json:"scopes"`
}

// defaultRoute is the route key and stage name of an HTTP API's catch-all
// route and automatically deployed stage.
const defaultRoute = "$default"

// EventV2 builds the payload format 2.0 event that an HTTP API sends to a
// Lambda proxy integration. Repeated headers and query parameters are joined
// with commas, the query string is also passed raw, and Cookie headers are
// split into the cookies array instead of being sent as a header. The body
// is base64-encoded unless its Content-Type is textual (text/*, JSON, XML or
// JavaScript) and it has no Content-Encoding.
func EventV2(r *Request, _ Options) ([]byte, error) {
	if r == nil || r.Method == "" {
		return nil, errNoRequest
	}
	headers, cookies := headersV2(r.Header)
	body, encoded := bodyV2(r)
	return marshal(&eventV2{
		Version:               "2.0",
		RouteKey:              orDefault(r.RouteKey),
		RawPath:               r.rawPath(),
		RawQueryString:        r.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: queryV2(r.RawQuery),
		RequestContext:        contextForV2(r),
		Body:                  body,
		PathParameters:        nilIfEmpty(r.PathParameters),
		IsBase64Encoded:       encoded,
		StageVariables:        nilIfEmpty(r.StageVariables),
	})
}

func contextForV2(r *Request) contextV2 {
	return contextV2{
		AccountID:    r.AccountID,
		APIID:        r.APIID,
		Authorizer:   authorizerForV2(r.Authorizer),
		DomainName:   r.DomainName,
		DomainPrefix: domainPrefix(r.DomainName),
		HTTP: httpV2{
			Method:    r.Method,
			Path:      r.rawPath(),
			Protocol:  r.protocol(),
			SourceIP:  r.SourceIP,
			UserAgent: r.userAgent(),
		},
		RequestID: r.RequestID,
		RouteKey:  orDefault(r.RouteKey),
		Stage:     orDefault(r.Stage),
		Time:      r.requestTime(),
		TimeEpoch: r.Time.UnixMilli(),
	}
}

// headersV2 lower-cases header names and joins repeated values with commas.
// Cookie headers are returned separately, one entry per cookie.
func headersV2(h http.Header) (map[string]string, []string) {
	headers := make(map[string]string, len(h))
	var cookies []string
	// Sorted, so that names differing only in case merge in a stable order.
	for _, name := range slices.Sorted(maps.Keys(h)) {
		values := h[name]
		if len(values) == 0 {
			continue
		}
		name = strings.ToLower(name)
		if name == "cookie" {
			cookies = appendCookies(cookies, values)
			continue
		}
		joined := strings.Join(values, ",")
		if prev, ok := headers[name]; ok {
			joined = prev + "," + joined
		}
		headers[name] = joined
	}
	return headers, cookies
}

// appendCookies splits Cookie header values ("a=1; b=2") into single
// cookies.
func appendCookies(cookies, values []string) []string {
	for _, v := range values {
		for c := range strings.SplitSeq(v, ";") {
			if c = strings.TrimSpace(c); c != "" {
				cookies = append(cookies, c)
			}
		}
	}
	return cookies
}

// queryV2 returns the decoded query parameters, repeated values joined with
// commas.
func queryV2(raw string) map[string]string {
	params := parseQuery(raw)
	if len(params) == 0 {
		return nil
	}
	query := make(map[string]string, len(params))
	for _, p := range params {
		if prev, ok := query[p.name]; ok {
			query[p.name] = prev + "," + p.value
			continue
		}
		query[p.name] = p.value
	}
	return query
}

// bodyV2 returns the body as HTTP APIs send it, which have no binary media
// types: text as is, everything else (including a body without a
// Content-Type, and form posts) base64-encoded.
func bodyV2(r *Request) (string, bool) {
	if len(r.Body) == 0 {
		return "", false
	}
	if isTextV2(r.Header) {
		return string(r.Body), false
	}
	return base64.StdEncoding.EncodeToString(r.Body), true
}

func isTextV2(h http.Header) bool {
	if enc := strings.TrimSpace(h.Get("Content-Encoding")); enc != "" && !strings.EqualFold(enc, "identity") {
		return false
	}
	switch t := mediaType(h.Get("Content-Type")); t {
	case "application/json", "application/xml", "application/javascript":
		return true
	default:
		return strings.HasPrefix(t, "text/")
	}
}

// authorizerForV2 nests the authorizer output the way HTTP APIs do: a
// Lambda authorizer's context under "lambda", token claims and scopes under
// "jwt".
func authorizerForV2(a *Authorizer) *authorizerV2 {
	if a == nil {
		return nil
	}
	out := &authorizerV2{Lambda: a.Context}
	if a.Claims != nil || a.Scopes != nil {
		out.JWT = &jwtV2{Claims: a.Claims, Scopes: a.Scopes}
	}
	if out.JWT == nil && out.Lambda == nil {
		return nil
	}
	return out
}

func orDefault(s string) string {
	if s == "" {
		return defaultRoute
	}
	return s
}
