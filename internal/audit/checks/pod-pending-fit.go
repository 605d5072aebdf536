package checks

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/snapshot"
)

// nodeTable is what pod-pending needs of every node, computed once per
// audit. Fitting each pending pod against every node with sched.Fit and
// grouping the verdicts by their text made the check quadratic twice over:
// each fit converted the node's allocatable quantities again, and the text
// of a resource verdict carries the node's free amount, so groups almost
// never merged and a pending pod got one formatted line per node.
type nodeTable struct {
	rows []nodeRow // by node name, so that each group's first names come in order
	// reps holds one node per placement class (cordon and scheduling
	// taints): a pod's taint verdict is the same on every node of a class.
	reps  []*corev1.Node
	pools []string
}

type nodeRow struct {
	node  *corev1.Node
	index int // position in the snapshot
	pool  int // into nodeTable.pools
	class int // into nodeTable.reps
	free  snapshot.Requests
	// slots: the allocatable names a pod count; only then are pod slots
	// checked, as sched.Fit does.
	slots bool
}

func newNodeTable(ix *snapshot.Index) *nodeTable {
	t := &nodeTable{rows: make([]nodeRow, len(ix.S.Nodes))}
	classes, pools := map[string]int{}, map[string]int{}
	for i := range ix.S.Nodes {
		n := &ix.S.Nodes[i]
		key := placementClass(n)
		c, ok := classes[key]
		if !ok {
			c = len(t.reps)
			classes[key] = c
			t.reps = append(t.reps, n)
		}
		name := snapshot.NodePool(n)
		p, ok := pools[name]
		if !ok {
			p = len(t.pools)
			pools[name] = p
			t.pools = append(t.pools, name)
		}
		_, slots := n.Status.Allocatable[corev1.ResourcePods]
		t.rows[i] = nodeRow{node: n, index: i, pool: p, class: c, free: sched.Free(n, ix.NodeRequests(n.Name)), slots: slots}
	}
	sort.SliceStable(t.rows, func(i, j int) bool { return t.rows[i].node.Name < t.rows[j].node.Name })
	return t
}

// placementClass is what a node's taint and cordon verdicts depend on:
// whether it is cordoned, and its NoSchedule and NoExecute taints in order.
func placementClass(n *corev1.Node) string {
	var b strings.Builder
	if n.Spec.Unschedulable {
		b.WriteString("cordoned")
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			fmt.Fprintf(&b, "\x00%s\x00%s\x00%s", t.Key, t.Value, t.Effect)
		}
	}
	return b.String()
}

// fitGroup is the nodes that refuse a pod for the same kinds of reason in
// the same pool: only the free amounts differ, and the line gives their range.
type fitGroup struct {
	key          fitKey
	count        int
	names        []string // the first few, by name
	cpuLo, cpuHi int64
	memLo, memHi int64
}

type fitKey struct {
	pool, class int
	name        sched.ReasonKind // NodeName or NodeAffinity, 0 when the node's name and labels admit the pod
	cpu, mem    bool
	pods        bool
}

// fitSummary is a pending pod's verdict over every node.
type fitSummary struct {
	nodes int
	fits  int
	// fitNames are the first names of the nodes that fit, by name.
	fitNames []string
	lines    []string
	// byName counts the nodes refused for their name or labels; taints and
	// insufficient count untolerated taints and short resources over all nodes.
	byName, taints, insufficient int
	// labelOnly is the first node, in snapshot order, that refuses the pod
	// for its labels alone: it has the room and no taint the pod does not
	// tolerate.
	labelOnly string
}

const namesShown = 4

