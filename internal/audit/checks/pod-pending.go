package checks

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func podPending() audit.Check {
	return checkSpec{
		id:        podPendingID,
		reads:     readsOf(kPods, kNodes, kPVCs, kEvents),
		manifests: audit.NeedsCluster("needs a cluster: whether a pod schedules depends on the nodes and what already runs on them"),
		category:  audit.Availability,
		severity:  audit.Warning,
		description: "A pod no node will take. The finding quotes the scheduler's reason (the PodScheduled condition and " +
			"FailedScheduling events) and checks every node itself: node selector and affinity, taints and tolerations, " +
			"cordoned nodes, free cpu, memory and pod slots, unbound PersistentVolumeClaims. For a DaemonSet pod the " +
			"scheduler's \"N-1 node(s) didn't match Pod's node affinity\" is expected (the DaemonSet controller pins each " +
			"pod to its node by name) and is not the cause: the finding names the clause about the target node instead, " +
			"with that node's free capacity. When no node carries what the nodeSelector or the required node affinity asks " +
			"for, the finding names the key (gpu=true) and offers to label a node that has room for the pod and no taint it " +
			"does not tolerate; for labels that Kubernetes or the provider set (node pools, instance types) it asks for a " +
			"node pool instead.",
		run: runPodPending,
	}
}

func runPodPending(c checkSpec, ix *snapshot.Index, _ *audit.Config) []audit.Finding {
	var out []audit.Finding
	var pc *pendingIndex
	for i := range ix.S.Pods {
		p := &ix.S.Pods[i]
		if p.Spec.NodeName != "" || podTerminal(p) || (p.Status.Phase != corev1.PodPending && p.Status.Phase != "") {
			continue
		}
		if pc == nil {
			pc = newPendingIndex(ix)
		}
		out = append(out, pendingFinding(c, ix, pc, p))
	}
	return out
}

// pendingIndex holds what the check looks up for every pending pod,
// gathered in one pass: scanning every event and every claim of the
// snapshot again for each pending pod made the check quadratic.
type pendingIndex struct {
	failedScheduling map[types.NamespacedName]string // the latest FailedScheduling message of a pod
	claimPhase       map[types.NamespacedName]corev1.PersistentVolumeClaimPhase
	table            *nodeTable // built for the first pending pod that is fitted against every node
}

func (pc *pendingIndex) nodes(ix *snapshot.Index) *nodeTable {
	if pc.table == nil {
		pc.table = newNodeTable(ix)
	}
	return pc.table
}

func newPendingIndex(ix *snapshot.Index) *pendingIndex {
	pc := &pendingIndex{failedScheduling: map[types.NamespacedName]string{},
		claimPhase: make(map[types.NamespacedName]corev1.PersistentVolumeClaimPhase, len(ix.S.PVCs))}
	// The latest event wins, and among events of the same time the first
	// in the snapshot, as the stable sort of warningEvents ordered them.
	latest := map[types.NamespacedName]time.Time{}
	for i := range ix.S.Events {
		e := &ix.S.Events[i]
		if e.InvolvedObject.Kind != "Pod" || e.Reason != "FailedScheduling" {
			continue
		}
		k := types.NamespacedName{Namespace: e.InvolvedObject.Namespace, Name: e.InvolvedObject.Name}
		t := eventTime(e)
		if at, seen := latest[k]; seen && !t.After(at) {
			continue
		}
		latest[k] = t
		pc.failedScheduling[k] = e.Message
	}
	// The last claim of a name wins, as the scan it replaces did.
	for i := range ix.S.PVCs {
		c := &ix.S.PVCs[i]
		pc.claimPhase[types.NamespacedName{Namespace: c.Namespace, Name: c.Name}] = c.Status.Phase
	}
	return pc
}

// schedulerMessage is the scheduler's last word on a pod.
func schedulerMessage(pc *pendingIndex, p *corev1.Pod) string {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Message != "" {
			return cond.Message
		}
	}
	return pc.failedScheduling[types.NamespacedName{Namespace: p.Namespace, Name: p.Name}]
}

