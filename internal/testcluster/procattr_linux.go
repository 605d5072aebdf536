package testcluster

import "syscall"

// sysProcAttr puts a component in a process group of its own. A detached
// component gets a session of its own as well, so that closing the
// terminal that started it does not stop it. An attached one is killed
// when its parent dies without cleaning up (a test binary killed by
// -timeout or Ctrl-C), instead of holding ports and CPU until someone
// notices. The kernel sends that signal when the thread that started the
// process exits; Go keeps its threads unless a goroutine locked to one
// ends, which this package never does.
func sysProcAttr(detach bool) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
