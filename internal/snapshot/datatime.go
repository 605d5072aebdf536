package snapshot

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// newestTimestamp is the latest time the objects themselves record: when
// they were created, when a condition last changed or a node last reported,
// when a container started or ended, when an event was last seen. An
// export was taken at or after it, so it dates manifests better than the
// file's modification time, which a copy changes: a pod Pending for 99 s
// when it was dumped must not read "pending for 7 days" a week later.
// Zero when the objects record no time.
func newestTimestamp(s *Snapshot) time.Time {
	var newest time.Time
	see := func(t time.Time) {
		if t.After(newest) {
			newest = t
		}
	}
	seeMeta := func(t metav1.Time) { see(t.Time) }
	for _, k := range kinds() {
		k.each(s, func(o metav1.Object) { seeMeta(o.GetCreationTimestamp()) })
	}
	for i := range s.Pods {
		st := &s.Pods[i].Status
		for _, c := range st.Conditions {
			seeMeta(c.LastTransitionTime)
		}
		for _, list := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
			for _, c := range list {
				for _, state := range []corev1.ContainerState{c.State, c.LastTerminationState} {
					if state.Running != nil {
						seeMeta(state.Running.StartedAt)
					}
					if state.Terminated != nil {
						seeMeta(state.Terminated.FinishedAt)
					}
				}
			}
		}
	}
	for i := range s.Nodes {
		for _, c := range s.Nodes[i].Status.Conditions {
			seeMeta(c.LastHeartbeatTime)
			seeMeta(c.LastTransitionTime)
		}
	}
	for i := range s.Events {
		e := &s.Events[i]
		seeMeta(e.LastTimestamp)
		see(e.EventTime.Time)
	}
	if newest.IsZero() {
		return newest
	}
	return newest.UTC()
}
