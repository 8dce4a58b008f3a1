package lambda

import (
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
)

// eventV1 is payload format 1.0 in API Gateway's key order. Maps without
// omitempty encode as null when absent, exactly as REST APIs send them.
type eventV1 struct {
	Version                         string              `json:"version"`
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  contextV1           `json:"requestContext"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

type contextV1 struct {
	AccountID         string         `json:"accountId"`
	APIID             string         `json:"apiId"`
	Authorizer        map[string]any `json:"authorizer,omitempty"`
	DomainName        string         `json:"domainName"`
	DomainPrefix      string         `json:"domainPrefix"`
	ExtendedRequestID string         `json:"extendedRequestId"`
	HTTPMethod        string         `json:"httpMethod"`
	Identity          identityV1     `json:"identity"`
	Path              string         `json:"path"`
	Protocol          string         `json:"protocol"`
	RequestID         string         `json:"requestId"`
	RequestTime       string         `json:"requestTime"`
	RequestTimeEpoch  int64          `json:"requestTimeEpoch"`
	ResourceID        *string        `json:"resourceId"`
	ResourcePath      string         `json:"resourcePath"`
	Stage             string         `json:"stage"`
}

// identityV1 is the caller's identity. Archway authenticates no AWS
// principals, so the IAM and Cognito fields are always null, as API Gateway
// sends them for unauthenticated callers; functions test them for null.
type identityV1 struct {
	AccessKey                     *string `json:"accessKey"`
	AccountID                     *string `json:"accountId"`
	APIKey                        *string `json:"apiKey"`
	APIKeyID                      *string `json:"apiKeyId"`
	Caller                        *string `json:"caller"`
	CognitoAuthenticationProvider *string `json:"cognitoAuthenticationProvider"`
	CognitoAuthenticationType     *string `json:"cognitoAuthenticationType"`
	CognitoIdentityID             *string `json:"cognitoIdentityId"`
	CognitoIdentityPoolID         *string `json:"cognitoIdentityPoolId"`
	PrincipalOrgID                *string `json:"principalOrgId"`
	SourceIP                      string  `json:"sourceIp"`
	User                          *string `json:"user"`
	UserAgent                     string  `json:"userAgent"`
	UserArn                       *string `json:"userArn"`
}

// EventV1 builds the payload format 1.0 event that a REST API sends to a
// Lambda proxy integration. Every header and query parameter appears twice:
// once with its last value (headers, queryStringParameters), for functions
// written before API Gateway supported repeated names, and once with all of
// its values (multiValueHeaders, multiValueQueryStringParameters). Absent
// maps and an absent body are null, not empty.
func EventV1(r *Request, o Options) ([]byte, error) {
	if r == nil || r.Method == "" {
		return nil, errNoRequest
	}
	headers, multiHeaders := headersV1(r.Header)
	query, multiQuery := queryV1(r.RawQuery)
	body, encoded := bodyV1(r, o)
	return marshal(&eventV1{
		Version:                         "1.0",
		Resource:                        r.ResourcePath,
		Path:                            r.Path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multiHeaders,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  nilIfEmpty(r.PathParameters),
		StageVariables:                  nilIfEmpty(r.StageVariables),
		RequestContext:                  contextForV1(r),
		Body:                            body,
		IsBase64Encoded:                 encoded,
	})
}

func contextForV1(r *Request) contextV1 {
	return contextV1{
		AccountID:         r.AccountID,
		APIID:             r.APIID,
		Authorizer:        authorizerV1(r.Authorizer),
		DomainName:        r.DomainName,
		DomainPrefix:      domainPrefix(r.DomainName),
		ExtendedRequestID: r.RequestID,
		HTTPMethod:        r.Method,
		Identity: identityV1{
			APIKey:    nilIfBlank(r.APIKey),
			APIKeyID:  nilIfBlank(r.APIKeyID),
			SourceIP:  r.SourceIP,
			UserAgent: r.userAgent(),
		},
		Path:             r.rawPath(),
		Protocol:         r.protocol(),
		RequestID:        r.RequestID,
		RequestTime:      r.requestTime(),
		RequestTimeEpoch: r.Time.UnixMilli(),
		ResourceID:       nilIfBlank(r.ResourceID),
		ResourcePath:     r.ResourcePath,
		Stage:            r.Stage,
	}
}

// headersV1 returns the single-value (last value wins) and multi-value
// header maps, with names in canonical form.
func headersV1(h http.Header) (map[string]string, map[string][]string) {
	if len(h) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(h))
	multi := make(map[string][]string, len(h))
	// Sorted, so that names differing only in case merge in a stable order.
	for _, name := range slices.Sorted(maps.Keys(h)) {
		values := h[name]
		if len(values) == 0 {
			continue
		}
		name = http.CanonicalHeaderKey(name)
		multi[name] = append(multi[name], values...)
		single[name] = multi[name][len(multi[name])-1]
	}
	return nilIfEmpty(single), nilIfEmpty(multi)
}

// queryV1 returns the single-value (last value wins) and multi-value query
// maps, decoded.
func queryV1(raw string) (map[string]string, map[string][]string) {
	params := parseQuery(raw)
	if len(params) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(params))
	multi := make(map[string][]string, len(params))
	for _, p := range params {
		single[p.name] = p.value
		multi[p.name] = append(multi[p.name], p.value)
	}
	return single, multi
}

// bodyV1 returns the body as REST APIs send it: null when empty, base64 when
// the request's Content-Type is one of the API's binary media types.
func bodyV1(r *Request, o Options) (*string, bool) {
	if len(r.Body) == 0 {
		return nil, false
	}
	if matchesBinary(mediaType(r.Header.Get("Content-Type")), o.BinaryMediaTypes) {
		s := base64.StdEncoding.EncodeToString(r.Body)
		return &s, true
	}
	s := string(r.Body)
	return &s, false
}

// authorizerV1 flattens the authorizer output the way REST APIs do: a
// Lambda authorizer's principalId and context keys side by side, token
// claims under "claims".
func authorizerV1(a *Authorizer) map[string]any {
	if a == nil {
		return nil
	}
	m := make(map[string]any, len(a.Context)+3)
	for k, v := range a.Context {
		m[k] = v
	}
	if a.PrincipalID != "" {
		m["principalId"] = a.PrincipalID
	}
	if a.Claims != nil {
		m["claims"] = a.Claims
	}
	if a.Scopes != nil {
		m["scopes"] = a.Scopes
	}
	return m
}

func nilIfBlank(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
