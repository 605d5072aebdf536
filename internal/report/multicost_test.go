package report

import (
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
)

func TestNewMultiCost(t *testing.T) {
	t.Parallel()
	b := func(currency string, compute, lb int64) cost.Breakdown {
		return cost.Breakdown{Currency: currency, Total: money.New(currency, compute+lb), Categories: []cost.CategoryShare{
			{CategoryTotal: cost.CategoryTotal{Category: cost.Compute, Amount: money.New(currency, compute), Count: 1}},
			{CategoryTotal: cost.CategoryTotal{Category: cost.LoadBalancers, Amount: money.New(currency, lb), Count: 1}},
		}}
	}
	tests := []struct {
		name     string
		clusters []ClusterCost
		total    int64
		compute  int64
		err      string
	}{
		{name: "exact sum", clusters: []ClusterCost{{Cluster: "a", Breakdown: b("USD", 333_333_333, 12_000_000)}, {Cluster: "b", Breakdown: b("USD", 666_666_667, 1)}},
			total: 1_012_000_001, compute: 1_000_000_000},
		{name: "currencies differ", clusters: []ClusterCost{{Cluster: "prod", Breakdown: b("USD", 1, 1)}, {Cluster: "dev", Breakdown: b("EUR", 1, 1)}},
			err: "cluster prod is priced in USD and cluster dev in EUR"},
		{name: "overflow", clusters: []ClusterCost{{Cluster: "a", Breakdown: b("USD", 1<<62, 0)}, {Cluster: "b", Breakdown: b("USD", 1<<62, 0)}},
			err: "adding the cost of cluster b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := NewMultiCost(tt.clusters, nil)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Total.Micros != tt.total || m.Categories[0].Amount.Micros != tt.compute || m.Categories[0].Count != 2 {
				t.Errorf("total %d, compute %+v; want %d and %d over 2 nodes", m.Total.Micros, m.Categories[0], tt.total, tt.compute)
			}
		})
	}
}
