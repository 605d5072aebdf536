package checks

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/snapshot"
)

// fitOn evaluates a pod spec against a node given the pods bound there.
func fitOn(ix *snapshot.Index, spec *corev1.PodSpec, req corev1.ResourceList, n *corev1.Node) sched.Verdict {
	return sched.Fit(spec, req, n, ix.NodeRequests(n.Name))
}

// quantityText writes a node's or pod's amount as sched.Amount does. An
// amount out of range (a snapshot built in code is not validated) is
// written as it is, not converted into a clamped or wrapped number.
func quantityText(r corev1.ResourceName, q resource.Quantity) string {
	if r == corev1.ResourceCPU {
		if q.Sign() < 0 || q.Cmp(snapshot.MaxCPU) > 0 {
			return q.String()
		}
		return sched.Amount(r, q.MilliValue())
	}
	if q.Sign() < 0 || q.Cmp(snapshot.MaxBytes) > 0 {
		return q.String()
	}
	return sched.Amount(r, q.Value())
}
