package sched

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	"github.com/purserhq/purser/internal/snapshot"
)

// DefaultTargetUtilization is the share of a node's allocatable CPU and
// memory, in percent, at which packing counts the node as full. Requests
// are not usage: a node packed to 100% of requests has no room for a
// rolling update's surge, a rescheduled pod or a new replica, so savings
// priced on nodes packed to the last millicore would not survive the
// first deployment.
const DefaultTargetUtilization = 80

// NodeShape is what one node of a pool offers a pod: its allocatable
// resources, labels and taints, and what the pool looks like today.
type NodeShape struct {
	Pool         string
	InstanceType string
	MilliCPU     int64
	MemoryBytes  int64
	MaxPods      int64
	// CapacityMilliCPU and CapacityMemoryBytes are the first node's
	// capacity: a price book prices a size it does not list by its
	// per-CPU and per-GiB rates on capacity, as `purser cost` prices
	// every node, and the plan must price a pool's node the same way.
	CapacityMilliCPU    int64
	CapacityMemoryBytes int64
	Labels              map[string]string
	Taints              []corev1.Taint
	// Mixed says how the pool's nodes differ, "" when they all share the
	// first node's instance type, allocatable CPU, memory and pod slots,
	// and taints. Packing models a pool as identical nodes; a mixed pool
	// is not one, so packing keeps it at its size (PoolPacking.Needed).
	Mixed string
	// Today is the pool's node count now; it bounds how replicas spread
	// and, when RunsAll, how many nodes the pool can need.
	Today int
	// RunsAll tells that no pod pinned to one of the pool's nodes (a
	// DaemonSet's) is Pending: today's nodes hold the requests of
	// everything bound to them, so they are a placement known to work.
	RunsAll bool
	// TargetUtilization is the percent of MilliCPU and MemoryBytes a node
	// is filled to before packing opens another; 0 means 100.
	TargetUtilization int
}

// target is the shape's target utilisation in percent, 1 to 100.
func (n NodeShape) target() int64 {
	if n.TargetUtilization <= 0 || n.TargetUtilization > 100 {
		return 100
	}
	return int64(n.TargetUtilization)
}

// PodDemand is what one pod asks of a node.
type PodDemand struct {
	Name         string // namespace/name
	Namespace    string
	MilliCPU     int64
	MemoryBytes  int64
	NodeSelector map[string]string
	Affinity     *corev1.Affinity
	Tolerations  []corev1.Toleration
	// Pool and Node are where the pod runs today, "" when it is not
	// bound. Packing keeps a bound pod on its pool, so that the
	// simulation changes sizes, not pools.
	Pool string
	Node string
	// Spread names the workload the pod is a replica of. Its replicas
	// share a node only as much as the pool's nodes today force them to:
	// at most ceil(replicas / nodes today) on one node. Empty for none.
	Spread string
}

// PackResult is what each pool needs, and the pods no pool can hold.
type PackResult struct {
	Pools map[string]PoolPacking
	// Unplaced are pods bound to no pool today that no pool packing
	// models can hold. A bound pod is never unplaced: it holds its pool
	// (PoolPacking.Misfits).
	Unplaced []string
}

// PoolPacking is the packing of one pool.
//
// Packing is a heuristic (bin packing is NP-hard), and with replicas kept
// apart it can need more nodes than the scheduler's real placement uses:
// on a full pool it may find a few nodes more than run every pod today.
// The packing must never contradict the cluster it reads, so when today's
// nodes are known to hold every pod packed onto the pool (Proven), the
// pool needs at most its nodes today. Needed is therefore the packing at
// the target utilisation, capped at today's count for a proven pool:
//
//   - below today's count, it is a placement the packing built with every
//     node at or under the target: shrinking to it never assumes nodes
//     packed to 100%;
//   - at or above it, the pool already runs its pods, fuller than the
//     target: growing it would buy headroom, not room the pods need, and
//     is not a step of a plan (Packed keeps the figure, for reports);
//   - a pool that is not proven (a pod is Pending there) needs what the
//     packing found, more than today when its pods do not fit.
//
// A pool the packing cannot model is kept at today's count whatever the
// packing finds (Kept): a pool of mixed shapes (NodeShape.Mixed), and a
// pool running a pod its model cannot hold (Misfits). The cluster proves
// such a pod runs on one of today's nodes; a model that cannot place it
// is wrong about the pool, and shrinking on its word would drop nodes
// that pods run on.
type PoolPacking struct {
	Today  int
	Packed int // nodes first-fit decreasing opens at the pool's target; 0 for a mixed pool, which is not packed
	Proven bool
	Needed int
	// Mixed is NodeShape.Mixed.
	Mixed string
	// Misfits are the pods bound to the pool's nodes today that a node
	// of its model does not admit or has no room for.
	Misfits []string
}

