package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/archway-gateway/archway/envoy"
)

// Envoy modes, as --envoy takes them.
const (
	// EnvoyAuto launches Envoy when a binary is found, and otherwise prints
	// how to attach one.
	EnvoyAuto = "auto"
	// EnvoyOff never launches Envoy: the fleet is run elsewhere.
	EnvoyOff = "off"
)

// EnvoyConfig says whether and how `archway serve` runs an Envoy of its
// own beside the Envoy-facing gRPC server.
type EnvoyConfig struct {
	// Mode is EnvoyAuto or EnvoyOff; empty means EnvoyOff, so that only
	// the command line decides to launch processes.
	Mode string
	// Binary is an explicit Envoy executable (--envoy-path); empty searches
	// as envoy.FindBinary does.
	Binary string
	// Getenv and RepoRoot feed envoy.FindBinary; os.Getenv and the working
	// directory if unset.
	Getenv   func(string) string
	RepoRoot string
	// BootstrapPath is where the bootstrap is written.
	BootstrapPath string
	// Bootstrap describes the Envoy; its XDSAddr is always the Envoy-facing
	// server's bound address.
	Bootstrap envoy.BootstrapOptions
	// LogLevel is Envoy's own log level; empty keeps Envoy's default.
	LogLevel string
	// AdminAddressPath, if set, is where Envoy writes its admin address:
	// with an admin port of 0, the way to find it.
	AdminAddressPath string
	// Output receives Envoy's stdout and stderr; the process's if nil.
	Output io.Writer
}

// prepareEnvoy writes the bootstrap for the Envoy-facing server at xdsAddr
// and returns a launcher, or nil and the instructions to attach an Envoy
// by hand when no binary is found.
func prepareEnvoy(cfg EnvoyConfig, xdsAddr string, s *Server) (*envoy.Launcher, string, error) {
	cfg.Bootstrap.XDSAddr = xdsAddr
	b, err := envoy.Bootstrap(cfg.Bootstrap)
	if err != nil {
		return nil, "", fmt.Errorf("envoy bootstrap: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.BootstrapPath), 0o755); err != nil {
		return nil, "", fmt.Errorf("envoy bootstrap: %w", err)
	}
	if err := envoy.WriteBootstrap(cfg.BootstrapPath, b); err != nil {
		return nil, "", err
	}
	getenv, root := cfg.Getenv, cfg.RepoRoot
	if getenv == nil {
		getenv = os.Getenv
	}
	if root == "" {
		root, _ = os.Getwd()
	}
	bin, err := envoy.FindBinary(cfg.Binary, getenv, root)
	if errors.Is(err, envoy.ErrBinaryNotFound) {
		return nil, envoy.AttachInstructions(cfg.BootstrapPath, "", cfg.Bootstrap), nil
	}
	if err != nil {
		return nil, "", err
	}
	return envoy.NewLauncher(envoy.LauncherOptions{
		Binary:           bin,
		BootstrapPath:    cfg.BootstrapPath,
		LogLevel:         cfg.LogLevel,
		AdminAddressPath: cfg.AdminAddressPath,
		Stdout:           cfg.Output,
		Stderr:           cfg.Output,
		Logger:           s.log,
		MaxFailures:      -1,
	}), "", nil
}

// runEnvoy supervises Envoy until ctx is done. Envoy failing to start is
// logged, not fatal: the control plane goes on serving the rest of the
// fleet.
func (s *Server) runEnvoy(ctx context.Context) {
	s.log.Info("launching envoy", "args", s.launcher.Args())
	if err := s.launcher.Run(ctx); err != nil {
		s.log.Error("envoy stopped", "error", err)
	}
}
