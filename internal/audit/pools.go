package audit

import (
	"math"
	"math/bits"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/snapshot"
)

// PoolHealth is the state of one node pool: the audit report's "state per
// node pool" table.
type PoolHealth struct {
	Name          string   `json:"name"`
	Nodes         int      `json:"nodes"`
	Ready         int      `json:"ready"`
	InstanceTypes []string `json:"instanceTypes"`
	PodsRunning   int      `json:"podsRunning"`
	PodsPending   int      `json:"podsPending"`
	// PodsFailing are pods that are bound but not healthy: crash loops,
	// image pull errors, failed pods.
	PodsFailing int `json:"podsFailing"`
	// Requests and Allocatable sum the pool's pods' effective requests
	// (cpu in millicores, memory in bytes) and its nodes' allocatable.
	// Loaded snapshots are validated; for one built in code a negative
	// amount counts as 0 and a sum past int64 stops at its largest value,
	// so a pool never shows negative usage.
	CPURequestsMilli    int64 `json:"cpuRequestsMilli"`
	CPUAllocatableMilli int64 `json:"cpuAllocatableMilli"`
	MemRequestsBytes    int64 `json:"memoryRequestsBytes"`
	MemAllocatableBytes int64 `json:"memoryAllocatableBytes"`
}

// CPUPercent is requests over allocatable for cpu, in percent (0 when the
// pool has no allocatable cpu).
func (p PoolHealth) CPUPercent() int64 { return percent(p.CPURequestsMilli, p.CPUAllocatableMilli) }

// MemPercent is requests over allocatable for memory, in percent.
func (p PoolHealth) MemPercent() int64 { return percent(p.MemRequestsBytes, p.MemAllocatableBytes) }

// percent is a over b in percent, rounded half up, computed in 128 bits:
// a*100 passes int64 once a pool requests about 80 PiB.
func percent(a, b int64) int64 {
	if b <= 0 || a <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), 100)
	lo, carry := bits.Add64(lo, uint64(b/2), 0)
	hi += carry
	if hi >= uint64(b) {
		return math.MaxInt64 // the quotient itself does not fit
	}
	q, _ := bits.Div64(hi, lo, uint64(b))
	return int64(min(q, math.MaxInt64))
}

// Status sums up the pool in a word: "ok", "degraded" (pods failing or
// pending, or nodes not ready) or "empty".
func (p PoolHealth) Status() string {
	switch {
	case p.Nodes == 0:
		return "empty"
	case p.Ready < p.Nodes || p.PodsFailing > 0 || p.PodsPending > 0:
		return "degraded"
	}
	return "ok"
}

// PoolsHealth computes the health of every node pool. Pending pods that
// are not bound are counted in the pool of the node they target when the
// pod pins one (a DaemonSet pod), and in the pool "(unscheduled)" otherwise.
func PoolsHealth(ix *snapshot.Index) []PoolHealth {
	s := ix.S
	pools := map[string]*PoolHealth{}
	types := map[string]map[string]bool{}
	get := func(name string) *PoolHealth {
		p, ok := pools[name]
		if !ok {
			p = &PoolHealth{Name: name}
			pools[name] = p
			types[name] = map[string]bool{}
		}
		return p
	}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		p := get(snapshot.NodePool(n))
		p.Nodes++
		if snapshot.NodeReady(n) {
			p.Ready++
		}
		if t := snapshot.InstanceType(n); t != "" {
			types[p.Name][t] = true
		}
		p.CPUAllocatableMilli = snapshot.AddSat(p.CPUAllocatableMilli, snapshot.ClampedMilliCPU(*n.Status.Allocatable.Cpu()))
		p.MemAllocatableBytes = snapshot.AddSat(p.MemAllocatableBytes, snapshot.ClampedBytes(*n.Status.Allocatable.Memory()))
	}
	for i := range s.Pods {
		pod := &s.Pods[i]
		node := pod.Spec.NodeName
		if node == "" {
			node = sched.PinnedNode(&pod.Spec)
		}
		pool := "(unscheduled)"
		if n := ix.Node(node); n != nil {
			pool = snapshot.NodePool(n)
		}
		p := get(pool)
		switch {
		case pod.Status.Phase == corev1.PodSucceeded:
			continue // finished Job pods hold no resources
		case pod.Status.Phase == corev1.PodFailed || PodFailing(pod):
			p.PodsFailing++
		case pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodPending:
			p.PodsPending++
		default:
			p.PodsRunning++
		}
		if pod.Spec.NodeName != "" && pod.Status.Phase != corev1.PodFailed {
			cpu, mem := snapshot.PodRequestsMilli(&pod.Spec)
			p.CPURequestsMilli = snapshot.AddSat(p.CPURequestsMilli, cpu)
			p.MemRequestsBytes = snapshot.AddSat(p.MemRequestsBytes, mem)
		}
	}
	out := make([]PoolHealth, 0, len(pools))
	for name, p := range pools {
		for t := range types[name] {
			p.InstanceTypes = append(p.InstanceTypes, t)
		}
		sort.Strings(p.InstanceTypes)
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// PodFailing reports a bound pod whose containers keep failing: a waiting
// reason other than the normal start-up ones (CrashLoopBackOff,
// ImagePullBackOff, CreateContainerConfigError...).
func PodFailing(p *corev1.Pod) bool {
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "", "ContainerCreating", "PodInitializing":
			default:
				return true
			}
		}
	}
	return false
}
