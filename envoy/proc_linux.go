package envoy

import "syscall"

// childSysProcAttr puts Envoy in its own process group, so a terminal's
// Ctrl-C reaches only Archway, which then stops Envoy in order; and asks
// the kernel to SIGTERM Envoy if Archway dies without doing so.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
