package cost_test

import (
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/testutil/fixtures"
)

// The review's repros: `purser cost` said "the pods need 0 nodes where 3
// run … saves USD 72.00" of a kubeadm cluster, and priced 3 × USD 24 of a
// pool whose two 8-vCPU nodes run 6 CPU each.
func TestRightsizingKeepsPoolsPackingCannotModel(t *testing.T) {
	t.Parallel()
	for _, tc := range fixtures.UnmodelledPools() {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			rs := allocate(t, tc.Snapshot, cost.Config{}, nil).Rightsizing
			if rs == nil || len(rs.Pools) != 1 {
				t.Fatalf("right-sizing %+v", rs)
			}
			p := rs.Pools[0]
			if p.Pool != tc.Pool || p.Nodes != 3 || p.Needed != 3 || p.Monthly.Micros != 0 || !strings.Contains(p.Note, "its nodes differ ("+tc.Mixed+")") {
				t.Errorf("pool %+v, want %s kept at 3 nodes, saving nothing, with a note saying how its nodes differ: %q", p, tc.Pool, tc.Mixed)
			}
			if rs.Monthly.Micros != 0 || rs.Monthly.Currency != "USD" || len(rs.Unplaced) != 0 {
				t.Errorf("right-sizing %v, unplaced %v: want USD 0 and none", rs.Monthly, rs.Unplaced)
			}
		})
	}
}
