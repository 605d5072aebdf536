package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
	"github.com/purserhq/purser/internal/testutil/golden"
	"github.com/purserhq/purser/internal/testutil/pgtest"
)

// historyTargets are the databases --store is tested with: a SQLite file
// and a PostgreSQL URL.
func historyTargets() []struct {
	name   string
	target func(t *testing.T) string
} {
	return []struct {
		name   string
		target func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "history.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.ForTest(t) }},
	}
}

// seedDemoHistory records, three days ago, a scan of the demo in which
// the Prometheus Service was still fine and a Deployment since deleted
// was crash-looping.
func seedDemoHistory(t *testing.T, target string) (gone snapshot.Ref) {
	t.Helper()
	ctx := context.Background()
	env, err := action.Demo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := action.Audit{}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	scan, _, err := captureScan(ctx, env, res)
	if err != nil {
		t.Fatal(err)
	}
	kept := scan.Findings[:0]
	for _, f := range scan.Findings {
		if f.Check == "service-no-endpoints" && f.Object == prometheusServer {
			continue
		}
		kept = append(kept, f)
	}
	gone = snapshot.Ref{Kind: "Deployment", Namespace: "shop", Name: "gone"}
	scan.Findings = append(kept, history.Finding{Key: audit.Identity("pod-crashloop", gone), Check: "pod-crashloop", Severity: audit.Error,
		Workload: gone, Object: snapshot.Ref{Kind: "Pod", Namespace: "shop", Name: "gone-abc"}, Message: "crash loop"})
	st, err := store.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Now().Add(-3*24*time.Hour - time.Hour)
	if _, err := st.Record(ctx, store.ScanRecord{Cluster: clusterName(env.Snapshot), Started: at, Finished: at, Scan: scan}); err != nil {
		t.Fatal(err)
	}
	return gone
}

// purser audit --store records the scan and shows each finding as new or
// open for so many days; --since lists what is new and fixed; and the two
// recorded scans diff as the snapshots would.
func TestAuditStore(t *testing.T) {
	t.Parallel()
	for _, b := range historyTargets() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			target := b.target(t)
			gone := seedDemoHistory(t, target)
			out, errOut, err := runPurser(t, nil, "audit", "--demo", "--store", target, "--since", "2d")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(errOut, "recorded scan 2 in ") || !strings.Contains(errOut, ": 1 new, 1 resolved since the previous scan") {
				t.Errorf("stderr: %s", errOut)
			}
			_, hist, ok := strings.Cut(out, "\nHISTORY (scan 2)\n")
			if !ok {
				t.Fatalf("no history section in:\n%s", out)
			}
			rows := regexp.MustCompile(`(?m)^(new|open \S+)\s+(\S+)\s+(\S+)\s+(\S+)$`).FindAllStringSubmatch(hist, -1)
			states := map[string]int{}
			for _, r := range rows {
				states[r[1]]++
				if r[1] == "new" && (r[3] != "service-no-endpoints" || r[4] != prometheusServer.String()) {
					t.Errorf("new: %s", r[0])
				}
			}
			if states["new"] != 1 || states["open 3d"] != len(rows)-1 || len(rows) < 100 {
				t.Errorf("states %v over %d rows, want one new and the rest open 3d", states, len(rows))
			}
			_, since, _ := strings.Cut(hist, "\nSINCE ")
			if !strings.Contains(since, "(2d): 1 new, 1 fixed") || !strings.Contains(since, "pod-crashloop  Pod/shop/gone-abc") ||
				!regexp.MustCompile(`NEW\n.*\n.*service-no-endpoints\s+`+regexp.QuoteMeta(prometheusServer.String())).MatchString(since) {
				t.Errorf("--since section:\n%s", since)
			}
			// JSON keeps its document; history is on stderr only.
			out, errOut, err = runPurser(t, nil, "audit", "--demo", "--store", target, "-o", "json")
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid([]byte(out)) || !strings.Contains(errOut, "recorded scan 3 in ") || !strings.Contains(errOut, ": 0 new, 0 resolved") {
				t.Errorf("-o json: valid %v, stderr %s", json.Valid([]byte(out)), errOut)
			}
			// Scan 3 saw what scan 2 did: latest~2 is scan 1.
			for _, sides := range [][2]string{{"scan:1", "scan:2"}, {"scan:latest~2", "scan:latest~1"}} {
				out, _, err = runPurser(t, nil, "diff", "--store", target, sides[0], sides[1], "-o", "json")
				if err != nil {
					t.Fatal(err)
				}
				var d history.Diff
				if err := json.Unmarshal([]byte(out), &d); err != nil {
					t.Fatal(err)
				}
				if len(d.New) != 1 || d.New[0].Object != prometheusServer || len(d.Fixed) != 1 || d.Fixed[0].Workload != gone {
					t.Errorf("%s to %s: new %v, fixed %v", sides[0], sides[1], d.New, d.Fixed)
				}
				if len(d.Cost) != 0 || len(d.Added)+len(d.Removed) != 0 {
					t.Errorf("%s to %s: cost %v, added %v, removed %v", sides[0], sides[1], d.Cost, d.Added, d.Removed)
				}
			}
			if _, _, err := runPurser(t, nil, "diff", "--store", target, "scan:latest~3", "scan:latest"); err == nil || !strings.Contains(err.Error(), "holds 3 scans") {
				t.Errorf("scan:latest~3 of 3 scans: %v", err)
			}
		})
	}
}

