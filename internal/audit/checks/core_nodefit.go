package checks

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/purserhq/purser/internal/snapshot"
)

// nodeVerdict says whether a pod could run on a node, and if not why.
type nodeVerdict struct {
	Node    string
	Reasons []string // empty: the pod fits
}

// fitPod evaluates a pod spec against a node the way the scheduler's
// filters do for the common causes: node name and selector, required node
// affinity (matchFields on metadata.name included), untolerated NoSchedule
// and NoExecute taints, unschedulable nodes, and free cpu, memory and pod
// slots given the pods already bound there.
func fitPod(ix *snapshot.Index, spec *corev1.PodSpec, req corev1.ResourceList, n *corev1.Node, skipAffinity bool) nodeVerdict {
	v := nodeVerdict{Node: n.Name}
	if !skipAffinity && !matchesNodeSelector(spec, n) {
		v.Reasons = append(v.Reasons, "node affinity/selector does not match")
	}
	// The DaemonSet controller adds a toleration of the unschedulable taint
	// to its pods: a cordoned node still takes them.
	if n.Spec.Unschedulable && !snapshot.Tolerates(spec.Tolerations, &corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}) {
		v.Reasons = append(v.Reasons, "node is cordoned (unschedulable)")
	}
	for _, t := range n.Spec.Taints {
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if !snapshot.Tolerates(spec.Tolerations, &t) {
			v.Reasons = append(v.Reasons, fmt.Sprintf("untolerated taint %s=%s:%s", t.Key, t.Value, t.Effect))
		}
	}
	free := freeOn(ix, n)
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		want, ok := req[r]
		if !ok || want.IsZero() {
			continue
		}
		have := free[r]
		if want.Cmp(have) > 0 {
			v.Reasons = append(v.Reasons, fmt.Sprintf("insufficient %s (asks %s, %s free)", r, want.String(), quantityText(r, have)))
		}
	}
	if maxPods, ok := n.Status.Allocatable[corev1.ResourcePods]; ok && int64(len(boundPods(ix, n.Name))) >= maxPods.Value() {
		v.Reasons = append(v.Reasons, "too many pods")
	}
	return v
}

// boundPods are the pods holding resources on a node.
func boundPods(ix *snapshot.Index, node string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range ix.PodsOnNode(node) {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			out = append(out, p)
		}
	}
	return out
}

// freeOn is a node's allocatable minus the requests of the pods bound to it.
func freeOn(ix *snapshot.Index, n *corev1.Node) corev1.ResourceList {
	free := corev1.ResourceList{}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		q := n.Status.Allocatable[r]
		free[r] = q.DeepCopy()
	}
	for _, p := range boundPods(ix, n.Name) {
		req := snapshot.PodRequests(&p.Spec)
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			q := free[r]
			q.Sub(req[r])
			free[r] = q
		}
	}
	return free
}

func quantityText(r corev1.ResourceName, q resource.Quantity) string {
	if r == corev1.ResourceCPU {
		return strconv.FormatInt(q.MilliValue(), 10) + "m"
	}
	return strconv.FormatInt(q.Value()>>20, 10) + "Mi"
}

// matchesNodeSelector applies spec.nodeName, spec.nodeSelector and the
// required node affinity.
func matchesNodeSelector(spec *corev1.PodSpec, n *corev1.Node) bool {
	if spec.NodeName != "" && spec.NodeName != n.Name {
		return false
	}
	return snapshot.NodeAffinityMatches(spec, n)
}

// verdictSummary groups node verdicts by reason: "14 nodes: untolerated
// taint dedicated=api:NoSchedule".
func verdictSummary(vs []nodeVerdict) (fits []string, lines []string) {
	byReason := map[string][]string{}
	for _, v := range vs {
		if len(v.Reasons) == 0 {
			fits = append(fits, v.Node)
			continue
		}
		key := strings.Join(v.Reasons, "; ")
		byReason[key] = append(byReason[key], v.Node)
	}
	keys := make([]string, 0, len(byReason))
	for k := range byReason {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(byReason[keys[i]]) != len(byReason[keys[j]]) {
			return len(byReason[keys[i]]) > len(byReason[keys[j]])
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		nodes := byReason[k]
		sort.Strings(nodes)
		lines = append(lines, fmt.Sprintf("%d %s (%s): %s", len(nodes), podsWord(len(nodes), "node", "nodes"), joinNames(nodes, 4), k))
	}
	sort.Strings(fits)
	return fits, lines
}
