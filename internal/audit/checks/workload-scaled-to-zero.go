package checks

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

func workloadScaledToZero() audit.Check {
	return checkSpec{
		id:        "workload-scaled-to-zero",
		reads:     readsOf(kDeployments, kStatefulSets, kServices),
		manifests: audit.NeedsCluster("needs a cluster: its evidence is who scaled the workload and when, which only the cluster records"),
		category:  audit.Availability,
		severity:  audit.Warning,
		description: "A Deployment or StatefulSet scaled to 0 replicas. It serves nothing, yet what goes with it stays " +
			"and may cost money: its Services (a LoadBalancer bills by the hour), its volumes, its configuration. Either " +
			"it is parked on purpose and should say so (or be removed with what it uses), or it was stopped to hide a " +
			"problem that is still there. The evidence says who set the replicas and when, from the object's managed " +
			"fields; when that is a GitOps controller or an autoscaler, the fix is not a hand scale, which it would undo.",
		run: func(c checkSpec, ix *snapshot.Index, _ *audit.Config) []audit.Finding {
			var out []audit.Finding
			add := func(kind, ns, name string, tpl map[string]string, annots map[string]string, uses []snapshot.Ref,
				managed []metav1.ManagedFieldsEntry) {
				r := snapshot.Ref{Kind: kind, Namespace: ns, Name: name}
				f := c.newFinding(r, fmt.Sprintf("%s %s/%s is scaled to 0 replicas", kind, ns, name))
				f.Cause = "Someone set its replicas to 0; nothing in the cluster runs it."
				who := snapshot.ReplicasManager(managed)
				var owner replicasOwnerKind
				if len(who) == 1 {
					e := who[0]
					owner = classifyManager(e.Manager)
					line := "spec.replicas last set by " + e.Manager
					if how := managedOperation(e); how != "" {
						line += " (" + how + ")"
					}
					if e.Time != nil {
						line += " at " + e.Time.UTC().Format("2006-01-02T15:04:05Z") + ago(e.Time.Time, snapshotTime(ix.S))
					}
					f.Evidence = append(f.Evidence, line)
					f.Cause = e.Manager + " set its replicas to 0; nothing in the cluster runs it."
				}
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
				parked := "If it is parked on purpose, record why with the purser.dev/reason annotation (and purser.dev/ignore: " +
					"workload-scaled-to-zero); if it is abandoned, delete it with its Services, volumes and configuration."
				switch owner {
				case ownerGitOps:
					// A hand scale would be reverted at the next sync, or
					// show the application as out of sync.
					f.Remediation = audit.Remediation{Text: "Scale it back up in its source, not by hand: " + who[0].Manager + " manages " +
						"its replicas and would put 0 back at its next sync. " + parked}
				case ownerAutoscaler:
					f.Remediation = audit.Remediation{Text: "Look at the autoscaler before scaling it by hand: " + who[0].Manager + " set " +
						"the replicas to 0, probably on purpose (no load), and will set them again. Change its minimum replicas if " +
						"it must keep running. " + parked}
				default:
					f.Remediation = scaleFix(c.id, "Scale it back up if it should run. "+parked, r, 1)
				}
				out = append(out, f)
			}
			for i := range ix.S.Deployments {
				d := &ix.S.Deployments[i]
				if d.Spec.Replicas != nil && *d.Spec.Replicas == 0 {
					add("Deployment", d.Namespace, d.Name, d.Spec.Template.Labels, d.Annotations,
						snapshot.PodSpecReferences(d.Namespace, &d.Spec.Template.Spec), d.ManagedFields)
				}
			}
			for i := range ix.S.StatefulSets {
				ss := &ix.S.StatefulSets[i]
				if ss.Spec.Replicas != nil && *ss.Spec.Replicas == 0 {
					add("StatefulSet", ss.Namespace, ss.Name, ss.Spec.Template.Labels, ss.Annotations,
						snapshot.PodSpecReferences(ss.Namespace, &ss.Spec.Template.Spec), ss.ManagedFields)
				}
			}
			return out
		},
	}
}

type replicasOwnerKind int

const (
	ownerPerson replicasOwnerKind = iota
	ownerGitOps
	ownerAutoscaler
)

// classifyManager tells the field managers that reconcile replicas from
// elsewhere (a Git repository, a release, load) from people and scripts.
func classifyManager(m string) replicasOwnerKind {
	l := strings.ToLower(m)
	switch {
	case strings.Contains(l, "argocd"), strings.Contains(l, "kustomize-controller"), strings.Contains(l, "helm-controller"),
		strings.Contains(l, "flux"), l == "helm":
		return ownerGitOps
	case strings.Contains(l, "keda"), strings.Contains(l, "autoscaler"):
		return ownerAutoscaler
	}
	return ownerPerson
}

// managedOperation says how a manager wrote the field: kubectl scale is an
// Update of the scale subresource, server-side apply an Apply.
func managedOperation(e metav1.ManagedFieldsEntry) string {
	op := string(e.Operation)
	if e.Subresource != "" {
		if op == "" {
			return "the " + e.Subresource + " subresource"
		}
		return op + " of the " + e.Subresource + " subresource"
	}
	return op
}

// scaleFix is a remediation that sets a workload's replicas as a merge
// patch of spec.replicas (what kubectl scale changes), so that purser fix
// can carry it out under the resourceVersion it read and its rollback can
// restore the replicas from the backup.
func scaleFix(checkID, text string, workload snapshot.Ref, replicas int32) audit.Remediation {
	return patchFix(checkID, fmt.Sprintf("%s The patch sets spec.replicas to %d, as kubectl scale --replicas=%d would; `purser fix` applies it.",
		text, replicas, replicas), workload, "merge", map[string]any{"spec": map[string]any{"replicas": replicas}})
}
