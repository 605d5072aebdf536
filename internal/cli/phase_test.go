package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
	"github.com/purserhq/purser/internal/testutil/golden"
)

func runPhase(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	root := NewRoot(streams)
	root.SetArgs(append([]string{"phase", "status"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// TestPhaseStatusDemo: the strategy's KPI table with BlueOcean's
// measured values: USD 1,289.30 a month, 69 namespaces, 8 error findings.
func TestPhaseStatusDemo(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"table", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			out, _, err := runPhase(t, "--demo", "-o", format)
			if err != nil {
				t.Fatal(err)
			}
			ext := map[string]string{"table": "txt", "json": "json", "markdown": "md"}[format]
			golden.Assert(t, filepath.Join("testdata", "phase", "demo."+ext), []byte(out))
			if format != "json" {
				return
			}
			var doc struct {
				Summary  string `json:"summary"`
				Measured []struct {
					KPI    string        `json:"kpi"`
					Amount *money.Amount `json:"amount"`
					Count  *int          `json:"count"`
				} `json:"measured"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Summary != "Phase 1 - Survival in progress" {
				t.Errorf("summary %q", doc.Summary)
			}
			got := map[string]string{}
			for _, m := range doc.Measured {
				switch {
				case m.Amount != nil:
					got[m.KPI] = m.Amount.String()
				case m.Count != nil:
					got[m.KPI] = strconv.Itoa(*m.Count)
				}
			}
			want := map[string]string{"monthly cost": "USD 1,289.30", "namespaces": "69", "open error findings": "8"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestPhaseStatusFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := filepath.Join(dir, "purser.yaml")
	if err := os.WriteFile(plain, []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cluster := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(cluster, []byte(phaseCluster), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\nphases:\n  sequence:\n  - name: one\n    targets: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--demo", "--prometheus", "http://127.0.0.1:9"}, "--prometheus measures a live cluster's traffic"},
		{[]string{"--demo", "--store", filepath.Join(dir, "h.db")}, "--store holds a live cluster's history"},
		{[]string{"--demo", "-n", "monitoring"}, "does not narrow to a namespace"},
		{[]string{"--demo", "-o", "html"}, "html"},
		{[]string{"--from", cluster, "--config", plain}, "has no phases"},
		{[]string{"--demo", "--config", bad}, bad + ":6: phases.sequence[0].targets: no target"},
	} {
		_, _, err := runPhase(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
	// A user's purser.yaml without phases over the demo keeps the
	// demo's: layering replaces only the sections a file gives.
	if _, _, err := runPhase(t, "--demo", "--config", plain, "-o", "json"); err != nil {
		t.Errorf("demo under a config without phases: %v", err)
	}
}

// phaseCluster is a small cluster file: 3 namespaces besides
// Kubernetes' own 4.
const phaseCluster = `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: default}}
- {apiVersion: v1, kind: Namespace, metadata: {name: kube-system}}
- {apiVersion: v1, kind: Namespace, metadata: {name: kube-public}}
- {apiVersion: v1, kind: Namespace, metadata: {name: kube-node-lease}}
- {apiVersion: v1, kind: Namespace, metadata: {name: app}}
- {apiVersion: v1, kind: Namespace, metadata: {name: app-dev}}
- {apiVersion: v1, kind: Namespace, metadata: {name: tools}}
`

const phaseConfig = `apiVersion: purser.dev/v1alpha1
kind: Config
phases:
  baseline: {month: "2026-09", namespaces: 20, openErrors: 5}
  sequence:
  - name: one
    targets:
      monthlyCost: {reductionPercent: 20}
      namespaces: {max: 10}
    enterNext:
    - costTargetMet: {months: 2}
    - incidentFree: {days: 30}
  - name: two
    targets:
      openErrors: {max: 0}
`

// TestPhaseStatusFromStore: with --store, the monthly cost is the month
// to date extrapolated, the baseline month and the full months come from
// the stored daily costs, and the incidents are the open error findings,
// all at an injected clock.
func TestPhaseStatusFromStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	clusterFile := filepath.Join(dir, "cluster.yaml")
	cfgFile := filepath.Join(dir, "purser.yaml")
	db := filepath.Join(dir, "history.db")
	for f, data := range map[string]string{clusterFile: phaseCluster, cfgFile: phaseConfig} {
		if err := os.WriteFile(f, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := snapshot.Load(ctx, clusterFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	cluster := clusterName(s)
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	crash := history.Finding{Key: "crash", Check: "pod-crashloop", Severity: audit.Error,
		Workload: snapshot.Ref{Kind: "Deployment", Namespace: "app", Name: "web"}, Object: snapshot.Ref{Kind: "Deployment", Namespace: "app", Name: "web"}}
	// One scan a day from September to 10 December: USD 1,000 a month in
	// September (the baseline), 750 in October, 700 in November, 730 in
	// December. The crash loop is open from 5 December.
	monthly := map[time.Month]int64{time.September: 1000, time.October: 750, time.November: 700, time.December: 730}
	for day := time.Date(2026, 9, 1, 6, 0, 0, 0, time.UTC); day.Before(time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC)); day = day.AddDate(0, 0, 1) {
		scan := history.Scan{Source: cluster, Currency: "USD", Checks: map[string]string{"pod-crashloop": audit.StatusOK},
			Cost: []history.GroupCost{{By: "pool", Key: "main", Monthly: money.New("USD", monthly[day.Month()]*money.Micro)}}}
		if day.Month() == time.December && day.Day() >= 5 {
			scan.Findings = []history.Finding{crash}
		}
		if _, err := st.Record(ctx, store.ScanRecord{Cluster: cluster, Started: day, Finished: day, Scan: scan}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd := newPhaseStatusCmd(streams, genericclioptions.NewConfigFlags(true), clocktesting.NewFakePassiveClock(time.Date(2026, 12, 10, 18, 0, 0, 0, time.UTC)))
	cmd.SetArgs([]string{"--from", clusterFile, "--config", cfgFile, "--store", db, "-o", "json"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var doc struct {
		Summary  string   `json:"summary"`
		Blockers []string `json:"blockers"`
		Measured []struct {
			KPI    string        `json:"kpi"`
			Amount *money.Amount `json:"amount"`
			Count  *int          `json:"count"`
			Source string        `json:"source"`
		} `json:"measured"`
		Phases []struct {
			Targets   []struct{ Goal, Measured, State string } `json:"targets"`
			EnterNext []struct{ Goal, Measured, State string } `json:"enterNext"`
		} `json:"phases"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	// December: 10 recorded days of 730 × 24/730 = USD 24.00, so 240.00
	// to date, extrapolated to 31 days: 744.00.
	m := doc.Measured
	if m[0].Amount == nil || m[0].Amount.String() != "USD 744.00" || !strings.Contains(m[0].Source, "10 of 10 days recorded), extrapolated to the 31 days of December 2026") {
		t.Errorf("monthly cost %+v", m[0])
	}
	if m[1].Count == nil || *m[1].Count != 7 {
		t.Errorf("namespaces %+v", m[1])
	}
	if m[2].Count == nil || *m[2].Count != 1 || !strings.Contains(m[2].Source, "open in sqlite") {
		t.Errorf("open error findings %+v", m[2])
	}
	// The baseline is September's stored cost: 30 days of
	// 1000 × 24/730 (32.876712 a day) = 986.30; -20% is 789.04.
	one := doc.Phases[0]
	if one.Targets[0].Goal != "≤ USD 789.04" || one.Targets[0].State != "met" {
		t.Errorf("phase one's cost target %+v", one.Targets[0])
	}
	// October (31 × 24.657534 = 764.38) and November (30 × 23.013699 =
	// 690.41) are both under it.
	if got := one.EnterNext[0]; got.State != "met" || got.Measured != "2026-11 USD 690.41, 2026-10 USD 764.38" {
		t.Errorf("cost sustained %+v", got)
	}
	if got := one.EnterNext[1]; got.State != "not met" || got.Measured != "last open 2026-12-10" {
		t.Errorf("incident-free %+v", got)
	}
	if doc.Summary != "one reached; two not yet" {
		t.Errorf("summary %q, blockers %q", doc.Summary, doc.Blockers)
	}
}

// TestPhaseStatusTraffic: traffic growth is the configured query read
// from Prometheus's HTTP API now and a window ago.
func TestPhaseStatusTraffic(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 23, 16, 22, 43, 0, time.UTC)
	var queries []string
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.URL.Path != "/api/v1/query" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		queries = append(queries, r.Form.Get("query"))
		ts, _ := strconv.ParseFloat(r.Form.Get("time"), 64)
		// 120 requests a second now, 80 ninety days earlier: +50%.
		v := "120"
		if time.Unix(int64(ts), 0).Before(at.AddDate(0, 0, -89)) {
			v = "80"
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%g,"%s"]}]}}`, ts, v)
	}))
	t.Cleanup(prom.Close)
	dir := t.TempDir()
	snap := filepath.Join(dir, "cluster.yaml")
	cfg := filepath.Join(dir, "purser.yaml")
	if err := os.WriteFile(snap, []byte(phaseCluster), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(`apiVersion: purser.dev/v1alpha1
kind: Config
phases:
  traffic: {query: 'sum(rate(requests_total[1d]))'}
  sequence:
  - name: one
    targets: {namespaces: {max: 10}}
    enterNext: [{trafficGrowth: {percent: 50, over: 90d}}]
  - name: two
    targets: {trafficGrowth: {percent: 60, over: 90d}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runPhase(t, "--from", snap, "--collected-at", at.Format(time.RFC3339), "--config", cfg, "--prometheus", prom.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"traffic growth over 90d: +50.00% (" + prom.URL + ": sum(rate(requests_total[1d])), 80 90d ago and 120 now)",
		"one reached; two not yet",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "traffic growth  ≥ +60% over 90d  +50.00%   not met") {
		t.Errorf("phase two's traffic target:\n%s", out)
	}
	if len(queries) != 2 || queries[0] != "sum(rate(requests_total[1d]))" {
		t.Errorf("queries %q: want the configured one, now and 90 days ago", queries)
	}
}
