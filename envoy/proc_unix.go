//go:build unix && !linux

package envoy

import "syscall"

// childSysProcAttr puts Envoy in its own process group, so a terminal's
// Ctrl-C reaches only Archway, which then stops Envoy in order.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
