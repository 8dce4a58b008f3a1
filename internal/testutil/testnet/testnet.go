// Package testnet has the network helpers tests share.
package testnet

import (
	"net"
	"testing"
)

// ClosedAddr returns a loopback address ("127.0.0.1:port") nothing listens
// on: a port the kernel just handed out and that was closed again, so a
// connection to it is refused (unless another process takes the port in
// between, which a test on loopback may ignore).
func ClosedAddr(tb testing.TB) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := lis.Addr().String()
	if err := lis.Close(); err != nil {
		tb.Fatal(err)
	}
	return addr
}
