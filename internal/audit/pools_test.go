package audit_test

import (
	"fmt"
	"math"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/fixtures"
)

// The pool table of a snapshot built in code, which nothing validated:
// converted plainly, 8Ei of CPU is -1000 millicores, 1e30 bytes is 0 and
// nine pods of 1Ei wrap into a negative sum.
func TestPoolsHealthDoesNotWrap(t *testing.T) {
	t.Parallel()
	s := &snapshot.Snapshot{Nodes: []corev1.Node{
		fixtures.Node("a1", "a", "", "4", "1e30"),
		fixtures.Node("b1", "b", "", "4", "8Gi"),
		fixtures.Node("c1", "c", "", "4", "8Gi"),
	}}
	s.Pods = append(s.Pods, fixtures.Pod("ns", "cpu-8ei", "a1", "8Ei", "1Gi"))
	for i := range 9 {
		s.Pods = append(s.Pods, fixtures.Pod("ns", fmt.Sprint("mem-", i), "b1", "100m", "1Ei"))
	}
	s.Pods = append(s.Pods, fixtures.Pod("ns", "negative", "c1", "-2", "-1Gi"))
	pools := map[string]audit.PoolHealth{}
	for _, p := range audit.PoolsHealth(snapshot.NewIndex(s)) {
		pools[p.Name] = p
	}
	for _, tt := range []struct {
		pool                        string
		cpuReq, memReq, memAlloc    int64
		cpuPercent, memPercentAtLst int64
	}{
		{"a", snapshot.MaxCPU.MilliValue(), 1 << 30, snapshot.MaxBytes.Value(), 25000000, 0},
		{"b", 900, math.MaxInt64, 8 << 30, 23, 1000},
		{"c", 0, 0, 8 << 30, 0, 0},
	} {
		p := pools[tt.pool]
		if p.CPURequestsMilli != tt.cpuReq || p.MemRequestsBytes != tt.memReq || p.MemAllocatableBytes != tt.memAlloc {
			t.Errorf("pool %s: cpu %d memory %d of %d, want cpu %d memory %d of %d", tt.pool, p.CPURequestsMilli, p.MemRequestsBytes,
				p.MemAllocatableBytes, tt.cpuReq, tt.memReq, tt.memAlloc)
		}
		if p.CPUPercent() != tt.cpuPercent || p.MemPercent() < tt.memPercentAtLst {
			t.Errorf("pool %s: cpu %d%%, memory %d%%, want cpu %d%% and memory at least %d%%", tt.pool, p.CPUPercent(), p.MemPercent(),
				tt.cpuPercent, tt.memPercentAtLst)
		}
	}
}
