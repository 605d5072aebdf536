package enforce

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/budget"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/store"
	"github.com/purserhq/purser/internal/testcluster"
	"github.com/purserhq/purser/internal/testutil/pgtest"
)

var cluster *testcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(testcluster.Main(m, func(c *testcluster.Cluster) error {
		cluster = c
		return nil
	}))
}

const testCluster = "test"

// recordDay stores a day's cost of team as a scan at noon: monthly 365
// is a day's 12 (365 × 24/730).
func recordDay(t *testing.T, st *store.Store, day time.Time, team string, monthly int64) {
	t.Helper()
	scan := history.Scan{Source: "test", CollectedAt: day, Checks: map[string]string{}, Currency: "EUR",
		Cost: []history.GroupCost{{By: "team", Key: team, Monthly: money.New("EUR", monthly*money.Micro)}}}
	if _, err := st.Record(t.Context(), store.ScanRecord{Cluster: testCluster, Started: day, Finished: day, Scan: scan}); err != nil {
		t.Fatal(err)
	}
}

func noon(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

// TestSimulatedMonthFiresEachThresholdOnce steps through March 2026 one
// day at a time with a cost history in the store, restarting (a new
// store connection, a new enforcer) half-way, then into April: each of
// 50/80/100% and "forecast will breach" fires exactly once in March, all
// resolve when March ends, and April's fire again.
func TestSimulatedMonthFiresEachThresholdOnce(t *testing.T) {
	t.Parallel()
	for _, b := range []struct {
		name   string
		target func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "history.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.ForTest(t) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			target := b.target(t)
			ctx := t.Context()
			open := func() *store.Store {
				st, err := store.Open(ctx, target)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
			st := open()
			// Two weeks of February at 6 a day, then 12 a day.
			for d := 15; d <= 28; d++ {
				recordDay(t, st, noon(2026, 2, d), "kvibes", 182)
			}
			cfg := budget.Config{Items: []budget.Budget{{Name: "kvibes", Scope: budget.Scope{Team: "kvibes"}, Amount: "300", Currency: "EUR"}}}
			fired := map[string][]string{}
			resolved := map[string][]string{}
			step := func(now time.Time) {
				t.Helper()
				recordDay(t, st, now, "kvibes", 365)
				r, err := Evaluate(ctx, st, testCluster, Inputs{Config: cfg, Engine: budget.Input{Now: now, Currency: "EUR"}})
				if err != nil {
					t.Fatal(err)
				}
				e := &Enforcer{Store: st, Cluster: testCluster, Actor: "alice", Notifiers: []string{"ops"}}
				if err := e.Enforce(ctx, r); err != nil {
					t.Fatal(err)
				}
				for _, tr := range r.Transitions {
					day := now.Format("01-02")
					switch tr.State.Phase {
					case alert.Firing:
						fired[tr.State.Key()] = append(fired[tr.State.Key()], day)
					case alert.Resolved:
						resolved[tr.State.Key()] = append(resolved[tr.State.Key()], day)
					}
				}
			}
			for d := 1; d <= 31; d++ {
				if d == 16 {
					// A restart: the next evaluation starts from the store alone.
					st.Close()
					st = open()
				}
				step(noon(2026, 3, d))
			}
			// Spend is 12 a day: 50% (150) on the 13th, 80% (240) on the
			// 20th, 100% (300) on the 25th.
			want := map[string][]string{
				"budget/kvibes/50|2026-03":  {"03-13"},
				"budget/kvibes/80|2026-03":  {"03-20"},
				"budget/kvibes/100|2026-03": {"03-25"},
			}
			for k, days := range want {
				if !slices.Equal(fired[k], days) {
					t.Errorf("%s fired on %v, want %v", k, fired[k], days)
				}
			}
			if f := fired["budget/kvibes/forecast|2026-03"]; len(f) != 1 {
				t.Errorf("forecast fired on %v, want once", f)
			}
			if len(resolved) != 0 {
				t.Errorf("resolved within March: %v", resolved)
			}
			for d := 1; d <= 13; d++ {
				step(noon(2026, 4, d))
			}
			for _, th := range []string{"50", "80", "100", "forecast"} {
				if r := resolved["budget/kvibes/"+th+"|2026-03"]; !slices.Equal(r, []string{"04-01"}) {
					t.Errorf("March's %s resolved on %v, want 04-01", th, r)
				}
			}
			if f := fired["budget/kvibes/50|2026-04"]; !slices.Equal(f, []string{"04-13"}) {
				t.Errorf("April's 50%% fired on %v, want 04-13: a new month re-arms", f)
			}
			if f := fired["budget/kvibes/forecast|2026-04"]; len(f) != 1 {
				t.Errorf("April's forecast fired on %v, want once", f)
			}
			// One notification per transition, queued for the notifier.
			unsent, err := st.Unsent(ctx, testCluster)
			if err != nil {
				t.Fatal(err)
			}
			transitions := 0
			for _, v := range fired {
				transitions += len(v)
			}
			for _, v := range resolved {
				transitions += len(v)
			}
			if len(unsent) != transitions {
				t.Errorf("%d notifications queued, want %d", len(unsent), transitions)
			}
			// Every notify action is in the log, once per threshold and period.
			acts, err := st.Actions(ctx, testCluster, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var notes []string
			for _, a := range acts {
				var d logDetails
				if err := json.Unmarshal(a.Details, &d); err != nil {
					t.Fatal(err)
				}
				if a.Kind != "budget/notify" || a.Actor != "alice" || a.Outcome != OutcomeApplied || !strings.Contains(d.Why, "budget kvibes") {
					t.Errorf("unexpected action %+v", a)
				}
				notes = append(notes, d.Threshold+"@"+d.Period)
			}
			slices.Sort(notes)
			wantNotes := []string{"100@2026-03", "50@2026-03", "50@2026-04", "80@2026-03", "forecast@2026-03", "forecast@2026-04"}
			if !slices.Equal(notes, wantNotes) {
				t.Errorf("notify actions %v, want %v", notes, wantNotes)
			}
			st.Close()
		})
	}
}

// recorder is a downscaler that records its calls.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) Sleep(_ context.Context, namespaces []string, reason string) error {
	return r.record("sleep", namespaces, reason)
}

func (r *recorder) Wake(_ context.Context, namespaces []string, reason string) error {
	return r.record("wake", namespaces, reason)
}

func (r *recorder) record(verb string, namespaces []string, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if reason == "" {
		return fmt.Errorf("%s without a reason", verb)
	}
	r.calls = append(r.calls, verb+" "+strings.Join(namespaces, ","))
	return nil
}

func (r *recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}
