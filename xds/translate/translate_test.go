package translate

import (
	"errors"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/archway-gateway/archway/internal/model"
)

func TestOptions(t *testing.T) {
	tests := map[string]struct {
		opts Options
		ip   string
		port uint32
		err  string // substring of the error; empty means valid
	}{
		"defaults":        {ip: "0.0.0.0", port: 8080},
		"dev":             {opts: DevOptions(), ip: "127.0.0.1", port: 8080},
		"loopback":        {opts: Options{GatewayAddr: "127.0.0.1:18080"}, ip: "127.0.0.1", port: 18080},
		"ipv6":            {opts: Options{GatewayAddr: "[::1]:443"}, ip: "::1", port: 443},
		"no port":         {opts: Options{GatewayAddr: "127.0.0.1"}, err: "missing port"},
		"host name":       {opts: Options{GatewayAddr: "localhost:8080"}, err: "must be an IP address"},
		"port zero":       {opts: Options{GatewayAddr: "127.0.0.1:0"}, err: "port must be within"},
		"port too high":   {opts: Options{GatewayAddr: "127.0.0.1:65536"}, err: "port must be within"},
		"zone":            {opts: Options{GatewayAddr: "[fe80::1%eth0]:80"}, err: "must be an IP address"},
		"bad base domain": {opts: Options{BaseDomain: "exa mple.com"}, err: "not a DNS name"},
		"empty label":     {opts: Options{BaseDomain: "example..com"}, err: "not a DNS name"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := tc.opts.resolve()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("resolve() error = %v, want one containing %q", err, tc.err)
				}
				if _, err := NewTranslator(tc.opts); err == nil {
					t.Error("NewTranslator accepted the options")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.listenIP != tc.ip || s.listenPort != tc.port {
				t.Errorf("listen on %s:%d, want %s:%d", s.listenIP, s.listenPort, tc.ip, tc.port)
			}
			if s.BaseDomain != DefaultBaseDomain || s.CAFile != DefaultCAFile {
				t.Errorf("defaults not applied: %+v", s.Options)
			}
		})
	}
}

func TestTranslateNilConfig(t *testing.T) {
	if _, err := Translate(nil, Options{}); err == nil {
		t.Fatal("Translate(nil) succeeded")
	}
}

// layouts are the two ways APIs are laid out in route configurations.
var layouts = map[string]Options{"host-style": {}, "path-style": {PathStyle: true}}

// TestTranslatorReusesUnchangedAPIs checks the cache in both layouts: an
// API whose pointer is unchanged keeps its translated virtual host (the
// same proto), a new pointer is translated again, APIs that left the Config
// leave the cache, and the result always equals an uncached translation.
func TestTranslatorReusesUnchangedAPIs(t *testing.T) {
	for name, opts := range layouts {
		t.Run(name, func(t *testing.T) {
			tr, err := NewTranslator(opts)
			if err != nil {
				t.Fatal(err)
			}
			a, b := cacheAPI(t, "aaaa", "/a"), cacheAPI(t, "bbbb", "/b")
			first := mustTranslate(t, tr, 1, a, b)

			b2, c := cacheAPI(t, "bbbb", "/b2"), cacheAPI(t, "cccc", "/c")
			second := mustTranslate(t, tr, 2, a, b2, c)
			if vhost(first, "aaaa") != vhost(second, "aaaa") {
				t.Error("unchanged API aaaa was translated again")
			}
			if vhost(first, "bbbb") == vhost(second, "bbbb") {
				t.Error("changed API bbbb was not translated again")
			}
			if !strings.Contains(vhost(second, "bbbb").String(), "/b2") {
				t.Error("API bbbb's virtual host is not the new one's")
			}
			assertEqualResources(t, second, opts, a, b2, c)

			third := mustTranslate(t, tr, 3, c)
			if len(tr.cache) != 1 || tr.cache[c] == nil {
				t.Errorf("cache holds %d APIs after a Config with one", len(tr.cache))
			}
			assertEqualResources(t, third, opts, c)
			again := mustTranslate(t, tr, 4, a, c)
			if vhost(again, "aaaa") == vhost(first, "aaaa") {
				t.Error("API aaaa came back from the cache after it had left the Config")
			}
		})
	}
}

