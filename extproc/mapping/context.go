package mapping

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/archway-gateway/archway/extproc/jsonpath"
	"github.com/archway-gateway/archway/extproc/vtl"
)

// requestTimeLayout is the Common Log Format time API Gateway gives as
// $context.requestTime, for example 09/Apr/2015:12:34:56 +0000.
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// contextSize is the most entries contextMap sets.
const contextSize = 20

// contextMap builds $context. Optional values that are not set are left
// out, so that they read as null, as on API Gateway.
func contextMap(r *Request) *vtl.Map {
	m := vtl.NewMapCap(contextSize)
	setIf(m, "accountId", r.AccountID)
	setIf(m, "apiId", r.APIID)
	m.Set("authorizer", authorizerMap(r.Authorizer))
	setIf(m, "domainName", r.DomainName)
	if prefix, _, _ := strings.Cut(r.DomainName, "."); prefix != "" {
		m.Set("domainPrefix", prefix)
	}
	if r.Error != nil {
		m.Set("error", errorMap(r.Error))
	}
	setIf(m, "extendedRequestId", r.ExtendedRequestID)
	setIf(m, "httpMethod", r.Method)
	m.Set("identity", identityMap(r))
	setIf(m, "path", r.Path)
	setIf(m, "protocol", r.Protocol)
	setIf(m, "requestId", r.RequestID)
	if !r.Time.IsZero() {
		m.Set("requestTime", r.Time.UTC().Format(requestTimeLayout))
		m.Set("requestTimeEpoch", r.Time.UnixMilli())
	}
	setIf(m, "resourceId", r.ResourceID)
	setIf(m, "resourcePath", r.ResourcePath)
	setIf(m, "stage", r.Stage)
	m.Set("requestOverride", overrideMap("header", "path", "querystring"))
	m.Set("responseOverride", overrideMap("header"))
	return m
}

func setIf(m *vtl.Map, key, value string) {
	if value != "" {
		m.Set(key, value)
	}
}

func identityMap(r *Request) *vtl.Map {
	m := vtl.NewMapCap(4)
	setIf(m, "apiKey", r.APIKey)
	setIf(m, "apiKeyId", r.APIKeyID)
	setIf(m, "sourceIp", r.SourceIP)
	ua := r.UserAgent
	if ua == "" {
		ua, _ = header(r.Header, "User-Agent")
	}
	setIf(m, "userAgent", ua)
	return m
}

// errorMap builds $context.error. messageString is the message as a JSON
// string literal, quotes included, so that a template can write
// {"message": $context.error.messageString}.
func errorMap(e *ErrorInfo) *vtl.Map {
	m := vtl.NewMapCap(4)
	m.Set("message", e.Message)
	m.Set("messageString", jsonpath.Encode(e.Message))
	m.Set("responseType", e.ResponseType)
	m.Set("validationErrorString", e.ValidationErrorString)
	return m
}

// authorizerMap builds $context.authorizer. API Gateway gives templates the
// authorizer's context values as strings ("numKey": 1 reads as "1"); a
// nested map, such as a JWT authorizer's claims, stays a map of strings.
func authorizerMap(a map[string]any) *vtl.Map {
	out := vtl.NewMapCap(len(a))
	for _, k := range sortedKeys(a) {
		switch v := a[k].(type) {
		case map[string]any:
			out.Set(k, authorizerMap(v))
		case map[string]string:
			out.Set(k, stringMap(v))
		default:
			out.Set(k, stringify(v))
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Sorted for a stable rendering; API Gateway's order is unspecified.
	sort.Strings(keys)
	return keys
}

// stringify renders an authorizer value as API Gateway does: numbers
// without a needless fraction, booleans as true/false, anything else as
// JSON text.
func stringify(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	case int, int64, int32, uint, uint64, uint32:
		return fmt.Sprint(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func overrideMap(keys ...string) *vtl.Map {
	m := vtl.NewMapCap(len(keys))
	for _, k := range keys {
		m.Set(k, vtl.NewMap())
	}
	return m
}
