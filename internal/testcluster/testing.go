package testcluster

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ForTest starts a control plane for one test and stops it when the test
// ends; a failed test logs the end of each component's log first. Under
// -short the test is skipped, so callers need no guard of their own.
// Without binaries it is skipped too, or fails when
// PURSER_REQUIRE_CLUSTER=1.
func ForTest(t testing.TB) *Cluster {
	t.Helper()
	SkipShort(t)
	c, err := Start(t.Context(), Options{Logs: testLogWriter{t}})
	var missing *MissingBinariesError
	if errors.As(err, &missing) {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%v (%s=1)", err, EnvRequire)
		}
		t.Skipf("no local control plane: %v", err)
	}
	if err != nil {
		t.Fatalf("starting the local control plane: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.LogTails(tailLines))
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stopping the local control plane: %v", err)
		}
	})
	return c
}

// Main runs a package's tests around one control plane that they share,
// and returns the exit code for TestMain to pass to os.Exit. setup runs
// once the cluster is up, typically to store it in a variable of the test
// package; tests then reach it through Require. Under -short, or without
// binaries, the tests still run and setup is not called: Require skips
// those that need the cluster, unless binaries are missing and
// PURSER_REQUIRE_CLUSTER=1, in which case nothing runs and the code is 1.
// Tests running in parallel share the cluster, so each should keep to its
// own namespace and node names.
func Main(m *testing.M, setup func(*Cluster) error) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		return m.Run()
	}
	var logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	c, err := Start(ctx, Options{Logs: &logs})
	cancel()
	if testing.Verbose() {
		os.Stderr.Write(logs.Bytes())
	}
	var missing *MissingBinariesError
	switch {
	case errors.As(err, &missing) && os.Getenv(EnvRequire) != "1":
		fmt.Fprintf(os.Stderr, "testcluster: %v; tests that need the cluster will be skipped\n", err)
		return m.Run()
	case err != nil:
		fmt.Fprintf(os.Stderr, "testcluster: starting the local control plane: %v\n", err)
		return 1
	}
	if err := setup(c); err != nil {
		fmt.Fprintf(os.Stderr, "testcluster: setting up the local control plane: %v\n", err)
		if stopErr := c.Stop(); stopErr != nil {
			fmt.Fprintf(os.Stderr, "testcluster: stopping the local control plane: %v\n", stopErr)
		}
		return 1
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprint(os.Stderr, c.LogTails(tailLines))
	}
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testcluster: stopping the local control plane: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Require returns c, the cluster a TestMain received from Main. Under
// -short the test is skipped. When Main found no binaries, c is nil and
// the test is skipped, or fails when PURSER_REQUIRE_CLUSTER=1.
func Require(t testing.TB, c *Cluster) *Cluster {
	t.Helper()
	SkipShort(t)
	if c != nil {
		return c
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("no local control plane (%s=1); did TestMain call testcluster.Main?", EnvRequire)
	}
	t.Skipf("no local control plane: %s", buildHint)
	return nil
}

// SkipShort skips t under -short: starting a control plane takes seconds
// and the -short run is the one without it. ForTest and Require call it;
// a test that calls Start itself calls it first.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the local control plane; skipped under -short")
	}
}

// Kubectl runs the kubectl built with the control plane against it and
// returns its standard output; a failure carries its standard error.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) ([]byte, error) {
	full := append([]string{
		"--kubeconfig=" + c.Kubeconfig,
		// Keep discovery caches with the cluster, not in ~/.kube.
		"--cache-dir=" + filepath.Join(c.Dir, "kubectl-cache"),
	}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, kubectlName), full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// testLogWriter turns Start's progress lines into test log lines.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
