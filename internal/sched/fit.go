// Package sched is Purser's one model of the scheduler: whether a pod fits
// a node now, and why not, with typed reasons; and how many nodes of each
// pool a set of pods needs, packed to a target utilisation. The audit
// explains Pending pods with it, the plan prices the nodes it frees with
// it. It is a pure function of a snapshot: matching uses Kubernetes' own
// helpers (component-helpers), so its verdicts are the scheduler's.
package sched

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"github.com/purserhq/purser/internal/snapshot"
)

// ReasonKind is the filter a node fails, named after the scheduler
// plugin that applies it.
type ReasonKind int

// The reasons a node refuses a pod.
const (
	// NodeName: the pod's spec.nodeName names another node.
	NodeName ReasonKind = iota + 1
	// NodeAffinity: the node's labels (or name, for matchFields) fail the
	// pod's nodeSelector or required node affinity.
	NodeAffinity
	// Unschedulable: the node is cordoned and the pod does not tolerate it.
	Unschedulable
	// UntoleratedTaint: a NoSchedule or NoExecute taint the pod does not tolerate.
	UntoleratedTaint
	// InsufficientResource: the pod asks for more CPU or memory than the
	// node has left.
	InsufficientResource
	// TooManyPods: every pod slot of the node is taken.
	TooManyPods
)

// Placement tells whether the reason keeps the pod off the node whatever
// room the node has: the pod's own constraints or the node's taints. The
// others (cordon, room, pod slots) are the node's state of the moment.
func (k ReasonKind) Placement() bool {
	return k == NodeName || k == NodeAffinity || k == UntoleratedTaint
}

// Reason is why one node refuses one pod.
type Reason struct {
	Kind ReasonKind
	// Node is the node spec.nodeName names (NodeName).
	Node string
	// Taint is the taint not tolerated (UntoleratedTaint).
	Taint *corev1.Taint
	// Resource, Asked and Free describe InsufficientResource: Asked is
	// the pod's request as written, Free what the node has left, in
	// millicores for cpu and bytes for memory.
	Resource corev1.ResourceName
	Asked    resource.Quantity
	Free     int64
}

// String is the reason as reports print it.
func (r Reason) String() string {
	switch r.Kind {
	case NodeName:
		return "node name does not match (the pod names node " + r.Node + ")"
	case NodeAffinity:
		return "node affinity/selector does not match"
	case Unschedulable:
		return "node is cordoned (unschedulable)"
	case UntoleratedTaint:
		return fmt.Sprintf("untolerated taint %s=%s:%s", r.Taint.Key, r.Taint.Value, r.Taint.Effect)
	case InsufficientResource:
		return fmt.Sprintf("insufficient %s (asks %s, %s free)", r.Resource, r.Asked.String(), Amount(r.Resource, r.Free))
	case TooManyPods:
		return "too many pods"
	}
	return fmt.Sprintf("unknown reason %d", int(r.Kind))
}

// Amount writes an amount of a resource as reports show it: CPU in
// millicores ("60m", from millicores), memory in MiB rounded down
// ("7923Mi", from bytes).
func Amount(r corev1.ResourceName, v int64) string {
	if r == corev1.ResourceCPU {
		return strconv.FormatInt(v, 10) + "m"
	}
	return strconv.FormatInt(v>>20, 10) + "Mi"
}

// Verdict says whether a pod fits a node, and if not why.
type Verdict struct {
	Node    string
	Reasons []Reason // empty: the pod fits
}

// Fits reports whether the node takes the pod.
func (v Verdict) Fits() bool { return len(v.Reasons) == 0 }

// Placement returns the reasons that keep the pod off the node whatever
// room it has (see ReasonKind.Placement).
func (v Verdict) Placement() []Reason {
	var out []Reason
	for _, r := range v.Reasons {
		if r.Kind.Placement() {
			out = append(out, r)
		}
	}
	return out
}

// String joins the reasons: "untolerated taint dedicated=api:NoSchedule;
// too many pods".
func (v Verdict) String() string { return JoinReasons(v.Reasons) }

// JoinReasons writes reasons one after the other, separated by "; ".
func JoinReasons(rs []Reason) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, "; ")
}

// Fit evaluates a pod spec, whose requests are req, against node n, whose
// bound pods already request used (snapshot.Index.NodeRequests), the way
// the scheduler's filters do for the common causes: node name, node
// selector and required node affinity (matchFields on metadata.name
// included), cordoned nodes, untolerated NoSchedule and NoExecute taints,
// free cpu and memory, and pod slots. A request absent from req is not
// checked, nor a zero one: an overcommitted node still takes a pod that
// asks for nothing.
func Fit(spec *corev1.PodSpec, req corev1.ResourceList, n *corev1.Node, used snapshot.Requests) Verdict {
	return NewFitter(spec, req).Fit(n, used)
}

