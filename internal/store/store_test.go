package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
	"github.com/purserhq/purser/internal/testutil/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(s *pgtest.Server) { pg = s }))
}

// backend is a database the suite runs against: target opens a fresh,
// empty one for a test.
type backend struct {
	name   string
	target func(t *testing.T) string
}

func backends() []backend {
	return []backend{
		{name: "sqlite", target: func(t *testing.T) string { return filepath.Join(t.TempDir(), "history.db") }},
		{name: "postgres", target: func(t *testing.T) string { return pgtest.Require(t, pg).Database(t) }},
	}
}

// each runs f against every backend, as subtests.
func each(t *testing.T, f func(t *testing.T, target string)) {
	t.Helper()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b.target(t))
		})
	}
}

func open(t *testing.T, target string) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var (
	t0  = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	web = snapshot.Ref{Kind: "Deployment", Namespace: "shop", Name: "web"}
	api = snapshot.Ref{Kind: "Service", Namespace: "shop", Name: "api"}
	db  = snapshot.Ref{Kind: "StatefulSet", Namespace: "data", Name: "db"}
)

func finding(check string, workload, object snapshot.Ref, sev audit.Severity) history.Finding {
	return history.Finding{Key: audit.Identity(check, workload), Check: check, Severity: sev, Workload: workload, Object: object,
		Message: check + " on " + object.String()}
}

func pod(ns, name string) snapshot.Ref { return snapshot.Ref{Kind: "Pod", Namespace: ns, Name: name} }

// allOK says every check of the suite ran completely.
func allOK() map[string]string {
	return map[string]string{"pod-crashloop": audit.StatusOK, "service-no-endpoints": audit.StatusOK, "pod-pending": audit.StatusOK}
}