// Kept tells whether packing keeps the pool at its size because it cannot
// model it, and says why: "" when the pool is modelled. Plan and cost
// print it as the pool's note.
func (p PoolPacking) Kept() string {
	switch {
	case p.Mixed != "":
		return "its nodes differ (" + p.Mixed + "): packing models a pool as identical nodes, so it is not resized"
	case len(p.Misfits) == 1:
		return "1 pod running on its nodes today does not fit its node model (" + p.Misfits[0] + "): the cluster runs what the model " +
			"cannot place, so it is not resized"
	case len(p.Misfits) > 1:
		return fmt.Sprintf("%d pods running on its nodes today do not fit its node model (%s): the cluster runs what the model "+
			"cannot place, so it is not resized", len(p.Misfits), strings.Join(p.Misfits, ", "))
	}
	return ""
}

// Pack simulates placing pods onto pools of identical nodes, per pool,
// with nodes full at their pool's target utilisation, after reserving on
// every node the requests of the DaemonSets that run there, and keeping
// replicas of one workload (same Spread) as spread as they are today. A
// bound pod stays on its pool: packed there when the pool's node admits
// it and has room for it, else a misfit that keeps the pool at its size;
// on a mixed pool it is left where it runs. A pod bound to no pool goes to
// the first pool, in the given order, whose labels, affinity and taints
// admit it and whose empty node has room for it; mixed pools take none.
// Pod slots are a hard limit of the kubelet, not a utilisation: the target
// does not scale them.
//
// Each pool's count is the smaller of two placements, both built pod by
// pod, so either is a real one: first-fit decreasing, and the fewest
// nodes, from what the pods' sums allow upwards, that a balanced placement
// (each pod onto the node with the most room left, as the scheduler's
// least-allocated scoring spreads them) fills. First fit packs tightest
// when nothing constrains it; balancing wins when replicas must each find
// a node without a sibling and first fit has filled the first nodes.
func Pack(pools []NodeShape, daemons, pods []PodDemand) PackResult {
	res := PackResult{Pools: map[string]PoolPacking{}}
	index := map[string]int{} // pools by name
	// Per pool, the room on an empty node once its DaemonSets are placed:
	// whole (what a pod may ask at most) and up to the target.
	whole := make([]room, len(pools))
	target := make([]room, len(pools))
	for i, p := range pools {
		var ds room
		for _, d := range daemons {
			if admits(p, d) {
				ds = ds.add(d)
			}
		}
		whole[i] = room{cpu: snapshot.SubSat(p.MilliCPU, ds.cpu), mem: snapshot.SubSat(p.MemoryBytes, ds.mem),
			pods: snapshot.SubSat(p.MaxPods, ds.pods)}
		target[i] = room{cpu: snapshot.SubSat(percentOf(p.MilliCPU, p.target()), ds.cpu),
			mem: snapshot.SubSat(percentOf(p.MemoryBytes, p.target()), ds.mem), pods: whole[i].pods}
		res.Pools[p.Pool] = PoolPacking{Today: p.Today, Proven: p.RunsAll, Mixed: p.Mixed}
		index[p.Pool] = i
	}
	takes := func(i int, d PodDemand) bool {
		return admits(pools[i], d) && d.MilliCPU <= whole[i].cpu && d.MemoryBytes <= whole[i].mem && whole[i].pods >= 1
	}
	byPool := make([][]PodDemand, len(pools))
	for _, d := range pods {
		if own, bound := index[d.Pool]; bound && d.Pool != "" {
			switch {
			case pools[own].Mixed != "":
				// Counted by the nodes it runs on, which the pool keeps.
			case takes(own, d):
				byPool[own] = append(byPool[own], d)
			default:
				pp := res.Pools[d.Pool]
				pp.Misfits = append(pp.Misfits, d.Name)
				res.Pools[d.Pool] = pp
			}
			continue
		}
		chosen := -1
		for i := range pools {
			if pools[i].Mixed == "" && takes(i, d) {
				chosen = i
				break
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
		pp := res.Pools[p.Pool]
		sort.Strings(pp.Misfits)
		if p.Mixed == "" {
			pp.Packed = pack(items, p.Today, whole[i], target[i])
		}
		for _, d := range items {
			// A pod Pending today is not in today's placement: the pool's
			// nodes prove nothing about it.
			if d.Pool != p.Pool {
				pp.Proven = false
			}
		}
		switch {
		case pp.Kept() != "":
			pp.Needed = p.Today
		case pp.Proven:
			pp.Needed = min(pp.Packed, p.Today)
		default:
			pp.Needed = pp.Packed
		}
		res.Pools[p.Pool] = pp
	}
	sort.Strings(res.Unplaced)
	return res
}

// pack is the fewer nodes of two placements of the items, each a real
// one: first-fit decreasing, and a balanced placement on the fewest nodes
// the sums allow. whole is what an empty node offers a pod, target what it
// is filled to; today, the pool's nodes now, bounds how replicas spread.
func pack(items []PodDemand, today int, whole, target room) int {
	replicas := map[string]int{}
	for _, d := range items {
		if d.Spread != "" {
			replicas[d.Spread]++
		}
	}
	// Dominant share, the larger of the CPU and memory fractions of a
	// node, orders two-dimensional items for first-fit decreasing.
	// Replicas of the largest workloads go first: each needs a node
	// without a sibling, and placed last, when the first nodes are full,
	// they would open a node each (on a pool at 96% of its CPU, 81 nodes
	// where 50 run everything).
	share := func(d PodDemand) float64 {
		c := float64(d.MilliCPU) / float64(max(whole.cpu, 1))
		m := float64(d.MemoryBytes) / float64(max(whole.mem, 1))
		return max(c, m)
	}
	sort.SliceStable(items, func(a, b int) bool {
		ra, rb := replicas[items[a].Spread], replicas[items[b].Spread]
		if ra != rb {
			return ra > rb
		}
		sa, sb := share(items[a]), share(items[b])
		if sa != sb {
			return sa > sb
		}
		return items[a].Name < items[b].Name
	})
	limit := func(group string) int {
		if group == "" {
			return len(items) + 1
		}
		n := max(today, 1)
		return (replicas[group] + n - 1) / n
	}
	packed := firstFit(items, target, limit)
	for k := lowerBound(items, target, replicas, limit); k < packed; k++ {
		if balanced(items, target, limit, k) {
			return k
		}
	}
	return packed
}

// room is what a node has left: CPU in millicores, memory in bytes, pod
// slots.
type room struct{ cpu, mem, pods int64 }

// add is r with d's requests and a pod slot taken up; sums saturate, so
// that many huge pods never wrap into room to spare.
func (r room) add(d PodDemand) room {
	return room{cpu: snapshot.AddSat(r.cpu, d.MilliCPU), mem: snapshot.AddSat(r.mem, d.MemoryBytes), pods: snapshot.AddSat(r.pods, 1)}
}

// percentOf is pct percent of v (pct from 0 to 100), rounded down, without
// the overflow of v*pct: memory in bytes times 100 passes int64 from
// about 80 PiB.
func percentOf(v, pct int64) int64 {
	return v/100*pct + v%100*pct/100
}

// bin is one simulated node.
type bin struct {
	room
	spread map[string]int // replicas of each workload on the node
}

func (b *bin) fits(d PodDemand, limit func(string) int) bool {
	return b.cpu >= d.MilliCPU && b.mem >= d.MemoryBytes && b.pods >= 1 && b.spread[d.Spread] < limit(d.Spread)
}

func (b *bin) put(d PodDemand) {
	b.cpu = snapshot.SubSat(b.cpu, d.MilliCPU)
	b.mem = snapshot.SubSat(b.mem, d.MemoryBytes)
	b.pods--
	b.spread[d.Spread]++
}

// open is an empty node given its first pod. A pod larger than the
// target's share of a node still runs on a node of its own, which is then
// full.
func open(target room, d PodDemand) bin {
	b := bin{room: target, spread: map[string]int{}}
	b.put(d)
	if b.cpu < 0 || b.mem < 0 {
		b.cpu, b.mem = 0, 0
	}
	return b
}

// firstFit places each item on the first node it fits, opening one when
// none does, and returns the node count.
func firstFit(items []PodDemand, target room, limit func(string) int) int {
	var bins []bin
	for _, d := range items {
		placed := false
		for j := range bins {
			if bins[j].fits(d, limit) {
				bins[j].put(d)
				placed = true
				break
			}
		}
		if !placed {
			bins = append(bins, open(target, d))
		}
	}
	return len(bins)
}

// balanced tells whether k nodes hold the items when each goes onto the
// node with the most room left (by its scarcer resource); a pod larger
// than the target's share takes an empty node.
func balanced(items []PodDemand, target room, limit func(string) int, k int) bool {
	bins := make([]bin, k)
	for j := range bins {
		bins[j] = bin{room: target, spread: map[string]int{}}
	}
	used := make([]bool, k)
	left := func(b *bin) float64 {
		return min(float64(b.cpu)/float64(max(target.cpu, 1)), float64(b.mem)/float64(max(target.mem, 1)))
	}
	for _, d := range items {
		at := -1
		oversize := d.MilliCPU > target.cpu || d.MemoryBytes > target.mem
		for j := range bins {
			if oversize {
				if !used[j] {
					at = j
					break
				}
				continue
			}
			if bins[j].fits(d, limit) && (at < 0 || left(&bins[j]) > left(&bins[at])) {
				at = j
			}
		}
		if at < 0 {
			return false
		}
		if oversize {
			bins[at] = open(target, d)
		} else {
			bins[at].put(d)
		}
		used[at] = true
	}
	return true
}

// lowerBound is the fewest nodes the items could fit in: their sums over
// a node's room, and each workload's replicas over how many may share a
// node.
func lowerBound(items []PodDemand, target room, replicas map[string]int, limit func(string) int) int {
	if len(items) == 0 {
		return 0
	}
	if target.cpu <= 0 || target.mem <= 0 || target.pods <= 0 {
		return len(items) // every pod needs a node of its own
	}
	var sum room
	for _, d := range items {
		sum = sum.add(d)
	}
	cpu, mem := sum.cpu, sum.mem
	// Not (a+b-1)/b, which overflows when a saturated sum is near int64's
	// largest value.
	ceil := func(a, b int64) int {
		q := a / b
		if a%b != 0 {
			q++
		}
		return int(q)
	}
	k := max(1, ceil(cpu, target.cpu), ceil(mem, target.mem), ceil(int64(len(items)), target.pods))
	for g, r := range replicas {
		k = max(k, ceil(int64(r), int64(limit(g))))
	}
	return k
}

// admits tells whether a node of the pool may run the pod: node
// selector, required node affinity and taints with NoSchedule or NoExecute,
// matched as the scheduler matches them. Field expressions (metadata.name,
// which pins a pod to one node) do not restrict a pool: they are dropped.
func admits(n NodeShape, d PodDemand) bool {
	node := &corev1.Node{}
	node.Labels = n.Labels
	spec := &corev1.PodSpec{NodeSelector: d.NodeSelector, Affinity: withoutFieldTerms(d.Affinity)}
	if !NodeAffinityMatches(spec, node) {
		return false
	}
	for i := range n.Taints {
		if n.Taints[i].Effect != corev1.TaintEffectPreferNoSchedule && !corev1helpers.TolerationsTolerateTaint(d.Tolerations, &n.Taints[i]) {
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

// DemandOf returns the scheduling demand of a pod spec: what the scheduler
// counts (snapshot.PodRequests) and the constraints that choose its pool.
func DemandOf(ns, name, pool string, spec *corev1.PodSpec) PodDemand {
	cpu, mem := snapshot.PodRequestsMilli(spec)
	return PodDemand{Name: ns + "/" + name, Namespace: ns, MilliCPU: cpu, MemoryBytes: mem, NodeSelector: spec.NodeSelector,
		Affinity: spec.Affinity, Tolerations: spec.Tolerations, Pool: pool}
}

// defaultMaxPods is the kubelet's --max-pods default, for a node that
// reports no pod capacity.
const defaultMaxPods = 110

// Pools returns one shape per node pool, sorted by name: the allocatable,
// capacity, labels and taints of its first node by name, its node count,
// whether it runs every pod pinned to its nodes, and how its nodes differ
// when they do (Mixed). TargetUtilization is left to the caller.
func Pools(ix *snapshot.Index) []NodeShape {
	nodes := make([]*corev1.Node, len(ix.S.Nodes))
	for i := range ix.S.Nodes {
		nodes[i] = &ix.S.Nodes[i]
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	short := map[string]bool{} // pools with a pinned pod Pending
	for i := range ix.S.Pods {
		p := &ix.S.Pods[i]
		if p.Spec.NodeName != "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if n := ix.Node(PinnedNode(&p.Spec)); n != nil {
			short[snapshot.NodePool(n)] = true
		}
	}
	index := map[string]int{}
	var shapes []NodeShape
	var traits [][]nodeTraits // per pool, per node
	for _, n := range nodes {
		pool := snapshot.NodePool(n)
		a := n.Status.Allocatable
		if len(a) == 0 {
			// A hand-written or trimmed manifest may give capacity only;
			// the kubelet's allocatable is capacity less what it reserves.
			a = n.Status.Capacity
		}
		maxPods := snapshot.ClampedBytes(*a.Pods())
		if maxPods == 0 {
			maxPods = defaultMaxPods
		}
		// Clamped: a node of this snapshot may not have been validated,
		// and a wrapped capacity would price or pack a pool of
		// negative nodes.
		sh := NodeShape{Pool: pool, InstanceType: snapshot.InstanceType(n),
			MilliCPU: snapshot.ClampedMilliCPU(*a.Cpu()), MemoryBytes: snapshot.ClampedBytes(*a.Memory()), MaxPods: maxPods,
			CapacityMilliCPU:    snapshot.ClampedMilliCPU(*n.Status.Capacity.Cpu()),
			CapacityMemoryBytes: snapshot.ClampedBytes(*n.Status.Capacity.Memory()),
			Labels:              n.Labels, Taints: n.Spec.Taints, Today: 1, RunsAll: !short[pool]}
		if i, ok := index[pool]; ok {
			shapes[i].Today++
			traits[i] = append(traits[i], traitsOf(sh))
			continue
		}
		index[pool] = len(shapes)
		shapes = append(shapes, sh)
		traits = append(traits, []nodeTraits{traitsOf(sh)})
	}
	for i := range shapes {
		shapes[i].Mixed = mixed(traits[i])
		if types := distinct(traits[i], func(t nodeTraits) string { return t.instanceType }); len(types) > 1 {
			shapes[i].InstanceType = strings.Join(types, ", ")
		}
	}
	sort.SliceStable(shapes, func(i, j int) bool { return shapes[i].Pool < shapes[j].Pool })
	return shapes
}

// nodeTraits are what makes two nodes of a pool interchangeable for
// packing, written out: a pool whose nodes differ in one of them is not a
// pool of identical nodes.
type nodeTraits struct{ instanceType, cpu, memory, pods, taints string }

func traitsOf(sh NodeShape) nodeTraits {
	instanceType := sh.InstanceType
	if instanceType == "" {
		instanceType = "(no instance-type label)"
	}
	// Taints compare as a set, without the time the node controller adds.
	var taints []string
	for _, t := range sh.Taints {
		taints = append(taints, taintText(t))
	}
	sort.Strings(taints)
	joined := strings.Join(taints, ",")
	if joined == "" {
		joined = "none"
	}
	return nodeTraits{instanceType: instanceType, cpu: Amount(corev1.ResourceCPU, sh.MilliCPU),
		memory: exactMemory(sh.MemoryBytes), pods: strconv.FormatInt(sh.MaxPods, 10), taints: joined}
}

// taintText writes a taint as kubectl taint takes it: key=value:Effect,
// or key:Effect without a value.
func taintText(t corev1.Taint) string {
	if t.Value == "" {
		return t.Key + ":" + string(t.Effect)
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}

// exactMemory writes bytes in the largest binary unit that keeps them
// exact: nodes a few KiB apart do differ, and the note must not show them
// as one size.
func exactMemory(b int64) string {
	switch {
	case b != 0 && b%(1<<30) == 0:
		return strconv.FormatInt(b>>30, 10) + "Gi"
	case b != 0 && b%(1<<20) == 0:
		return strconv.FormatInt(b>>20, 10) + "Mi"
	case b%(1<<10) == 0:
		return strconv.FormatInt(b>>10, 10) + "Ki"
	}
	return strconv.FormatInt(b, 10)
}

// mixed says how a pool's nodes differ: "instance type: 1 × s-2vcpu-4gb,
// 2 × s-8vcpu-16gb; allocatable cpu: 1 × 1900m, 2 × 7900m"; "" when they
// do not.
func mixed(nodes []nodeTraits) string {
	var parts []string
	for _, tr := range [...]struct {
		name string
		of   func(nodeTraits) string
	}{
		{"instance type", func(t nodeTraits) string { return t.instanceType }},
		{"allocatable cpu", func(t nodeTraits) string { return t.cpu }},
		{"allocatable memory", func(t nodeTraits) string { return t.memory }},
		{"pod slots", func(t nodeTraits) string { return t.pods }},
		{"taints", func(t nodeTraits) string { return t.taints }},
	} {
		values := distinct(nodes, tr.of)
		if len(values) < 2 {
			continue
		}
		count := map[string]int{}
		for _, n := range nodes {
			count[tr.of(n)]++
		}
		counted := make([]string, len(values))
		for i, v := range values {
			counted[i] = fmt.Sprintf("%d × %s", count[v], v)
		}
		parts = append(parts, tr.name+": "+strings.Join(counted, ", "))
	}
	return strings.Join(parts, "; ")
}

// distinct returns the values of a trait in the order nodes first show
// them.
func distinct(nodes []nodeTraits, of func(nodeTraits) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range nodes {
		if v := of(n); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// Demands returns what the snapshot's workloads ask of the nodes: one
// demand per DaemonSet, reserved on every node it may run on, and one per
// other pod that holds resources (neither Succeeded nor Failed), each with
// the pool it runs in today and, for replicas, the workload they spread.
func Demands(ix *snapshot.Index) (daemons, pods []PodDemand) {
	s := ix.S
	for i := range s.DaemonSets {
		ds := &s.DaemonSets[i]
		daemons = append(daemons, DemandOf(ds.Namespace, ds.Name, "", &ds.Spec.Template.Spec))
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if c := metav1.GetControllerOf(p); c != nil && c.Kind == "DaemonSet" {
			continue // counted on every node through its DaemonSet
		}
		pool := ""
		if n := ix.Node(p.Spec.NodeName); n != nil {
			pool = snapshot.NodePool(n)
		}
		d := DemandOf(p.Namespace, p.Name, pool, &p.Spec)
		if pool != "" {
			d.Node = p.Spec.NodeName
		}
		// Replicas of one workload stay spread as the scheduler spreads
		// them: packing them together would save a node by giving up the
		// workload's availability.
		if top := ix.TopOwner("Pod", p); top.Kind != "Pod" {
			d.Spread = top.String()
		}
		pods = append(pods, d)
	}
	return daemons, pods
}
