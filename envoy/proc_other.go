//go:build !unix

package envoy

import "syscall"

// childSysProcAttr has nothing to add where there are no process groups.
func childSysProcAttr() *syscall.SysProcAttr { return nil }
