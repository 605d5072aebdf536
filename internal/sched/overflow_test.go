package sched

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/fixtures"
)

// Snapshots built in code are not validated. Converted plainly, 1e30
// bytes is 0, 8Ei of CPU is -1000 millicores and 1e16 CPUs is 0
// millicores: a pod asking for them would fit anywhere and a huge node
// would hold nothing.
func TestFitDoesNotWrap(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		req       corev1.ResourceList
		allocCPU  string
		used      snapshot.Requests
		wantFits  bool
		wantInRes corev1.ResourceName
	}{
		{name: "memory 1e30", req: requests("100m", "1e30"), allocCPU: "1900m", wantInRes: corev1.ResourceMemory},
		{name: "cpu 8Ei", req: requests("8Ei", "1Gi"), allocCPU: "1900m", wantInRes: corev1.ResourceCPU},
		{name: "cpu 1e16", req: requests("1e16", "1Gi"), allocCPU: "1900m", wantInRes: corev1.ResourceCPU},
		{name: "node of 1e16 CPUs", req: requests("2", "1Gi"), allocCPU: "1e16", wantFits: true},
		{name: "saturated use", req: requests("100m", "1Gi"), allocCPU: "1900m",
			used: snapshot.Requests{MemoryBytes: 1<<63 - 1}, wantInRes: corev1.ResourceMemory},
		{name: "negative request", req: requests("-1", "-1Gi"), allocCPU: "1900m", wantFits: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := testNode("n1", func(n *corev1.Node) { n.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse(tt.allocCPU) })
			v := Fit(&corev1.PodSpec{}, tt.req, n, tt.used)
			if v.Fits() != tt.wantFits {
				t.Fatalf("fits = %v (%s), want %v", v.Fits(), v, tt.wantFits)
			}
			if !tt.wantFits && (v.Reasons[0].Kind != InsufficientResource || v.Reasons[0].Resource != tt.wantInRes || v.Reasons[0].Free > 4<<30) {
				t.Errorf("reasons %+v, want insufficient %s", v.Reasons, tt.wantInRes)
			}
		})
	}
	free := Free(testNode("n1", nil), snapshot.Requests{MilliCPU: -1 << 63})
	if free.MilliCPU <= 0 {
		t.Errorf("free cpu with a used of MinInt64 = %d, want a positive bound", free.MilliCPU)
	}
}

// A pool of nodes larger than about 80 PiB once lost its target share to
// an overflow of bytes × percent: every pod then needed a node of its own.
func TestPackHugeNodes(t *testing.T) {
	t.Parallel()
	pool := NodeShape{Pool: "huge", MilliCPU: 64000, MemoryBytes: 1 << 62, MaxPods: 110, Labels: map[string]string{},
		Today: 3, RunsAll: true, TargetUtilization: 80}
	pods := []PodDemand{demand("a", 100, 1, "huge"), demand("b", 100, 1, "huge"), demand("c", 100, 1, "huge")}
	if got := Pack([]NodeShape{pool}, nil, pods).Pools["huge"].Needed; got != 1 {
		t.Errorf("needed %d nodes for three small pods, want 1", got)
	}
	if got := percentOf(1<<62, 80); got != 3689348814741910323 { // 2^62 × 0.8, rounded down
		t.Errorf("percentOf(2^62, 80) = %d", got)
	}
	if got := percentOf(1<<63-1, 100); got != 1<<63-1 {
		t.Errorf("percentOf(MaxInt64, 100) = %d", got)
	}
	// Daemons whose sum is past int64 leave no room, not a wrapped lot of it.
	big := PodDemand{Name: "d", MilliCPU: 1, MemoryBytes: 1 << 60}
	daemons := []PodDemand{big, big, big, big, big, big, big, big, big}
	if got := Pack([]NodeShape{pool}, daemons, pods).Pools["huge"]; len(got.Misfits) != 3 {
		t.Errorf("pods packed beside daemons that fill the node: %+v", got)
	}
}

// Pools and Demands clamp what they read: a node of 1e16 CPUs offers the
// bound, not 0, and a negative request asks for nothing.
func TestPoolsAndDemandsClamp(t *testing.T) {
	t.Parallel()
	s := &snapshot.Snapshot{Nodes: []corev1.Node{fixtures.Node("n1", "p", "", "1e16", "1e30")},
		Pods: []corev1.Pod{fixtures.Pod("ns", "neg", "n1", "-2", "-1Gi"), fixtures.Pod("ns", "huge", "n1", "8Ei", "8Ei")}}
	ix := snapshot.NewIndex(s)
	shapes := Pools(ix)
	if len(shapes) != 1 || shapes[0].MilliCPU != snapshot.MaxCPU.MilliValue() || shapes[0].MemoryBytes != snapshot.MaxBytes.Value() ||
		shapes[0].CapacityMilliCPU != snapshot.MaxCPU.MilliValue() {
		t.Errorf("shapes %+v, want the bounds", shapes)
	}
	_, pods := Demands(ix)
	for _, d := range pods {
		if d.MilliCPU < 0 || d.MemoryBytes < 0 {
			t.Errorf("demand %s: %d millicores, %d bytes", d.Name, d.MilliCPU, d.MemoryBytes)
		}
		if d.Name == "ns/huge" && (d.MilliCPU != snapshot.MaxCPU.MilliValue() || d.MemoryBytes != snapshot.MaxBytes.Value()) {
			t.Errorf("huge demand %+v, want the bounds", d)
		}
	}
}
