package checks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func workloadUnavailable() audit.Check {
	return checkSpec{
		id:        "workload-unavailable",
		reads:     readsOf(kDeployments, kStatefulSets, kPods, kEvents),
		manifests: audit.NeedsCluster("needs a cluster: available replicas are workload status"),
		category:  audit.Availability,
		severity:  audit.Error,
		description: "A Deployment or StatefulSet with fewer available replicas than it asks for. The finding gives " +
			"desired, ready and available counts and the state of each pod that is not available, so that the cause " +
			"(a crash loop, a pod no node takes, a failing readiness probe, pods the ReplicaSet cannot create) is in one " +
			"place. DaemonSets are covered by daemonset-coverage.",
		run: func(c checkSpec, ix *snapshot.Index, _ *audit.Config) []audit.Finding {
			var out []audit.Finding
			for i := range ix.S.Deployments {
				d := &ix.S.Deployments[i]
				want := replicasOrOne(d.Spec.Replicas)
				if want == 0 || d.Status.AvailableReplicas >= want {
					continue
				}
				out = append(out, unavailable(c, ix, objRef("Deployment", d), want, d.Status.ReadyReplicas, d.Status.AvailableReplicas))
			}
			for i := range ix.S.StatefulSets {
				ss := &ix.S.StatefulSets[i]
				want := replicasOrOne(ss.Spec.Replicas)
				if want == 0 || ss.Status.AvailableReplicas >= want {
					continue
				}
				out = append(out, unavailable(c, ix, objRef("StatefulSet", ss), want, ss.Status.ReadyReplicas, ss.Status.AvailableReplicas))
			}
			return out
		},
	}
}

func replicasOrOne(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func unavailable(c checkSpec, ix *snapshot.Index, r snapshot.Ref, want, ready, available int32) audit.Finding {
	f := c.newFinding(r, fmt.Sprintf("%s %s/%s has %d of %d replicas available", r.Kind, r.Namespace, r.Name, available, want))
	f.Evidence = append(f.Evidence, fmt.Sprintf("desired %d, ready %d, available %d", want, ready, available))
	var states []string
	for _, p := range ix.PodsInNamespace(r.Namespace) {
		if podTerminal(p) || workloadOf(ix, p) != r || podReady(p) {
			continue
		}
		states = append(states, fmt.Sprintf("%s: %s, %d restarts", p.Name, snapshot.PodStatusPhrase(p), restarts(p)))
	}
	sort.Strings(states)
	for _, s := range states {
		f.Evidence = append(f.Evidence, "pod "+s)
	}
	switch {
	case len(states) > 0:
		f.Cause = "Pods are not ready: " + strings.Join(states, "; ") + "."
	default:
		f.Cause = "Pods are missing: the controller could not create them."
		for _, kind := range []string{"ReplicaSet", r.Kind} {
			for i := range ix.S.Events {
				e := &ix.S.Events[i]
				if e.Reason == "FailedCreate" && e.InvolvedObject.Kind == kind && e.InvolvedObject.Namespace == r.Namespace &&
					strings.HasPrefix(e.InvolvedObject.Name, r.Name) {
					f.Cause += " " + e.InvolvedObject.Kind + " " + e.InvolvedObject.Name + ": " + e.Message + "."
					if strings.Contains(e.Message, "exceeded quota") || strings.Contains(e.Message, "failed quota") {
						f.Cause += " A compute ResourceQuota requires every container to set requests and limits; a LimitRange " +
							"with defaults fills them in."
					}
					break
				}
			}
		}
	}
	f.Remediation = audit.Remediation{
		Text:    "Fix the pods (see their pod-crashloop or pod-pending findings), then check the rollout.",
		Command: fmt.Sprintf("kubectl rollout status %s%s", shell.Quote(strings.ToLower(r.Kind)+"/"+r.Name), nsArg(r.Namespace)),
	}
	return f
}