// fit evaluates a pod against every node, with sched's verdicts: the
// cordon and taint verdicts once per placement class, the name and affinity
// verdict through sched per node only for a pod that has a node selector,
// required affinity or node name, and the room against the free amounts
// computed once. TestNodeTableMatchesFit holds it equal to sched.Fit.
func (t *nodeTable) fit(spec *corev1.PodSpec, req corev1.ResourceList) fitSummary {
	fitter := sched.NewFitter(spec, req)
	cpu, mem := snapshot.ClampedMilliCPU(*req.Cpu()), snapshot.ClampedBytes(*req.Memory())
	// Each class's cordon and taint reasons, from its representative.
	classReasons := make([][]sched.Reason, len(t.reps))
	for c, n := range t.reps {
		for _, r := range fitter.Fit(n, snapshot.Requests{}).Reasons {
			if r.Kind == sched.Unschedulable || r.Kind == sched.UntoleratedTaint {
				classReasons[c] = append(classReasons[c], r)
			}
		}
	}
	constrained := placed(spec)
	sum := fitSummary{nodes: len(t.rows)}
	labelOnlyAt := -1
	groups := map[fitKey]*fitGroup{}
	for i := range t.rows {
		row := &t.rows[i]
		k := fitKey{pool: row.pool, class: row.class,
			cpu:  cpu > 0 && cpu > row.free.MilliCPU,
			mem:  mem > 0 && mem > row.free.MemoryBytes,
			pods: row.slots && row.free.Pods < 1}
		if constrained {
			for _, r := range fitter.Fit(row.node, snapshot.Requests{}).Reasons {
				if r.Kind == sched.NodeName || r.Kind == sched.NodeAffinity {
					k.name = r.Kind
					break
				}
			}
		}
		taints := len(classReasons[row.class])
		if k.name == 0 && taints == 0 && !k.cpu && !k.mem && !k.pods {
			if sum.fits < namesShown {
				sum.fitNames = append(sum.fitNames, row.node.Name)
			}
			sum.fits++
			continue
		}
		if k.name != 0 {
			sum.byName++
			if k.name == sched.NodeAffinity && taints == 0 && !k.cpu && !k.mem && !k.pods && (labelOnlyAt < 0 || row.index < labelOnlyAt) {
				labelOnlyAt, sum.labelOnly = row.index, row.node.Name
			}
		}
		for _, r := range classReasons[row.class] {
			if r.Kind == sched.UntoleratedTaint {
				sum.taints++
			}
		}
		if k.cpu {
			sum.insufficient++
		}
		if k.mem {
			sum.insufficient++
		}
		g := groups[k]
		if g == nil {
			g = &fitGroup{key: k, cpuLo: row.free.MilliCPU, cpuHi: row.free.MilliCPU, memLo: row.free.MemoryBytes, memHi: row.free.MemoryBytes}
			groups[k] = g
		}
		g.count++
		if len(g.names) < namesShown {
			g.names = append(g.names, row.node.Name)
		}
		g.cpuLo, g.cpuHi = min(g.cpuLo, row.free.MilliCPU), max(g.cpuHi, row.free.MilliCPU)
		g.memLo, g.memHi = min(g.memLo, row.free.MemoryBytes), max(g.memHi, row.free.MemoryBytes)
	}
	type line struct {
		count        int
		reason, pool string
	}
	lines := make([]line, 0, len(groups))
	for _, g := range groups {
		lines = append(lines, line{count: g.count, reason: g.reasons(spec, req, classReasons[g.key.class]), pool: t.pools[g.key.pool]})
		l := &lines[len(lines)-1]
		names := firstNames(g.names, g.count)
		where := ""
		if l.pool != snapshot.NoPool {
			where = " in pool " + l.pool
		}
		l.reason, l.pool = fmt.Sprintf("%d %s%s (%s): %s", g.count, podsWord(g.count, "node", "nodes"), where, names, l.reason), l.reason+"\x00"+l.pool
	}
	// The most common reason first; then by reason and pool.
	sort.Slice(lines, func(i, j int) bool {
		if lines[i].count != lines[j].count {
			return lines[i].count > lines[j].count
		}
		return lines[i].pool < lines[j].pool
	})
	for _, l := range lines {
		sum.lines = append(sum.lines, l.reason)
	}
	return sum
}

// placed reports whether a pod spec constrains the nodes it runs on by
// name, node selector or required node affinity.
func placed(spec *corev1.PodSpec) bool {
	if spec.NodeName != "" || len(spec.NodeSelector) > 0 {
		return true
	}
	a := spec.Affinity
	return a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil
}

// reasons writes the group's reasons in sched.Fit's order, with the range
// of free amounts when its nodes differ: "insufficient cpu (asks 2, 100m
// to 1500m free)".
func (g *fitGroup) reasons(spec *corev1.PodSpec, req corev1.ResourceList, class []sched.Reason) string {
	var parts []string
	if g.key.name != 0 {
		parts = append(parts, sched.Reason{Kind: g.key.name, Node: spec.NodeName}.String())
	}
	for _, r := range class {
		parts = append(parts, r.String())
	}
	short := func(res corev1.ResourceName, lo, hi int64) string {
		if sched.Amount(res, lo) == sched.Amount(res, hi) {
			return sched.Reason{Kind: sched.InsufficientResource, Resource: res, Asked: req[res], Free: lo}.String()
		}
		q := req[res]
		return fmt.Sprintf("insufficient %s (asks %s, %s to %s free)", res, q.String(), sched.Amount(res, lo), sched.Amount(res, hi))
	}
	if g.key.cpu {
		parts = append(parts, short(corev1.ResourceCPU, g.cpuLo, g.cpuHi))
	}
	if g.key.mem {
		parts = append(parts, short(corev1.ResourceMemory, g.memLo, g.memHi))
	}
	if g.key.pods {
		parts = append(parts, sched.Reason{Kind: sched.TooManyPods}.String())
	}
	return strings.Join(parts, "; ")
}

// firstNames writes the first names of total as joinNames does: "a, b, c,
// d and 8 more".
func firstNames(names []string, total int) string {
	out := strings.Join(names, ", ")
	if total > len(names) {
		out += fmt.Sprintf(" and %d more", total-len(names))
	}
	return out
}
