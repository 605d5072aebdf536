package report_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/demo"
	"github.com/purserhq/purser/internal/testutil/golden"
)

func usd(s string) money.Amount {
	a, err := money.Parse("USD", s)
	if err != nil {
		panic(err)
	}
	return a
}

func fixtureBreakdown(t *testing.T, by ...cost.GroupBy) cost.Breakdown {
	t.Helper()
	data, err := os.ReadFile("testdata/cost-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.LoadManifests("cost-cluster.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	f, err := config.Load("testdata/cost-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, rules := f.Cost, f.Classify
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	if book, err = cfg.Apply(book); err != nil {
		t.Fatal(err)
	}
	cmp := &cost.Comparison{Source: "opencost http://opencost:9003", Window: "7d", Idle: usd("60.5"),
		ByNamespace: map[string]money.Amount{"shop-prod": usd("17.2"), "analytics": usd("41.9"), "shop-dev": usd("3.1")}}
	r, err := cost.Allocate(context.Background(), snapshot.NewIndex(s), cost.Input{Book: book, Config: cfg, Rules: rules, Comparison: cmp})
	if err != nil {
		t.Fatal(err)
	}
	// Nodes 24 + 84, volume 40 GiB × 0.10, balancer 12, egress 2,500 ×
	// 0.01, snapshots 120 × 0.06, support 24.
	if r.Total != usd("180.2") {
		t.Fatalf("fixture total %v, want USD 180.20", r.Total)
	}
	return r.Breakdown(by...)
}

func TestCostGolden(t *testing.T) {
	t.Parallel()
	b := fixtureBreakdown(t, cost.GroupBy{Kind: "pool"}, cost.GroupBy{Kind: "namespace"}, cost.GroupBy{Kind: "team"},
		cost.GroupBy{Kind: "environment"}, cost.GroupBy{Kind: "workload"}, cost.GroupBy{Kind: "label", Label: "app"})
	formats := []struct {
		file   string
		render func(*bytes.Buffer) error
	}{
		{"cost.txt", func(w *bytes.Buffer) error { return report.CostTable(w, b) }},
		{"cost.md", func(w *bytes.Buffer) error { return report.CostMarkdown(w, b) }},
		{"cost.html", func(w *bytes.Buffer) error { return report.CostHTML(w, b) }},
		{"cost.json", func(w *bytes.Buffer) error { return report.WriteJSON(w, report.CostReportDoc(b)) }},
		{"cost.yaml", func(w *bytes.Buffer) error { return report.WriteYAML(w, report.CostReportDoc(b)) }},
	}
	for _, f := range formats {
		t.Run(f.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := f.render(&buf); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", f.file), buf.Bytes())
		})
	}
}

func TestCostHTMLIsSelfContained(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := report.CostHTML(&buf, fixtureBreakdown(t, cost.DefaultGroupings()...)); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, bad := range []string{"<script", "<link", "src=", "href=", "url(", "@import"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML report contains %q: it must not fetch anything", bad)
		}
	}
	// One bar per group row plus the category split.
	if n := strings.Count(html, "<svg"); n < 1+3+4+4 {
		t.Errorf("%d SVG charts", n)
	}
	for _, c := range []string{"compute", "storage", "load balancers", "bandwidth", "snapshots"} {
		if !strings.Contains(html, "<title>"+c+" ") {
			t.Errorf("the category split lacks %s", c)
		}
	}
}

// The demo prints the audit's breakdown; the per-group figures depend on
// the scenario's requests, so only the audit's own figures are pinned.
func TestCostDemoTable(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := report.CostTable(&buf, demo.Cost(t).Breakdown(cost.DefaultGroupings()...)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Monthly cost: USD 1,289.30",
		"CATEGORY          QUANTITY  MONTHLY (USD)   SHARE\n" +
			"compute           27 nodes         966.00   74.9%\n" +
			"storage            533 GiB          53.30    4.1%\n" +
			"load balancers           9          90.00    7.0%\n" +
			"bandwidth       15,000 GiB         150.00   11.6%\n" +
			"snapshots          500 GiB          30.00    2.3%\n" +
			"total                            1,289.30  100.0%\n",
		"Load balancers at USD 10.00 a node-month: The audit's",
		"By pool", "By namespace", "By team",
		"18 empty namespaces cost USD 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo table lacks %q:\n%s", want, out)
		}
	}
}

func TestCostSummary(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := report.CostSummary(&buf, demo.Cost(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Cost: USD 1,289.30 a month",
		"compute 966.00 (74.9%), storage 533 GiB 53.30 (4.1%), load balancers (9) 90.00 (7.0%), bandwidth 150.00 (11.6%), snapshots 30.00 (2.3%)",
		"by team: platform",
		"18 empty namespaces: USD 0.00",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n > 8 {
		t.Errorf("summary has %d lines; it is meant to be short", n)
	}
}
