// Package pgtest starts a throwaway PostgreSQL server for tests: Debian's
// binaries (/usr/lib/postgresql/*/bin, the newest version), a data
// directory and socket directory in a temporary directory, a free loopback
// port, trust authentication for one superuser. One server serves a test
// package (Main, from TestMain), each test gets a database of its own
// (Database), and the server stops when the package's tests end.
//
// PostgreSQL refuses to run as root; as root (CI) the server runs as the
// "postgres" user Debian's package creates, else as "nobody", through
// setpriv.
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	// Registers the "pgx" database/sql driver.
	_ "github.com/jackc/pgx/v5/stdlib"
)

// EnvBin names a directory holding initdb and postgres, instead of the
// newest /usr/lib/postgresql/*/bin.
const EnvBin = "PURSER_PG_BIN"

// Superuser is the role the server trusts.
const Superuser = "purser"

// ErrMissing is returned by Start when no PostgreSQL binaries are found.
var ErrMissing = errors.New("PostgreSQL not found: install Debian's postgresql package (hack/deps.sh does), or set " + EnvBin)

// Server is a running PostgreSQL.
type Server struct {
	dir  string
	Port int
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
	dbs  atomic.Int64
}

// Bin finds the directory of initdb and postgres.
func Bin() (string, error) {
	if d := os.Getenv(EnvBin); d != "" {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBin, d, err)
		}
		return d, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	// The newest major version: 9 sorts after 16 as text, not as a number.
	sort.Slice(found, func(i, j int) bool { return major(found[i]) < major(found[j]) })
	if len(found) == 0 {
		return "", ErrMissing
	}
	return filepath.Dir(found[len(found)-1]), nil
}

func major(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(bin))))
	return n
}

// Start initialises and starts a server; Stop stops it and removes its
// files.
func Start(ctx context.Context) (*Server, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "purser-pg-")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Server{dir: dir, logs: &syncBuffer{}, done: make(chan error, 1)}
	if err := s.start(ctx, bin); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// runAs is the unprivileged user a root process runs PostgreSQL as, and
// its IDs; empty when not root.
func runAs() (name string, uid, gid int, err error) {
	if os.Geteuid() != 0 {
		return "", 0, 0, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return name, uid, gid, nil
	}
	return "", 0, 0, errors.New("postgres: running as root, and neither user postgres nor nobody exists to run PostgreSQL as")
}

// command runs a PostgreSQL binary, as the unprivileged user when root.
func (s *Server) command(ctx context.Context, uid, gid int, bin string, args ...string) *exec.Cmd {
	if os.Geteuid() != 0 {
		return exec.CommandContext(ctx, bin, args...)
	}
	full := append([]string{"--reuid=" + strconv.Itoa(uid), "--regid=" + strconv.Itoa(gid), "--clear-groups", "--", bin}, args...)
	return exec.CommandContext(ctx, "setpriv", full...)
}

func (s *Server) start(ctx context.Context, bin string) error {
	name, uid, gid, err := runAs()
	if err != nil {
		return err
	}
	data, sock := filepath.Join(s.dir, "data"), filepath.Join(s.dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if name != "" {
		for _, d := range []string{s.dir, sock} {
			if err := os.Chown(d, uid, gid); err != nil {
				return fmt.Errorf("postgres: handing %s to %s: %w", d, name, err)
			}
		}
	}
	initdb := s.command(ctx, uid, gid, filepath.Join(bin, "initdb"), "-D", data, "-U", Superuser, "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("postgres: initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("postgres: finding a free port: %w", err)
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	// Durability is worth nothing to a test database and costs seconds.
	s.cmd = s.command(context.WithoutCancel(ctx), uid, gid, filepath.Join(bin, "postgres"), "-D", data, "-k", sock, "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=100", "-c", "shared_buffers=32MB")
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	// Its own process group: a Ctrl-C to the tests reaches the tests,
	// which stop the server in order.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	return s.waitReady(ctx)
}

func (s *Server) waitReady(ctx context.Context) error {
	db, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = db.PingContext(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-s.done:
			s.done <- werr
			return fmt.Errorf("postgres exited before it was ready (%v): %s", werr, s.Logs())
		case <-ctx.Done():
			s.Stop()
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("postgres not ready after 60s: %v: %s", err, s.Logs())
		}
	}
}

// URL is the URL of database db on the server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, s.Port, db)
}

// syncBuffer is the server's output: written by the process's copier,
// read by the tests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logs returns what the server printed.
func (s *Server) Logs() string { return s.logs.String() }

// Stop stops the server (a fast shutdown: sessions are ended) and
// removes its files.
func (s *Server) Stop() error {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	}
	return os.RemoveAll(s.dir)
}

// Database creates an empty database for t, dropped when t ends, and
// returns its URL.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%s", s.dbs.Add(1), sanitize(t.Name()))
	admin, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", s.URL("postgres"))
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
	})
	return s.URL(name)
}

// sanitize keeps a database name to lower-case letters, digits and _,
// within PostgreSQL's 63 bytes.
func sanitize(n string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(n) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > 40 {
		out = out[:40]
	}
	return out
}

// Main runs a package's tests around one server and returns the exit
// code for TestMain to pass to os.Exit; set receives the server. Under
// -short no server starts and Require skips; otherwise a server that
// cannot start fails the package: a missing PostgreSQL must not pass as
// a green run.
func Main(m *testing.M, set func(*Server)) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	s, err := Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: starting PostgreSQL: %v\n", err)
		return 1
	}
	set(s)
	code := m.Run()
	if code != 0 && testing.Verbose() {
		fmt.Fprintf(os.Stderr, "pgtest: PostgreSQL's log:\n%s", s.Logs())
	}
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stopping PostgreSQL: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Require returns s, the server Main started; under -short the test is
// skipped, with the reason.
func Require(t testing.TB, s *Server) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL; skipped under -short")
	}
	if s == nil {
		t.Fatal("no PostgreSQL server: did TestMain call pgtest.Main?")
	}
	return s
}

// ForTest starts a server for one test, stopped when it ends, and
// returns the URL of a database on it: for a package whose other tests
// need no PostgreSQL. Under -short the test is skipped; a PostgreSQL
// that cannot start fails it.
func ForTest(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL; skipped under -short")
	}
	s, err := Start(t.Context())
	if err != nil {
		t.Fatalf("starting PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stopping PostgreSQL: %v", err)
		}
	})
	return s.Database(t)
}
