package checks

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func workloadScaledToZero() audit.Check {
	return checkSpec{
		id:       "workload-scaled-to-zero",
		reads:    readsOf(kDeployments, kStatefulSets, kServices),
		category: audit.Availability,
		severity: audit.Warning,
		description: "A Deployment or StatefulSet scaled to 0 replicas. It serves nothing, yet what goes with it stays " +
			"and may cost money: its Services (a LoadBalancer bills by the hour), its volumes, its configuration. Either " +
			"it is parked on purpose and should say so (or be removed with what it uses), or it was stopped to hide a " +
			"problem that is still there.",
		run: func(c checkSpec, ix *snapshot.Index, _ *audit.Config) []audit.Finding {
			var out []audit.Finding
			add := func(kind, ns, name string, tpl map[string]string, annots map[string]string, uses []snapshot.Ref) {
				r := snapshot.Ref{Kind: kind, Namespace: ns, Name: name}
				f := c.newFinding(r, fmt.Sprintf("%s %s/%s is scaled to 0 replicas", kind, ns, name))
				f.Cause = "Someone set its replicas to 0; nothing in the cluster runs it."
				if why := annots["purser.dev/reason"]; why != "" {
					f.Cause += " Its purser.dev/reason annotation says: " + why + "."
				}
				var svcs []string
				for i := range ix.S.Services {
					s := &ix.S.Services[i]
					if s.Namespace == ns && len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(tpl)) {
						svcs = append(svcs, fmt.Sprintf("%s (%s)", s.Name, s.Spec.Type))
					}
				}
				sort.Strings(svcs)
				if len(svcs) > 0 {
					f.Evidence = append(f.Evidence, "Services still pointing at it: "+strings.Join(svcs, ", "))
				}
				for _, u := range uses {
					if u.Kind == "PersistentVolumeClaim" {
						f.Evidence = append(f.Evidence, "keeps volume claim "+u.Name)
					}
				}
				f.Remediation = audit.Remediation{
					Text: "Scale it back up if it should run. If it is parked on purpose, record why with the purser.dev/reason " +
						"annotation (and purser.dev/ignore: workload-scaled-to-zero); if it is abandoned, delete it with its " +
						"Services, volumes and configuration.",
					Command: fmt.Sprintf("kubectl scale %s --replicas=1%s", shell.Quote(strings.ToLower(kind)+"/"+name), nsArg(ns)),
				}
				out = append(out, f)
			}
			for i := range ix.S.Deployments {
				d := &ix.S.Deployments[i]
				if d.Spec.Replicas != nil && *d.Spec.Replicas == 0 {
					add("Deployment", d.Namespace, d.Name, d.Spec.Template.Labels, d.Annotations,
						snapshot.PodSpecReferences(d.Namespace, &d.Spec.Template.Spec))
				}
			}
			for i := range ix.S.StatefulSets {
				ss := &ix.S.StatefulSets[i]
				if ss.Spec.Replicas != nil && *ss.Spec.Replicas == 0 {
					add("StatefulSet", ss.Namespace, ss.Name, ss.Spec.Template.Labels, ss.Annotations,
						snapshot.PodSpecReferences(ss.Namespace, &ss.Spec.Template.Spec))
				}
			}
			return out
		},
	}
}
