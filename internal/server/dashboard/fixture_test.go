package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/server/dashboard"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
	"github.com/purserhq/purser/internal/testutil/demo"
)

const cluster = "demo:blueocean"

// The Service the demo's audit knows how to fix: the Prometheus that had
// no endpoints for 103 days. The third recorded scan no longer sees it.
var fixedService = snapshot.Ref{Kind: "Service", Namespace: "monitoring", Name: "prometheus-server"}

// t0 is the first of demoHistory's three scans; the clock stands an hour
// after the last.
var t0 = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

func now() time.Time { return t0.Add(48*time.Hour + time.Hour) }

// scanned is one state of the demo cluster as a server holds it.
type scanned struct {
	cur  *dashboard.Current
	scan history.Scan
}

// scan audits and prices s as `purser audit --demo` and `purser cost
// --demo` would, and captures it as the store records it.
func scan(t testing.TB, s *snapshot.Snapshot, at time.Time) scanned {
	t.Helper()
	env, err := action.NewEnvFor(t.Context(), s, demo.Config(t), action.PriceOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := action.Audit{}.Run(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	c, err := action.Cost{GroupBy: history.CostGroupings()}.Run(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	return scanned{cur: &dashboard.Current{Env: env, Audit: res, Cost: c, ScannedAt: at}, scan: history.Capture(res, env.Index, c.Result)}
}

// demoHistory records three daily scans of the demo in a SQLite store in
// t.TempDir(): two as it is, the third with the Prometheus Service's
// selector fixed as the audit suggests. It returns the store and the
// latest state.
func demoHistory(t testing.TB, mutate func(*snapshot.Snapshot) *snapshot.Snapshot) (*store.Store, *dashboard.Current) {
	t.Helper()
	return demoHistoryOf(t, cluster, 3, mutate)
}

// demoHistoryOf is demoHistory filed under another cluster name, with n
// daily scans ending where demoHistory's do, the last with the Service
// fixed.
func demoHistoryOf(t testing.TB, cluster string, n int, mutate func(*snapshot.Snapshot) *snapshot.Snapshot) (*store.Store, *dashboard.Current) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var last scanned
	for i := range n {
		s := demo.Snapshot(t)
		if i == n-1 {
			fixSelector(t, s, fixedService)
		}
		if mutate != nil {
			s = mutate(s)
		}
		// Daily, the last always at t0 + 2 days: an hour before now().
		at := t0.Add(time.Duration(i-(n-3)) * 24 * time.Hour)
		last = scan(t, s, at)
		if _, err := st.Record(t.Context(), store.ScanRecord{Cluster: cluster, Started: at, Finished: at.Add(2 * time.Second), Scan: last.scan}); err != nil {
			t.Fatal(err)
		}
	}
	return st, last.cur
}

// server serves the dashboard of demoHistory at base.
func server(t testing.TB, st *store.Store, cur *dashboard.Current, base string) *httptest.Server {
	t.Helper()
	h, err := dashboard.New(dashboard.Options{Store: st, Cluster: cluster, BasePath: base, Clock: clocktesting.NewFakePassiveClock(now()),
		Current: func(context.Context) (*dashboard.Current, error) { return cur, nil }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(base+"/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// fixSelector applies the merge patch the audit suggests for the
// Service's missing endpoints, as `kubectl patch` would, and fills its
// EndpointSlice as the endpoint-slice controller then does.
func fixSelector(t testing.TB, s *snapshot.Snapshot, svc snapshot.Ref) {
	t.Helper()
	st := scan(t, s, t0)
	demo.FixService(t, s, st.cur.Audit.Findings, svc)
}

func httptestServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
