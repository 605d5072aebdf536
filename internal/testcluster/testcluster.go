// Package testcluster starts and stops a local Kubernetes control plane:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
// (fake kubelets), built by hack/kcluster, on free loopback ports. Tests get
// a real API server, real controllers and a real scheduler without Docker;
// people get one through make cluster-up.
//
// A test that needs a cluster of its own calls ForTest; under -short it
// is skipped, so tests need no guard of their own. A package whose tests
// share one starts it from TestMain with Main; the package keeps no state
// of its own, so the test package holds the cluster in a variable:
//
//	var cluster *testcluster.Cluster
//
//	func TestMain(m *testing.M) {
//		os.Exit(testcluster.Main(m, func(c *testcluster.Cluster) error {
//			cluster = c
//			return nil
//		}))
//	}
//
//	func TestSomething(t *testing.T) {
//		c := testcluster.Require(t, cluster)
//		// ...
//	}
//
// Nodes become Ready only when annotated kwok.x-k8s.io/node: fake; pods on
// them follow the stages in kwok-stages.yaml, including the Purser
// annotations that make a pod crash-loop, fail its readiness or fail.
package testcluster

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

const (
	// EnvBinDir names the environment variable that overrides where the
	// control-plane binaries are looked up.
	EnvBinDir = "PURSER_KCLUSTER_BIN"
	// EnvRequire names the environment variable that, set to 1, turns
	// missing binaries from a skipped test into a failed one (make test
	// sets it, so CI cannot pass by skipping).
	EnvRequire = "PURSER_REQUIRE_CLUSTER"
	// ContextName is the name of the cluster, user and context in the
	// written kubeconfig.
	ContextName = "purser-local"

	rootModule = "github.com/purserhq/purser"

	// readyTimeout bounds each wait for a component; a cold apiserver on
	// two loaded cores needs about 10 s.
	readyTimeout = 60 * time.Second
	// startAttempts covers the race between picking a free port and the
	// component binding it.
	startAttempts = 3
	tailLines     = 40
	buildHint     = "build them with `make kcluster` (or set " + EnvBinDir + ")"
)

// Component names; each is also the name of its binary and of its log file
// Dir/<name>.log.
const (
	etcdName      = "etcd"
	apiserverName = "kube-apiserver"
	kcmName       = "kube-controller-manager"
	schedulerName = "kube-scheduler"
	kwokName      = "kwok"
	kubectlName   = "kubectl"
)

//go:embed kwok-stages.yaml
var kwokStages string

// Options configure Start.
type Options struct {
	// BinDir holds the binaries; default $PURSER_KCLUSTER_BIN, else
	// <repo root>/.cache/kcluster/bin.
	BinDir string
	// Dir receives data, certificates, logs and the kubeconfig; default a
	// new temporary directory, removed by Stop. A given Dir is kept, and a
	// later Start in it reuses etcd's data and the service-account key.
	Dir string
	// Detach lets the processes outlive the calling process, in sessions
	// of their own; their ids are recorded in Dir/pids for StopDir.
	Detach bool
	// Logs, when set, receives one line per step.
	Logs io.Writer
}

// Cluster is a running local control plane.
type Cluster struct {
	Dir        string
	Kubeconfig string // Dir/kubeconfig, context purser-local
	// Config is the admin configuration (group system:masters). QPS and
	// Burst are left at zero, so each client picks its own limits.
	Config *rest.Config
	BinDir string

	ownsDir bool
	detach  bool
	logs    io.Writer
	procs   []*process

	mu      sync.Mutex
	stopped bool
	stopErr error
}

// MissingBinariesError reports control-plane binaries that have not been
// built.
type MissingBinariesError struct {
	BinDir  string
	Missing []string
}

func (e *MissingBinariesError) Error() string {
	return fmt.Sprintf("control-plane binaries missing in %s: %s; %s", e.BinDir, strings.Join(e.Missing, ", "), buildHint)
}

