package testinvoke

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/extproc/mapping"
	"github.com/archway-gateway/archway/internal/model"
	adminv1 "github.com/archway-gateway/archway/proto/archway/admin/v1"
)

// target is where the translator's route sends a request: the endpoint's
// scheme and authority, the Host it expects, the path of an HTTP proxy
// (other integrations' processors set the path), and the timeout.
type target struct {
	origin, host string
	// path is the HTTP proxy's request target: the URI's path with the
	// route's parameters substituted as sent, and the client's query.
	path    string
	timeout time.Duration
}

// endpointTarget is the target of route's integration on stage for a
// request to target (inside the API), or an error when the translator
// would refuse to serve the route. A MOCK has none.
func endpointTarget(route *model.Route, st *model.Stage, requestTarget string) (*target, error) {
	var uri string
	t := &target{}
	switch in := route.Integration; {
	case in.HTTPProxy != nil:
		uri, t.timeout = in.HTTPProxy.URI, in.HTTPProxy.Timeout
	case in.Function != nil:
		uri, t.timeout = in.Function.URI, in.Function.Timeout
	case in.HTTP != nil:
		uri, t.timeout = in.HTTP.URI, in.HTTP.Timeout
	default:
		return nil, nil
	}
	s, err := model.SubstituteStageVariables(uri, st.Variables)
	if err != nil {
		return nil, err
	}
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || scheme != "http" && scheme != "https" {
		return nil, errors.New("integration URI must be an http or https URL")
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, path := rest[:end], rest[end:]
	if strings.ContainsAny(path, "?#") || strings.Contains(authority, "@") {
		return nil, errors.New("integration URI must have neither a query string, a fragment nor credentials")
	}
	if t.origin, t.host, err = origin(scheme, authority); err != nil {
		return nil, err
	}
	if route.Integration.HTTPProxy != nil {
		t.path, err = proxyPath(path, route.Path, requestTarget)
	}
	return t, err
}

// origin checks an endpoint's authority and returns its origin and the
// Host the translator's route sends: the host in lower case, with the
// port only when it is not the scheme's default.
func origin(scheme, authority string) (string, string, error) {
	u, err := url.Parse(scheme + "://" + authority)
	if err != nil || u.Hostname() == "" {
		return "", "", errors.New("integration URI host must be a DNS name or an IP address")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
			return "", "", errors.New("integration URI port must be within [1, 65535]")
		}
	}
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		return scheme + "://" + host, host, nil
	}
	return scheme + "://" + host + ":" + port, host + ":" + port, nil
}

// proxyPath is the path an HTTP proxy route rewrites a request to: the
// URI's path ("/" when it has none) with each {param} replaced by the
// value the route's template captured, as sent, then the client's query
// string, which Envoy keeps.
func proxyPath(uriPath string, t model.PathTemplate, requestTarget string) (string, error) {
	if uriPath == "" {
		uriPath = "/"
	}
	params := rawParams(t, pathOnly(requestTarget))
	var b strings.Builder
	for range len(uriPath) {
		open := strings.IndexByte(uriPath, '{')
		if open < 0 {
			b.WriteString(uriPath)
			break
		}
		b.WriteString(uriPath[:open])
		name, rest, ok := strings.Cut(uriPath[open+1:], "}")
		v, known := params[name]
		if !ok || !known {
			return "", fmt.Errorf("integration URI uses {%s}, which is not a parameter of the route's path", name)
		}
		b.WriteString(v)
		uriPath = rest
	}
	if _, q, ok := strings.Cut(requestTarget, "?"); ok {
		b.WriteString("?" + q)
	}
	return b.String(), nil
}

// endpoint calls the route's integration with the exchange's request, as
// Envoy's route would, and records the endpoint request and response.
func (r *run) endpoint(ctx context.Context) response {
	in := r.route.Integration
	if in.Mock != nil {
		resp := mockResponse(in.Mock)
		r.steps = append(r.steps, &adminv1.TestInvokeStep{
			Name: "endpoint response", Status: int32(resp.status), Headers: headerValues(resp.headers), Body: resp.body,
			Detail: "the MOCK integration's static response, which Envoy sends itself",
		})
		return resp
	}
	url := r.target.origin + r.target.path
	switch {
	case in.Function != nil:
		url = r.target.origin + in.Function.InvokePath // the route's rewrite of the whole path
	case in.HTTP != nil:
		url = r.target.origin + r.x.Path // the request target the processor set
	}
	headers := append(extproc.Headers{{Name: headerHost, Value: r.target.host}}, sendable(r.x.Headers)...)
	body := r.x.Body
	r.steps = append(r.steps, &adminv1.TestInvokeStep{
		Name: "endpoint request", Method: r.x.Method, Url: url, Headers: headerValues(headers), Body: body,
		Detail: joinDetail(fmt.Sprintf("timeout %v", r.target.timeout), r.drainLogs()),
	})
	resp, detail := r.iv.send(ctx, r.x.Method, url, headers, body, r.target.timeout)
	r.steps = append(r.steps, &adminv1.TestInvokeStep{
		Name: "endpoint response", Status: int32(resp.status), Headers: headerValues(resp.headers), Body: resp.body,
		Detail: detail,
	})
	return resp
}

