package snapshot

import (
	"fmt"
	"math"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestClampedAmounts(t *testing.T) {
	t.Parallel()
	maxMilli, maxBytes := MaxCPU.MilliValue(), MaxBytes.Value()
	for _, tt := range []struct {
		q           string
		milli, byte int64
	}{
		{"250m", 250, 1},
		{"4Gi", maxMilli, 4 << 30},
		{"999", 999000, 999},
		{"-1", 0, 0},
		{"-1e30", 0, 0},
		// MilliValue of 1e16 is 0 and Value of 1e30 is 0; MilliValue of 8Ei is -1000.
		{"1e16", maxMilli, 1e16},
		{"1e30", maxMilli, maxBytes},
		{"8Ei", maxMilli, maxBytes},
		{"1M", maxMilli, 1e6},
	} {
		q := resource.MustParse(tt.q)
		if got := ClampedMilliCPU(q); got != tt.milli {
			t.Errorf("ClampedMilliCPU(%s) = %d, want %d", tt.q, got, tt.milli)
		}
		if got := ClampedBytes(q); got != tt.byte {
			t.Errorf("ClampedBytes(%s) = %d, want %d", tt.q, got, tt.byte)
		}
	}
}

func TestBoundsAgree(t *testing.T) {
	t.Parallel()
	if MaxCPU.MilliValue() != maxMilliCPU || MaxBytes.Value() != maxBytes {
		t.Errorf("MaxCPU %d millicores, MaxBytes %d: the integer bounds say %d and %d", MaxCPU.MilliValue(), MaxBytes.Value(),
			int64(maxMilliCPU), int64(maxBytes))
	}
}

func TestSaturatingArithmetic(t *testing.T) {
	t.Parallel()
	const maxI, minI = math.MaxInt64, math.MinInt64
	for _, tt := range []struct {
		a, b, add, sub int64
	}{
		{1, 2, 3, -1},
		{maxI, 1, maxI, maxI - 1},
		{maxI, maxI, maxI, 0},
		{minI, -1, minI, minI + 1},
		{minI, 1, minI + 1, minI},
		{0, minI, minI, maxI},
		{-1, minI, minI, maxI},
		{5, -7, -2, 12},
	} {
		if got := AddSat(tt.a, tt.b); got != tt.add {
			t.Errorf("AddSat(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.add)
		}
		if got := SubSat(tt.a, tt.b); got != tt.sub {
			t.Errorf("SubSat(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.sub)
		}
	}
}

// A snapshot built in code is not validated: the per-node sums must
// neither wrap nor go negative.
func TestNodeRequestsDoNotWrap(t *testing.T) {
	t.Parallel()
	pod := func(name, node string, req corev1.ResourceList) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
			Spec:   corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: req}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	}
	s := &Snapshot{}
	for i := range 9 { // 9 × 1Ei is past int64
		s.Pods = append(s.Pods, pod(fmt.Sprint("big-", i), "n1", corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Ei")}))
	}
	s.Pods = append(s.Pods,
		pod("negative", "n2", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("-4"), corev1.ResourceMemory: resource.MustParse("-1Gi")}),
		pod("huge-cpu", "n3", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8Ei")}))
	ix := NewIndex(s)
	for _, tt := range []struct {
		node string
		want Requests
	}{
		{"n1", Requests{MemoryBytes: math.MaxInt64, Pods: 9}},
		{"n2", Requests{Pods: 1}},
		{"n3", Requests{MilliCPU: MaxCPU.MilliValue(), Pods: 1}},
	} {
		if got := ix.NodeRequests(tt.node); got != tt.want {
			t.Errorf("node %s: %+v, want %+v", tt.node, got, tt.want)
		}
	}
}
