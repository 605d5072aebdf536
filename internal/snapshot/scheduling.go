package snapshot

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// NodeAffinityMatches reports whether a pod spec's nodeSelector and
// required node affinity admit a node, with the scheduler's own matching
// (label and field expressions, all operators).
func NodeAffinityMatches(spec *corev1.PodSpec, node *corev1.Node) bool {
	ok, err := nodeaffinity.GetRequiredNodeAffinity(&corev1.Pod{Spec: *spec}).Match(node)
	return err == nil && ok
}

// Tolerates reports whether any of the tolerations tolerates the taint.
func Tolerates(ts []corev1.Toleration, t *corev1.Taint) bool {
	for i := range ts {
		if ts[i].ToleratesTaint(t) {
			return true
		}
	}
	return false
}
