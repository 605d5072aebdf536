package testcluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a component may take to exit after SIGTERM.
const stopGrace = 10 * time.Second

// process is one running component. done is closed once it has exited.
type process struct {
	name string
	pid  int
	log  string

	done     chan struct{}
	waitErr  error // valid once done is closed; nil for processes found by StopDir
	stopPoll chan struct{}
}

// spawn starts a component in a process group of its own, so that a
// signal reaches everything it may have started, and so that Ctrl-C in a
// terminal reaches only the caller, which then stops the cluster in order.
func (c *Cluster) spawn(name string, env []string, args ...string) (*process, error) {
	logPath := filepath.Join(c.Dir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	defer logFile.Close()
	bin := filepath.Join(c.BinDir, name)
	fmt.Fprintf(logFile, "# %s %s\n", bin, strings.Join(args, " "))

	cmd := exec.Command(bin, args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr(c.detach)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, pid: cmd.Process.Pid, log: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	c.procs = append(c.procs, p)
	if err := writePids(c.Dir, c.procs); err != nil {
		return p, err
	}
	logf(c.logs, "started %s (pid %d), log %s", name, p.pid, logPath)
	return p, nil
}

// writePids records the running components, so that StopDir can stop a
// detached cluster, and a half-started one, from another process.
func writePids(dir string, procs []*process) error {
	var b bytes.Buffer
	for _, p := range procs {
		fmt.Fprintf(&b, "%s %d\n", p.name, p.pid)
	}
	path := filepath.Join(dir, "pids")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// readPids returns the still running components recorded in dir/pids.
// A recorded pid counts only while its command line names dir, so a pid
// reused by an unrelated process after a reboot is left alone.
func readPids(dir string) ([]*process, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("control-plane directory: %w", err)
	}
	path := filepath.Join(dir, "pids")
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("control plane in %s: %w", dir, err)
	}
	defer f.Close()
	var procs []*process
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"<component> <pid>\", got %q", path, line, sc.Text())
		}
		pid, err := strconv.Atoi(fields[1])
		if err != nil || pid <= 1 {
			return nil, fmt.Errorf("%s:%d: bad pid %q", path, line, fields[1])
		}
		if !alive(pid) || !commandMentions(pid, dir) {
			continue
		}
		p := &process{
			name:     fields[0],
			pid:      pid,
			log:      filepath.Join(dir, fields[0]+".log"),
			done:     make(chan struct{}),
			stopPoll: make(chan struct{}),
		}
		go pollExit(p)
		procs = append(procs, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return procs, nil
}

// runningInDir names the components recorded in dir/pids that still run.
func runningInDir(dir string) []string {
	procs, err := readPids(dir)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(procs))
	for _, p := range procs {
		close(p.stopPoll)
		names = append(names, fmt.Sprintf("%s pid %d", p.name, p.pid))
	}
	return names
}

// pollExit closes p.done once a process that is not our child has exited;
// only its parent could wait for it.
func pollExit(p *process) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for alive(p.pid) {
		select {
		case <-p.stopPoll:
			return
		case <-t.C:
		}
	}
	close(p.done)
}

// alive reports whether pid names a process that has not exited; a zombie
// waiting for its parent has.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		// No procfs (not Linux): trust kill(2).
		return !errors.Is(err, os.ErrNotExist) || !procfs()
	}
	// The state follows the parenthesised command name, which may itself
	// contain spaces and parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

func procfs() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// commandMentions reports whether the command line of pid contains s.
// Without procfs it cannot tell and says yes.
func commandMentions(pid int, s string) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return !procfs()
	}
	return bytes.Contains(cmdline, []byte(s))
}

// stopTier orders shutdown: clients of the apiserver first, then the
// apiserver, then etcd, so that nothing spends its grace period retrying
// a server that is already gone.
func stopTier(name string) int {
	switch name {
	case etcdName:
		return 0
	case apiserverName:
		return 1
	default:
		return 2
	}
}

// stopAll stops the processes tier by tier.
func stopAll(procs []*process) error {
	var errs []error
	for tier := 2; tier >= 0; tier-- {
		var group []*process
		for _, p := range procs {
			if stopTier(p.name) == tier {
				group = append(group, p)
			}
		}
		if err := terminate(group); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range procs {
		if p.stopPoll != nil {
			select {
			case <-p.done:
			default:
				close(p.stopPoll)
			}
		}
	}
	return errors.Join(errs...)
}

// terminate sends SIGTERM to each process group, waits up to stopGrace
// for all to exit, then sends SIGKILL to the rest.
func terminate(group []*process) error {
	if len(group) == 0 {
		return nil
	}
	for _, p := range group {
		signalGroup(p, syscall.SIGTERM)
	}
	deadline := time.NewTimer(stopGrace)
	defer deadline.Stop()
	var survivors []*process
	expired := false
	for _, p := range group {
		if !expired {
			select {
			case <-p.done:
				continue
			case <-deadline.C:
				expired = true
			}
		}
		select {
		case <-p.done:
		default:
			survivors = append(survivors, p)
		}
	}
	if len(survivors) == 0 {
		return nil
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, p := range survivors {
		signalGroup(p, syscall.SIGKILL)
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.pid))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// signalGroup signals the process group led by p. The group may already
// be gone; that is what stopping wants.
func signalGroup(p *process, sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	if err := syscall.Kill(-p.pid, sig); err != nil {
		syscall.Kill(p.pid, sig)
	}
}
