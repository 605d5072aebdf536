package checks

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func deploymentSingleReplicaNoPDB() audit.Check {
	return ruleCheck{
		id:       "deployment-single-replica-no-pdb",
		reads:    readsOf(kDeployments, kPDBs),
		category: audit.Resources,
		severity: audit.Info,
		description: "A Deployment that runs one replica and that no PodDisruptionBudget covers. Every node drain " +
			"(upgrades, autoscaler scale-down, node replacement) stops its only pod before a new one is ready, so the " +
			"service is down for the pod's start time. It is informational: one replica is a fair choice for development " +
			"and batch-like services, and the fix costs a second pod. Deployments scaled to zero are left to " +
			"workload-scaled-to-zero.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			s := in.Index.S
			var out []audit.Finding
			for i := range s.Deployments {
				d := &s.Deployments[i]
				if platformNamespace(d.Namespace) || replicasOf(d.Spec.Replicas) != 1 {
					continue
				}
				if pdb := coveringPDB(in, d.Namespace, d.Spec.Template.Labels); pdb != "" {
					continue
				}
				r := ref("Deployment", d.Namespace, d.Name)
				f := c.finding(r, fmt.Sprintf("Deployment %s/%s runs a single replica with no PodDisruptionBudget: a node drain takes it down",
					d.Namespace, d.Name))
				f.Cause = "With one replica, evicting its pod (drain, upgrade, scale-down) leaves no pod serving until the " +
					"replacement is scheduled and ready; no PodDisruptionBudget makes the drain wait."
				f.Evidence = append(f.Evidence, "spec.replicas 1", "no PodDisruptionBudget in "+d.Namespace+" selects its pods")
				f.Remediation = audit.Remediation{
					Text: "Run two replicas and add a PodDisruptionBudget that keeps one available. A PodDisruptionBudget " +
						"alone on a single replica (minAvailable: 1) would block drains instead: scale first.",
					Command: fmt.Sprintf("kubectl scale deployment %s%s --replicas=2", shell.Quote(d.Name), nsArg(d.Namespace)),
					Manifest: fmt.Sprintf(`apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: %s
  namespace: %s
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
%s`, d.Name, d.Namespace, indentLabels(selectorLabels(d.Spec.Selector, d.Spec.Template.Labels), "      ")),
				}
				out = append(out, f)
			}
			return out
		},
	}
}

// coveringPDB names a PodDisruptionBudget of ns whose selector matches pod
// labels, or "".
func coveringPDB(in *audit.Input, ns string, podLabels map[string]string) string {
	for _, p := range in.Index.S.PDBs {
		if p.Namespace != ns || p.Spec.Selector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || sel.Empty() {
			continue
		}
		if sel.Matches(labels.Set(podLabels)) {
			return p.Name
		}
	}
	return ""
}

// selectorLabels returns the workload's matchLabels, or its template labels
// when the selector uses expressions only.
func selectorLabels(sel *metav1.LabelSelector, template map[string]string) map[string]string {
	if sel != nil && len(sel.MatchLabels) > 0 {
		return sel.MatchLabels
	}
	return template
}

func indentLabels(m map[string]string, indent string) string {
	var b strings.Builder
	for _, k := range mapKeysSorted(m) {
		fmt.Fprintf(&b, "%s%s: %q\n", indent, k, m[k])
	}
	return b.String()
}
