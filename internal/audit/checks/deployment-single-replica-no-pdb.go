package checks

import (
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func deploymentSingleReplicaNoPDB() audit.Check {
	return ruleCheck{
		id:        "deployment-single-replica-no-pdb",
		reads:     readsOf(kDeployments, kPDBs, kPVCs, kHPAs),
		manifests: audit.RunsOnManifests(),
		category:  audit.Resources,
		severity:  audit.Info,
		description: "A Deployment that runs one replica and that no PodDisruptionBudget covers. Every node drain " +
			"(upgrades, autoscaler scale-down, node replacement) stops its only pod before a new one is ready, so the " +
			"service is down for the pod's start time. It is informational: one replica is a fair choice for development " +
			"and batch-like services, and the fix costs a second pod. A Deployment that mounts a ReadWriteOnce or ReadWriteOncePod claim " +
			"is not told to scale, since a second replica could not mount it: its fix is a PodDisruptionBudget with " +
			"maxUnavailable: 0, or leaving it single. When a HorizontalPodAutoscaler or a GitOps controller owns the " +
			"replicas, the fix raises the autoscaler's minimum or asks for the change in the source, since a hand scale " +
			"would be undone. Deployments scaled to zero are left to workload-scaled-to-zero.",
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
				sel := indentLabels(selectorLabels(d.Spec.Selector, d.Spec.Template.Labels), "      ")
				pdb := ref("PodDisruptionBudget", d.Namespace, d.Name)
				if claims := exclusiveClaims(in, d.Namespace, &d.Spec.Template.Spec); len(claims) > 0 {
					// A second replica would wait forever for a volume only
					// one node (or one pod) may mount: scaling is no fix.
					f.Evidence = append(f.Evidence, "mounts "+strings.Join(claims, ", "))
					f.Remediation = objectFix(c.id, "Do not scale it: a second replica could not mount its volume; keep it single, "+
						"or add a PodDisruptionBudget with maxUnavailable: 0. It mounts "+strings.Join(claims, ", ")+
						", which only one node at a time can attach (ReadWriteOncePod: one pod), so a second replica "+
						"scheduled on another node would stay Pending, and so would the rolling update's new pod. Either leave it "+
						"single and accept the downtime of a drain, or add a PodDisruptionBudget with maxUnavailable: 0 so that "+
						"drains stop at this pod and wait for you to move it (it then also holds up node upgrades and autoscaler "+
						"scale-downs until you do).", pdb, pdbManifest(d.Name, d.Namespace, "maxUnavailable: 0", sel))
					out = append(out, f)
					continue
				}
				text := "Run two replicas and add a PodDisruptionBudget that keeps one available. A PodDisruptionBudget " +
					"alone on a single replica (minAvailable: 1) would block drains instead: scale first."
				scale := fmt.Sprintf("kubectl scale deployment %s%s --replicas=2 && ", shell.Quote(d.Name), nsArg(d.Namespace))
				// A hand scale is undone by whatever owns the replicas: the
				// autoscaler's minimum, or the manifest a GitOps controller
				// applies, is where the second replica must be asked for.
				if h := hpaFor(s.HPAs, d.Namespace, "Deployment", d.Name); h != "" {
					text += " HorizontalPodAutoscaler " + h + " sets the replicas: raise its minReplicas to 2 (a hand scale would be undone), then apply the budget."
					scale = fmt.Sprintf("kubectl patch hpa %s%s --type merge -p '{\"spec\":{\"minReplicas\":2}}' && ", shell.Quote(h), nsArg(d.Namespace))
				} else if m, ok := replicasManagedElsewhere(in.Index, d.Namespace, "Deployment/"+d.Name); ok {
					text += " " + m + " manages its replicas: set replicas: 2 in its source (a hand scale would be undone at the next sync), then apply the budget."
					scale = ""
				}
				f.Remediation = objectFix(c.id, text, pdb, pdbManifest(d.Name, d.Namespace, "maxUnavailable: 1", sel))
				f.Remediation.Command = scale + f.Remediation.Command
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
		fmt.Fprintf(&b, "%s%s: %s\n", indent, yamlString(k), yamlString(m[k]))
	}
	return b.String()
}

func pdbManifest(name, ns, budget, selector string) string {
	return fmt.Sprintf(`apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: %s
  namespace: %s
spec:
  %s
  selector:
    matchLabels:
%s`, yamlString(name), yamlString(ns), budget, selector)
}

// exclusiveClaims names the claims a pod template mounts that only one
// node (ReadWriteOnce) or one pod (ReadWriteOncePod) can use at a time,
// with their access mode. Claims the snapshot does not hold are left out:
// their mode is unknown.
func exclusiveClaims(in *audit.Input, ns string, spec *corev1.PodSpec) []string {
	var out []string
	for _, v := range spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		for i := range in.Index.S.PVCs {
			pvc := &in.Index.S.PVCs[i]
			if pvc.Namespace != ns || pvc.Name != v.PersistentVolumeClaim.ClaimName {
				continue
			}
			if mode, ok := exclusiveMode(pvc.Spec.AccessModes); ok {
				out = append(out, fmt.Sprintf("PersistentVolumeClaim %s (%s)", pvc.Name, mode))
			}
		}
	}
	return out
}

// exclusiveMode reports the access mode that keeps a claim to one node or
// pod: only when no mode shares it more widely.
func exclusiveMode(modes []corev1.PersistentVolumeAccessMode) (corev1.PersistentVolumeAccessMode, bool) {
	var excl corev1.PersistentVolumeAccessMode
	for _, m := range modes {
		switch m {
		case corev1.ReadWriteMany, corev1.ReadOnlyMany:
			return "", false
		case corev1.ReadWriteOncePod:
			excl = m
		case corev1.ReadWriteOnce:
			if excl == "" {
				excl = m
			}
		}
	}
	return excl, excl != ""
}

// hpaFor names the HorizontalPodAutoscaler of ns that scales kind/name,
// or "".
func hpaFor(hpas []autoscalingv2.HorizontalPodAutoscaler, ns, kind, name string) string {
	for _, h := range hpas {
		if h.Namespace == ns && h.Spec.ScaleTargetRef.Kind == kind && h.Spec.ScaleTargetRef.Name == name {
			return h.Name
		}
	}
	return ""
}
