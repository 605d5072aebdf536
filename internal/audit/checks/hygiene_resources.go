package checks

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/snapshot"
)

// limitRangeDefaults returns, for a namespace, the container requests and
// limits its LimitRanges fill in at admission. The API server defaults a
// LimitRange item's defaultRequest from its default, and its default from
// its max, so all three count.
func limitRangeDefaults(s *snapshot.Snapshot, ns string) (requests, limits map[corev1.ResourceName]bool) {
	requests, limits = map[corev1.ResourceName]bool{}, map[corev1.ResourceName]bool{}
	for _, lr := range s.LimitRanges {
		if lr.Namespace != ns {
			continue
		}
		for _, it := range lr.Spec.Limits {
			if it.Type != corev1.LimitTypeContainer {
				continue
			}
			for _, m := range []corev1.ResourceList{it.DefaultRequest, it.Default, it.Max} {
				for r := range m {
					requests[r] = true
				}
			}
			for _, m := range []corev1.ResourceList{it.Default, it.Max} {
				for r := range m {
					limits[r] = true
				}
			}
		}
	}
	return requests, limits
}

// missingRequests lists the cpu/memory requests a container goes without
// once admitted: a limit stands in for a missing request (the API server
// copies it), and so does a LimitRange default.
func missingRequests(c *corev1.Container, lrRequests map[corev1.ResourceName]bool) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; ok {
			continue
		}
		if _, ok := c.Resources.Limits[r]; ok {
			continue
		}
		if lrRequests[r] {
			continue
		}
		out = append(out, r)
	}
	return out
}
