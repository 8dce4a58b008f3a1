package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// defaultAddr is where `archway serve` listens for the admin API unless
// told otherwise: loopback only, so a fresh install is not open to the
// network.
const defaultAddr = "127.0.0.1:9090"

// connFlags are the global flags that say how to reach the admin API.
type connFlags struct {
	addr       string
	tokenFile  string
	caFile     string
	certFile   string
	keyFile    string
	serverName string
	timeout    time.Duration
}

// register adds the flags to fs, with defaults from the environment where
// one is documented, so that a shell profile can point every command at a
// gateway.
func (f *connFlags) register(fs *pflag.FlagSet, getenv func(string) string) {
	addr := getenv("ARCHWAY_ADDR")
	if addr == "" {
		addr = defaultAddr
	}
	fs.StringVar(&f.addr, "addr", addr, "host:port of the admin API (env ARCHWAY_ADDR)")
	fs.StringVar(&f.tokenFile, "token-file", getenv("ARCHWAY_TOKEN_FILE"),
		"file holding the bearer token for the admin API (env ARCHWAY_TOKEN_FILE)")
	fs.StringVar(&f.caFile, "tls-ca", "", "PEM CA bundle to verify the server with; any --tls-* flag turns TLS on")
	fs.StringVar(&f.certFile, "tls-cert", "", "PEM client certificate, for mutual TLS (with --tls-key)")
	fs.StringVar(&f.keyFile, "tls-key", "", "PEM client private key, for mutual TLS (with --tls-cert)")
	fs.StringVar(&f.serverName, "tls-server-name", "", "name to verify in the server's certificate, if not the --addr host")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "how long to wait for each admin API call")
}

// useTLS reports whether any TLS flag is set.
func (f *connFlags) useTLS() bool {
	return f.caFile != "" || f.certFile != "" || f.keyFile != "" || f.serverName != ""
}

// dial opens a client connection. gRPC connects lazily, so an unreachable
// server shows up as UNAVAILABLE on the first call, not here.
func (f *connFlags) dial() (*grpc.ClientConn, error) {
	if f.timeout <= 0 {
		return nil, usagef("--timeout must be positive, not %s", f.timeout)
	}
	creds := insecure.NewCredentials()
	if f.useTLS() {
		cfg, err := f.tlsConfig()
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUnaryInterceptor(callTimeout(f.timeout)),
	}
	if f.tokenFile != "" {
		tok, err := f.token()
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.WithPerRPCCredentials(tok))
	}
	cc, err := grpc.NewClient(f.addr, opts...)
	if err != nil {
		return nil, usagef("--addr %q: %v", f.addr, err)
	}
	return cc, nil
}

// tlsConfig builds the client side of TLS or mutual TLS from the flags.
func (f *connFlags) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.serverName}
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca: no PEM certificates in %s", f.caFile)
		}
	}
	if (f.certFile == "") != (f.keyFile == "") {
		return nil, usagef("--tls-cert and --tls-key go together")
	}
	if f.certFile != "" {
		cert, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// token reads the bearer token file. A token is a password: it goes in
// plaintext only to a loopback address, where no one else is on the wire.
func (f *connFlags) token() (bearerToken, error) {
	b, err := os.ReadFile(f.tokenFile)
	if err != nil {
		return bearerToken{}, fmt.Errorf("--token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return bearerToken{}, fmt.Errorf("--token-file: %s is empty", f.tokenFile)
	}
	if !f.useTLS() && !isLoopback(f.addr) {
		return bearerToken{}, usagef("refusing to send the token in plaintext to %s; use --tls-ca or a loopback address", f.addr)
	}
	return bearerToken{token: tok}, nil
}

// isLoopback reports whether addr is a loopback IP or localhost.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bearerToken sends `authorization: Bearer <token>` with every call, the
// form the admin API's token check and any OAuth-style proxy expect.
type bearerToken struct{ token string }

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials. The
// token check is done in token, which also allows loopback plaintext.
func (bearerToken) RequireTransportSecurity() bool { return false }

// callTimeout bounds each call rather than the whole command, so that a
// long apply or a paged list is not cut off by its own length.
func callTimeout(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption,
	) error {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
