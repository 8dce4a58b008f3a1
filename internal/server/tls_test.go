package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/archway-gateway/archway/internal/testutil/testpki"
)

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, otherCA := testpki.NewCA(t, "server CA"), testpki.NewCA(t, "client CA"), testpki.NewCA(t, "other CA")
	certPEM, keyPEM := serverCA.Issue(t, "archway", x509.ExtKeyUsageServerAuth)
	cfg, err := MutualTLSConfig(
		testpki.Write(t, dir, "server.crt", certPEM),
		testpki.Write(t, dir, "server.key", keyPEM),
		testpki.Write(t, dir, "client-ca.crt", clientCA.CertPEM))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := NewGRPCServer(GRPCOptions{TLS: cfg})
	addr := serve(t, srv)

	roots := x509.NewCertPool()
	roots.AddCert(serverCA.Cert)
	clientCert := func(ca *testpki.CA) []tls.Certificate {
		c, k := ca.Issue(t, "archwayctl", x509.ExtKeyUsageClientAuth)
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
	ca := testpki.NewCA(t, "CA")
	certPEM, keyPEM := ca.Issue(t, "archway", x509.ExtKeyUsageServerAuth)
	cert := testpki.Write(t, dir, "server.crt", certPEM)
	key := testpki.Write(t, dir, "server.key", keyPEM)
	caFile := testpki.Write(t, dir, "ca.crt", ca.CertPEM)
	notPEM := testpki.Write(t, dir, "garbage", []byte("not a certificate"))
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
