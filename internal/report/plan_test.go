package report

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

var planUpdate = flag.Bool("update", false, "rewrite golden files")

func TestPlanMarkdownGolden(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	usd := func(u int64) money.Amount { return money.New("USD", u*money.Micro) }
	prices := plan.PriceTable{Nodes: map[string]money.Amount{"s-2vcpu-4gb": usd(24), "s-4vcpu-8gb": usd(48),
		"s-8vcpu-16gb": usd(96), "g-2vcpu-8gb": usd(63)}, LoadBalancer: usd(10), VolumePerGiB: money.New("USD", 100_000)}
	for _, strategy := range []string{plan.StrategyProduct, plan.StrategyEnvironment} {
		p, err := plan.Build(context.Background(), snapshot.NewIndex(s), plan.Input{Classify: cfg.Classify, Config: cfg.Plan, Strategy: strategy, Prices: prices})
		if err != nil {
			t.Fatal(err)
		}
		// When the embedded snapshot was recorded is not what this tests.
		p.Metadata.CollectedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var md, sum bytes.Buffer
		if err := PlanMarkdown(&md, p); err != nil {
			t.Fatal(err)
		}
		if err := PlanSummary(&sum, p); err != nil {
			t.Fatal(err)
		}
		planGolden(t, "plan-"+strategy+".md", md.Bytes())
		planGolden(t, "plan-"+strategy+".summary.txt", sum.Bytes())
	}
}

func planGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *planUpdate {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking the change)", name)
	}
}
