package integration

import (
	"net/url"
	"strings"
	"time"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/gatewayresponse"
	"github.com/archway-gateway/archway/extproc/lambda"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/internal/model"
)

// Request headers Envoy sets that name the request and its client.
const (
	// headerRequestID is the id Envoy generates for every request (the
	// HTTP connection manager's generate_request_id), which is also in its
	// access log.
	headerRequestID = "x-request-id"
	// headerExternalAddress is the client's address, which Envoy sets
	// (with use_remote_address) only for requests from outside its
	// internal networks.
	headerExternalAddress = "x-envoy-external-address"
	// headerForwardedFor ends with the address of the peer that connected
	// to Envoy, which Envoy appends (with use_remote_address), after the
	// addresses that trusted proxies in front of it appended.
	headerForwardedFor = "x-forwarded-for"
	headerAccept       = "accept"
	headerContentType  = "content-type"
)

// routeRequest is what a processor knows of the route a request matched.
type routeRequest struct {
	api   *model.API
	stage *model.Stage
	route *model.Route
	// resourcePath is route.Path's text, made once with the processor.
	resourcePath string
	// prefixes are the path prefixes that may address the API and stage,
	// in the order apiPath tries them, made once with the processor.
	prefixes [4]string
	// responses are the API's gateway responses.
	responses *gatewayresponse.Set
}

// newRouteRequest describes route of stage of api, whose gateway responses
// are responses, once per configuration change rather than per request.
func newRouteRequest(api *model.API, stage *model.Stage, route *model.Route, responses *gatewayresponse.Set) routeRequest {
	st := "/" + stage.Name
	return routeRequest{
		api: api, stage: stage, route: route, resourcePath: route.Path.String(), responses: responses,
		prefixes: [...]string{"/" + api.ID + st, st, "/" + api.ID, ""},
	}
}

// caller is what both descriptions of a request, the mapping templates'
// and the function's event, take from its headers about who sent it, when
// and to which host.
type caller struct {
	requestID, sourceIP, domainName, apiKeyID string
	time                                      time.Time
}

// caller reads x's caller.
func (l *lookup) caller(x *extproc.Exchange) caller {
	return caller{
		requestID:  x.Headers.Get(headerRequestID),
		sourceIP:   sourceIP(x.Headers, l.opts.XFFTrustedHops),
		domainName: mapping.HostOnly(x.Authority),
		apiKeyID:   x.Headers.Get(l.opts.APIKeyIDHeader),
		time:       l.opts.Now(),
	}
}

// mappingRequest builds what mapping templates see of x: the method
// request (its parameters and body) and the context Envoy and the route
// give it. Its headers are the client's, without those Envoy and
// Archway's services use among themselves (x-envoy-*, x-archway-*), as a
// function's event (see eventHeaders): the caller's API key ID is
// $context.identity.apiKeyId, not a header.
func (l *lookup) mappingRequest(x *extproc.Exchange, rr routeRequest) *mapping.Request {
	path, rawQuery, _ := strings.Cut(x.Path, "?")
	c := l.caller(x)
	r := &mapping.Request{
		Method:         x.Method,
		Path:           path,
		ResourcePath:   rr.resourcePath,
		ResourceID:     rr.route.ID,
		PathParams:     pathParams(path, rr),
		Query:          mapping.ParseQuery(rawQuery),
		Header:         make([]mapping.Param, 0, len(x.Headers)),
		Body:           x.Body,
		Stage:          rr.stage.Name,
		StageVariables: rr.stage.Variables,
		RequestID:      c.requestID,
		Time:           c.time,
		SourceIP:       c.sourceIP,
		DomainName:     c.domainName,
		APIID:          rr.api.ID,
		APIKeyID:       c.apiKeyID,
	}
	for _, h := range x.Headers {
		if !internalHeader(h.Name) {
			r.Header = append(r.Header, mapping.Param{Name: h.Name, Value: h.Value})
		}
	}
	return r
}

// lambdaRequest is what the proxy event says about x: the client's
// request, the route it matched, its stage and its caller.
func (l *lookup) lambdaRequest(x *extproc.Exchange, rr routeRequest) *lambda.Request {
	rawPath, rawQuery, _ := strings.Cut(x.Path, "?")
	inner, params := apiPath(rawPath, rr)
	c := l.caller(x)
	return &lambda.Request{
		Method:         x.Method,
		Path:           inner,
		RawPath:        rawPath,
		RawQuery:       rawQuery,
		Header:         eventHeaders(x.Headers),
		Body:           x.Body,
		RouteKey:       rr.route.Key(),
		ResourcePath:   rr.resourcePath,
		ResourceID:     rr.route.ID,
		PathParameters: paramMap(params),
		Stage:          rr.stage.Name,
		StageVariables: rr.stage.Variables,
		RequestID:      c.requestID,
		Time:           c.time,
		SourceIP:       c.sourceIP,
		DomainName:     c.domainName,
		APIID:          rr.api.ID,
		APIKeyID:       c.apiKeyID,
	}
}

// pathParams matches the request path against the route's template after
// the prefix that addresses the API and stage (see apiPath). Values are
// percent-decoded, as API Gateway passes them to templates.
func pathParams(path string, rr routeRequest) []mapping.Param {
	if len(rr.route.Path.Params()) == 0 {
		return nil
	}
	_, params := apiPath(path, rr)
	return params
}

// apiPath splits the request path into the path inside the API and the
// values of the route template's parameters. The client addresses the API
// and stage with a prefix: /{stage} on the API's own host, /{apiId}/{stage}
// on any other, either without the stage segment for the $default stage.
// The prefix is the one after which the rest matches the route's template;
// a path none fits is returned whole, without parameters.
func apiPath(path string, rr routeRequest) (string, []mapping.Param) {
	for _, prefix := range rr.prefixes {
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok || rest != "" && rest[0] != '/' {
			continue
		}
		if params, ok := matchTemplate(rr.route.Path, rest); ok {
			if rest == "" {
				rest = "/"
			}
			return rest, params
		}
	}
	return path, nil
}

// matchTemplate matches path against t segment by segment.
func matchTemplate(t model.PathTemplate, path string) ([]mapping.Param, bool) {
	raw, ok := t.Match(path)
	if !ok {
		return nil, false
	}
	out := make([]mapping.Param, len(raw))
	for i, p := range raw {
		out[i] = mapping.Param{Name: p.Name, Value: unescapePath(p.Value)}
	}
	return out, true
}

// unescapePath percent-decodes a path segment, or returns it as it is
// when it is not valid percent-encoding.
func unescapePath(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// sourceIP is the client's address: the one Envoy found for an external
// request, else the entry of x-forwarded-for that trustedHops proxies
// before it point to (the last one, Envoy's peer, without trusted hops).
func sourceIP(h extproc.Headers, trustedHops int) string {
	if a := h.Get(headerExternalAddress); a != "" {
		return a
	}
	var addrs []string
	for _, v := range h.Values(headerForwardedFor) {
		for a := range strings.SplitSeq(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				addrs = append(addrs, a)
			}
		}
	}
	if len(addrs) == 0 {
		return ""
	}
	return addrs[max(len(addrs)-1-trustedHops, 0)]
}
