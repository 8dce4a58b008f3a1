package store

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/archway-gateway/archway/internal/testutil/testpki"
)

// startTLSEtcd starts an etcd that serves clients over TLS on a free port
// and requires client certificates signed by the test CA.
func startTLSEtcd(t *testing.T) (endpoint string, files testpki.Files) {
	t.Helper()
	files = testpki.WriteFiles(t, t.TempDir())
	cfg, err := embedConfig(EmbeddedConfig{
		DataDir:       t.TempDir(),
		ClientURL:     "https://" + freePort(t),
		PeerURL:       "http://" + freePort(t),
		UnsafeNoFsync: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClientTLSInfo.CertFile, cfg.ClientTLSInfo.KeyFile = files.ServerCert, files.ServerKey
	cfg.ClientTLSInfo.TrustedCAFile, cfg.ClientTLSInfo.ClientCertAuth = files.CA, true
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

	cli, err := NewClient(ClientConfig{Endpoints: []string{endpoint}, CAFile: files.CA, CertFile: files.ClientCert, KeyFile: files.ClientKey})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cli.Close() }()
	if _, err := cli.Put(ctx, Root+"probe", "x"); err != nil {
		t.Fatalf("put over mutual TLS: %v", err)
	}

	// Without a client certificate the server refuses the connection.
	anon, err := NewClient(ClientConfig{Endpoints: []string{endpoint}, CAFile: files.CA, DialTimeout: time.Second})
	if err == nil {
		defer func() { _ = anon.Close() }()
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err = anon.Get(short, Root+"probe"); err == nil {
			t.Fatal("a client without a certificate could read")
		}
	}
}

func TestNewClientTLSFileErrors(t *testing.T) {
	files := testpki.WriteFiles(t, t.TempDir())
	tests := map[string]ClientConfig{
		"missing CA":       {Endpoints: []string{"https://127.0.0.1:1"}, CAFile: filepath.Join(t.TempDir(), "nope.pem")},
		"CA is not PEM":    {Endpoints: []string{"https://127.0.0.1:1"}, CAFile: files.ServerKey + ".txt"},
		"key without cert": {Endpoints: []string{"https://127.0.0.1:1"}, KeyFile: files.ClientKey},
		"no endpoints":     {},
	}
	if err := os.WriteFile(files.ServerKey+".txt", []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if cli, err := NewClient(cfg); err == nil {
				_ = cli.Close()
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
	defer func() { _ = admin.Close() }()
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
	defer func() { _ = cli.Close() }()
	if _, err := cli.Put(ctx, Root+"probe", "x"); err != nil {
		t.Fatalf("put as root: %v", err)
	}
	if bad, err := NewClient(ClientConfig{Endpoints: endpoints, Username: "root", Password: "wrong"}); err == nil {
		defer func() { _ = bad.Close() }()
		if _, err := bad.Get(ctx, Root+"probe"); err == nil {
			t.Fatal("a wrong password could read")
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}
