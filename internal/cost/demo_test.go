package cost_test

import (
	"testing"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/testutil/demo"
)

func usd(s string) money.Amount {
	a, err := money.Parse("USD", s)
	if err != nil {
		panic(err)
	}
	return a
}

// The audit's figures: $1,289.30 = 966 + 53.30 + 90 + 150 + 30.
func TestBlueOceanReproducesTheAudit(t *testing.T) {
	t.Parallel()
	r := demo.Cost(t)
	if r.Total != usd("1289.30") {
		t.Errorf("total %v, want USD 1,289.30", r.Total)
	}
	want := map[string]string{cost.Compute: "966", cost.Storage: "53.30", cost.LoadBalancers: "90",
		cost.Bandwidth: "150", cost.Snapshots: "30"}
	got := r.CategoryTotals()
	if len(got) != len(want) {
		t.Errorf("categories %+v", got)
	}
	for _, c := range got {
		if c.Amount != usd(want[c.Category]) {
			t.Errorf("%s: %v, want USD %s", c.Category, c.Amount, want[c.Category])
		}
		switch c.Category {
		case cost.Compute:
			if c.Count != 27 {
				t.Errorf("compute over %d nodes, want 27", c.Count)
			}
		case cost.Storage:
			if c.Bytes != 533<<30 {
				t.Errorf("storage %d GiB, want 533", c.Bytes>>30)
			}
		case cost.LoadBalancers:
			if c.Count != 9 {
				t.Errorf("%d load balancers, want 9", c.Count)
			}
		}
	}
	if len(r.Warnings) != 0 {
		t.Errorf("every demo node has a listed size and every claim a listed class; warnings: %q", r.Warnings)
	}
	if r.Book.LoadBalancerNote == "" {
		t.Error("the pinned $10 load balancer price must carry its reason")
	}
	// Every grouping reconciles with the total to the micro-unit.
	for _, by := range []string{"namespace", "team", "environment", "product", "pool", "workload", "label=app"} {
		g, err := cost.ParseGroupBy(by)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, row := range r.Group(g).Rows {
			sum += row.Total.Micros
		}
		if sum != r.Total.Micros {
			t.Errorf("--by %s: rows add up to %d micros, total is %d", by, sum, r.Total.Micros)
		}
	}
}

func TestBlueOceanEmptyNamespacesCostNothing(t *testing.T) {
	t.Parallel()
	r := demo.Cost(t)
	g := r.Group(cost.GroupBy{Kind: "namespace"})
	empty := 0
	for _, row := range g.Rows {
		if row.Empty {
			empty++
			if row.Total.Micros != 0 {
				t.Errorf("empty namespace %s costs %v", row.Key, row.Total)
			}
		}
	}
	if empty != 18 {
		t.Errorf("%d empty namespaces at zero, want 18", empty)
	}
	if g.Note == "" {
		t.Error("the grouping must say why empty namespaces cost nothing")
	}
}

func TestBlueOceanPools(t *testing.T) {
	t.Parallel()
	r := demo.Cost(t)
	want := map[string]string{"applications": "336", "platform": "192", "monitoring": "144",
		"api": "126", "infra": "96", "saas": "72"}
	for _, row := range r.Group(cost.GroupBy{Kind: "pool"}).Rows {
		if row.Key == cost.OffNodeKey || row.Key == cost.SharedKey {
			continue
		}
		if row.Total != usd(want[row.Key]) {
			t.Errorf("pool %s: %v, want USD %s", row.Key, row.Total, want[row.Key])
		}
		if row.Idle.Micros < 0 || row.Idle.Micros > row.Total.Micros {
			t.Errorf("pool %s: idle %v out of range", row.Key, row.Idle)
		}
	}
}
