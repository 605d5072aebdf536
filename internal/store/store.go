// Package store keeps Purser's history: scans, findings with a stable
// identity (first seen, last seen, resolved), cost by group per scan and
// per day, and a log of the actions Purser takes. It is an edge, like the
// live collector: engines never import it, and it computes nothing that
// internal/history does not. SQLite (a file, pure Go, so the binary stays
// CGO-free) is the default; PostgreSQL serves several replicas or SQL
// access. Both run the same embedded migrations, applied at Open, through
// database/sql: one set of queries, one connection pool and one
// transaction API for both, which pgx's native interface would not give
// without a second implementation of every query.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	// Registers the "pgx" database/sql driver.
	_ "github.com/jackc/pgx/v5/stdlib"
	// Registers the "sqlite" database/sql driver, pure Go.
	_ "modernc.org/sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is the database behind a Store.
type Dialect string

// Dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrSchemaTooNew is returned by Open for a database that a newer Purser
// migrated: this one would misread it, so it does not touch it.
var ErrSchemaTooNew = errors.New("database schema is newer than this purser")

// Store is an open history database. It is safe for concurrent use, and
// several Stores (processes, replicas) may share one PostgreSQL database.
type Store struct {
	db      *sql.DB
	dialect Dialect
	// where names the database in errors, without a password.
	where string
}

// IsURL reports whether target names a PostgreSQL database rather than
// a SQLite file.
func IsURL(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

// Open opens the history database target names (a SQLite file path,
// created if missing, or a postgres:// URL) and brings its schema up to
// date. A database whose schema is newer than this binary is refused
// with ErrSchemaTooNew.
func Open(ctx context.Context, target string) (*Store, error) {
	if target == "" {
		return nil, errors.New("no history database: give a SQLite file path or a postgres:// URL")
	}
	s := &Store{dialect: SQLite, where: target}
	var err error
	if IsURL(target) {
		s.dialect = Postgres
		s.where = redact(target)
		s.db, err = sql.Open("pgx", target)
	} else {
		s.db, err = sql.Open("sqlite", sqliteDSN(target))
	}
	if err != nil {
		return nil, fmt.Errorf("opening history database %s: %w", s.where, err)
	}
	if s.dialect == SQLite {
		// One writer at a time is all SQLite allows; more connections
		// would only queue on its lock. Readers share the one too, which
		// keeps a short command simple and a server's reads serialised.
		s.db.SetMaxOpenConns(1)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("opening history database %s: %w", s.where, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN waits for a busy database instead of failing at once, takes
// the write lock when a transaction begins (a read that later writes would
// otherwise deadlock against another writer), keeps writers from blocking
// readers (WAL), and enforces the foreign keys the schema declares.
func sqliteDSN(p string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return "file:" + p + "?" + q.Encode()
}

// redact drops a URL's password, which errors and logs must not show.
func redact(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dialect says which database the Store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// String names the database, without a password.
func (s *Store) String() string { return string(s.dialect) + " " + s.where }

// SchemaVersion is the number of migrations this binary knows.
func SchemaVersion() int {
	ms, _ := loadMigrations()
	return len(ms)
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("reading embedded migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("embedded migration %s: the name must start with its version number", e.Name())
		}
		b, err := migrations.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading embedded migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("embedded migration %s: expected version %d", m.name, i+1)
		}
	}
	return out, nil
}

// migrate applies the migrations the database lacks, all in one
// transaction: a failure leaves the schema as it was. On PostgreSQL an
// advisory lock makes replicas starting together migrate one at a time.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history database %s: %w", s.where, err)
	}
	defer tx.Rollback()
	if s.dialect == Postgres {
		// The number is arbitrary: it only has to be Purser's own.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7274737)"); err != nil {
			return fmt.Errorf("history database %s: locking the schema: %w", s.where, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); err != nil {
		return fmt.Errorf("history database %s: %w", s.where, err)
	}
	current := 0
	err = tx.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&current)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (0)"); err != nil {
			return fmt.Errorf("history database %s: %w", s.where, err)
		}
	case err != nil:
		return fmt.Errorf("history database %s: reading the schema version: %w", s.where, err)
	}
	if current > len(ms) {
		return fmt.Errorf("history database %s: %w: its schema is version %d, this purser knows versions up to %d; use a newer purser (or another database)",
			s.where, ErrSchemaTooNew, current, len(ms))
	}
	for _, m := range ms[current:] {
		for _, stmt := range statements(s.dialect, m.sql) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("history database %s: migration %s: %w", s.where, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("UPDATE schema_version SET version = ?"), m.version); err != nil {
			return fmt.Errorf("history database %s: migration %s: %w", s.where, m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history database %s: committing the schema: %w", s.where, err)
	}
	return nil
}

// statements splits a migration into statements, comments dropped, with
// the dialect's words in place of the template's.
func statements(d Dialect, text string) []string {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if d == Postgres {
		id = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		lines = append(lines, l)
	}
	var out []string
	for _, st := range strings.Split(strings.Join(lines, "\n"), ";") {
		if st = strings.TrimSpace(st); st != "" {
			out = append(out, strings.ReplaceAll(st, "{{id}}", id))
		}
	}
	return out
}

// q turns the ? placeholders the queries are written with into $1, $2...
// for PostgreSQL. No query here has a ? inside a string literal.
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
