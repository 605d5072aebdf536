package checks

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func hpaTargetMissing() audit.Check {
	return ruleCheck{
		id:        "hpa-target-missing",
		reads:     readsOf(kHPAs, kDeployments, kReplicaSets, kStatefulSets, kEvents),
		manifests: audit.RunsOnManifests(),
		category:  audit.Resources,
		severity:  audit.Warning,
		description: "A HorizontalPodAutoscaler whose scaleTargetRef names a Deployment, StatefulSet or ReplicaSet " +
			"that does not exist in its namespace. The autoscaler scales nothing and reports FailedGetScale; it usually " +
			"outlived a renamed or deleted workload.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			s := in.Index.S
			var out []audit.Finding
			for i := range s.HPAs {
				h := &s.HPAs[i]
				t := h.Spec.ScaleTargetRef
				exists, known := scaleTargetExists(s, h.Namespace, t)
				if !known || exists {
					continue
				}
				f := c.finding(ref("HorizontalPodAutoscaler", h.Namespace, h.Name),
					fmt.Sprintf("HorizontalPodAutoscaler %s/%s targets %s %s, which does not exist", h.Namespace, h.Name, t.Kind, t.Name))
				f.Cause = fmt.Sprintf("No %s named %s exists in namespace %s: the autoscaler cannot read or set a scale, so it does nothing.",
					t.Kind, t.Name, h.Namespace)
				f.Evidence = append(f.Evidence, fmt.Sprintf("scaleTargetRef %s/%s %s", t.APIVersion, t.Kind, t.Name))
				if cond := hpaCondition(h, autoscalingv2.AbleToScale); cond != nil && cond.Status == corev1.ConditionFalse {
					f.Evidence = append(f.Evidence, fmt.Sprintf("condition AbleToScale=False (%s): %s", cond.Reason, cond.Message))
				}
				f.Evidence = append(f.Evidence, hpaEvents(s, h)...)
				f.Remediation = audit.Remediation{
					Text:    "Point scaleTargetRef to the workload's current name, or delete the autoscaler if the workload is gone.",
					Command: fmt.Sprintf("kubectl delete hpa %s%s", shell.Quote(h.Name), nsArg(h.Namespace)),
				}
				if cand := workloadNamed(s, h.Namespace, t.Name); cand.Kind != "" {
					f.Remediation.Text = fmt.Sprintf("%s %s exists under that name: point scaleTargetRef to it.", cand.Kind, cand.Name)
					f.Remediation.Command = fmt.Sprintf("kubectl patch hpa %s%s --type=merge -p %s", shell.Quote(h.Name), nsArg(h.Namespace),
						mergePatch(map[string]any{"spec": map[string]any{"scaleTargetRef": map[string]any{
							"apiVersion": "apps/v1", "kind": cand.Kind, "name": cand.Name}}}))
				}
				out = append(out, f)
			}
			return out
		},
	}
}

// scaleTargetExists tells whether the target exists; known is false for
// kinds the snapshot does not model or did not list.
func scaleTargetExists(s *snapshot.Snapshot, ns string, t autoscalingv2.CrossVersionObjectReference) (exists, known bool) {
	switch t.Kind {
	case "Deployment":
		for _, d := range s.Deployments {
			if d.Namespace == ns && d.Name == t.Name {
				return true, true
			}
		}
		return false, kindListed(s, "apps", "deployments")
	case "StatefulSet":
		for _, d := range s.StatefulSets {
			if d.Namespace == ns && d.Name == t.Name {
				return true, true
			}
		}
		return false, kindListed(s, "apps", "statefulsets")
	case "ReplicaSet":
		for _, d := range s.ReplicaSets {
			if d.Namespace == ns && d.Name == t.Name {
				return true, true
			}
		}
		return false, kindListed(s, "apps", "replicasets")
	}
	return false, false
}

// workloadNamed finds a scalable workload of ns with the given name, of any
// kind: an autoscaler whose kind is wrong (Deployment for a StatefulSet).
func workloadNamed(s *snapshot.Snapshot, ns, name string) snapshot.Ref {
	for _, d := range s.Deployments {
		if d.Namespace == ns && d.Name == name {
			return ref("Deployment", ns, name)
		}
	}
	for _, d := range s.StatefulSets {
		if d.Namespace == ns && d.Name == name {
			return ref("StatefulSet", ns, name)
		}
	}
	return snapshot.Ref{}
}

func hpaCondition(h *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType) *autoscalingv2.HorizontalPodAutoscalerCondition {
	for i := range h.Status.Conditions {
		if h.Status.Conditions[i].Type == t {
			return &h.Status.Conditions[i]
		}
	}
	return nil
}

// hpaEvents lists the warning events about an autoscaler.
func hpaEvents(s *snapshot.Snapshot, h *autoscalingv2.HorizontalPodAutoscaler) []string {
	var out []string
	for _, e := range s.Events {
		if e.Namespace == h.Namespace && e.InvolvedObject.Kind == "HorizontalPodAutoscaler" && e.InvolvedObject.Name == h.Name {
			out = append(out, fmt.Sprintf("event %s: %s", e.Reason, e.Message))
		}
	}
	return out
}
