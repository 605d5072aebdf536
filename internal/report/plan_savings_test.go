package report

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/fixtures"
)

// amountRE finds figures of money, with the three letters and the space
// before them when there are any.
var amountRE = regexp.MustCompile(`(?:[A-Z]{3} )?-?[0-9][0-9,]*\.[0-9]{2}\b`)

// TestPlanSavingsWording: the summary and the review document word each
// saving in its own terms, print what could not be priced, and never show
// an amount without its currency.
func TestPlanSavingsWording(t *testing.T) {
	t.Parallel()
	usd := func(u int64) money.Amount { return money.New("USD", u*money.Micro) }
	table := plan.PriceTable{Nodes: map[string]money.Amount{"s-2vcpu-4gb": usd(24)}, LoadBalancer: usd(12), VolumePerGiB: money.New("USD", 100_000)}
	// One node running 1.5 CPU of its 2, and a Pending pod of 1 CPU: at
	// 80% the pool needs a second node.
	growing := fixtures.Snapshot("growing", []corev1.Node{fixtures.Node("web-1", "web", "s-2vcpu-4gb", "2", "4Gi")},
		fixtures.Pod("shop", "api", "web-1", "1500m", "1Gi"), fixtures.Pod("shop", "new", "", "1", "1Gi"))
	tests := []struct {
		name   string
		s      *snapshot.Snapshot
		prices plan.Prices
		want   []string
		absent []string
	}{
		{name: "no pool changes: right-sizing says so in its own words", s: fixtures.Kubeadm(), prices: table,
			want: []string{
				"The plan itself: USD 0.00/month\n      " + planNothing + "\n",
				"(the pool steps in the plan): USD 0.00/month\n      " + plan.NoRightsizing + "\n",
			}},
		{name: "a pool must grow: a cost", s: growing, prices: table,
			want: []string{"(the pool steps in the plan): USD 24.00/month more (a cost)", "With the plan and its pool steps: USD 24.00/month more (a cost)",
				"### Right-sizing the pools, with or without the plan: USD 24.00 a month more (a cost)",
				"costs USD 24.00 a month more with or without the plan"},
			absent: []string{"-24.00/month", "saves USD -"}},
		{name: "no price book: nodes counted, amounts not priced", s: fixtures.Unpriced(),
			want: []string{"The plan itself: not priced", "Right-sizing the pools, with or without the plan (the pool steps in the plan): not priced",
				"custom pool: 3 nodes today, 1 needed at 80% of allocatable: 2 nodes of x-custom-4, not priced",
				"Not priced: no price book: nodes counted, not priced", "Naive estimate: none: no per-namespace estimate configured (plan.naive.perNamespace)\n"}},
		{name: "a size the table lacks", s: fixtures.Unpriced(), prices: table,
			want: []string{"Right-sizing the pools, with or without the plan (the pool steps in the plan): USD 24.00/month",
				"custom pool: 3 nodes today, 1 needed at 80% of allocatable: 2 nodes of x-custom-4, not priced",
				`Not priced: pool custom: no price for instance type "x-custom-4"`,
				"| custom | x-custom-4 | 80% | 3 | 1 | 1 | +0 | +2 | not priced | not priced |",
				"| web | s-2vcpu-4gb | 80% | 2 | 1 | 1 | +0 | +1 | USD 24.00 | USD 24.00 |"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := plan.Build(context.Background(), snapshot.NewIndex(tc.s), plan.Input{Strategy: plan.StrategyEmpty, Prices: tc.prices})
			if err != nil {
				t.Fatal(err)
			}
			var md, sum bytes.Buffer
			if err := PlanMarkdown(&md, p); err != nil {
				t.Fatal(err)
			}
			if err := PlanSummary(&sum, p); err != nil {
				t.Fatal(err)
			}
			out := sum.String() + md.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(out, a) {
					t.Errorf("output has %q:\n%s", a, out)
				}
			}
			for _, m := range amountRE.FindAllString(out, -1) {
				if !regexp.MustCompile(`^[A-Z]{3} `).MatchString(m) {
					t.Errorf("amount %q without its currency:\n%s", m, out)
				}
			}
		})
	}
}