func record(t *testing.T, s *store.Store, at time.Time, checks map[string]string, fs ...history.Finding) *store.Recorded {
	t.Helper()
	r, err := s.Record(t.Context(), store.ScanRecord{Cluster: "prod", Started: at, Finished: at.Add(time.Second),
		Scan: history.Scan{Source: "live:prod", Checks: checks, Findings: fs}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func openFindings(t *testing.T, s *store.Store) map[string]store.Finding {
	t.Helper()
	fs, err := s.Findings(t.Context(), store.FindingFilter{Cluster: "prod", State: "open"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Finding{}
	for _, f := range fs {
		if _, dup := out[f.Key]; dup {
			t.Errorf("two open findings of %s on %s", f.Check, f.Workload)
		}
		out[f.Key] = f
	}
	return out
}

// A finding is first seen once, seen again while open, and resolved by
// the first complete scan without it. A pod rollout changes the object a
// crash-loop finding is about, not the finding.
func TestRecordFollowsFindings(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, target string) {
		s := open(t, target)
		crash1 := finding("pod-crashloop", web, pod("shop", "web-7d9f-abcde"), audit.Error)
		noEP := finding("service-no-endpoints", api, api, audit.Error)
		r1 := record(t, s, t0, allOK(), crash1, noEP)
		if len(r1.New) != 2 || len(r1.Resolved) != 0 {
			t.Fatalf("first scan: new %v, resolved %v", r1.New, r1.Resolved)
		}
		// The rollout: a new pod, the same Deployment, a warning now.
		crash2 := finding("pod-crashloop", web, pod("shop", "web-5c8b-fghij"), audit.Warning)
		r2 := record(t, s, t0.Add(24*time.Hour), allOK(), crash2)
		if len(r2.New) != 0 {
			t.Errorf("after a rollout, new findings %v", r2.New)
		}
		if len(r2.Resolved) != 1 || r2.Resolved[0].Key != noEP.Key {
			t.Errorf("resolved %v, want the Service's missing endpoints", r2.Resolved)
		}
		open := openFindings(t, s)
		got, ok := open[crash1.Key]
		if len(open) != 1 || !ok {
			t.Fatalf("open findings %v, want the crash loop only", open)
		}
		if got.Object != crash2.Object || got.Severity != audit.Warning || got.Message != crash2.Message {
			t.Errorf("open finding shows %s %s %q, want the latest sighting", got.Object, got.Severity, got.Message)
		}
		if !got.FirstSeen.Equal(t0) || !got.LastSeen.Equal(t0.Add(24*time.Hour)) {
			t.Errorf("first seen %s, last seen %s", got.FirstSeen, got.LastSeen)
		}
		resolved, err := s.Findings(t.Context(), store.FindingFilter{Cluster: "prod", State: "resolved"})
		if err != nil {
			t.Fatal(err)
		}
		if len(resolved) != 1 || !resolved[0].Resolved.Equal(t0.Add(24*time.Hour)) {
			t.Errorf("resolved %+v", resolved)
		}
		// Broken again: a new finding, with its own first-seen time.
		r3 := record(t, s, t0.Add(48*time.Hour), allOK(), crash2, noEP)
		if len(r3.New) != 1 || r3.New[0].Key != noEP.Key {
			t.Errorf("third scan: new %v, want the Service again", r3.New)
		}
		if f := openFindings(t, s)[noEP.Key]; !f.FirstSeen.Equal(t0.Add(48 * time.Hour)) {
			t.Errorf("the recurring finding was first seen %s", f.FirstSeen)
		}
	})
}

// Only a check that ran completely can say a finding is gone.
func TestIncompleteScansDoNotResolve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  string
		scope   string
		resolve bool
	}{
		{name: "complete", status: audit.StatusOK, resolve: true},
		{name: "incomplete", status: audit.StatusIncomplete},
		{name: "skipped", status: audit.StatusSkipped},
		{name: "not asked for", status: ""},
		{name: "another namespace", status: audit.StatusOK, scope: "data"},
		{name: "its namespace", status: audit.StatusOK, scope: "shop", resolve: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			each(t, func(t *testing.T, target string) {
				s := open(t, target)
				noEP := finding("service-no-endpoints", api, api, audit.Error)
				record(t, s, t0, allOK(), noEP)
				checks := allOK()
				delete(checks, noEP.Check)
				if tt.status != "" {
					checks[noEP.Check] = tt.status
				}
				r, err := s.Record(t.Context(), store.ScanRecord{Cluster: "prod", Scope: tt.scope, Started: t0.Add(time.Hour),
					Scan: history.Scan{Source: "live:prod", Checks: checks}})
				if err != nil {
					t.Fatal(err)
				}
				if got := len(r.Resolved) == 1; got != tt.resolve {
					t.Errorf("resolved %v, want resolved: %v", r.Resolved, tt.resolve)
				}
				if _, open := openFindings(t, s)[noEP.Key]; open == tt.resolve {
					t.Errorf("open after the scan: %v", open)
				}
			})
		})
	}
}

// A restart loses nothing: closing and opening the database again gives
// the same history, and recording goes on from it.
func TestReopen(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, target string) {
		s := open(t, target)
		noEP := finding("service-no-endpoints", api, api, audit.Error)
		first := record(t, s, t0, allOK(), noEP)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = open(t, target)
		if f, ok := openFindings(t, s)[noEP.Key]; !ok || !f.FirstSeen.Equal(t0) {
			t.Fatalf("after reopening: %+v", openFindings(t, s))
		}
		r := record(t, s, t0.Add(time.Hour), allOK(), noEP)
		if len(r.New) != 0 || r.ID <= first.ID {
			t.Errorf("after reopening: new %v, scan %d after %d", r.New, r.ID, first.ID)
		}
		scans, err := s.Scans(t.Context(), "prod", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(scans) != 2 || scans[0].ID != r.ID {
			t.Errorf("scans %+v", scans)
		}
	})
}