// Start starts a control plane and returns once every component is healthy
// and the controller manager has created the default ServiceAccount, so
// pods can be created in the default namespace right away. On any error,
// or when ctx ends first, whatever was started is stopped again. ctx only
// bounds the start: the processes run until Stop.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	binDir, err := resolveBinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, b := range []string{etcdName, apiserverName, kcmName, schedulerName, kwokName, kubectlName} {
		if _, err := os.Stat(filepath.Join(binDir, b)); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return nil, &MissingBinariesError{BinDir: binDir, Missing: missing}
	}

	logs := opts.Logs
	if logs == nil {
		logs = io.Discard
	}
	dir, ownsDir := opts.Dir, false
	if dir == "" {
		if dir, err = os.MkdirTemp("", "purser-kcluster-"); err != nil {
			return nil, fmt.Errorf("control-plane directory: %w", err)
		}
		ownsDir = true
	} else {
		if dir, err = filepath.Abs(dir); err != nil {
			return nil, fmt.Errorf("control-plane directory %s: %w", opts.Dir, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("control-plane directory: %w", err)
		}
		if running := runningInDir(dir); len(running) > 0 {
			return nil, fmt.Errorf("a control plane is already running in %s (%s); stop it first", dir, strings.Join(running, ", "))
		}
	}

	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		c := &Cluster{
			Dir:        dir,
			Kubeconfig: filepath.Join(dir, "kubeconfig"),
			BinDir:     binDir,
			ownsDir:    ownsDir,
			detach:     opts.Detach,
			logs:       logs,
		}
		err := c.start(ctx)
		if err == nil {
			return c, nil
		}
		if stopErr := stopAll(c.procs); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		os.Remove(filepath.Join(dir, "pids"))
		lastErr = err
		var inUse *portInUseError
		if ctx.Err() != nil || !errors.As(err, &inUse) {
			break
		}
		logf(logs, "%v; retrying with other ports", inUse)
	}
	if ownsDir {
		os.RemoveAll(dir)
	}
	return nil, lastErr
}

// Stop stops the control plane: SIGTERM to each component's process
// group, SIGKILL to those still running 10 s later; the components that
// depend on others go first. It removes Dir when Start created it. Later
// calls return the first call's result.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return c.stopErr
	}
	c.stopped = true
	err := stopAll(c.procs)
	if err == nil {
		if rmErr := os.Remove(filepath.Join(c.Dir, "pids")); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			err = fmt.Errorf("control plane in %s: %w", c.Dir, rmErr)
		}
	}
	if err == nil && c.ownsDir {
		if rmErr := os.RemoveAll(c.Dir); rmErr != nil {
			err = fmt.Errorf("removing control-plane directory: %w", rmErr)
		}
	}
	if err == nil {
		logf(c.logs, "stopped control plane in %s", c.Dir)
	}
	c.stopErr = err
	return err
}

// StopDir stops a detached control plane from the process ids recorded in
// dir/pids, the way Stop would. A directory without a running control
// plane is not an error.
func StopDir(dir string) error {
	procs, err := readPids(dir)
	if err != nil {
		return err
	}
	if err := stopAll(procs); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, "pids")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("control plane in %s: %w", dir, err)
	}
	return nil
}

// resolveBinDir applies the BinDir defaults.
func resolveBinDir(binDir string) (string, error) {
	if binDir == "" {
		binDir = os.Getenv(EnvBinDir)
	}
	if binDir == "" {
		root, err := repoRoot()
		if err != nil {
			return "", fmt.Errorf("locating control-plane binaries: %w (set %s)", err, EnvBinDir)
		}
		binDir = filepath.Join(root, ".cache", "kcluster", "bin")
	}
	return filepath.Abs(binDir)
}

// repoRoot walks up from the working directory to Purser's go.mod; tests
// run in their package's directory, commands anywhere below the root.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if mod, err := modulePath(filepath.Join(dir, "go.mod")); err == nil && mod == rootModule {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod of module %s above %s", rootModule, wd)
		}
	}
}

func modulePath(gomod string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", fmt.Errorf("%s: no module directive", gomod)
}

// freePorts reserves n distinct loopback ports by listening on port 0 and
// releases them for the components to bind. Another process may take one
// in between; Start then retries.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("picking a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// randomToken returns a fresh admin bearer token.
func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LogTails returns the last n lines of each component's log, headed by the
// log's path, in start order.
func (c *Cluster) LogTails(n int) string {
	var b strings.Builder
	for _, p := range c.procs {
		fmt.Fprintf(&b, "--- last %d lines of %s ---\n%s\n", n, p.log, tail(p.log, n))
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

// logf writes one progress line. The writer is called directly, so that a
// test's log shows this line rather than one inside package fmt.
func logf(w io.Writer, format string, args ...any) {
	w.Write([]byte("testcluster: " + fmt.Sprintf(format, args...) + "\n"))
}
