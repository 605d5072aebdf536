package rightsize

import (
	"fmt"
	"math"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// HPATolerance is the HPA controller's default tolerance: a usage ratio
// within 10% of 1 changes nothing.
const HPATolerance = 0.1

// HPAChange is the HPA target that goes with new requests: utilisation
// is relative to requests, so lowering them with the target unchanged
// would scale the workload out at the same load.
type HPAChange struct {
	Name     string              `json:"name"`
	Resource corev1.ResourceName `json:"resource"`
	// Target and NewTarget are the averageUtilization, in percent.
	Target    int32 `json:"target"`
	NewTarget int32 `json:"newTarget"`
	// MinReplicas and MaxReplicas are the bounds to set; today's unless
	// the new target needs them moved.
	MinReplicas int32 `json:"minReplicas"`
	MaxReplicas int32 `json:"maxReplicas"`
	// At the observed load (Usage per pod, Replicas pods), the replica
	// count the HPA computes before and after: the same.
	Replicas       int32 `json:"replicas"`
	UsagePerPod    int64 `json:"usagePerPod"`
	RequestBefore  int64 `json:"requestBefore"`
	RequestAfter   int64 `json:"requestAfter"`
	DesiredBefore  int32 `json:"desiredBefore"`
	DesiredAfter   int32 `json:"desiredAfter"`
	UtilizationNow int32 `json:"utilizationNow"`
}

// HPADesiredReplicas is the HPA controller's replica count for a
// resource utilisation metric (pkg/controller/podautoscaler): utilisation
// in whole percent of the pods' requests, a ratio to the target within
// the tolerance changes nothing, else ceil(ratio × replicas), within
// [min, max].
func HPADesiredReplicas(replicas, minReplicas, maxReplicas int32, usagePerPod, requestPerPod int64, target int32) int32 {
	if requestPerPod <= 0 || target <= 0 || replicas <= 0 {
		return replicas
	}
	util := usagePerPod * 100 / requestPerPod
	ratio := float64(util) / float64(target)
	desired := replicas
	if math.Abs(1-ratio) > HPATolerance {
		desired = int32(math.Ceil(ratio * float64(replicas)))
	}
	if minReplicas > 0 && desired < minReplicas {
		desired = minReplicas
	}
	if maxReplicas > 0 && desired > maxReplicas {
		desired = maxReplicas
	}
	return desired
}

// hpaTarget returns the HPA's utilisation target on resource r, 0 when it
// has none.
func hpaTarget(h *autoscalingv2.HorizontalPodAutoscaler, r corev1.ResourceName) int32 {
	for _, m := range h.Spec.Metrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == r &&
			m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && m.Resource.Target.AverageUtilization != nil {
			return *m.Resource.Target.AverageUtilization
		}
	}
	return 0
}

// retarget finds the target to pair with a new per-pod request: the one
// whose replica count at the observed load is today's, closest to
// target × before/after (which keeps the ratio of usage to target the
// same). It returns ok false when no target from 1 to 1000% does.
func retarget(replicas, minR, maxR int32, usage, before, after int64, target int32) (int32, bool) {
	want := HPADesiredReplicas(replicas, minR, maxR, usage, before, target)
	ideal := float64(target) * float64(before) / float64(after)
	base := int32(math.Round(ideal))
	for d := int32(0); d < 1000; d++ {
		for _, t := range []int32{base - d, base + d} {
			if t < 1 || t > 1000 {
				continue
			}
			if HPADesiredReplicas(replicas, minR, maxR, usage, after, t) == want {
				return t, true
			}
		}
	}
	return 0, false
}

// hpaChange pairs an HPA on r with the new per-pod request. It returns
// nil when the HPA does not scale on r.
func hpaChange(h *autoscalingv2.HorizontalPodAutoscaler, r corev1.ResourceName, replicas int32, usage, before, after int64) (*HPAChange, error) {
	target := hpaTarget(h, r)
	if target == 0 {
		return nil, nil
	}
	minR := int32(1)
	if h.Spec.MinReplicas != nil {
		minR = *h.Spec.MinReplicas
	}
	c := &HPAChange{Name: h.Name, Resource: r, Target: target, MinReplicas: minR, MaxReplicas: h.Spec.MaxReplicas,
		Replicas: replicas, UsagePerPod: usage, RequestBefore: before, RequestAfter: after}
	if before > 0 {
		c.UtilizationNow = int32(usage * 100 / before)
	}
	c.DesiredBefore = HPADesiredReplicas(replicas, minR, h.Spec.MaxReplicas, usage, before, target)
	t, ok := retarget(replicas, minR, h.Spec.MaxReplicas, usage, before, after, target)
	if !ok {
		return nil, fmt.Errorf("HPA %s/%s: no %s target keeps %d replicas with requests of %d instead of %d", h.Namespace, h.Name, r, c.DesiredBefore, after, before)
	}
	c.NewTarget = t
	c.DesiredAfter = HPADesiredReplicas(replicas, minR, h.Spec.MaxReplicas, usage, after, t)
	return c, nil
}