func cacheAPI(t *testing.T, id, path string) *model.API {
	t.Helper()
	p, err := model.ParsePathTemplate(path)
	if err != nil {
		t.Fatal(err)
	}
	in := &model.Integration{ID: "i", HTTPProxy: &model.HTTPProxy{URI: "http://backend.internal" + path, Timeout: model.DefaultTimeout}}
	d, err := model.NewDeployment("d", []*model.Route{{ID: "r", Method: "GET", Path: p, Integration: in}}, []*model.Integration{in})
	if err != nil {
		t.Fatal(err)
	}
	api, err := model.NewAPI(id, id, model.ProtocolHTTP, []*model.Stage{{Name: "prod", Deployment: d}})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func mustTranslate(t *testing.T, tr *Translator, rev int64, apis ...*model.API) Resources {
	t.Helper()
	cfg, err := model.NewConfig(rev, apis)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Translate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// vhost returns an API's virtual host, from whichever route configuration
// holds it.
func vhost(res Resources, apiID string) *routev3.VirtualHost {
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			if vh.GetName() == virtualHostName(apiID) {
				return vh
			}
		}
	}
	return nil
}

// assertEqualResources checks got against an uncached translation of apis.
func assertEqualResources(t *testing.T, got Resources, opts Options, apis ...*model.API) {
	t.Helper()
	cfg, err := model.NewConfig(1, apis)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Translate(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	for typ, list := range want.ByType() {
		gotList := got.ByType()[typ]
		if len(gotList) != len(list) {
			t.Fatalf("%s: %d resources, want %d", typ, len(gotList), len(list))
		}
		for i := range list {
			if !proto.Equal(gotList[i], list[i]) {
				t.Errorf("%s %d differs from an uncached translation", typ, i)
			}
		}
	}
}

func TestPrecedence(t *testing.T) {
	tests := map[string]struct {
		routes []string // "METHOD /path", in any order
		want   []string // most specific first
	}{
		"literal, param, greedy": {
			routes: []string{"GET /{proxy+}", "GET /pets/{id}", "GET /pets/dog", "GET /pets/{rest+}"},
			want:   []string{"GET /pets/dog", "GET /pets/{id}", "GET /pets/{rest+}", "GET /{proxy+}"},
		},
		"leftmost difference decides": {
			routes: []string{"GET /{a}/dog", "GET /pets/{b}"},
			want:   []string{"GET /pets/{b}", "GET /{a}/dog"},
		},
		"param beats greedy at the same depth": {
			routes: []string{"GET /a/{p+}", "GET /a/{x}/b"},
			want:   []string{"GET /a/{x}/b", "GET /a/{p+}"},
		},
		"explicit method before ANY": {
			routes: []string{"ANY /items/{id}", "PUT /items/{id}", "DELETE /items/{id}"},
			want:   []string{"DELETE /items/{id}", "PUT /items/{id}", "ANY /items/{id}"},
		},
		"path before method": {
			routes: []string{"GET /{proxy+}", "ANY /items/{id}"},
			want:   []string{"ANY /items/{id}", "GET /{proxy+}"},
		},
		"root first": {
			routes: []string{"GET /{proxy+}", "GET /"},
			want:   []string{"GET /", "GET /{proxy+}"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var routes []*model.Route
			for i, s := range tc.routes {
				method, path, _ := strings.Cut(s, " ")
				p, err := model.ParsePathTemplate(path)
				if err != nil {
					t.Fatal(err)
				}
				routes = append(routes, &model.Route{ID: string(rune('z' - i)), Method: method, Path: p})
			}
			var got []string
			for _, r := range byPrecedence(routes) {
				got = append(got, r.Method+" "+r.Path.String())
			}
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
				t.Errorf("order = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestResolveUpstream(t *testing.T) {
	vars := map[string]string{"host": "api.example.com", "port": "8443", "v": "v2"}
	tests := map[string]struct {
		uri     string
		cluster string
		host    string // Host header
		path    string // rendered with parameters kept as {name}
		err     string // substring of the error; empty means valid
	}{
		"http default port":  {uri: "http://Backend.Internal/x", cluster: "http|backend.internal|80", host: "backend.internal", path: "/x"},
		"https default port": {uri: "https://b.example/", cluster: "https|b.example|443", host: "b.example", path: "/"},
		"no path":            {uri: "http://b.example", cluster: "http|b.example|80", host: "b.example", path: "/"},
		"explicit port":      {uri: "http://b.example:8080/x", cluster: "http|b.example|8080", host: "b.example:8080", path: "/x"},
		"default port given": {uri: "https://b.example:443/x", cluster: "https|b.example|443", host: "b.example", path: "/x"},
		"ipv4":               {uri: "http://10.1.2.3:81", cluster: "http|10.1.2.3|81", host: "10.1.2.3:81", path: "/"},
		"ipv6":               {uri: "http://[2001:DB8::1]:81/a", cluster: "http|2001:db8::1|81", host: "[2001:db8::1]:81", path: "/a"},
		"stage variables":    {uri: "https://${stageVariables.host}:${stageVariables.port}/${stageVariables.v}/{id}", cluster: "https|api.example.com|8443", host: "api.example.com:8443", path: "/v2/{id}"},
		"params in segment":  {uri: "http://b/{id}.json/{proxy}", cluster: "http|b|80", host: "b", path: "/{id}.json/{proxy}"},
		"percent-encoded":    {uri: "http://b/a%20b", cluster: "http|b|80", host: "b", path: "/a%20b"},
		"undefined variable": {uri: "http://${stageVariables.nope}/", err: `stage variable "nope"`},
		"unterminated var":   {uri: "http://${stageVariables.host/", err: "malformed"},
		"credentials":        {uri: "http://user:secret@b/", err: "credentials"},
		"query":              {uri: "http://b/x?secret=1", err: "query string"},
		"fragment":           {uri: "http://b/x#secret", err: "fragment"},
		"bad port":           {uri: "http://b:0/", err: "port"},
		"port not a number":  {uri: "http://b:secret/", err: "port"},
		"bad host":           {uri: "http://se cret/", err: "host"},
		"unbracketed ipv6":   {uri: "http://::1/", err: "host"},
		"bracketed ipv4":     {uri: "http://[10.0.0.1]/", err: "host"},
		"zone":               {uri: "http://[fe80::1%25eth0]/", err: "host"},
		"unterminated ipv6":  {uri: "http://[::1/", err: "unterminated"},
		"empty host":         {uri: "http:///x", err: "host"},
		"space in path":      {uri: "http://b/se cret", err: "percent-encoded"},
		"bad percent":        {uri: "http://b/%zz", err: "percent-encoded"},
		"malformed param":    {uri: "http://b/{se-cret}", err: "malformed {param}"},
		"unclosed param":     {uri: "http://b/{secret", err: "malformed {param}"},
		"scheme":             {uri: "ftp://b/", err: "http or https"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			u, err := resolveUpstream(tc.uri, vars)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q quotes the URI", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			all := make(map[string]string)
			for _, p := range u.path {
				if p.param {
					all[p.text] = p.text
				}
			}
			if u.clusterName() != tc.cluster || u.hostHeader() != tc.host || renderPath(u.path, all) != tc.path {
				t.Errorf("got cluster %q, host %q, path %q; want %q, %q, %q",
					u.clusterName(), u.hostHeader(), renderPath(u.path, all), tc.cluster, tc.host, tc.path)
			}
		})
	}
}

func TestProblemError(t *testing.T) {
	cause := errors.New("boom")
	tests := map[string]struct {
		p    Problem
		want string
	}{
		"api":   {p: Problem{APIID: "a1", Err: cause}, want: "API a1: boom"},
		"stage": {p: Problem{APIID: "a1", Stage: "prod", Err: cause}, want: "API a1 stage prod: boom"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.p.Error() != tc.want {
				t.Errorf("Error() = %q, want %q", tc.p.Error(), tc.want)
			}
			if !errors.Is(tc.p, cause) {
				t.Error("Problem does not unwrap to its cause")
			}
		})
	}
}
