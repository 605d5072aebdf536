package snapshot

import (
	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
)

// PodRequests returns what the scheduler counts for a pod spec: the sum of
// its containers and restartable (sidecar) init containers, or the largest
// plain init container with the sidecars started before it, whichever is
// larger, plus the pod overhead and pod-level requests. It is Kubernetes'
// own computation, so the audit, the cost allocation and the packing
// simulation agree with the scheduler and with each other.
func PodRequests(spec *corev1.PodSpec) corev1.ResourceList {
	return resourcehelper.PodRequests(&corev1.Pod{Spec: *spec}, resourcehelper.PodResourcesOptions{})
}

// PodRequestsMilli returns a pod spec's CPU request in millicores and its
// memory request in bytes.
func PodRequestsMilli(spec *corev1.PodSpec) (cpuMilli, memBytes int64) {
	r := PodRequests(spec)
	return r.Cpu().MilliValue(), r.Memory().Value()
}

// Requests are amounts of the resources the scheduler counts on a node:
// CPU in millicores, memory in bytes and pod slots.
type Requests struct {
	MilliCPU    int64
	MemoryBytes int64
	Pods        int64
}
