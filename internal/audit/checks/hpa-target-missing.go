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
			var ws scalables
			for i := range s.HPAs {
				h := &s.HPAs[i]
				t := h.Spec.ScaleTargetRef
				if ws == nil {
					ws = scalablesOf(s)
				}
				exists, known := ws.exists(s, h.Namespace, t)
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
				if cand := ws.named(h.Namespace, t.Name); cand.Kind != "" {
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

// scalables are the Deployments, StatefulSets and ReplicaSets of a
// snapshot by reference, gathered once: looking each autoscaler's target up
// by scanning every workload made the check quadratic.
type scalables map[snapshot.Ref]bool

func scalablesOf(s *snapshot.Snapshot) scalables {
	ws := make(scalables, len(s.Deployments)+len(s.StatefulSets)+len(s.ReplicaSets))
	for i := range s.Deployments {
		ws[ref("Deployment", s.Deployments[i].Namespace, s.Deployments[i].Name)] = true
	}
	for i := range s.StatefulSets {
		ws[ref("StatefulSet", s.StatefulSets[i].Namespace, s.StatefulSets[i].Name)] = true
	}
	for i := range s.ReplicaSets {
		ws[ref("ReplicaSet", s.ReplicaSets[i].Namespace, s.ReplicaSets[i].Name)] = true
	}
	return ws
}

// exists tells whether the target exists; known is false for kinds the
// snapshot does not model or did not list.
func (ws scalables) exists(s *snapshot.Snapshot, ns string, t autoscalingv2.CrossVersionObjectReference) (exists, known bool) {
	resource := map[string]string{"Deployment": "deployments", "StatefulSet": "statefulsets", "ReplicaSet": "replicasets"}[t.Kind]
	if resource == "" {
		return false, false
	}
	if ws[ref(t.Kind, ns, t.Name)] {
		return true, true
	}
	return false, kindListed(s, "apps", resource)
}

// named finds a scalable workload of ns with the given name, of any kind:
// an autoscaler whose kind is wrong (Deployment for a StatefulSet).
func (ws scalables) named(ns, name string) snapshot.Ref {
	for _, kind := range []string{"Deployment", "StatefulSet"} {
		if r := ref(kind, ns, name); ws[r] {
			return r
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
