package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/archway-gateway/archway/internal/store"
)

// EtcdConfig says where Archway keeps its state: in an etcd embedded in
// the process (the default, for one gateway node), or in an external
// cluster shared by many.
type EtcdConfig struct {
	// Endpoints of an external cluster. Empty starts an embedded etcd.
	Endpoints []string
	// DataDir is the embedded etcd's data directory.
	DataDir string
	// ListenClient and ListenPeer are the embedded etcd's client and peer
	// URLs. The client URL also lets tools such as etcdctl inspect the
	// store.
	ListenClient, ListenPeer string
	// CertFile, KeyFile and CAFile configure TLS to an external cluster.
	CertFile, KeyFile, CAFile string
	// Username and PasswordFile authenticate to an external cluster with
	// etcd's own auth. The password is read from a file so that it never
	// appears in a process listing or the environment.
	Username, PasswordFile string
}

// Etcd is an open connection to the store, and the embedded server behind
// it if there is one.
type Etcd struct {
	Client   *clientv3.Client
	embedded *store.Embedded
}

// OpenEtcd starts the embedded etcd, or connects to the external cluster,
// and returns a connected client. Close releases both.
func OpenEtcd(ctx context.Context, cfg EtcdConfig, log *slog.Logger) (*Etcd, error) {
	if len(cfg.Endpoints) > 0 {
		return openExternal(cfg, log)
	}
	emb, err := store.StartEmbedded(ctx, store.EmbeddedConfig{
		DataDir:   cfg.DataDir,
		ClientURL: cfg.ListenClient,
		PeerURL:   cfg.ListenPeer,
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	cli, err := store.NewClient(store.ClientConfig{Endpoints: emb.Endpoints()})
	if err != nil {
		emb.Close()
		return nil, err
	}
	log.Info("embedded etcd started", "data_dir", cfg.DataDir, "client_url", cfg.ListenClient)
	return &Etcd{Client: cli, embedded: emb}, nil
}

func openExternal(cfg EtcdConfig, log *slog.Logger) (*Etcd, error) {
	password, err := readPassword(cfg.PasswordFile)
	if err != nil {
		return nil, fmt.Errorf("etcd %w", err)
	}
	cli, err := store.NewClient(store.ClientConfig{
		Endpoints: cfg.Endpoints,
		CertFile:  cfg.CertFile,
		KeyFile:   cfg.KeyFile,
		CAFile:    cfg.CAFile,
		Username:  cfg.Username,
		Password:  password,
	})
	if err != nil {
		return nil, err
	}
	log.Info("connected to etcd", "endpoints", cfg.Endpoints)
	return &Etcd{Client: cli}, nil
}

func readPassword(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" {
		return "", fmt.Errorf("password file %s is empty", path)
	}
	return pw, nil
}

// Close closes the client, then stops the embedded server if any, so that
// the client's last requests are not cut off.
func (e *Etcd) Close() error {
	err := e.Client.Close()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if e.embedded != nil {
		e.embedded.Close()
	}
	return err
}
