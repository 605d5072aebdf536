package checks

import (
	"fmt"
	"strings"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func containerNoRequests() audit.Check {
	return ruleCheck{
		id:        "container-no-requests",
		reads:     readsOf(templateKinds, kLimitRanges),
		manifests: audit.RunsOnManifests(),
		category:  audit.Resources,
		severity:  audit.Warning,
		description: "A workload whose containers set no CPU or memory request (and get none from a limit or a LimitRange " +
			"default). The scheduler places such pods as if they used nothing, so nodes get overcommitted; the pods are the " +
			"first evicted under memory pressure (BestEffort QoS); and cost allocation, which charges by request, cannot " +
			"attribute their share. Reported once per workload, naming the containers.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			var out []audit.Finding
			for _, o := range userTemplateOwners(in.Index) {
				lrReq, _ := limitRangeDefaults(in.Index.S, o.Ref.Namespace)
				var names, evidence []string
				for _, ct := range allContainers(o.Spec) {
					miss := missingRequests(&ct, lrReq)
					if len(miss) == 0 {
						continue
					}
					var ms []string
					for _, m := range miss {
						ms = append(ms, string(m))
					}
					names = append(names, ct.Name)
					evidence = append(evidence, fmt.Sprintf("container %s: no %s request", ct.Name, strings.Join(ms, " or ")))
				}
				if len(names) == 0 {
					continue
				}
				f := c.finding(o.Ref, fmt.Sprintf("%s has %s without resource requests: %s", o.Ref.String(),
					plural(len(names), "container"), namesList(names)))
				f.Cause = "Without requests the scheduler reserves nothing for these containers: the node they land on can be " +
					"overcommitted, they are evicted first under memory pressure, and their cost cannot be attributed."
				f.Evidence = evidence
				var cmds []string
				for _, n := range names {
					cmds = append(cmds, fmt.Sprintf("kubectl set resources %s%s -c %s --requests=cpu=100m,memory=128Mi",
						kubectlName(o.Ref), nsFlag(o.Ref), shell.Quote(n)))
				}
				f.Remediation = audit.Remediation{
					Text: "Set requests to what the containers use at steady state (kubectl top pod, or the p95 of " +
						"container_cpu_usage_seconds_total and container_memory_working_set_bytes); the values below are a starting point.",
					Command: strings.Join(cmds, "\n"),
				}
				f.Remediation = o.inPlace(f.Remediation)
				out = append(out, f)
			}
			return out
		},
	}
}
