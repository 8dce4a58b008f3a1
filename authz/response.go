package authz

import (
	"strconv"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
)

// Response headers. The rate-limit fields are those of the IETF RateLimit
// header fields draft as Envoy's own rate-limit filter emits them (draft
// 03, x-ratelimit-*): the limit, what is left of it, and the seconds until
// it is fully available again. HTTP field names are case-insensitive and
// Envoy sends them in lower case, so AWS's x-amzn-ErrorType is spelled so.
const (
	headerContentType = "content-type"
	headerErrorType   = "x-amzn-errortype"
	headerLimit       = "x-ratelimit-limit"
	headerRemaining   = "x-ratelimit-remaining"
	headerReset       = "x-ratelimit-reset"
	headerRetryAfter  = "retry-after"
)

// refusal is how API Gateway answers a refused request: a status, a JSON
// body with a message, and the error type in x-amzn-ErrorType.
type refusal struct {
	status    typev3.StatusCode
	code      codes.Code
	body      string
	errorType string
}

// refusalOf returns the answer to a request refused with o.
func refusalOf(o outcome) refusal {
	switch o {
	case outcomeThrottled:
		return refusal{
			typev3.StatusCode_TooManyRequests, codes.ResourceExhausted,
			`{"message":"Too Many Requests"}`, "TooManyRequestsException",
		}
	case outcomeQuotaExceeded:
		return refusal{
			typev3.StatusCode_TooManyRequests, codes.ResourceExhausted,
			`{"message":"Limit Exceeded"}`, "LimitExceededException",
		}
	case outcomeUnavailable:
		return refusal{
			typev3.StatusCode_ServiceUnavailable, codes.Unavailable,
			`{"message":"Service Unavailable"}`, "ServiceUnavailableException",
		}
	case outcomeInternal:
		return refusal{
			typev3.StatusCode_InternalServerError, codes.Internal,
			`{"message":"Internal server error"}`, "InternalServerErrorException",
		}
	default:
		return refusal{
			typev3.StatusCode_Forbidden, codes.PermissionDenied,
			`{"message":"Forbidden"}`, "ForbiddenException",
		}
	}
}

// deniedResponse tells Envoy to answer the client itself with the refusal of
// o, and with the rate-limit headers of l when it has any.
func deniedResponse(o outcome, l limits) *authv3.CheckResponse {
	r := refusalOf(o)
	headers := make([]*corev3.HeaderValueOption, 0, 6)
	headers = append(headers,
		header(headerContentType, "application/json"),
		header(headerErrorType, r.errorType))
	headers = append(headers, l.headers()...)
	return &authv3.CheckResponse{
		Status: &rpcstatus.Status{Code: int32(r.code)},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: r.status},
			Headers: headers,
			Body:    r.body,
		}},
	}
}

// headers returns the rate-limit headers of a refusal: none when l is not
// set, else the limit, what remains, when it resets and, when the client
// must wait, Retry-After.
func (l limits) headers() []*corev3.HeaderValueOption {
	if !l.set {
		return nil
	}
	limit, remaining, reset := l.values()
	out := []*corev3.HeaderValueOption{header(headerLimit, limit), header(headerRemaining, remaining), header(headerReset, reset)}
	if l.retryAfter > 0 {
		out = append(out, header(headerRetryAfter, strconv.FormatInt(seconds(l.retryAfter), 10)))
	}
	return out
}

// okReply holds every message of an allowed, metered response, so that the
// response costs one allocation besides its header values.
type okReply struct {
	resp   authv3.CheckResponse
	oneof  authv3.CheckResponse_OkResponse
	http   authv3.OkHttpResponse
	opts   [5]corev3.HeaderValueOption
	values [5]corev3.HeaderValue
	ptrs   [5]*corev3.HeaderValueOption
}

// okResponse lets the request through to the upstream with the key's and
// plan's IDs in the request headers keyIDHeader and planIDHeader, replacing
// any the request had, and gives the client the rate-limit headers of l.
func okResponse(ok *rpcstatus.Status, keyIDHeader, keyID, planIDHeader, planID string, l limits) *authv3.CheckResponse {
	r := new(okReply)
	n := 0
	set := func(name, value string) {
		r.values[n] = corev3.HeaderValue{Key: name, Value: value}
		r.opts[n] = corev3.HeaderValueOption{
			Header:       &r.values[n],
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		}
		r.ptrs[n] = &r.opts[n]
		n++
	}
	set(keyIDHeader, keyID)
	set(planIDHeader, planID)
	r.http.Headers = r.ptrs[0:2:2]
	if l.set {
		limit, remaining, reset := l.values()
		set(headerLimit, limit)
		set(headerRemaining, remaining)
		set(headerReset, reset)
		r.http.ResponseHeadersToAdd = r.ptrs[2:n:n]
	}
	r.oneof.OkResponse = &r.http
	r.resp.Status = ok
	r.resp.HttpResponse = &r.oneof
	return &r.resp
}

// header returns a header that replaces any of the same name.
func header(name, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: name, Value: value},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}

// values formats the rate-limit header values of l. They share one string,
// so that formatting them costs one allocation.
func (l limits) values() (limit, remaining, reset string) {
	var buf [64]byte
	b := strconv.AppendInt(buf[:0], l.limit, 10)
	i := len(b)
	b = strconv.AppendInt(b, l.remaining, 10)
	j := len(b)
	all := string(strconv.AppendInt(b, seconds(l.reset), 10))
	return all[:i], all[i:j], all[j:]
}

// seconds returns d in whole seconds, rounded up so that a client that
// waits that long finds the limit reset, and never negative.
func seconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return max(s, 0)
}
