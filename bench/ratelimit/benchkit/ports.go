package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
)

// maxPorts bounds one ports request; the harness needs a handful.
const maxPorts = 64

// freePorts returns n distinct loopback TCP ports that were free a moment
// ago. All n listeners are held open until every port is chosen, so the
// kernel cannot hand the same port out twice; another process may still
// take one before the caller binds it, which the harness's start-up checks
// catch.
func freePorts(n int) (ports []int, err error) {
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			err = errors.Join(err, l.Close())
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// portsCommand prints N free loopback ports, one a line.
func portsCommand(_ context.Context, args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: benchkit ports N")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > maxPorts {
		return fmt.Errorf("ports: N must be 1 to %d, not %q", maxPorts, args[0])
	}
	ports, err := freePorts(n)
	if err != nil {
		return fmt.Errorf("ports: %w", err)
	}
	for _, p := range ports {
		if _, err := fmt.Fprintln(out, p); err != nil {
			return err
		}
	}
	return nil
}