func pendingFinding(c checkSpec, ix *snapshot.Index, pc *pendingIndex, p *corev1.Pod) audit.Finding {
	owner := workloadOf(ix, p)
	f := c.newFinding(objRef("Pod", p), fmt.Sprintf("Pod %s/%s is Pending: no node can run it", p.Namespace, p.Name))
	f.Evidence = append(f.Evidence, "owner "+owner.String())
	msg := schedulerMessage(pc, p)
	if msg != "" {
		f.Evidence = append(f.Evidence, "scheduler: "+msg)
	} else {
		f.Evidence = append(f.Evidence, "the scheduler has not reported on it yet")
	}
	if age := since(p.CreationTimestamp.Time, snapshotTime(ix.S)); age != "" {
		f.Evidence = append(f.Evidence, "pending for "+age)
	}
	req := snapshot.PodRequests(&p.Spec)
	f.Evidence = append(f.Evidence, fmt.Sprintf("requests cpu %s, memory %s", quantityText(corev1.ResourceCPU, req[corev1.ResourceCPU]),
		quantityText(corev1.ResourceMemory, req[corev1.ResourceMemory])))

	if claims := unboundClaims(pc, p); len(claims) > 0 {
		f.Cause = "The pod waits for PersistentVolumeClaims that are not bound: " + strings.Join(claims, ", ") + "."
		f.Remediation = audit.Remediation{
			Text:    "Bind the claims: check their storage class and provisioner, or create the volumes they ask for.",
			Command: fmt.Sprintf("kubectl describe pvc%s %s", nsArg(p.Namespace), claimNames(ix, p)),
		}
		return f
	}

	if target := sched.PinnedNode(&p.Spec); target != "" && owner.Kind == "DaemonSet" {
		return daemonPodPending(f, ix, p, owner, target, req)
	}

	sum := pc.nodes(ix).fit(&p.Spec, req)
	f.Evidence = append(f.Evidence, sum.lines...)
	switch {
	case len(ix.S.Nodes) == 0:
		f.Cause = "The snapshot holds no nodes, so nothing can be said about where the pod could run."
		f.Remediation = audit.Remediation{Text: "Collect the snapshot with nodes (kubectl get nodes) to diagnose this pod."}
	case sum.fits > 0:
		f.Severity = audit.Info
		f.Cause = fmt.Sprintf("%d %s could take the pod now (%s): the scheduler has not retried since room was freed.",
			sum.fits, podsWord(sum.fits, "node", "nodes"), firstNames(sum.fitNames, sum.fits))
		f.Remediation = audit.Remediation{Text: "Nothing to change; if it stays Pending, delete the pod so its controller re-creates it.",
			Command: fmt.Sprintf("kubectl delete pod %s%s", shell.Quote(p.Name), nsArg(p.Namespace))}
	default:
		f.Cause = "No node passes every filter: " + strings.Join(sum.lines, "; ") + "."
		f.Remediation = pendingFix(ix, p, owner, sum)
	}
	return f
}

