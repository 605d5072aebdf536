package store_test

import (
	"testing"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/store"
)

// The dashboard's queries over three scans: a crash loop that stays, and
// a Service without endpoints that is fixed by the second scan and broken
// again in the third.
func TestDashboardQueries(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, target string) {
		s := open(t, target)
		crash1 := finding("pod-crashloop", web, pod("shop", "web-7d9f-abcde"), audit.Error)
		crash2 := finding("pod-crashloop", web, pod("shop", "web-5c8b-fghij"), audit.Warning)
		noEP := finding("service-no-endpoints", api, api, audit.Error)
		usd := func(v int64) money.Amount { return money.New("USD", v*money.Micro) }
		first, err := s.Record(t.Context(), store.ScanRecord{Cluster: "prod", Started: t0, Finished: t0.Add(time.Second),
			Scan: history.Scan{Source: "live:prod", Checks: allOK(), Findings: []history.Finding{crash1, noEP}, Currency: "USD",
				Cost: []history.GroupCost{{By: "namespace", Key: "shop", Monthly: usd(15)}, {By: "pool", Key: "a", Monthly: usd(10)}, {By: "pool", Key: "b", Monthly: usd(5)}}}})
		if err != nil {
			t.Fatal(err)
		}
		second := record(t, s, t0.Add(24*time.Hour), allOK(), crash2)
		third := record(t, s, t0.Add(48*time.Hour), allOK(), crash2, noEP)

		trends, err := s.Trends(t.Context(), "prod", 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			id      int64
			sev     map[audit.Severity]int
			monthly money.Amount
		}{
			{third.ID, map[audit.Severity]int{audit.Warning: 1, audit.Error: 1}, money.Amount{}},
			{second.ID, map[audit.Severity]int{audit.Warning: 1}, money.Amount{}},
			{first.ID, map[audit.Severity]int{audit.Error: 2}, usd(15)},
		}
		if len(trends) != len(want) {
			t.Fatalf("%d trends, want %d", len(trends), len(want))
		}
		for i, w := range want {
			got := trends[i]
			if got.ID != w.id || len(got.BySeverity) != len(w.sev) || got.Monthly != w.monthly {
				t.Errorf("trend %d: scan %d %v %s, want scan %d %v %s", i, got.ID, got.BySeverity, got.Monthly, w.id, w.sev, w.monthly)
			}
			for sev, n := range w.sev {
				if got.BySeverity[sev] != n {
					t.Errorf("scan %d: %d %s, want %d", got.ID, got.BySeverity[sev], sev, n)
				}
			}
		}
		if latest, err := s.Trends(t.Context(), "prod", 1); err != nil || len(latest) != 1 || latest[0].ID != third.ID {
			t.Errorf("the latest trend: %v, %v", latest, err)
		}

		changes, err := s.Changes(t.Context(), "prod", 0)
		if err != nil {
			t.Fatal(err)
		}
		keys := func(fs []store.Finding) []string {
			var out []string
			for _, f := range fs {
				out = append(out, f.Key)
			}
			return out
		}
		for _, tt := range []struct {
			scan          int64
			news, resolve []string
		}{
			{first.ID, []string{noEP.Key, crash1.Key}, nil},
			{second.ID, nil, []string{noEP.Key}},
			{third.ID, []string{noEP.Key}, nil},
		} {
			c := changes[tt.scan]
			if c == nil {
				t.Errorf("scan %d: no changes", tt.scan)
				continue
			}
			if got := keys(c.New); !equal(got, tt.news) {
				t.Errorf("scan %d: new %v, want %v", tt.scan, got, tt.news)
			}
			if got := keys(c.Resolved); !equal(got, tt.resolve) {
				t.Errorf("scan %d: resolved %v, want %v", tt.scan, got, tt.resolve)
			}
		}
		if latest, err := s.Changes(t.Context(), "prod", 1); err != nil || len(latest) != 1 || latest[third.ID] == nil {
			t.Errorf("changes of the latest scan: %v, %v", latest, err)
		}

		occ, err := s.Occurrences(t.Context(), "prod", noEP.Key)
		if err != nil {
			t.Fatal(err)
		}
		if len(occ) != 2 || occ[0].Open() || !occ[0].Resolved.Equal(t0.Add(24*time.Hour)) || !occ[1].Open() || !occ[1].FirstSeen.Equal(t0.Add(48*time.Hour)) {
			t.Errorf("occurrences %+v", occ)
		}

		seen, err := s.Sightings(t.Context(), "prod", noEP.Key, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 2 || seen[0].Scan != third.ID || seen[1].Scan != first.ID || seen[0].FindingID == seen[1].FindingID ||
			seen[0].Message != noEP.Message || !seen[0].At.Equal(t0.Add(48*time.Hour)) {
			t.Errorf("sightings %+v", seen)
		}
		if latest, err := s.Sightings(t.Context(), "prod", crash1.Key, 1); err != nil || len(latest) != 1 || latest[0].Severity != audit.Warning {
			t.Errorf("latest sighting of the crash loop: %+v, %v", latest, err)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
