// Package storetest runs a real embedded etcd for tests.
package storetest

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/archway-gateway/archway/internal/store"
)

// Etcd is a single-member etcd running in the test process on free loopback
// ports, with its data in a temporary directory.
type Etcd struct {
	// Client is connected for the whole test, across Stop and Restart: like
	// any etcd client it reconnects when the server comes back.
	Client    *clientv3.Client
	Endpoints []string
	DataDir   string

	clientURL, peerURL string
	server             *store.Embedded
}

// New starts etcd and stops it, and closes the client, when the test ends.
func New(t testing.TB) *Etcd {
	t.Helper()
	e := &Etcd{DataDir: t.TempDir()}
	e.clientURL, e.peerURL = "http://"+freeAddr(t), "http://"+freeAddr(t)
	e.start(t)
	cli, err := store.NewClient(store.ClientConfig{Endpoints: e.Endpoints})
	if err != nil {
		t.Fatal(err)
	}
	e.Client = cli
	t.Cleanup(func() {
		_ = cli.Close()
		e.Stop()
	})
	return e
}

// Store returns a store over the test's client.
func (e *Etcd) Store() *store.Store { return store.New(e.Client) }

// Stop stops the server, keeping its data; Restart starts it again.
func (e *Etcd) Stop() {
	if e.server != nil {
		e.server.Close()
		e.server = nil
	}
}

// Restart starts a stopped server again on the same ports and data.
func (e *Etcd) Restart(t testing.TB) {
	t.Helper()
	e.Stop()
	e.start(t)
}

func (e *Etcd) start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := store.StartEmbedded(ctx, store.EmbeddedConfig{
		DataDir:       e.DataDir,
		ClientURL:     e.clientURL,
		PeerURL:       e.peerURL,
		UnsafeNoFsync: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.server = srv
	e.Endpoints = srv.Endpoints()
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return fmt.Sprintf("127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)
}
