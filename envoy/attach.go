package envoy

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
)

// SupportedVersion is the Envoy release whose xDS protos Archway is built
// against (go-control-plane/envoy v1.40.0) and that `make envoy` installs.
const SupportedVersion = "1.40.0"

// DefaultImage is the container image of SupportedVersion.
const DefaultImage = "envoyproxy/envoy:v" + SupportedVersion

// containerBootstrapPath is where the docker form mounts the bootstrap.
const containerBootstrapPath = "/etc/envoy/bootstrap.yaml"

// AttachInstructions tells an operator, when Archway has no Envoy binary to
// launch, exactly how to start one against the bootstrap at bootstrapPath:
// a local binary, the official image (image, or DefaultImage if empty) with
// the file mounted and host networking so that loopback addresses in the
// bootstrap keep working, and func-e. opts are the options the bootstrap
// was rendered with; they name the xDS server, node and admin address.
func AttachInstructions(bootstrapPath, image string, opts BootstrapOptions) string {
	opts = opts.withDefaults()
	if image == "" {
		image = DefaultImage
	}
	if abs, err := filepath.Abs(bootstrapPath); err == nil {
		bootstrapPath = abs
	}
	path := shellQuote(bootstrapPath)
	var b strings.Builder
	fmt.Fprintf(&b, "Archway serves xDS on %s for node %q (cluster %q).\n", opts.XDSAddr, opts.NodeID, opts.Cluster)
	fmt.Fprintf(&b, "Attach an Envoy %s with one of:\n\n", SupportedVersion)
	fmt.Fprintf(&b, "  envoy -c %s\n\n", path)
	fmt.Fprintf(&b, "  docker run --rm --network host -v %s:%s:ro %s -c %s\n\n",
		path, containerBootstrapPath, shellQuote(image), containerBootstrapPath)
	fmt.Fprintf(&b, "  func-e use %s && func-e run -c %s\n\n", SupportedVersion, path)
	if isLoopbackHost(opts.XDSAddr) {
		b.WriteString("--network host shares the host's loopback (Linux only); with Docker Desktop, render the\n")
		b.WriteString("bootstrap with --xds-addr host.docker.internal:PORT and publish the listener ports instead.\n")
	}
	fmt.Fprintf(&b, "Envoy's admin API listens on %s; `curl http://%s/ready` prints LIVE once it has its configuration.\n",
		opts.AdminAddr, opts.AdminAddr)
	b.WriteString("To have `archway serve` run Envoy itself, install it with `make envoy` or pass --envoy-path.\n")
	return b.String()
}

func isLoopbackHost(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// shellQuote quotes s for a POSIX shell when it holds anything but the
// characters that are safe unquoted, so the printed commands paste as-is.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/.:=,@%+-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
