package checks

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/fixtures"
)

// A snapshot built in code is not validated. Sizes and amounts past what
// int64 counts (1e30 bytes converts to 0, 1e16 CPUs to 0 millicores) are
// written as they are, never as 0 or as a wrapped number, and a volume of
// 1e30 bytes keeps its size in the evidence.
func TestOutOfRangeQuantitiesAreWrittenAsTheyAre(t *testing.T) {
	t.Parallel()
	huge := resource.MustParse("1e30")
	s := &snapshot.Snapshot{
		Nodes: []corev1.Node{fixtures.Node("n1", "p", "", "1e16", "1e30")},
		Pods:  []corev1.Pod{fixtures.Pod("shop", "greedy", "", "2e16", "1e31")},
		PVs: []corev1.PersistentVolume{{ObjectMeta: metav1.ObjectMeta{Name: "pv-huge"},
			Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: huge},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain},
			Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeAvailable}}},
		PVCs: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "shop"},
			Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, Capacity: corev1.ResourceList{corev1.ResourceStorage: huge}}}},
	}
	res, err := audit.Run(context.Background(), snapshot.NewIndex(s), Registry(), nil, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	evidence := map[string][]string{}
	for _, f := range res.Findings {
		evidence[f.CheckID+" "+f.Object.Name] = f.Evidence
	}
	for _, tt := range []struct{ finding, want string }{
		{"pv-released pv-huge", "capacity 1e30"},
		{"pvc-unused data", "size 1e30"},
		{"pod-pending greedy", "requests cpu 20e15, memory 10e30"},
	} {
		ev, ok := evidence[tt.finding]
		if !ok {
			t.Errorf("no %s finding; findings: %v", tt.finding, evidence)
			continue
		}
		if !slices.ContainsFunc(ev, func(e string) bool { return strings.Contains(e, tt.want) }) {
			t.Errorf("%s evidence %q, want %q", tt.finding, ev, tt.want)
		}
	}
}
