package report

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/demo"
	"github.com/purserhq/purser/internal/testutil/golden"
)

func TestPlanMarkdownGolden(t *testing.T) {
	t.Parallel()
	s, cfg := demo.Snapshot(t), demo.Config(t)
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
		golden.Assert(t, filepath.Join("testdata", "plan-"+strategy+".md"), md.Bytes())
		golden.Assert(t, filepath.Join("testdata", "plan-"+strategy+".summary.txt"), sum.Bytes())
	}
}
