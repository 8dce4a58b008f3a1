package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ErrExposed is returned when the admin API would listen beyond loopback
// without authentication. Anyone who can reach the admin API can rewrite
// every route of the gateway, so an unauthenticated admin API is only safe
// where nothing but this machine can connect.
var ErrExposed = errors.New("admin API would be reachable from the network without authentication")

// IsLoopback reports whether addr, a host:port listen address, accepts
// connections from this machine only: a host in 127.0.0.0/8, ::1, or
// "localhost". An empty host listens on every interface and is not
// loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return ip.Unmap().IsLoopback()
}

// CheckExposure refuses an admin listen address outside loopback unless
// the admin API authenticates its callers, with a bearer token or with
// client certificates.
func CheckExposure(addr string, authenticated bool) error {
	if authenticated || IsLoopback(addr) {
		return nil
	}
	return fmt.Errorf("%w: %q is not a loopback address; set --admin-token-file, or "+
		"--admin-tls-cert, --admin-tls-key and --admin-client-ca, or listen on 127.0.0.1", ErrExposed, addr)
}
