package cost_test

import (
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/fixtures"
)

// The review's repros: `purser cost` said "the pods need 0 nodes where 3
// run … saves USD 72.00" of a kubeadm cluster, and priced 3 × USD 24 of a
// pool whose two 8-vCPU nodes run 6 CPU each.
func TestRightsizingKeepsPoolsPackingCannotModel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    *snapshot.Snapshot
		pool string
		note string
	}{
		{"kubeadm", fixtures.Kubeadm(), snapshot.NoPool, "its nodes differ (taints: 1 × node-role.kubernetes.io/control-plane:NoSchedule, 2 × none)"},
		{"mixed sizes", fixtures.MixedPool(), "apps", "its nodes differ (instance type: 1 × s-2vcpu-4gb, 2 × s-8vcpu-16gb;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := allocate(t, tc.s, cost.Config{}, nil).Rightsizing
			if rs == nil || len(rs.Pools) != 1 {
				t.Fatalf("right-sizing %+v", rs)
			}
			p := rs.Pools[0]
			if p.Pool != tc.pool || p.Nodes != 3 || p.Needed != 3 || p.Monthly.Micros != 0 || !strings.Contains(p.Note, tc.note) {
				t.Errorf("pool %+v, want %s kept at 3 nodes, saving nothing, with a note saying %q", p, tc.pool, tc.note)
			}
			if rs.Monthly.Micros != 0 || rs.Monthly.Currency != "USD" || len(rs.Unplaced) != 0 {
				t.Errorf("right-sizing %v, unplaced %v: want USD 0 and none", rs.Monthly, rs.Unplaced)
			}
		})
	}
}