func TestHistoryFlags(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "h.db")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--demo", "--since", "7d"}, "--since reads the history: give it with --store"},
		{[]string{"audit", "--demo", "--store", db, "--since", "seven days"}, `--since: "seven days"`},
		{[]string{"audit", "--demo", "--store-max-age", "30d"}, "give --store too"},
		{[]string{"audit", "--demo", "--store", db, "--store-max-scans", "-1"}, "--store-max-scans -1"},
		{[]string{"audit", "--manifests", "x.yaml", "--store", db}, "manifests are not one"},
		{[]string{"cost", "--demo", "--month-to-date"}, "give the database with --store"},
		{[]string{"cost", "--demo", "--month-to-date", "--store", db, "-o", "markdown"}, "-o markdown"},
		{[]string{"cost", "--demo", "--month-to-date", "--store", db, "-n", "monitoring"}, "does not narrow"},
		{[]string{"cost", "--demo", "--month-to-date", "--store", db, "--by", "product"}, "--by product"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			_, _, err := runPurser(t, nil, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// purser cost --store records the day's cost; --month-to-date adds up the
// stored days and says it is an estimate when some are missing.
func TestCostMonthToDate(t *testing.T) {
	t.Parallel()
	for _, b := range historyTargets() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			target := b.target(t)
			out, errOut, err := runPurser(t, nil, "cost", "--demo", "--store", target, "--month-to-date", "--by", "pool", "-o", "json")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(errOut, "recorded the cost of demo:blueocean for ") {
				t.Errorf("stderr: %s", errOut)
			}
			var m history.MonthToDate
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatal(err)
			}
			if len(m.Groupings) != 1 || m.Groupings[0].By != "pool" || m.Recorded < 1 {
				t.Fatalf("month to date %+v", m)
			}
			// Today's share of the demo's USD 1,289.30 a month, counted
			// for every day of the month so far.
			daily, _ := store.DailyOf(money.New("USD", 1_289_300_000))
			if got := m.Groupings[0].Total.Micros; m.Recorded == 1 && absDiff(got, daily.Micros*int64(m.Days)) > 100 {
				t.Errorf("total %d, want about %d", got, daily.Micros*int64(m.Days))
			}
			if m.Estimate != (m.Days > 1) {
				t.Errorf("estimate %v over %d days with one recorded", m.Estimate, m.Days)
			}

			// Four days of March, two of them recorded.
			st, err := store.Open(context.Background(), target)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, d := range []int{1, 3} {
				at := time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC)
				_, err := st.Record(context.Background(), store.ScanRecord{Cluster: "march", Started: at, Scan: history.Scan{Source: "x", Currency: "USD",
					Cost: []history.GroupCost{{By: "pool", Key: "apps", Monthly: money.New("USD", int64(d)*730_000_000)}, {By: "team", Key: "web", Monthly: money.New("USD", 730_000_000)}}}})
				if err != nil {
					t.Fatal(err)
				}
			}
			mtd, err := monthToDate(context.Background(), st, "march", time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC), nil)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := history.MonthToDateTable(&buf, mtd); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", "history", "month-to-date-estimate.txt"), buf.Bytes())
		})
	}
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// scan:latest names a scan only when the database follows one cluster.
func TestDiffLatestOfSeveralClusters(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "h.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"prod", "staging"} {
		if _, err := st.Record(context.Background(), store.ScanRecord{Cluster: c, Started: time.Now(), Scan: history.Scan{Source: c}}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	_, _, err = runPurser(t, nil, "diff", "--store", db, "scan:latest", "demo")
	if err == nil || !strings.Contains(err.Error(), "the scans of 2 clusters (prod, staging)") {
		t.Errorf("scan:latest of two clusters: %v", err)
	}
	if _, _, err := runPurser(t, nil, "diff", "--store", db, "scan:1", "scan:2", "-o", "json"); err != nil {
		t.Errorf("scans named by number: %v", err)
	}
}