// sendable are the request headers that go to the endpoint as headers:
// all but the framing, which the body decides, and Host, which the route
// rewrites.
func sendable(h extproc.Headers) extproc.Headers {
	out := make(extproc.Headers, 0, len(h))
	for _, f := range h {
		switch f.Name {
		case headerHost, headerContentLength, "transfer-encoding", "connection", "keep-alive", "te", "upgrade":
		default:
			out = append(out, f)
		}
	}
	return out
}

// mockResponse is Envoy's direct response for a simple MOCK: its status,
// headers in lower case sorted by name, a Content-Type of
// application/json unless the mock sets one, and its body.
func mockResponse(m *model.Mock) response {
	resp := response{status: m.StatusCode, body: []byte(m.Body)}
	names := slices.Sorted(maps.Keys(m.Headers))
	if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, headerContentType) }) {
		resp.headers = append(resp.headers, extproc.Header{Name: headerContentType, Value: "application/json"})
	}
	for _, n := range names {
		resp.headers = append(resp.headers, extproc.Header{Name: strings.ToLower(n), Value: m.Headers[n]})
	}
	fixLength(&resp.headers, len(resp.body), true)
	return resp
}

// send makes one request to an endpoint and returns its response, or
// Envoy's own reply when there is none (see envoyReply): after the
// timeout, or when the endpoint cannot be reached or breaks the exchange
// off. The detail says which, and when the body was cut at the limit.
func (iv *Invoker) send(ctx context.Context, method, url string, headers extproc.Headers, body []byte, timeout time.Duration) (response, string) {
	client, err := iv.client()
	if err != nil {
		return iv.envoyReply(detailsFailure), "Envoy's reply: the endpoint's TLS settings: " + err.Error()
	}
	defer client.CloseIdleConnections()
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, method, url, bytes.NewReader(body))
	if err != nil {
		return iv.envoyReply(detailsFailure), "Envoy's reply: the endpoint request: " + err.Error()
	}
	for _, h := range headers {
		if h.Name == headerHost {
			req.Host = h.Value
			continue
		}
		req.Header[http.CanonicalHeaderKey(h.Name)] = append(req.Header[http.CanonicalHeaderKey(h.Name)], h.Value)
	}
	resp, err := client.Do(req)
	var data []byte
	if err == nil {
		data, err = io.ReadAll(io.LimitReader(resp.Body, int64(iv.opts.MaxBody)+1))
		_ = resp.Body.Close()
	}
	switch {
	case err != nil && callCtx.Err() != nil && ctx.Err() == nil:
		return iv.envoyReply(detailsTimeout),
			fmt.Sprintf("Envoy's reply: the endpoint did not answer within the integration's timeout of %v", timeout)
	case err != nil:
		return iv.envoyReply(detailsFailure), "Envoy's reply: the endpoint failed: " + err.Error()
	}
	out := response{status: resp.StatusCode, headers: fromHTTPHeader(resp.Header)}
	if !out.headers.Has(headerContentLength) && resp.ContentLength >= 0 {
		out.headers = append(out.headers, extproc.Header{Name: headerContentLength, Value: strconv.FormatInt(resp.ContentLength, 10)})
	}
	detail := ""
	if len(data) > iv.opts.MaxBody {
		data, out.cut = data[:iv.opts.MaxBody], true
		detail = fmt.Sprintf("the body is cut at %d bytes", iv.opts.MaxBody)
	}
	out.body = data
	return out, detail
}

// fromHTTPHeader is h in lower case, sorted by name, values in order.
func fromHTTPHeader(h http.Header) extproc.Headers {
	out := make(extproc.Headers, 0, len(h))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			out = append(out, extproc.Header{Name: strings.ToLower(name), Value: v})
		}
	}
	return out
}

// Envoy's response code details of its own replies for a failed
// endpoint, which the ext_proc service reads as Exchange.LocalReply.
const (
	detailsTimeout = "response_timeout"
	detailsFailure = "upstream_reset_before_response_started{remote_connection_failure}"
)

// envoyReply is Envoy's own reply with the response code details: its
// local reply mappers (the translator's) make it API Gateway's default
// gateway response of the type extproc.LocalReplyType gives the details
// (INTEGRATION_TIMEOUT or INTEGRATION_FAILURE); a processor that sees the
// response may render the API's own in its place.
func (iv *Invoker) envoyReply(details string) response {
	resp := response{status: http.StatusGatewayTimeout, localReply: details}
	info := mapping.ErrorInfo{Message: extproc.LocalReplyMessage(details)}
	r, err := iv.defaults.Render(extproc.LocalReplyType(details, resp.status), nil, info, "")
	if err != nil { // the defaults always render; keep Envoy's status
		return resp
	}
	resp.status, resp.body, resp.headers = r.Status, r.Body, fromHTTPHeader(r.Headers)
	fixLength(&resp.headers, len(resp.body), true)
	return resp
}

// client returns an HTTP client that behaves as Envoy's cluster towards
// the endpoint: no proxy from the environment, no redirects followed, no
// compression asked for, HTTPS verified against the CA file.
func (iv *Invoker) client() (*http.Client, error) {
	tr := &http.Transport{
		DisableCompression: true,
		ForceAttemptHTTP2:  false,
		TLSClientConfig:    &tls.Config{MinVersion: tls.VersionTLS12},
	}
	if iv.opts.CAFile != "" {
		pem, err := os.ReadFile(iv.opts.CAFile)
		if err != nil {
			return nil, err
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificates", iv.opts.CAFile)
		}
		tr.TLSClientConfig.RootCAs = roots
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}
