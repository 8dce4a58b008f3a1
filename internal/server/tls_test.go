package server

import (
	"context"
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
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// testCA is a certificate authority made up for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Unix(0, 0),
		NotAfter:              time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pemBlock("CERTIFICATE", der)}
}

// issue returns a PEM certificate and key signed by the CA, for a server
// on 127.0.0.1 or for a client.
func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("EC PRIVATE KEY", keyDER)
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, otherCA := newTestCA(t, "server CA"), newTestCA(t, "client CA"), newTestCA(t, "other CA")
	certPEM, keyPEM := serverCA.issue(t, "archway", x509.ExtKeyUsageServerAuth)
	cfg, err := MutualTLSConfig(
		writeFile(t, dir, "server.crt", certPEM),
		writeFile(t, dir, "server.key", keyPEM),
		writeFile(t, dir, "client-ca.crt", clientCA.pem))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := NewGRPCServer(GRPCOptions{TLS: cfg})
	addr := serve(t, srv)

	roots := x509.NewCertPool()
	roots.AddCert(serverCA.cert)
	clientCert := func(ca *testCA) []tls.Certificate {
		c, k := ca.issue(t, "archwayctl", x509.ExtKeyUsageClientAuth)
		pair, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{pair}
	}
	tests := map[string]struct {
		certs   []tls.Certificate
		wantErr bool
	}{
		"client certificate from the client CA": {certs: clientCert(clientCA)},
		"no client certificate":                 {wantErr: true},
		"client certificate from another CA":    {certs: clientCert(otherCA), wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			creds := credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: tc.certs, MinVersion: tls.VersionTLS12})
			conn := dial(t, addr, grpc.WithTransportCredentials(creds))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			if (err != nil) != tc.wantErr {
				t.Fatalf("health check error = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

func TestMutualTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "CA")
	certPEM, keyPEM := ca.issue(t, "archway", x509.ExtKeyUsageServerAuth)
	cert := writeFile(t, dir, "server.crt", certPEM)
	key := writeFile(t, dir, "server.key", keyPEM)
	caFile := writeFile(t, dir, "ca.crt", ca.pem)
	notPEM := writeFile(t, dir, "garbage", []byte("not a certificate"))
	missing := filepath.Join(dir, "missing")

	tests := map[string]struct{ cert, key, ca string }{
		"missing certificate":    {cert: missing, key: key, ca: caFile},
		"key does not match":     {cert: caFile, key: key, ca: caFile},
		"missing client CA":      {cert: cert, key: key, ca: missing},
		"client CA is not PEM":   {cert: cert, key: key, ca: notPEM},
		"certificate is not PEM": {cert: notPEM, key: key, ca: caFile},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := MutualTLSConfig(tc.cert, tc.key, tc.ca); err == nil {
				t.Error("MutualTLSConfig succeeded")
			}
		})
	}
}
