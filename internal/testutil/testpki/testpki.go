// Package testpki makes certificate authorities and certificates for tests
// of TLS and mutual TLS over loopback.
package testpki

import (
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
)

// CA is a certificate authority made up for one test.
type CA struct {
	Cert    *x509.Certificate
	CertPEM []byte
	key     *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := template(t, name)
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign
	cert := create(t, tmpl, tmpl, &key.PublicKey, key)
	return &CA{Cert: cert, CertPEM: encode("CERTIFICATE", cert.Raw), key: key}
}

// Issue returns a PEM certificate and key signed by the CA, valid for
// 127.0.0.1, ::1, localhost and name, with the given extended key usages
// (x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth).
func (ca *CA) Issue(t testing.TB, name string, usages ...x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key := newKey(t)
	tmpl := template(t, name)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = usages
	tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	tmpl.DNSNames = []string{"localhost", name}
	cert := create(t, tmpl, ca.Cert, &key.PublicKey, ca.key)
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return encode("CERTIFICATE", cert.Raw), encode("EC PRIVATE KEY", der)
}

// Files are PEM files of a CA, a server certificate and a client
// certificate it signed.
type Files struct {
	CA                    string
	ServerCert, ServerKey string
	ClientCert, ClientKey string
}

// WriteFiles makes a CA, a server certificate and a client certificate and
// writes them to dir.
func WriteFiles(t testing.TB, dir string) Files {
	t.Helper()
	ca := NewCA(t, "test CA")
	srvCert, srvKey := ca.Issue(t, "server", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	cliCert, cliKey := ca.Issue(t, "client", x509.ExtKeyUsageClientAuth)
	return Files{
		CA:         Write(t, dir, "ca.pem", ca.CertPEM),
		ServerCert: Write(t, dir, "server.pem", srvCert),
		ServerKey:  Write(t, dir, "server-key.pem", srvKey),
		ClientCert: Write(t, dir, "client.pem", cliCert),
		ClientKey:  Write(t, dir, "client-key.pem", cliKey),
	}
}

// Write writes data to dir/name, readable only by its owner, and returns
// the path.
func Write(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func template(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func encode(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
