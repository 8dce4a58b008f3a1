package translate

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/archway-gateway/archway/envoy"
	"github.com/archway-gateway/archway/extproc"
	"github.com/archway-gateway/archway/internal/model"
	"github.com/archway-gateway/archway/internal/testutil/testenvoy"
	"github.com/archway-gateway/archway/internal/testutil/testnet"
)

// TestEnvoyAnswersLikeAPIGateway runs the real Envoy on a translation of
// testdata/live/localreply.yaml and checks Envoy's own replies: API
// Gateway's defaults from the local reply mappers for an API that
// customizes nothing (a backend that does not answer within the route's
// timeout, a refused connection), a mock's own 504 left alone, and, for an
// API that customizes them, the answers of the ext_proc service, which
// sees Envoy's reply on a stream opened at the response and the not-found
// request before the route's direct response. (The path the service reads
// at the response is the backend's: the router rewrote it.) Envoy's
// /config_dump shows it took the local reply configuration.
func TestEnvoyAnswersLikeAPIGateway(t *testing.T) {
	bin := testenvoy.Binary(t)
	backend := httptest.NewServer(http.HandlerFunc(echoHandler))
	t.Cleanup(backend.Close)
	_, services := serveProcStandIn(t, func(r extproc.RouteMetadata) extproc.Processor {
		if r.APIID != "liveerr002" {
			return nil
		}
		return extproc.Funcs{Modes: extproc.Mode{ResponseHeaders: true}, OnRequest: standInNotFound, OnResponse: standInLocalReply}
	})
	gateway, admin := startLocalReplyGateway(t, bin, strings.TrimPrefix(backend.URL, "http://"), testnet.ClosedAddr(t), services)

	const internal = "InternalServerErrorException"
	for name, c := range map[string]struct {
		host, path string
		status     int
		body       string
		errorType  string
	}{
		"timeout":               {"liveerr001", "/prod/slow", 504, `{"message":"Endpoint request timed out"}`, internal},
		"connection refused":    {"liveerr001", "/prod/refused", 504, `{"message":"Network error communicating with endpoint"}`, internal},
		"mock's 504 left alone": {"liveerr001", "/prod/mock", 504, `{"mock":true}`, ""},
		"not found":             {"liveerr001", "/prod/nothing", 403, `{"message":"Missing Authentication Token"}`, "MissingAuthenticationTokenException"},
		"customized timeout":    {"liveerr002", "/prod/slow", 599, `{"type":"INTEGRATION_TIMEOUT","path":"/slow"}`, ""},
		"customized not found":  {"liveerr002", "/prod/nothing", 404, `{"route":"$not_found","stage":""}`, ""},
		"customized API's not found outside stages": {"liveerr002", "/other", 404, `{"route":"$not_found","stage":""}`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			resp, data := send(t, gateway, "GET", c.host+".execute-api.localhost", c.path, "", nil)
			if resp.StatusCode != c.status || string(data) != c.body {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, data, c.status, c.body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content-type %q", ct)
			}
			if et := resp.Header.Get("X-Amzn-Errortype"); et != c.errorType {
				t.Errorf("x-amzn-errortype %q, want %q", et, c.errorType)
			}
		})
	}
	t.Run("backend's answer passes the customizing API's processor", func(t *testing.T) {
		resp, data := send(t, gateway, "GET", "liveerr002.execute-api.localhost", "/prod/ok", "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("X-Upstream") != "GET /ok" {
			t.Errorf("got %d %s", resp.StatusCode, data)
		}
	})
	t.Run("config_dump", func(t *testing.T) {
		dump, err := envoy.NewAdminClient(admin).ConfigDumpJSON(context.Background(), "static_listeners")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"local_reply_config", "request_payload_too_large", "Endpoint request timed out", "response.code_details"} {
			if !strings.Contains(string(dump), want) {
				t.Errorf("Envoy's listener config has no %q", want)
			}
		}
	})
}

// standInNotFound answers the customizing API's not-found requests with
// the IDs Envoy sent.
func standInNotFound(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	if x.Route.RouteID != model.NotFoundRouteID {
		return nil, nil
	}
	body, err := json.Marshal(struct {
		Route string `json:"route"`
		Stage string `json:"stage"`
	}{x.Route.RouteID, x.Route.Stage})
	return extproc.Respond(404, extproc.Headers{{Name: "content-type", Value: "application/json"}}, body), err
}

// standInLocalReply answers Envoy's own replies with their gateway
// response type and the request's path, and passes the backend's.
func standInLocalReply(_ context.Context, x *extproc.Exchange) (*extproc.Decision, error) {
	if x.LocalReply == "" {
		return nil, nil
	}
	body, err := json.Marshal(struct {
		Type string `json:"type"`
		Path string `json:"path"`
	}{string(extproc.LocalReplyType(x.LocalReply, x.Status)), x.Path})
	return extproc.Respond(599, extproc.Headers{{Name: "content-type", Value: "application/json"}}, body), err
}

// startLocalReplyGateway is startLiveGateway with REFUSED replaced too and
// an admin listener, whose address it returns with the gateway's.
func startLocalReplyGateway(t *testing.T, bin, backend, refused, servicesAddr string) (gateway, admin string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "live", "localreply.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("BACKEND", backend, "REFUSED", refused).Replace(string(data))
	cfg, opts, err := parseFixture([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	opts.GatewayAddr = testnet.ClosedAddr(t)
	res, err := Translate(cfg, opts)
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("Translate: %v %v", err, res.Problems)
	}
	b, err := staticBootstrap(&res, servicesAddr)
	if err != nil {
		t.Fatal(err)
	}
	admin = testnet.ClosedAddr(t)
	b.Admin = &bootstrapv3.Admin{Address: socketAddress(t, admin)}
	runEnvoy(t, bin, b)
	waitForGateway(t, opts.GatewayAddr)
	return opts.GatewayAddr, admin
}

// socketAddress is the Envoy address of HOST:PORT addr.
func socketAddress(t *testing.T, addr string) *corev3.Address {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(p)},
	}}}
}
