package checks

import (
	"fmt"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func namespaceEmpty() audit.Check {
	return checkSpec{
		id:        "namespace-empty",
		reads:     everyNamespacedKind(),
		manifests: audit.NeedsCluster("needs a cluster: manifests are part of a namespace, so a namespace with nothing in the set may hold objects elsewhere"),
		category:  audit.Hygiene,
		severity:  audit.Info,
		description: "A namespace that holds nothing but what Kubernetes puts in every namespace (the default " +
			"ServiceAccount and its token, the kube-root-ca.crt ConfigMap, events), in every namespaced kind the " +
			"snapshot could list, custom resources included. A namespace holding only a CronJob, a Role or a custom " +
			"resource is not empty. When some kind could not be listed the answer is unknown and no finding is made. " +
			"An empty namespace costs nothing by itself (providers bill nodes, volumes and load balancers, not " +
			"namespaces): deleting it is hygiene, not savings. Kubernetes' own namespaces are never reported.",
		run: func(c checkSpec, ix *snapshot.Index, _ *audit.Config) []audit.Finding {
			var out []audit.Finding
			for i := range ix.S.Namespaces {
				ns := &ix.S.Namespaces[i]
				if snapshot.IsSystemNamespace(ns.Name) || ns.Status.Phase == "Terminating" {
					continue
				}
				if ix.NamespaceContents(ns.Name).State() != snapshot.Empty {
					continue
				}
				f := c.newFinding(objRef("Namespace", ns), fmt.Sprintf("Namespace %s is empty", ns.Name))
				f.Cause = "Every namespaced kind was listed and the namespace holds none of them beyond the defaults " +
					"Kubernetes creates: whatever ran there was removed or never deployed."
				f.Evidence = append(f.Evidence, fmt.Sprintf("%d namespaced kinds listed, none with an object in %s",
					listedNamespacedKinds(ix.S), ns.Name))
				if age := since(ns.CreationTimestamp.Time, snapshotTime(ix.S)); age != "" {
					f.Evidence = append(f.Evidence, "created "+age+" before the snapshot")
				}
				f.Evidence = append(f.Evidence, "cost: none by itself; deleting it saves no money")
				f.Remediation = audit.Remediation{
					Text: "Delete it once nobody plans to deploy there (check CI pipelines and GitOps repositories that target it), " +
						"or mark it kept with the annotation purser.dev/ignore: namespace-empty.",
					Command: "kubectl delete namespace " + shell.Quote(ns.Name),
				}
				out = append(out, f)
			}
			return out
		},
	}
}

func listedNamespacedKinds(s *snapshot.Snapshot) int {
	n := 0
	for _, k := range s.Meta.Kinds {
		if k.Namespaced && k.Listed() {
			n++
		}
	}
	return n
}
