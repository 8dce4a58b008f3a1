package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
	caKey, caCert := newCert(t, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "archway test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	})
	serverKey, serverCert := newCert(t, caKey, caCert, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "admin.archway.test"},
		DNSNames:    []string{"admin.archway.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	clientKey, clientCert := newCert(t, caKey, caCert, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "archwayctl"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return testPKI{
		ca:         writeFile(t, dir, "ca.pem", certPEM(caCert)),
		clientCert: writeFile(t, dir, "client.pem", certPEM(clientCert)),
		clientKey:  writeFile(t, dir, "client-key.pem", keyPEM(t, clientKey)),
		serverConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{{Certificate: [][]byte{serverCert.Raw}, PrivateKey: serverKey}},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    pool,
		},
		clientConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			RootCAs:      pool,
			Certificates: []tls.Certificate{{Certificate: [][]byte{clientCert.Raw}, PrivateKey: clientKey}},
		},
	}
}

// newCert signs tmpl with parent, or self-signs it when parent is nil.
func newCert(t *testing.T, parentKey *ecdsa.PrivateKey, parent, tmpl *x509.Certificate) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func certPEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func keyPEM(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
