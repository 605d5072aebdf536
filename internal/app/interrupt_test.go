package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runMainEnv makes the test binary run Main instead of the tests, so that
// a test can run purser as a process and signal it.
const runMainEnv = "PURSER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestExitCodeInterrupted(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		sig  os.Signal
		want int
	}{{os.Interrupt, ExitInterrupted}, {syscall.SIGTERM, ExitTerminated}} {
		ctx, cancel := context.WithCancelCause(t.Context())
		cancel(&interrupted{sig: tt.sig})
		var stderr bytes.Buffer
		if got := exitCode(ctx, &stderr, fmt.Errorf("writing x: %w", context.Canceled)); got != tt.want {
			t.Errorf("%v: exit code %d, want %d", tt.sig, got, tt.want)
		}
		if stderr.String() != "purser: interrupted\n" {
			t.Errorf("%v: stderr %q, want purser: interrupted", tt.sig, stderr.String())
		}
	}
	// Without a signal, an error is an error.
	var stderr bytes.Buffer
	if got := exitCode(t.Context(), &stderr, errors.New("boom")); got != ExitError {
		t.Errorf("exit code %d, want %d", got, ExitError)
	}
}

// bigConfigMapList writes a JSON List of n small ConfigMaps.
func bigConfigMapList(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, `{"apiVersion":"v1","kind":"List","items":[`)
	for i := range n {
		if i > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%d","namespace":"ns-%d","labels":{"app":"a%d"}},"data":{"key":"value-%d"}}`, i, i%50, i%7, i)
	}
	fmt.Fprint(w, "]}\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSignalStopsSave runs purser snapshot --save on a large input and
// signals it while it loads: it must exit with the interrupted code, soon,
// and leave the previous snapshot byte for byte, with no temporary file.
func TestSignalStopsSave(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads a large input; runs without -short")
	}
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	bigConfigMapList(t, big, 200_000)
	outDir := filepath.Join(dir, "out")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(outDir, "out.snap")
	old := []byte("the user's previous snapshot\n")
	if err := os.WriteFile(out, old, 0o644); err != nil {
		t.Fatal(err)
	}

	// Without a signal the run takes long enough to be interrupted.
	start := time.Now()
	full := purserCmd(t, "snapshot", "--from", big, "--save", filepath.Join(dir, "full.snap"))
	if outp, err := full.CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, outp)
	}
	took := time.Since(start)
	t.Logf("uninterrupted run: %v", took)
	if took < 700*time.Millisecond {
		t.Skipf("the run takes %v: too fast to interrupt reliably", took)
	}

	for _, tt := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, ExitInterrupted}, {syscall.SIGTERM, ExitTerminated}} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			cmd := purserCmd(t, "snapshot", "--from", big, "--save", out)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(took / 4)
			sent := time.Now()
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			stopped := time.Since(sent)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tt.want {
				t.Fatalf("exit: %v, want code %d; stderr:\n%s", err, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr does not say interrupted:\n%s", stderr.String())
			}
			if stopped > time.Second {
				t.Errorf("exited %v after %v, want within a second", stopped, tt.sig)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, old) {
				t.Errorf("out.snap changed: %d bytes", len(got))
			}
			entries, err := os.ReadDir(outDir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("files left beside out.snap: %q", names)
			}
		})
	}
}

func purserCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	return cmd
}

// TestSecondSignalExits: a run that cannot stop at once on the first
// signal (here, blocked reading a stdin that never ends) stops on the
// second, at once, with the first signal's code.
func TestSecondSignalExits(t *testing.T) {
	t.Parallel()
	cmd := purserCmd(t, "snapshot", "--from", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Let it reach the read; a signal before Main installs its handler
	// would kill it with the default action instead.
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		// Fine for the user; TestWatchSignals covers the second signal.
		t.Skipf("the first signal already ends a run blocked on stdin (%v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != ExitTerminated {
			t.Fatalf("exit: %v, want code %d (the first signal's); stderr:\n%s", err, ExitTerminated, stderr.String())
		}
		if d := time.Since(sent); d > time.Second {
			t.Errorf("exited %v after the second signal, want at once", d)
		}
		if !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("stderr does not say interrupted:\n%s", stderr.String())
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("still running 5 s after the second signal; stderr:\n%s", stderr.String())
	}
}

// TestWatchSignals: the first signal cancels with its cause and exits
// nothing; the second exits with the first one's code, saying so.
func TestWatchSignals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		first, second os.Signal
		want          int
	}{{os.Interrupt, syscall.SIGTERM, ExitInterrupted}, {syscall.SIGTERM, os.Interrupt, ExitTerminated}} {
		sigs := make(chan os.Signal)
		codes := make(chan int, 1)
		var stderr syncBuffer
		ctx, stop := watchSignals(t.Context(), sigs, &stderr, func(c int) { codes <- c })
		sigs <- tt.first
		<-ctx.Done()
		var intr *interrupted
		if !errors.As(context.Cause(ctx), &intr) || intr.sig != tt.first {
			t.Errorf("%v: cause %v", tt.first, context.Cause(ctx))
		}
		select {
		case c := <-codes:
			t.Fatalf("%v: the first signal exited with %d", tt.first, c)
		case <-time.After(50 * time.Millisecond):
		}
		sigs <- tt.second
		select {
		case c := <-codes:
			if c != tt.want {
				t.Errorf("%v then %v: exit %d, want %d", tt.first, tt.second, c, tt.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%v then %v: no exit", tt.first, tt.second)
		}
		if got := stderr.String(); got != "purser: interrupted\n" {
			t.Errorf("stderr %q", got)
		}
		stop()
	}
}

// syncBuffer is a bytes.Buffer safe for the watcher's goroutine and the
// test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
