//go:build unix && !linux

package testcluster

import "syscall"

// sysProcAttr puts a component in a process group of its own, and a
// detached one in a session of its own, so that closing the terminal that
// started it does not stop it.
func sysProcAttr(detach bool) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Setpgid: true}
}
