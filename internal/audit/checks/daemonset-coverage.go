package checks

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func daemonSetCoverage() audit.Check {
	return checkSpec{
		id:        "daemonset-coverage",
		reads:     readsOf(kDaemonSets, kNodes, kPods),
		manifests: audit.NeedsCluster("needs a cluster: which nodes a DaemonSet misses depends on the nodes"),
		category:  audit.Availability,
		severity:  audit.Warning,
		description: "A DaemonSet that does not run a ready pod on every node it targets: a log shipper, metrics " +
			"exporter or network agent missing from a node leaves that node blind or broken. The finding gives desired, " +
			"scheduled and ready counts against the number of nodes, the nodes without a ready pod and why (the pod is " +
			"Pending for lack of room, crash-looping, or missing), and the nodes the DaemonSet excludes on purpose " +
			"through its node selector, affinity or untolerated taints.",
		run: runDaemonSetCoverage,
	}
}

func runDaemonSetCoverage(c checkSpec, ix *snapshot.Index, _ *audit.Config) []audit.Finding {
	s := ix.S
	var out []audit.Finding
	for i := range s.DaemonSets {
		ds := &s.DaemonSets[i]
		// Pods of this DaemonSet, by the node they run on or are pinned to.
		byNode := map[string]*corev1.Pod{}
		for _, p := range ix.PodsInNamespace(ds.Namespace) {
			if podTerminal(p) {
				continue
			}
			if owner, ok := ix.Controller(p); !ok || owner.Kind != "DaemonSet" || owner.Name != ds.Name {
				continue
			}
			node := p.Spec.NodeName
			if node == "" {
				node = sched.PinnedNode(&p.Spec)
			}
			byNode[node] = p
		}
		var eligible, missing []string
		excluded := map[string][]string{}
		reasons := map[string]string{}
		ready := 0
		for j := range s.Nodes {
			n := &s.Nodes[j]
			// The DaemonSet controller leaves out the nodes its template's
			// affinity or their taints exclude; a cordoned or full node is
			// still one it targets.
			placement := fitOn(ix, &ds.Spec.Template.Spec, nil, n).Placement()
			if len(placement) > 0 && byNode[n.Name] == nil {
				key := sched.JoinReasons(placement)
				excluded[key] = append(excluded[key], n.Name)
				continue
			}
			eligible = append(eligible, n.Name)
			p := byNode[n.Name]
			switch {
			case p == nil:
				missing = append(missing, n.Name)
				reasons[n.Name] = "no pod was created for it"
			case p.Spec.NodeName == "":
				missing = append(missing, n.Name)
				reasons[n.Name] = fmt.Sprintf("pod %s is Pending: %s", p.Name, pendingReasonOn(ix, p, n))
			case !podReady(p):
				missing = append(missing, n.Name)
				reasons[n.Name] = fmt.Sprintf("pod %s is %s", p.Name, snapshot.PodStatusPhrase(p))
			default:
				ready++
			}
		}
		if len(missing) == 0 {
			continue
		}
		r := objRef("DaemonSet", ds)
		f := c.newFinding(r, fmt.Sprintf("DaemonSet %s/%s runs a ready pod on %d of %d nodes", ds.Namespace, ds.Name, ready, len(s.Nodes)))
		st := ds.Status
		f.Evidence = append(f.Evidence, fmt.Sprintf("desired %d, scheduled %d, ready %d, available %d; %d nodes, %d targeted",
			st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberReady, st.NumberAvailable, len(s.Nodes), len(eligible)))
		sort.Strings(missing)
		var causes []string
		for _, n := range missing {
			line := fmt.Sprintf("node %s (pool %s): %s", n, poolOf(ix, n), reasons[n])
			f.Evidence = append(f.Evidence, line)
			causes = append(causes, line)
		}
		keys := make([]string, 0, len(excluded))
		for k := range excluded {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f.Evidence = append(f.Evidence, fmt.Sprintf("excluded on purpose, %d %s (%s): %s", len(excluded[k]),
				podsWord(len(excluded[k]), "node", "nodes"), joinNames(excluded[k], 4), k))
		}
		f.Cause = fmt.Sprintf("%d targeted %s without a ready pod: %s.", len(missing), podsWord(len(missing), "node is", "nodes are"),
			strings.Join(causes, "; "))
		f.Remediation = audit.Remediation{
			Text: "Fix each node's pod: for a Pending pod free room on the node or give the DaemonSet a higher priority class " +
				"(see the pod-pending finding); for a failing pod read its logs (pod-crashloop).",
			Command: fmt.Sprintf("kubectl get pods%s -o wide -l %s", nsArg(ds.Namespace), selectorOf(ds.Spec.Selector.MatchLabels)),
		}
		out = append(out, f)
	}
	return out
}

func selectorOf(m map[string]string) string {
	return shell.Quote(labelsText(m))
}

func poolOf(ix *snapshot.Index, node string) string {
	if n := ix.Node(node); n != nil {
		return snapshot.NodePool(n)
	}
	return snapshot.NoPool
}

// pendingReasonOn is why a DaemonSet pod does not fit the node it is pinned to.
func pendingReasonOn(ix *snapshot.Index, p *corev1.Pod, n *corev1.Node) string {
	v := fitOn(ix, &p.Spec, snapshot.PodRequests(&p.Spec), n)
	if v.Fits() {
		return "the node has room now; the scheduler has not retried"
	}
	return v.String()
}