// Fitter fits one pod spec against many nodes. It parses the pod's node
// affinity and its requests once: fitting a pending pod against each of
// 5,000 nodes would otherwise parse them 5,000 times.
type Fitter struct {
	spec     *corev1.PodSpec
	req      corev1.ResourceList
	affinity nodeaffinity.RequiredNodeAffinity
	cpu, mem int64
}

// NewFitter prepares spec, whose requests are req, for Fit on many nodes.
func NewFitter(spec *corev1.PodSpec, req corev1.ResourceList) *Fitter {
	return &Fitter{spec: spec, req: req, affinity: nodeaffinity.GetRequiredNodeAffinity(&corev1.Pod{Spec: *spec}),
		cpu: snapshot.ClampedMilliCPU(*req.Cpu()), mem: snapshot.ClampedBytes(*req.Memory())}
}

// Fit is the package's Fit for the prepared pod spec.
func (f *Fitter) Fit(n *corev1.Node, used snapshot.Requests) Verdict {
	spec, req := f.spec, f.req
	v := Verdict{Node: n.Name}
	if spec.NodeName != "" && spec.NodeName != n.Name {
		v.Reasons = append(v.Reasons, Reason{Kind: NodeName, Node: spec.NodeName})
	} else if ok, err := f.affinity.Match(n); err != nil || !ok {
		v.Reasons = append(v.Reasons, Reason{Kind: NodeAffinity})
	}
	// The DaemonSet controller adds a toleration of the unschedulable taint
	// to its pods: a cordoned node still takes them.
	if n.Spec.Unschedulable && !corev1helpers.TolerationsTolerateTaint(spec.Tolerations,
		&corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}) {
		v.Reasons = append(v.Reasons, Reason{Kind: Unschedulable})
	}
	// Every untolerated taint is named, not only the first the scheduler
	// stops at: removing one would not be enough.
	for i := range n.Spec.Taints {
		t := &n.Spec.Taints[i]
		if (t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute) &&
			!corev1helpers.TolerationsTolerateTaint(spec.Tolerations, t) {
			v.Reasons = append(v.Reasons, Reason{Kind: UntoleratedTaint, Taint: t})
		}
	}
	free := Free(n, used)
	for _, r := range [...]struct {
		name  corev1.ResourceName
		asked int64
		free  int64
	}{
		{corev1.ResourceCPU, f.cpu, free.MilliCPU},
		{corev1.ResourceMemory, f.mem, free.MemoryBytes},
	} {
		if r.asked > 0 && r.asked > r.free {
			v.Reasons = append(v.Reasons, Reason{Kind: InsufficientResource, Resource: r.name, Asked: req[r.name], Free: r.free})
		}
	}
	if _, ok := n.Status.Allocatable[corev1.ResourcePods]; ok && free.Pods < 1 {
		v.Reasons = append(v.Reasons, Reason{Kind: TooManyPods})
	}
	return v
}

// Free is a node's allocatable minus what its bound pods request. Amounts
// are clamped and subtracted without wrapping (snapshot.ClampedMilliCPU,
// SubSat): an overcommitted node has negative room, never a wrapped
// positive one.
func Free(n *corev1.Node, used snapshot.Requests) snapshot.Requests {
	a := n.Status.Allocatable
	return snapshot.Requests{
		MilliCPU:    snapshot.SubSat(snapshot.ClampedMilliCPU(*a.Cpu()), used.MilliCPU),
		MemoryBytes: snapshot.SubSat(snapshot.ClampedBytes(*a.Memory()), used.MemoryBytes),
		Pods:        snapshot.SubSat(snapshot.ClampedBytes(*a.Pods()), used.Pods),
	}
}

// NodeAffinityMatches reports whether a pod spec's nodeSelector and
// required node affinity admit a node, with the scheduler's own matching
// (label and field expressions, all operators).
func NodeAffinityMatches(spec *corev1.PodSpec, node *corev1.Node) bool {
	ok, err := nodeaffinity.GetRequiredNodeAffinity(&corev1.Pod{Spec: *spec}).Match(node)
	return err == nil && ok
}

// PinnedNode returns the node a pod spec is pinned to by a required node
// affinity on metadata.name, as the DaemonSet controller pins its pods;
// "" when it is not pinned.
func PinnedNode(spec *corev1.PodSpec) string {
	a := spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range term.MatchFields {
			if f.Key == "metadata.name" && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}
