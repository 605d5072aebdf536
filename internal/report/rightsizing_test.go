package report_test

import (
	"testing"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/report"
)

func TestRightsizingLine(t *testing.T) {
	t.Parallel()
	pool := func(name string, nodes, needed int, price, monthly, note string) cost.PoolResize {
		return cost.PoolResize{Pool: name, InstanceType: "s-2vcpu-4gb", TargetUtilization: 80, Nodes: nodes, Needed: needed,
			NodeMonthly: usd(price), Monthly: usd(monthly), Note: note}
	}
	tests := []struct {
		name string
		rs   *cost.Rightsizing
		want string
	}{
		{name: "none", rs: nil, want: ""},
		{name: "a pool shrinks", rs: &cost.Rightsizing{Pools: []cost.PoolResize{pool("apps", 3, 1, "24", "48", "")}, Monthly: usd("48")},
			want: "Right-sizing: at 80% of allocatable the pods need 1 node where 3 run (apps 3 → 1); resizing the pools saves USD 48.00 a month, " +
				"with or without a consolidation (purser plan lists the steps)."},
		{name: "a pool must grow: a cost, not a negative saving",
			rs: &cost.Rightsizing{Pools: []cost.PoolResize{pool("apps", 1, 2, "24", "-24", "")}, Monthly: usd("-24")},
			want: "Right-sizing: at 80% of allocatable the pods need 2 nodes where 1 run (apps 1 → 2); resizing the pools costs USD 24.00 a month more, " +
				"with or without a consolidation (purser plan lists the steps)."},
		{name: "nothing to change", rs: &cost.Rightsizing{Pools: []cost.PoolResize{pool("apps", 3, 3, "24", "0", "")}, Monthly: usd("0")},
			want: "Right-sizing: every pool has the nodes its pods need at 80% of allocatable."},
		{name: "a pool packing cannot model keeps its nodes",
			rs:   &cost.Rightsizing{Pools: []cost.PoolResize{pool("(none)", 3, 3, "24", "0", "its nodes differ (taints)")}, Monthly: usd("0")},
			want: "Right-sizing: no pool is resized at 80% of allocatable. Pool (none) keeps its 3 nodes: its nodes differ (taints)."},
		{name: "Pending pods that fit nowhere", rs: &cost.Rightsizing{Pools: []cost.PoolResize{pool("apps", 1, 1, "24", "0", "")},
			Monthly: usd("0"), Unplaced: []string{"shop/huge"}},
			want: "Right-sizing: every pool has the nodes its pods need at 80% of allocatable. 1 pod not running today fits no node at that target: shop/huge."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := report.RightsizingLine(tc.rs); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