// daemonPodPending explains a DaemonSet pod that does not fit its node.
func daemonPodPending(f audit.Finding, ix *snapshot.Index, p *corev1.Pod, owner snapshot.Ref, target string, req corev1.ResourceList) audit.Finding {
	n := ix.Node(target)
	others := len(ix.S.Nodes) - 1
	affinity := fmt.Sprintf("The DaemonSet controller pins this pod to node %s with a required node affinity on metadata.name, "+
		"so the scheduler reports the other %d %s as not matching node affinity: that clause is expected, not the cause.",
		target, others, podsWord(others, "node", "nodes"))
	if n == nil {
		f.Cause = affinity + " Node " + target + " is not in the snapshot: it was probably removed, and the pod goes with it."
		f.Remediation = audit.Remediation{Text: "Nothing to fix if the node is gone; otherwise collect the snapshot again."}
		return f
	}
	used := ix.NodeRequests(n.Name)
	v := sched.Fit(&p.Spec, req, n, used)
	free := sched.Free(n, used)
	f.Evidence = append(f.Evidence, fmt.Sprintf("node %s (pool %s): %s cpu and %s memory free of %s and %s allocatable", target,
		snapshot.NodePool(n), sched.Amount(corev1.ResourceCPU, free.MilliCPU), sched.Amount(corev1.ResourceMemory, free.MemoryBytes),
		quantityText(corev1.ResourceCPU, n.Status.Allocatable[corev1.ResourceCPU]), quantityText(corev1.ResourceMemory, n.Status.Allocatable[corev1.ResourceMemory])))
	if v.Fits() {
		f.Severity = audit.Info
		f.Cause = affinity + " Node " + target + " has room for it now: the scheduler has not retried since."
		f.Remediation = audit.Remediation{Text: "Delete the pod so the DaemonSet controller re-creates it.",
			Command: fmt.Sprintf("kubectl delete pod %s%s", shell.Quote(p.Name), nsArg(p.Namespace))}
		return f
	}
	f.Cause = affinity + " The real cause is on " + target + " itself: " + v.String() + "."
	text := fmt.Sprintf("Make room on %s (move or shrink the workloads there) or lower the DaemonSet's requests. A per-node agent "+
		"should not lose the race for room to ordinary workloads: give it a high priority class so the scheduler preempts a "+
		"lower-priority pod for it.", target)
	setClass := func(class string) string {
		return fmt.Sprintf("kubectl patch daemonset %s%s --type merge -p %s", shell.Quote(owner.Name), nsArg(owner.Namespace),
			mergePatch(map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"priorityClassName": class}}}}))
	}
	if owner.Namespace == "kube-system" {
		f.Remediation = audit.Remediation{Text: text, Command: setClass("system-node-critical")}
		return f
	}
	// The API server admits the system-*-critical classes only in
	// kube-system: set on a DaemonSet elsewhere, every pod it creates would
	// be refused. A class of the cluster's own does the same job anywhere.
	f.Remediation = objectFix(podPendingID, text+" Not system-node-critical: outside kube-system the API server refuses pods "+
		"of that class, and the DaemonSet would create none. Create a priority class of your own (below the system "+
		"classes) and set it on the DaemonSet.", ref("PriorityClass", "", nodeAgentClass), fmt.Sprintf(`apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: %s
value: 1000000
description: Per-node agents, which must find room on every node before ordinary workloads.
`, nodeAgentClass))
	f.Remediation.Command += " && " + setClass(nodeAgentClass)
	return f
}

const (
	podPendingID   = "pod-pending"
	nodeAgentClass = "node-agent"
)

// pendingFix names the change that lets the pod schedule, from the most
// common blocking reason across the nodes.
func pendingFix(ix *snapshot.Index, p *corev1.Pod, owner snapshot.Ref, sum fitSummary) audit.Remediation {
	describe := fmt.Sprintf("kubectl describe pod %s%s", shell.Quote(p.Name), nsArg(p.Namespace))
	switch {
	case sum.byName == sum.nodes:
		return placementFix(ix, p, owner, sum.labelOnly, describe)
	case sum.taints > 0 && sum.insufficient == 0:
		return audit.Remediation{Text: "The nodes that match are tainted: add the matching toleration to " + owner.String() +
			"'s pod template, or remove the taint.", Command: describe}
	default:
		return audit.Remediation{Text: "The nodes that match lack free cpu or memory: lower the pod's requests, free room, or add a " +
			"node to the pool it targets.", Command: describe}
	}
}

func unboundClaims(pc *pendingIndex, p *corev1.Pod) []string {
	var out []string
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		name := v.PersistentVolumeClaim.ClaimName
		phase := "missing"
		if ph, ok := pc.claimPhase[types.NamespacedName{Namespace: p.Namespace, Name: name}]; ok {
			phase = string(ph)
		}
		if phase != string(corev1.ClaimBound) {
			out = append(out, fmt.Sprintf("%s (%s)", name, orNone(phase)))
		}
	}
	return out
}

func claimNames(ix *snapshot.Index, p *corev1.Pod) string {
	var names []string
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			names = append(names, v.PersistentVolumeClaim.ClaimName)
		}
	}
	return shell.Join(names...)
}

