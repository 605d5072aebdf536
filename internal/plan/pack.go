package plan

import (
	"sort"
	"strconv"

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
// selector, required node affinity and taints with NoSchedule or NoExecute.
func admits(n NodeShape, d PodDemand) bool {
	for k, v := range d.NodeSelector {
		if n.Labels[k] != v {
			return false
		}
	}
	if a := d.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		ok := false
		for _, t := range terms {
			if termMatches(t, n.Labels) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, t := range n.Taints {
		if t.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		tolerated := false
		for _, tol := range d.Tolerations {
			if tolerates(tol, t) {
				tolerated = true
				break
			}
		}
		if !tolerated {
			return false
		}
	}
	return true
}

// termMatches evaluates a node selector term's label expressions. Field
// expressions (metadata.name, which DaemonSet pods carry) pin a pod to one
// node, not to a kind of node, so they do not restrict a pool.
func termMatches(t corev1.NodeSelectorTerm, labels map[string]string) bool {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return false
	}
	for _, e := range t.MatchExpressions {
		v, has := labels[e.Key]
		switch e.Operator {
		case corev1.NodeSelectorOpIn:
			if !has || !contains(e.Values, v) {
				return false
			}
		case corev1.NodeSelectorOpNotIn:
			if has && contains(e.Values, v) {
				return false
			}
		case corev1.NodeSelectorOpExists:
			if !has {
				return false
			}
		case corev1.NodeSelectorOpDoesNotExist:
			if has {
				return false
			}
		case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
			if !has || len(e.Values) != 1 {
				return false
			}
			a, err1 := strconv.ParseInt(v, 10, 64)
			b, err2 := strconv.ParseInt(e.Values[0], 10, 64)
			if err1 != nil || err2 != nil || (e.Operator == corev1.NodeSelectorOpGt) != (a > b) || a == b {
				return false
			}
		}
	}
	return true
}

// demandOf returns the scheduling demand of a pod spec: the larger of the
// sum of its containers' requests and its largest init container's, plus
// its overhead, as the scheduler counts it.
func demandOf(name, pool string, spec *corev1.PodSpec) PodDemand {
	cpu, mem := snapshot.PodRequestsMilli(spec)
	return PodDemand{Name: name, MilliCPU: cpu, MemoryBytes: mem, NodeSelector: spec.NodeSelector,
		Affinity: spec.Affinity, Tolerations: spec.Tolerations, Pool: pool}
}

// tolerates is the scheduler's toleration rule for Equal and Exists.
func tolerates(tol corev1.Toleration, t corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case corev1.TolerationOpExists:
		return true
	case corev1.TolerationOpEqual, "":
		return tol.Value == t.Value && tol.Key == t.Key
	}
	return false
}
