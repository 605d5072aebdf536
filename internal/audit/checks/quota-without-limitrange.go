package checks

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
)

func quotaWithoutLimitRange() audit.Check {
	return ruleCheck{
		id:        "quota-without-limitrange",
		reads:     readsOf(kResourceQuotas, kLimitRanges, kEvents),
		manifests: audit.RunsOnManifests(),
		category:  audit.Resources,
		severity:  audit.Warning,
		description: "A namespace with a ResourceQuota on compute requests or limits (requests.cpu, limits.memory, cpu, " +
			"memory...) and no LimitRange giving containers defaults for them. Once such a quota exists, every pod must " +
			"set those values; a Deployment without them is still accepted, but its ReplicaSet cannot create pods and " +
			"reports FailedCreate events (\"failed quota: <name>: must specify ...\"). Those events, when the snapshot has " +
			"them, are shown as evidence and raise the finding to an error.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			s := in.Index.S
			var out []audit.Finding
			for i := range s.ResourceQuotas {
				q := &s.ResourceQuotas[i]
				var needReq, needLim []corev1.ResourceName
				for r := range q.Spec.Hard {
					switch r {
					case corev1.ResourceRequestsCPU, corev1.ResourceCPU:
						needReq = append(needReq, corev1.ResourceCPU)
					case corev1.ResourceRequestsMemory, corev1.ResourceMemory:
						needReq = append(needReq, corev1.ResourceMemory)
					case corev1.ResourceLimitsCPU:
						needLim = append(needLim, corev1.ResourceCPU)
					case corev1.ResourceLimitsMemory:
						needLim = append(needLim, corev1.ResourceMemory)
					}
				}
				lrReq, lrLim := limitRangeDefaults(s, q.Namespace)
				var uncovered []string
				for _, r := range needReq {
					if !lrReq[r] {
						uncovered = append(uncovered, "requests."+string(r))
					}
				}
				for _, r := range needLim {
					if !lrLim[r] {
						uncovered = append(uncovered, "limits."+string(r))
					}
				}
				if len(uncovered) == 0 {
					continue
				}
				sort.Strings(uncovered)
				uncovered = dedupStrings(uncovered)
				f := c.finding(ref("ResourceQuota", q.Namespace, q.Name),
					fmt.Sprintf("ResourceQuota %s/%s requires %s on every pod, and no LimitRange gives defaults: pods without them are rejected",
						q.Namespace, q.Name, namesList(uncovered)))
				f.Cause = "With a compute quota, the quota admission plugin rejects any pod that does not set the quota's resources; " +
					"the Deployment is accepted, but its ReplicaSet fails to create pods (FailedCreate: failed quota: " + q.Name + ": must specify " +
					strings.Join(uncovered, ",") + "). A LimitRange with defaults fills them in before the quota is checked."
				f.Evidence = append(f.Evidence, "quota hard: "+quotaHard(q), "no LimitRange with defaults for "+strings.Join(uncovered, ", ")+" in "+q.Namespace)
				for _, e := range s.Events {
					if e.Namespace == q.Namespace && e.Reason == "FailedCreate" && strings.Contains(e.Message, "failed quota: "+q.Name) {
						f.Severity = audit.Error
						f.Evidence = append(f.Evidence, fmt.Sprintf("event FailedCreate on %s/%s: %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message))
					}
				}
				lr := limitRangeName(s.LimitRanges, q.Namespace)
				f.Remediation = objectFix(c.id, "Add a LimitRange with defaults for what the quota requires and nothing else (adjust the values to the "+
					"namespace's workloads), or set requests and limits in every pod template. It gives no default limit the quota "+
					"does not require: a default memory limit would apply to every container without one and could have it "+
					"killed for using more than before. Pods already rejected are retried by their controllers once the LimitRange exists.",
					ref("LimitRange", q.Namespace, lr), defaultsLimitRange(lr, q.Namespace, uncovered))
				out = append(out, f)
			}
			return out
		},
	}
}

func quotaHard(q *corev1.ResourceQuota) string {
	var parts []string
	for r, v := range q.Spec.Hard {
		parts = append(parts, string(r)+"="+v.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func dedupStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// limitRangeName is a name for a new LimitRange of ns that no existing
// one has: applying the fix must add defaults, never rewrite a LimitRange
// someone else wrote.
func limitRangeName(existing []corev1.LimitRange, ns string) string {
	taken := map[string]bool{}
	for _, lr := range existing {
		if lr.Namespace == ns {
			taken[lr.Name] = true
		}
	}
	name := "defaults"
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("defaults-%d", i)
	}
	return name
}

// defaultsLimitRange gives containers defaults for the quota's uncovered
// resources ("requests.cpu", "limits.memory").
func defaultsLimitRange(name, ns string, uncovered []string) string {
	values := map[string]string{"requests.cpu": "100m", "requests.memory": "128Mi", "limits.cpu": "500m", "limits.memory": "512Mi"}
	var req, lim strings.Builder
	for _, u := range uncovered {
		kind, r, _ := strings.Cut(u, ".")
		if kind == "requests" {
			fmt.Fprintf(&req, "      %s: %s\n", r, values[u])
		} else {
			fmt.Fprintf(&lim, "      %s: %s\n", r, values[u])
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  limits:\n  - type: Container\n",
		yamlString(name), yamlString(ns))
	if req.Len() > 0 {
		b.WriteString("    defaultRequest:\n" + req.String())
	}
	if lim.Len() > 0 {
		b.WriteString("    default:\n" + lim.String())
	}
	return b.String()
}
