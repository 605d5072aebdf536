package snapshot

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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
// memory request in bytes, each clamped (ClampedMilliCPU, ClampedBytes):
// from a snapshot nothing validated, a total out of range becomes the
// nearest bound, never a wrapped or negative number.
func PodRequestsMilli(spec *corev1.PodSpec) (cpuMilli, memBytes int64) {
	r := PodRequests(spec)
	return ClampedMilliCPU(*r.Cpu()), ClampedBytes(*r.Memory())
}

// Requests are amounts of the resources the scheduler counts on a node:
// CPU in millicores, memory in bytes and pod slots.
type Requests struct {
	MilliCPU    int64
	MemoryBytes int64
	Pods        int64
}

// Bounds on a single node's or pod's resources. Nothing real comes close;
// beyond them a quantity is hostile or corrupt input, and converting it to
// millicores or bytes would saturate or wrap int64.
var (
	// MaxCPU is a million CPUs.
	MaxCPU = resource.MustParse("1M")
	// MaxBytes is one EiB, for memory and storage.
	MaxBytes = resource.MustParse("1Ei")
)

// CheckedMilliCPU returns q in millicores; a negative quantity or one
// above MaxCPU is an error naming what (e.g. "node n1: capacity cpu").
func CheckedMilliCPU(what string, q resource.Quantity) (int64, error) {
	if q.Sign() < 0 || q.Cmp(MaxCPU) > 0 {
		return 0, fmt.Errorf("%s %s: expected a quantity from 0 to %s", what, q.String(), MaxCPU.String())
	}
	return q.MilliValue(), nil
}

// CheckedBytes returns q in bytes; a negative quantity or one above
// MaxBytes is an error naming what.
func CheckedBytes(what string, q resource.Quantity) (int64, error) {
	if q.Sign() < 0 || q.Cmp(MaxBytes) > 0 {
		return 0, fmt.Errorf("%s %s: expected a quantity from 0 to %s", what, q.String(), MaxBytes.String())
	}
	return q.Value(), nil
}

// CheckedPodRequestsMilli is PodRequestsMilli for input that may be
// hostile: a negative request in any container, or a pod total out of
// range, is an error naming what (e.g. "pod ns/name").
func CheckedPodRequestsMilli(what string, spec *corev1.PodSpec) (cpuMilli, memBytes int64, err error) {
	lists := []corev1.ResourceList{spec.Overhead}
	if spec.Resources != nil {
		lists = append(lists, spec.Resources.Requests)
	}
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			lists = append(lists, cs[i].Resources.Requests)
		}
	}
	for _, l := range lists {
		for name, q := range l {
			if q.Sign() < 0 {
				return 0, 0, fmt.Errorf("%s: request %s %s: expected a non-negative quantity", what, name, q.String())
			}
		}
	}
	r := PodRequests(spec)
	if cpuMilli, err = CheckedMilliCPU(what+": requests cpu", *r.Cpu()); err != nil {
		return 0, 0, err
	}
	if memBytes, err = CheckedBytes(what+": requests memory", *r.Memory()); err != nil {
		return 0, 0, err
	}
	return cpuMilli, memBytes, nil
}
