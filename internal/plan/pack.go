package plan

import (
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/snapshot"
)

// NodeShape is what one node of a pool offers a pod: its allocatable
// resources, labels and taints.
type NodeShape struct {
	Pool         string
	InstanceType string
	MilliCPU     int64
	MemoryBytes  int64
	MaxPods      int64
	Labels       map[string]string
	Taints       []corev1.Taint
	// Today is the pool's node count now; it bounds how replicas spread.
	Today int
}

// PodDemand is what one pod asks of a node.
type PodDemand struct {
	Name         string
	MilliCPU     int64
	MemoryBytes  int64
	NodeSelector map[string]string
	Affinity     *corev1.Affinity
	Tolerations  []corev1.Toleration
	// Pool is where the pod runs today; packing keeps it there when it
	// fits, so that the simulation changes sizes, not pools.
	Pool string
	// Spread names the workload the pod is a replica of. Its replicas
	// share a node only as much as the pool's nodes today force them to:
	// at most ceil(replicas / nodes today) on one node. Empty for none.
	Spread string
}

// PackResult is the number of nodes each pool needs.
type PackResult struct {
	Nodes    map[string]int
	Unplaced []string // pods no pool can hold
}

// Pack simulates placing pods onto pools of identical nodes: first-fit
// decreasing on CPU and memory requests, per pool, after reserving on
// every node the requests of the DaemonSets that run there, and keeping
// replicas of one workload (same Spread) as spread as they are today. A pod goes to
// its current pool when it may run there, else to the first pool whose
// labels, affinity and taints admit it. Pools are tried in the given order.
func Pack(pools []NodeShape, daemons, pods []PodDemand) PackResult {
	res := PackResult{Nodes: map[string]int{}}
	type bin struct {
		cpu, mem, pods int64
		spread         map[string]int
	}
	free := make([]bin, len(pools)) // per-node room once DaemonSets are placed
	for i, p := range pools {
		free[i] = bin{cpu: p.MilliCPU, mem: p.MemoryBytes, pods: p.MaxPods}
		for _, d := range daemons {
			if admits(p, d) {
				free[i].cpu -= d.MilliCPU
				free[i].mem -= d.MemoryBytes
				free[i].pods--
			}
		}
		res.Nodes[p.Pool] = 0
	}
	byPool := make([][]PodDemand, len(pools))
	for _, d := range pods {
		chosen := -1
		for i, p := range pools {
			if !admits(p, d) || d.MilliCPU > free[i].cpu || d.MemoryBytes > free[i].mem || free[i].pods < 1 {
				continue
			}
			if chosen < 0 || (p.Pool == d.Pool && pools[chosen].Pool != d.Pool) {
				chosen = i
			}
		}
		if chosen < 0 {
			res.Unplaced = append(res.Unplaced, d.Name)
			continue
		}
		byPool[chosen] = append(byPool[chosen], d)
	}
	for i, p := range pools {
		items := byPool[i]
		// Dominant share, the larger of the CPU and memory fractions of a
		// node, orders two-dimensional items for first-fit decreasing.
		share := func(d PodDemand) float64 {
			c := float64(d.MilliCPU) / float64(max(free[i].cpu, 1))
			m := float64(d.MemoryBytes) / float64(max(free[i].mem, 1))
			return max(c, m)
		}
		sort.SliceStable(items, func(a, b int) bool {
			sa, sb := share(items[a]), share(items[b])
			if sa != sb {
				return sa > sb
			}
			return items[a].Name < items[b].Name
		})
		replicas := map[string]int{}
		for _, d := range items {
			if d.Spread != "" {
				replicas[d.Spread]++
			}
		}
		perNode := func(group string) int {
			if group == "" {
				return len(items) + 1
			}
			n := max(p.Today, 1)
			return (replicas[group] + n - 1) / n
		}
		var bins []bin
		for _, d := range items {
			placed := false
			for j := range bins {
				if bins[j].cpu >= d.MilliCPU && bins[j].mem >= d.MemoryBytes && bins[j].pods >= 1 &&
					bins[j].spread[d.Spread] < perNode(d.Spread) {
					bins[j].cpu -= d.MilliCPU
					bins[j].mem -= d.MemoryBytes
					bins[j].pods--
					bins[j].spread[d.Spread]++
					placed = true
					break
				}
			}
			if !placed {
				bins = append(bins, bin{cpu: free[i].cpu - d.MilliCPU, mem: free[i].mem - d.MemoryBytes, pods: free[i].pods - 1,
					spread: map[string]int{d.Spread: 1}})
			}
		}
		res.Nodes[p.Pool] += len(bins)
	}
	sort.Strings(res.Unplaced)
	return res
}

// admits tells whether a node of the pool may run the pod: node
// selector, required node affinity and taints with NoSchedule or NoExecute,
// matched as the scheduler matches them. Field expressions (metadata.name,
// which pins a pod to one node) do not restrict a pool: they are dropped.
func admits(n NodeShape, d PodDemand) bool {
	node := &corev1.Node{}
	node.Labels = n.Labels
	spec := &corev1.PodSpec{NodeSelector: d.NodeSelector, Affinity: withoutFieldTerms(d.Affinity)}
	if !snapshot.NodeAffinityMatches(spec, node) {
		return false
	}
	for i := range n.Taints {
		if n.Taints[i].Effect != corev1.TaintEffectPreferNoSchedule && !snapshot.Tolerates(d.Tolerations, &n.Taints[i]) {
			return false
		}
	}
	return true
}

// withoutFieldTerms returns a copy of an affinity whose required node
// selector terms keep their label expressions only.
func withoutFieldTerms(a *corev1.Affinity) *corev1.Affinity {
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return a
	}
	c := a.DeepCopy()
	terms := c.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[:0]
	for _, t := range c.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		t.MatchFields = nil
		if len(t.MatchExpressions) > 0 {
			terms = append(terms, t)
		}
	}
	if len(terms) == 0 {
		c.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = nil
	} else {
		c.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = terms
	}
	return c
}

// demandOf returns the scheduling demand of a pod spec: the larger of the
// sum of its containers' requests and its largest init container's, plus
// its overhead, as the scheduler counts it.
func demandOf(name, pool string, spec *corev1.PodSpec) PodDemand {
	cpu, mem := snapshot.PodRequestsMilli(spec)
	return PodDemand{Name: name, MilliCPU: cpu, MemoryBytes: mem, NodeSelector: spec.NodeSelector,
		Affinity: spec.Affinity, Tolerations: spec.Tolerations, Pool: pool}
}
