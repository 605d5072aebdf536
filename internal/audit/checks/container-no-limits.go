package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func containerNoLimits() audit.Check {
	return ruleCheck{
		id:        "container-no-limits",
		reads:     readsOf(templateKinds, kLimitRanges),
		manifests: audit.RunsOnManifests(),
		category:  audit.Resources,
		severity:  audit.Warning,
		description: "A workload whose containers have no memory limit (and get none from a LimitRange default). A " +
			"container without a memory limit can grow until the node runs out of memory, and the kernel then kills " +
			"whatever it picks on that node, other teams' pods included. A missing CPU limit alone is not reported: CPU is " +
			"compressible, and CPU limits throttle a container even on an idle node.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			var out []audit.Finding
			for _, o := range userTemplateOwners(in.Index) {
				_, lrLim := limitRangeDefaults(in.Index.S, o.Ref.Namespace)
				var names, evidence, cmds, unsized []string
				for _, ct := range allContainers(o.Spec) {
					if _, ok := ct.Resources.Limits[corev1.ResourceMemory]; ok || lrLim[corev1.ResourceMemory] {
						continue
					}
					names = append(names, ct.Name)
					e := "container " + ct.Name + ": no memory limit"
					if _, ok := ct.Resources.Limits[corev1.ResourceCPU]; !ok && !lrLim[corev1.ResourceCPU] {
						e += " (no CPU limit either)"
					}
					// Twice the request leaves room for peaks while still
					// bounding a leak. Without a request there is nothing to
					// scale from: a fixed limit could sit below what the
					// container uses and have it killed at once, so no
					// command is given.
					if req, ok := ct.Resources.Requests[corev1.ResourceMemory]; ok && req.Sign() > 0 {
						d := req.DeepCopy()
						d.Add(req)
						e += ", memory request " + req.String()
						cmds = append(cmds, fmt.Sprintf("kubectl set resources %s%s -c %s %s",
							kubectlName(o.Ref), nsFlag(o.Ref), shell.Quote(ct.Name), shell.Quote("--limits=memory="+d.String())))
					} else {
						e += " and no memory request"
						unsized = append(unsized, ct.Name)
					}
					evidence = append(evidence, e)
				}
				if len(names) == 0 {
					continue
				}
				f := c.finding(o.Ref, fmt.Sprintf("%s has %s without a memory limit: %s", o.Ref.String(),
					plural(len(names), "container"), namesList(names)))
				f.Cause = "Nothing bounds these containers' memory: a leak or a spike exhausts the node, and the out-of-memory " +
					"killer then picks victims among all the node's pods."
				f.Evidence = evidence
				text := "Set a memory limit above the container's peak use (twice the request is a common starting point), " +
					"or give the namespace a LimitRange with a default limit."
				if len(unsized) > 0 {
					verb := "have"
					if len(unsized) == 1 {
						verb = "has"
					}
					text += " " + namesList(unsized) + " " + verb + " no memory request to start from: measure the peak use first (kubectl top pod, or the container's " +
						"memory metrics over a busy day), since a limit below it gets the container killed on every peak."
				}
				f.Remediation = audit.Remediation{Text: text, Command: strings.Join(cmds, "\n")}
				f.Remediation = o.inPlace(f.Remediation)
				out = append(out, f)
			}
			return out
		},
	}
}
