package auditreport

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/golden"
	"github.com/purserhq/purser/internal/version"
)

// fixtureSnapshot loads testdata/cluster.yaml, dated so that ages in the
// goldens do not move.
func fixtureSnapshot(t *testing.T) *snapshot.Snapshot {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.LoadManifests("testdata/cluster.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	s.Meta.CollectedAt = time.Date(2025, 9, 13, 7, 58, 0, 0, time.UTC)
	return s
}

// fixtureResult audits testdata/cluster.yaml with the availability checks
// and namespace-empty only, so that the goldens do not move with the other
// checks, with one severity override.
func fixtureResult(t *testing.T) *audit.Result {
	t.Helper()
	s := fixtureSnapshot(t)
	ids := []string{"service-no-endpoints", "pod-crashloop", "pod-pending", "daemonset-coverage", "workload-scaled-to-zero",
		"workload-unavailable", "job-failed", "cronjob-suspended", "namespace-empty"}
	cfg := &audit.Config{Overrides: []audit.Override{{Check: "cronjob-suspended", Severity: "warning"}}}
	res, err := audit.Run(context.Background(), snapshot.NewIndex(s), checks.Registry(), cfg, audit.Options{Checks: ids})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestGolden(t *testing.T) {
	t.Parallel()
	res := fixtureResult(t)
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := Write(&b, format, res); err != nil {
				t.Fatal(err)
			}
			ext := map[string]string{"table": "txt", "markdown": "md", "sarif": "sarif.json"}[format]
			if ext == "" {
				ext = format
			}
			out := b.Bytes()
			if format == "sarif" {
				// The tool version is the running build's (TestSARIFShape
				// checks it); the golden holds a placeholder.
				out = bytes.Replace(out, []byte(`"version": "`+version.Get().Version+`"`), []byte(`"version": "VERSION"`), 1)
			}
			golden.Assert(t, filepath.Join("testdata", "audit."+ext), out)
		})
	}
	t.Run("summary", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		if err := Summary(&b, res, TableOptions{}); err != nil {
			t.Fatal(err)
		}
		golden.Assert(t, filepath.Join("testdata", "summary.txt"), b.Bytes())
	})
}

func TestFixtureResultContents(t *testing.T) {
	t.Parallel()
	res := fixtureResult(t)
	got := map[string]int{}
	for _, f := range res.Findings {
		got[f.CheckID]++
	}
	want := map[string]int{"service-no-endpoints": 2, "pod-crashloop": 1, "pod-pending": 1, "daemonset-coverage": 1,
		"workload-scaled-to-zero": 1, "workload-unavailable": 1, "cronjob-suspended": 1, "namespace-empty": 1}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("%s: %d findings, want %d", id, got[id], n)
		}
	}
	if len(res.Suppressed) != 1 || res.Suppressed[0].Finding.Object.Name != "sandbox" {
		t.Errorf("suppressed = %+v, want the sandbox namespace by annotation", res.Suppressed)
	}
	for _, f := range res.Findings {
		if f.CheckID == "cronjob-suspended" && f.Severity != audit.Warning {
			t.Errorf("override not applied: cronjob-suspended at %s", f.Severity)
		}
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := HTML(&b, fixtureResult(t)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "src=", "href=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("HTML report contains %q: it must not fetch anything", bad)
		}
	}
	if !strings.Contains(page, "kubectl patch service web -n shop --type merge") {
		t.Error("HTML report lacks the selector patch")
	}
}

func TestSARIFShape(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := SARIF(&b, fixtureResult(t)); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Version string `json:"version"`
					Rules   []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	// The version a `go install` build reports, not the linker's default.
	if want := version.Get().Version; run.Tool.Driver.Version != want || want == "" {
		t.Errorf("tool version %q, want %q", run.Tool.Driver.Version, want)
	}
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s points at rule %d (%s)", r.RuleID, r.RuleIndex, run.Tool.Driver.Rules[r.RuleIndex].ID)
		}
		switch r.Level {
		case "error", "warning", "note":
		default:
			t.Errorf("result %s has level %q", r.RuleID, r.Level)
		}
	}
}

// TestScope: every format states the scope, and a namespace that
// narrowed the result is named.
func TestScope(t *testing.T) {
	t.Parallel()
	for _, ns := range []string{"", "shop"} {
		res := fixtureResult(t)
		want := map[string]string{"markdown": "Scope: whole cluster.",
			"html": "Scope: whole cluster.", "table": "Audit of testdata/cluster.yaml, whole cluster:"}
		if ns != "" {
			res.InNamespace(ns)
			want = map[string]string{"json": `"scope": "shop"`, "yaml": "scope: shop", "markdown": "Scope: namespace shop.",
				"html": "Scope: namespace shop.", "table": "Audit of testdata/cluster.yaml, namespace shop:"}
		}
		for format, text := range want {
			var b bytes.Buffer
			if err := Write(&b, format, res); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), text) {
				t.Errorf("-n %q -o %s lacks %q:\n%s", ns, format, text, b.String())
			}
		}
	}
}

// Recommendations sum each check up from all of its findings.
func TestRecommendationsFromAllFindings(t *testing.T) {
	t.Parallel()
	finding := func(ns, name, text, file string) audit.Finding {
		return audit.Finding{CheckID: "deployment-single-replica-no-pdb", Severity: audit.Info,
			Object:      snapshot.Ref{Kind: "Deployment", Namespace: ns, Name: name},
			Remediation: audit.Remediation{Text: text, File: file}}
	}
	scale := "Run two replicas and add a PodDisruptionBudget. More."
	keep := "Do not scale it: a second replica could not mount its volume. More."
	tests := []struct {
		name     string
		findings []audit.Finding
		want     []string
		notWant  []string
	}{
		{
			name:     "one fix for all",
			findings: []audit.Finding{finding("a", "web", scale, "f1"), finding("b", "api", scale, "f2")},
			want:     []string{"(2 findings, info) on a/web, b/api: Run two replicas and add a PodDisruptionBudget.", "Every fix is a file written by --write-fixes."},
			notWant:  []string{"2 fixes"},
		},
		{
			name: "distinct fixes with their objects",
			findings: []audit.Finding{finding("a", "web", scale, "f1"), finding("minio", "minio", keep, ""),
				finding("b", "api", scale, ""), finding("monitoring", "grafana", keep, "")},
			want: []string{"(4 findings, info) on a/web, minio/minio, b/api, monitoring/grafana: 2 fixes: ",
				"Run two replicas and add a PodDisruptionBudget (a/web, b/api)",
				"Do not scale it: a second replica could not mount its volume (minio/minio, monitoring/grafana).",
				"1 of the 4 fixes is a file written by --write-fixes."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recs := recommendations(&audit.Result{Findings: tt.findings})
			if len(recs) != 1 {
				t.Fatalf("recommendations: %q", recs)
			}
			for _, w := range tt.want {
				if !strings.Contains(recs[0], w) {
					t.Errorf("recommendation %q lacks %q", recs[0], w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(recs[0], w) {
					t.Errorf("recommendation %q has %q", recs[0], w)
				}
			}
		})
	}
}
