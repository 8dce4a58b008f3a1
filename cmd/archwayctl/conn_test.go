package main

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/archway-gateway/archway/internal/testutil/testpki"
	"google.golang.org/grpc/credentials"
)

func TestTokenFile(t *testing.T) {
	addr, _ := startServer(t, serverOptions{token: "s3cret"})
	dir := t.TempDir()
	good := writeFile(t, dir, "good", "s3cret\n")
	wrong := writeFile(t, dir, "wrong", "guess")
	tests := map[string]struct {
		env  []string
		args []string
		code int
	}{
		"flag":             {args: []string{"--addr", addr, "--token-file", good}, code: exitOK},
		"environment":      {args: []string{"--addr", addr}, env: []string{"ARCHWAY_TOKEN_FILE=" + good}, code: exitOK},
		"flag beats env":   {args: []string{"--addr", addr, "--token-file", good}, env: []string{"ARCHWAY_TOKEN_FILE=" + wrong}, code: exitOK},
		"address from env": {env: []string{"ARCHWAY_ADDR=" + addr, "ARCHWAY_TOKEN_FILE=" + good}, code: exitOK},
		"no token":         {args: []string{"--addr", addr}, code: exitFailure},
		"wrong token":      {args: []string{"--addr", addr, "--token-file", wrong}, code: exitFailure},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := runBinary(t, tc.env, "", append(tc.args, "get", "apis")...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tc.code, r.err)
			}
			if tc.code == exitFailure && !strings.Contains(r.err, "did not accept the credentials (check --token-file)") {
				t.Errorf("stderr %q does not say the credentials were refused", r.err)
			}
			if strings.Contains(r.err, "s3cret") || strings.Contains(r.err, "guess") {
				t.Errorf("stderr shows a token: %q", r.err)
			}
		})
	}
}

// TestTLS runs the admin API with mutual TLS under a test CA and checks
// that the CLI verifies the server, by --addr host or --tls-server-name,
// and presents its client certificate.
func TestTLS(t *testing.T) {
	pki := newTestPKI(t)
	addr, _ := startServer(t, serverOptions{creds: credentials.NewTLS(pki.serverConfig), clientCreds: credentials.NewTLS(pki.clientConfig)})
	client := []string{"--tls-cert", pki.clientCert, "--tls-key", pki.clientKey}
	tests := map[string]struct {
		args []string
		code int
		want string
	}{
		"mutual TLS":                    {args: append([]string{"--tls-ca", pki.ca}, client...), code: exitOK},
		"server name":                   {args: append([]string{"--tls-ca", pki.ca, "--tls-server-name", "admin.archway.test"}, client...), code: exitOK},
		"wrong server name":             {args: append([]string{"--tls-ca", pki.ca, "--tls-server-name", "other.test"}, client...), code: exitFailure, want: "cannot reach the admin API"},
		"no client cert":                {args: []string{"--tls-ca", pki.ca}, code: exitFailure},
		"unknown CA":                    {args: client, code: exitFailure, want: "certificate signed by unknown authority"},
		"plaintext":                     {code: exitFailure},
		"missing CA file":               {args: []string{"--tls-ca", pki.ca + ".missing"}, code: exitFailure, want: "--tls-ca: open "},
		"CA file without a certificate": {args: []string{"--tls-ca", pki.clientKey}, code: exitFailure, want: "--tls-ca: no PEM certificates in "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := runBinary(t, nil, "", append(append([]string{"--addr", addr}, tc.args...), "get", "apis")...)
			if r.code != tc.code || !strings.Contains(r.err, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.err, tc.code, tc.want)
			}
		})
	}
}

// TestCallTimeout points the CLI at a server that accepts connections but
// never answers, and checks that --timeout ends the call with a message
// that names the flag.
func TestCallTimeout(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = lis.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	r := runCLI(t, nil, "", "--addr", lis.Addr().String(), "--timeout", "300ms", "get", "apis")
	want := "archwayctl: the admin API at " + lis.Addr().String() + " did not answer within 300ms (--timeout)\n"
	if r.code != exitFailure || r.err != want {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", r.code, r.err, want)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testPKI is a CA with a server certificate for 127.0.0.1 and
// admin.archway.test, and a client certificate, written as PEM files.
type testPKI struct {
	ca, clientCert, clientKey  string
	serverConfig, clientConfig *tls.Config
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	ca := testpki.NewCA(t, "archway test CA")
	serverCert, serverKey := ca.Issue(t, "admin.archway.test", x509.ExtKeyUsageServerAuth)
	clientCert, clientKey := ca.Issue(t, "archwayctl", x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return testPKI{
		ca:         testpki.Write(t, dir, "ca.pem", ca.CertPEM),
		clientCert: testpki.Write(t, dir, "client.pem", clientCert),
		clientKey:  testpki.Write(t, dir, "client-key.pem", clientKey),
		serverConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{keyPair(t, serverCert, serverKey)},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    pool,
		},
		clientConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			RootCAs:      pool,
			Certificates: []tls.Certificate{keyPair(t, clientCert, clientKey)},
		},
	}
}

func keyPair(t *testing.T, certPEM, keyPEM []byte) tls.Certificate {
	t.Helper()
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}
