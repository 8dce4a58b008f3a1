package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// startTLSEtcd starts an etcd that serves clients over TLS on a free port
// and requires client certificates signed by the test CA.
func startTLSEtcd(t *testing.T) (endpoint string, files tlsFiles) {
	t.Helper()
	files = writeTestPKI(t)
	cfg, err := embedConfig(EmbeddedConfig{
		DataDir:       t.TempDir(),
		ClientURL:     "https://" + freePort(t),
		PeerURL:       "http://" + freePort(t),
		UnsafeNoFsync: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClientTLSInfo.CertFile, cfg.ClientTLSInfo.KeyFile = files.serverCert, files.serverKey
	cfg.ClientTLSInfo.TrustedCAFile, cfg.ClientTLSInfo.ClientCertAuth = files.ca, true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		t.Fatal(err)
	}
	return cfg.AdvertiseClientUrls[0].String(), files
}

func TestNewClientTLS(t *testing.T) {
	endpoint, files := startTLSEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cli, err := NewClient(ClientConfig{Endpoints: []string{endpoint}, CAFile: files.ca, CertFile: files.clientCert, KeyFile: files.clientKey})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, Root+"probe", "x"); err != nil {
		t.Fatalf("put over mutual TLS: %v", err)
	}

	// Without a client certificate the server refuses the connection.
	anon, err := NewClient(ClientConfig{Endpoints: []string{endpoint}, CAFile: files.ca, DialTimeout: time.Second})
	if err == nil {
		defer anon.Close()
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err = anon.Get(short, Root+"probe"); err == nil {
			t.Fatal("a client without a certificate could read")
		}
	}
}

func TestNewClientTLSFileErrors(t *testing.T) {
	files := writeTestPKI(t)
	tests := map[string]ClientConfig{
		"missing CA":       {Endpoints: []string{"https://127.0.0.1:1"}, CAFile: filepath.Join(t.TempDir(), "nope.pem")},
		"CA is not PEM":    {Endpoints: []string{"https://127.0.0.1:1"}, CAFile: files.serverKey + ".txt"},
		"key without cert": {Endpoints: []string{"https://127.0.0.1:1"}, KeyFile: files.clientKey},
		"no endpoints":     {},
	}
	if err := os.WriteFile(files.serverKey+".txt", []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if cli, err := NewClient(cfg); err == nil {
				cli.Close()
				t.Fatal("NewClient succeeded")
			}
		})
	}
}

// TestNewClientAuth checks etcd's own username/password authentication.
func TestNewClientAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := embedConfig(EmbeddedConfig{DataDir: t.TempDir(), ClientURL: "http://" + freePort(t), PeerURL: "http://" + freePort(t), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	<-e.Server.ReadyNotify()
	endpoints := []string{cfg.AdvertiseClientUrls[0].String()}

	admin, err := NewClient(ClientConfig{Endpoints: endpoints})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.UserAdd(ctx, "root", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}

	cli, err := NewClient(ClientConfig{Endpoints: endpoints, Username: "root", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, Root+"probe", "x"); err != nil {
		t.Fatalf("put as root: %v", err)
	}
	if bad, err := NewClient(ClientConfig{Endpoints: endpoints, Username: "root", Password: "wrong"}); err == nil {
		defer bad.Close()
		if _, err := bad.Get(ctx, Root+"probe"); err == nil {
			t.Fatal("a wrong password could read")
		}
	}
}

type tlsFiles struct{ ca, serverCert, serverKey, clientCert, clientKey string }

// writeTestPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA.
func writeTestPKI(t *testing.T) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert := newCert(t, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	})
	srvKey, srvCert := newCert(t, caKey, caCert, &x509.Certificate{
		Subject: pkix.Name{CommonName: "etcd"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	})
	cliKey, cliCert := newCert(t, caKey, caCert, &x509.Certificate{
		Subject: pkix.Name{CommonName: "archway"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	f := tlsFiles{
		ca:         writePEM(t, dir, "ca.pem", "CERTIFICATE", caCert.Raw),
		serverCert: writePEM(t, dir, "server.pem", "CERTIFICATE", srvCert.Raw),
		serverKey:  writePEM(t, dir, "server-key.pem", "EC PRIVATE KEY", marshalKey(t, srvKey)),
		clientCert: writePEM(t, dir, "client.pem", "CERTIFICATE", cliCert.Raw),
		clientKey:  writePEM(t, dir, "client-key.pem", "EC PRIVATE KEY", marshalKey(t, cliKey)),
	}
	return f
}

func newCert(t *testing.T, parentKey *ecdsa.PrivateKey, parent, tmpl *x509.Certificate) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
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

func marshalKey(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