// placementFix names the nodeSelector pair or required affinity
// expression that no node satisfies, and offers the label that would let
// the pod schedule on a node that refuses it for that reason alone.
func placementFix(ix *snapshot.Index, p *corev1.Pod, owner snapshot.Ref, node string, describe string) audit.Remediation {
	pairs, exprs := unmetPlacement(ix, &p.Spec)
	if len(pairs) == 0 && len(exprs) == 0 {
		return audit.Remediation{Text: "No node carries the labels the pod's nodeSelector or required affinity asks for: fix the " +
			"selector in " + owner.String() + "'s pod template, or label the nodes meant for it.", Command: describe}
	}
	unmet := append(append([]string{}, exprs...), pairsText(pairs)...)
	text := "No node satisfies " + strings.Join(unmet, " or ") + ", which " + owner.String() + "'s pod template requires."
	var keys []string
	for _, kv := range pairs {
		keys = append(keys, kv[0])
	}
	if len(exprs) > 0 || len(pairs) == 0 {
		return audit.Remediation{Text: text + " Add nodes that carry the labels (a node pool created with them), or change the " +
			"affinity in the pod template if any node will do.", Command: describe}
	}
	for _, k := range keys {
		if providerLabel(k) {
			return audit.Remediation{Text: text + " " + k + " is set by Kubernetes or the provider on the nodes it creates: add a node " +
				"pool whose nodes carry it, or fix the value in the pod template; a label set by hand would be lost with the node.",
				Command: "kubectl get nodes -L " + shell.Quote(strings.Join(keys, ","))}
		}
	}
	// node refuses the pod only for its labels, so it would take it once
	// labelled: it has the room and no taint the pod does not tolerate.
	labels := make([]string, len(pairs))
	for i, kv := range pairs {
		labels[i] = shell.Quote(kv[0] + "=" + kv[1])
	}
	if node == "" {
		return audit.Remediation{Text: text + " No node would take it once labelled (each also lacks room or has a taint the pod does " +
			"not tolerate): add a node with the labels, or remove the keys from the pod template if any node will do.",
			Command: "kubectl get nodes -L " + shell.Quote(strings.Join(keys, ","))}
	}
	return audit.Remediation{Text: text + " Label the node meant for it: " + node + " has the room and no taint the pod does not " +
		"tolerate, but label it only if it is what the label claims (a node with a GPU for a gpu label): the pod would " +
		"run there and fail otherwise. Or, if any node will do, remove the keys from the pod template's nodeSelector.",
		Command: fmt.Sprintf("kubectl label node %s %s", shell.Quote(node), strings.Join(labels, " "))}
}

// unmetPlacement lists the nodeSelector pairs no node carries and, when
// no node satisfies any term of the required node affinity, each term's
// expressions that no node satisfies.
func unmetPlacement(ix *snapshot.Index, spec *corev1.PodSpec) (pairs [][2]string, exprs []string) {
	nodes := ix.S.Nodes
	for _, k := range mapKeysSorted(spec.NodeSelector) {
		v := spec.NodeSelector[k]
		found := false
		for i := range nodes {
			if nodes[i].Labels[k] == v {
				found = true
				break
			}
		}
		if !found {
			pairs = append(pairs, [2]string{k, v})
		}
	}
	a := spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return pairs, nil
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	matches := func(term corev1.NodeSelectorTerm) bool {
		sel, err := nodeaffinity.NewNodeSelector(&corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{term}})
		if err != nil {
			return false
		}
		for i := range nodes {
			if sel.Match(&nodes[i]) {
				return true
			}
		}
		return false
	}
	for _, t := range terms {
		if matches(t) {
			return pairs, nil
		}
	}
	for _, t := range terms {
		for _, e := range t.MatchExpressions {
			if !matches(corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{e}}) {
				exprs = append(exprs, "the node affinity "+requirementText(e))
			}
		}
	}
	return pairs, exprs
}

func pairsText(pairs [][2]string) []string {
	out := make([]string, len(pairs))
	for i, kv := range pairs {
		out[i] = "the nodeSelector " + kv[0] + "=" + kv[1]
	}
	return out
}

func requirementText(e corev1.NodeSelectorRequirement) string {
	switch e.Operator {
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		return e.Key + " " + string(e.Operator)
	}
	return e.Key + " " + string(e.Operator) + " (" + strings.Join(e.Values, ", ") + ")"
}

// providerLabel reports node labels that Kubernetes, the kubelet or the
// provider set on the nodes they create.
func providerLabel(key string) bool {
	prefix, _, ok := strings.Cut(key, "/")
	if !ok {
		return false
	}
	return prefix == "kubernetes.io" || strings.HasSuffix(prefix, ".kubernetes.io") || prefix == "k8s.io" ||
		strings.HasSuffix(prefix, ".k8s.io") || strings.HasSuffix(prefix, "digitalocean.com")
}
