package checks

import (
	"fmt"
	"strings"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func namespaceMissingLabels() audit.Check {
	return ruleCheck{
		id:        "namespace-missing-labels",
		reads:     readsOf(kNamespaces),
		manifests: audit.RunsOnManifests(),
		category:  audit.Governance,
		severity:  audit.Warning,
		description: "A namespace without one of the labels the audit config requires (`audit.requiredNamespaceLabels`, " +
			"for example [environment, team]). Cost allocation, policies and network isolation select namespaces by these " +
			"labels; an unlabelled namespace falls outside all of them. Silent unless labels are required. System " +
			"namespaces are skipped.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			if in.Config == nil || len(in.Config.RequiredNamespaceLabels) == 0 {
				return nil
			}
			required := in.Config.RequiredNamespaceLabels
			var out []audit.Finding
			for _, ns := range in.Index.S.Namespaces {
				if snapshot.IsSystemNamespace(ns.Name) {
					continue
				}
				var missing, empty []string
				for _, l := range required {
					v, ok := ns.Labels[l]
					switch {
					case !ok:
						missing = append(missing, l)
					case strings.TrimSpace(v) == "":
						empty = append(empty, l)
					}
				}
				if len(missing)+len(empty) == 0 {
					continue
				}
				all := append(append([]string{}, missing...), empty...)
				f := c.finding(ref("Namespace", "", ns.Name),
					fmt.Sprintf("Namespace %s lacks the required %s %s", ns.Name, plural(len(all), "label"), namesList(all)))
				f.Cause = "The audit config requires " + strings.Join(required, ", ") + " on every namespace; without them the " +
					"namespace escapes what selects namespaces by label (cost reports, quotas, network policies, admission policies)."
				for _, l := range missing {
					f.Evidence = append(f.Evidence, "label "+l+" missing")
				}
				for _, l := range empty {
					f.Evidence = append(f.Evidence, "label "+l+" is empty")
				}
				var kv []string
				for _, l := range all {
					kv = append(kv, shell.Quote(l+"=<value>"))
				}
				f.Remediation = audit.Remediation{
					Text:    "Label the namespace, and set the labels in whatever creates namespaces (GitOps tree, Helm, Terraform) so they stay.",
					Command: fmt.Sprintf("kubectl label namespace %s %s --overwrite", shell.Quote(ns.Name), strings.Join(kv, " ")),
				}
				out = append(out, f)
			}
			return out
		},
	}
}