// A stored scan reads back as recorded, so that diffs of stored scans
// and of snapshots agree.
func TestScanRoundTrip(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, target string) {
		s := open(t, target)
		usd := func(m int64) money.Amount { return money.New("USD", m) }
		in := history.Scan{Source: "live:prod", CollectedAt: t0.Add(-time.Minute), Checks: allOK(), Currency: "USD",
			Findings: []history.Finding{finding("pod-crashloop", web, pod("shop", "web-1"), audit.Error), finding("service-no-endpoints", api, api, audit.Warning)},
			Cost:     []history.GroupCost{{By: "namespace", Key: "shop", Monthly: usd(120_500_000)}, {By: "pool", Key: "default", Monthly: usd(120_500_000)}},
			Objects:  []snapshot.Ref{api, web}}
		history.SortFindings(in.Findings)
		r, err := s.Record(t.Context(), store.ScanRecord{Cluster: "prod", SnapshotDigest: "sha256:abc", Started: t0, Finished: t0.Add(1500 * time.Millisecond),
			Errors: []string{"secrets not read"}, Scan: in})
		if err != nil {
			t.Fatal(err)
		}
		info, out, err := s.Scan(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if info.SnapshotDigest != "sha256:abc" || info.Duration != "1.5s" || len(info.Errors) != 1 || !info.Complete || info.Findings != 2 {
			t.Errorf("scan info %+v", info)
		}
		if got, want := fmt.Sprintf("%+v", out), fmt.Sprintf("%+v", in); got != want {
			t.Errorf("read back\n got %s\nwant %s", got, want)
		}
		if _, _, err := s.Scan(t.Context(), r.ID+100); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a missing scan: %v", err)
		}
	})
}

func TestDailyCosts(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, target string) {
		s := open(t, target)
		rec := func(at time.Time, monthly int64) {
			t.Helper()
			_, err := s.Record(t.Context(), store.ScanRecord{Cluster: "prod", Started: at, Scan: history.Scan{Source: "x", Currency: "USD",
				Cost: []history.GroupCost{{By: "team", Key: "web", Monthly: money.New("USD", monthly)}}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		rec(t0, 730_000_000)                   // 24 a day
		rec(t0.Add(2*time.Hour), 1460_000_000) // the day's latest scan wins: 48
		rec(t0.Add(24*time.Hour), 365_000_000) // 12
		got, err := s.DailyCosts(t.Context(), "prod", "2026-03-01", "2026-03-31")
		if err != nil {
			t.Fatal(err)
		}
		want := []history.DayCost{{Day: "2026-03-01", By: "team", Key: "web", Amount: money.New("USD", 48_000_000)},
			{Day: "2026-03-02", By: "team", Key: "web", Amount: money.New("USD", 12_000_000)}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("daily costs %v, want %v", got, want)
		}
	})
}

func TestActionLog(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, target string) {
		s := open(t, target)
		a := store.Action{Cluster: "prod", At: t0, Actor: "budget/shop", Kind: "scale-down", Object: "Deployment/shop/web",
			Outcome: "succeeded", Details: []byte(`{"replicas":{"from":3,"to":0}}`)}
		if _, err := s.LogAction(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LogAction(t.Context(), store.Action{Cluster: "prod", At: t0, Kind: "x", Details: []byte("{")}); err == nil {
			t.Error("details that are not JSON were logged")
		}
		got, err := s.Actions(t.Context(), "prod", t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Kind != "scale-down" || string(got[0].Details) != `{"replicas":{"from":3,"to":0}}` || !got[0].At.Equal(t0) {
			t.Errorf("actions %+v", got)
		}
	})
}

func TestRetention(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name      string
		keep      store.Retention
		scans     int // left of the 10
		findings  int // left: the open Service, and the crash loop of each kept scan
		days      int
		wantScans int64
	}{
		{name: "by age", keep: store.Retention{MaxAge: 3*day + time.Hour}, scans: 4, findings: 5, days: 4, wantScans: 6},
		{name: "by size", keep: store.Retention{MaxScans: 2}, scans: 2, findings: 3, days: 10, wantScans: 8},
		{name: "both", keep: store.Retention{MaxAge: 3*day + time.Hour, MaxScans: 1}, scans: 1, findings: 2, days: 4, wantScans: 9},
		{name: "nothing", scans: 10, findings: 11, days: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			each(t, func(t *testing.T, target string) {
				s := open(t, target)
				open := finding("service-no-endpoints", api, api, audit.Error)
				// Ten daily scans; each sees the open finding and a crash
				// loop of its own day, which the next scan resolves.
				for i := range 10 {
					crash := finding("pod-crashloop", snapshot.Ref{Kind: "Deployment", Namespace: "shop", Name: fmt.Sprint("w", i)}, web, audit.Error)
					_, err := s.Record(t.Context(), store.ScanRecord{Cluster: "prod", Started: t0.Add(time.Duration(i) * day),
						Scan: history.Scan{Source: "x", Checks: allOK(), Findings: []history.Finding{open, crash}, Currency: "USD",
							Cost: []history.GroupCost{{By: "pool", Key: "p", Monthly: money.New("USD", 730)}}}})
					if err != nil {
						t.Fatal(err)
					}
				}
				now := t0.Add(9 * day)
				p, err := s.Prune(t.Context(), tt.keep, now)
				if err != nil {
					t.Fatal(err)
				}
				scans, _ := s.Scans(t.Context(), "prod", 0)
				all, _ := s.Findings(t.Context(), store.FindingFilter{Cluster: "prod"})
				days, _ := s.DailyCosts(t.Context(), "prod", "2000-01-01", "2100-01-01")
				if len(scans) != tt.scans || len(all) != tt.findings || len(days) != tt.days || p.Scans != tt.wantScans {
					t.Errorf("kept %d scans, %d findings, %d days (pruned %+v); want %d, %d, %d", len(scans), len(all), len(days), p,
						tt.scans, tt.findings, tt.days)
				}
				if _, ok := openFindings(t, s)[open.Key]; !ok {
					t.Error("the open finding was pruned")
				}
				if len(scans) > 0 && !scans[0].Started.Equal(now) {
					t.Errorf("the newest scan was pruned: %+v", scans[0])
				}
			})
		})
	}
}

