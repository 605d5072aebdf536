package snapshot

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNodeRequests(t *testing.T) {
	t.Parallel()
	pod := func(name, node string, phase corev1.PodPhase, cpu, mem string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
			Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}}},
			Status: corev1.PodStatus{Phase: phase}}
	}
	ix := NewIndex(&Snapshot{Pods: []corev1.Pod{
		pod("web-1", "n1", corev1.PodRunning, "250m", "256Mi"),
		pod("web-2", "n1", corev1.PodPending, "500m", "1Gi"), // bound, still starting: holds its requests
		pod("job-1", "n1", corev1.PodSucceeded, "2", "4Gi"),  // finished: holds nothing
		pod("job-2", "n1", corev1.PodFailed, "2", "4Gi"),
		pod("web-3", "", corev1.PodPending, "1", "1Gi"), // not bound anywhere
		pod("db-0", "n2", corev1.PodRunning, "1", "2Gi"),
	}})
	tests := []struct {
		node string
		want Requests
	}{
		{"n1", Requests{MilliCPU: 750, MemoryBytes: 256<<20 + 1<<30, Pods: 2}},
		{"n2", Requests{MilliCPU: 1000, MemoryBytes: 2 << 30, Pods: 1}},
		{"n3", Requests{}},
		{"", Requests{}},
	}
	for _, tc := range tests {
		if got := ix.NodeRequests(tc.node); got != tc.want {
			t.Errorf("node %q: %+v, want %+v", tc.node, got, tc.want)
		}
	}
}

// BenchmarkNewIndex builds the index of 10,000 pods, then asks every
// node's requests once: the sums are paid for on first use only.
func BenchmarkNewIndex(b *testing.B) {
	s := &Snapshot{Pods: generatedPods(10000)}
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			NewIndex(s)
		}
	})
	b.Run("build+requests", func(b *testing.B) {
		for b.Loop() {
			ix := NewIndex(s)
			for i := range 300 {
				ix.NodeRequests(s.Pods[i].Spec.NodeName)
			}
		}
	})
}
