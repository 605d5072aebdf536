package pgtest_test

import (
	"database/sql"
	"os"
	"testing"

	"github.com/purserhq/purser/internal/testutil/pgtest"
)

var server *pgtest.Server

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(s *pgtest.Server) { server = s }))
}

// Each test has a database of its own on the one server, and what it
// writes there is not seen from another test's database.
func TestDatabasePerTest(t *testing.T) {
	s := pgtest.Require(t, server)
	a, b := s.Database(t), s.Database(t)
	if a == b {
		t.Fatalf("two databases share a URL: %s", a)
	}
	da, err := sql.Open("pgx", a)
	if err != nil {
		t.Fatal(err)
	}
	defer da.Close()
	if _, err := da.ExecContext(t.Context(), "CREATE TABLE t (x INT); INSERT INTO t VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := da.QueryRowContext(t.Context(), "SELECT x FROM t").Scan(&x); err != nil || x != 7 {
		t.Fatalf("read %d, %v", x, err)
	}
	db, err := sql.Open("pgx", b)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRowContext(t.Context(), "SELECT x FROM t").Scan(&x); err == nil {
		t.Error("the second database sees the first one's table")
	}
}

// The server runs on the loopback address only, and as root (CI) it runs
// as an unprivileged user, which PostgreSQL insists on.
func TestServerUser(t *testing.T) {
	s := pgtest.Require(t, server)
	db, err := sql.Open("pgx", s.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var addr string
	if err := db.QueryRowContext(t.Context(), "SELECT current_setting('listen_addresses')").Scan(&addr); err != nil {
		t.Fatal(err)
	}
	if addr != "127.0.0.1" {
		t.Errorf("listen_addresses = %q, want 127.0.0.1", addr)
	}
	var dir string
	if err := db.QueryRowContext(t.Context(), "SELECT current_setting('data_directory')").Scan(&dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 && ownerUID(st) == 0 {
		t.Errorf("the data directory %s belongs to root", dir)
	}
}

// A PostgreSQL that is not there is an error naming where it was looked
// for, which Main turns into a failed package rather than a skip.
func TestBinMissing(t *testing.T) {
	t.Setenv(pgtest.EnvBin, t.TempDir())
	if _, err := pgtest.Bin(); err == nil {
		t.Error("found PostgreSQL in an empty directory")
	}
	if _, err := pgtest.Start(t.Context()); err == nil {
		t.Error("started PostgreSQL from an empty directory")
	}
}