// A database a newer purser migrated is refused, and left as it was.
func TestSchemaTooNew(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, target string) {
		s := open(t, target)
		s.Close()
		driver, dsn := "sqlite", target
		if store.IsURL(target) {
			driver = "pgx"
		}
		raw, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		newer := store.SchemaVersion() + 1
		if _, err := raw.ExecContext(t.Context(), fmt.Sprintf("UPDATE schema_version SET version = %d", newer)); err != nil {
			t.Fatal(err)
		}
		_, err = store.Open(t.Context(), target)
		if !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("opening a newer schema: %v", err)
		}
		t.Log(err)
		var v int
		if err := raw.QueryRowContext(t.Context(), "SELECT version FROM schema_version").Scan(&v); err != nil || v != newer {
			t.Errorf("schema version %d after the refusal (%v), want %d", v, err, newer)
		}
	})
}

// Two handles on one database (two replicas, two commands) record scans
// of one cluster at once: every scan is kept, and a finding is open once.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, target string) {
		a, b := open(t, target), open(t, target)
		noEP := finding("service-no-endpoints", api, api, audit.Error)
		crash := finding("pod-crashloop", db, pod("data", "db-0"), audit.Error)
		const perWriter = 10
		var wg sync.WaitGroup
		errs := make(chan error, 2*perWriter)
		for w, s := range []*store.Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWriter {
					fs := []history.Finding{noEP}
					if i%2 == w {
						fs = append(fs, crash)
					}
					at := t0.Add(time.Duration(i*2+w) * time.Minute)
					if _, err := s.Record(context.Background(), store.ScanRecord{Cluster: "prod", Started: at,
						Scan: history.Scan{Source: "x", Checks: allOK(), Findings: fs}}); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		scans, err := a.Scans(t.Context(), "prod", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(scans) != 2*perWriter {
			t.Errorf("%d scans kept, want %d", len(scans), 2*perWriter)
		}
		all, err := b.Findings(t.Context(), store.FindingFilter{Cluster: "prod", Check: noEP.Check})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 || !all[0].Open() {
			t.Errorf("the Service's finding, seen by every scan, is %d findings: %+v", len(all), all)
		}
		openFindings(t, a) // fails on two open findings of one key
	})
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	if _, err := store.Open(t.Context(), ""); err == nil {
		t.Error("opened no database")
	}
	_, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "history.db"))
	if err == nil {
		t.Error("opened a file in a directory that does not exist")
	}
	_, err = store.Open(t.Context(), "postgres://someone:s3cret@127.0.0.1:1/none?connect_timeout=2")
	if err == nil {
		t.Fatal("opened a PostgreSQL that is not there")
	}
	if got := err.Error(); strings.Contains(got, "s3cret") {
		t.Errorf("the error shows the password: %s", got)
	}
}
