package checks

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// TestPodPendingLookups covers what the check looks up once per audit
// rather than per pod: the latest FailedScheduling event of the pod itself
// (not of a namesake in another namespace, nor of another kind), and the
// phase of its claims by namespace and name.
func TestPodPendingLookups(t *testing.T) {
	t.Parallel()
	at := func(min int) metav1.Time { return metav1.NewTime(time.Date(2026, 11, 30, 12, min, 0, 0, time.UTC)) }
	event := func(kind, ns, name, reason, msg string, last metav1.Time) corev1.Event {
		return corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name}, Type: corev1.EventTypeWarning,
			Reason: reason, Message: msg, LastTimestamp: last}
	}
	claim := func(ns, name string, phase corev1.PersistentVolumeClaimPhase) corev1.PersistentVolumeClaim {
		return corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Status: corev1.PersistentVolumeClaimStatus{Phase: phase}}
	}
	pending := func(ns, name string, claims ...string) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Status: corev1.PodStatus{Phase: corev1.PodPending},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64")}}}}}}
		for _, c := range claims {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: c, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
		}
		return p
	}
	node := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")}}}
	tests := []struct {
		name     string
		pods     []corev1.Pod
		events   []corev1.Event
		claims   []corev1.PersistentVolumeClaim
		evidence []string // in the finding about the first pod
		cause    string
	}{
		{
			name: "latest event of the pod wins",
			pods: []corev1.Pod{pending("a", "web")},
			events: []corev1.Event{
				event("Pod", "a", "web", "FailedScheduling", "old", at(1)),
				event("Pod", "a", "web", "FailedScheduling", "newest", at(9)),
				event("Pod", "a", "web", "BackOff", "not a scheduling event", at(10)),
				event("Pod", "b", "web", "FailedScheduling", "another namespace", at(11)),
				event("Node", "a", "web", "FailedScheduling", "another kind", at(12)),
				event("Pod", "a", "web", "FailedScheduling", "same time, later in the snapshot", at(9)),
			},
			evidence: []string{"scheduler: newest"},
		},
		{
			name:     "no event",
			pods:     []corev1.Pod{pending("a", "web")},
			events:   []corev1.Event{event("Pod", "b", "web", "FailedScheduling", "another namespace", at(1))},
			evidence: []string{"the scheduler has not reported on it yet"},
		},
		{
			name:   "claims by namespace and name",
			pods:   []corev1.Pod{pending("a", "db", "data", "logs", "gone")},
			claims: []corev1.PersistentVolumeClaim{claim("a", "data", corev1.ClaimPending), claim("b", "logs", corev1.ClaimPending), claim("a", "logs", corev1.ClaimBound)},
			cause:  "not bound: data (Pending), gone (missing).",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &snapshot.Snapshot{Nodes: []corev1.Node{node}, Pods: tt.pods, Events: tt.events, PVCs: tt.claims}
			res, err := audit.Run(t.Context(), snapshot.NewIndex(s), Registry(), nil, audit.Options{Checks: []string{podPendingID}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) != len(tt.pods) {
				t.Fatalf("%d findings for %d pending pods", len(res.Findings), len(tt.pods))
			}
			f := res.Findings[0]
			for _, e := range tt.evidence {
				if !slices.Contains(f.Evidence, e) {
					t.Errorf("evidence lacks %q:\n%s", e, strings.Join(f.Evidence, "\n"))
				}
			}
			if !strings.Contains(f.Cause, tt.cause) {
				t.Errorf("cause %q lacks %q", f.Cause, tt.cause)
			}
		})
	}
}
