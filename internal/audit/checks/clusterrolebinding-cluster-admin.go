package checks

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/purserhq/purser/internal/audit"
)

func clusterRoleBindingClusterAdmin() audit.Check {
	return ruleCheck{
		id:        "clusterrolebinding-cluster-admin",
		reads:     readsOf(kClusterRoleBindings),
		manifests: audit.RunsOnManifests(),
		category:  audit.Security,
		severity:  audit.Warning,
		description: "A ClusterRoleBinding that gives cluster-admin (every verb on every resource of every namespace) to a " +
			"user, group or ServiceAccount that is not part of Kubernetes itself. A ServiceAccount bound to cluster-admin " +
			"makes every pod running as it, and everyone who can exec into such a pod or read its token, an administrator " +
			"of the cluster. system: subjects, ServiceAccounts of kube-system and bootstrap bindings are skipped.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			var out []audit.Finding
			for _, b := range in.Index.S.ClusterRoleBindings {
				if b.RoleRef.Kind != "ClusterRole" || b.RoleRef.Name != "cluster-admin" ||
					b.Labels["kubernetes.io/bootstrapping"] == "rbac-defaults" {
					continue
				}
				var subs []string
				for _, sub := range b.Subjects {
					if strings.HasPrefix(sub.Name, "system:") ||
						(sub.Kind == rbacv1.ServiceAccountKind && platformNamespace(sub.Namespace)) {
						continue
					}
					subs = append(subs, subjectText(sub, ""))
				}
				if len(subs) == 0 {
					continue
				}
				r := ref("ClusterRoleBinding", "", b.Name)
				f := c.finding(r, fmt.Sprintf("ClusterRoleBinding %s gives cluster-admin to %s", b.Name, namesList(subs)))
				f.Cause = "cluster-admin allows every action on every object, Secrets and RBAC included: a leaked credential " +
					"of these subjects is a full cluster compromise."
				f.Evidence = append(f.Evidence, "roleRef ClusterRole cluster-admin")
				for _, s := range subs {
					f.Evidence = append(f.Evidence, "subject "+s)
				}
				// Deleting the binding first would cut a controller off from
				// everything at once, so no command deletes it: the narrower
				// grant comes first, and the deletion last, by hand.
				f.Remediation = audit.Remediation{
					Text: "Bind a narrower role: the ClusterRole admin or edit through a RoleBinding in the namespaces the " +
						"subject manages, or a ClusterRole listing only the resources it needs. For a controller, use the " +
						"ClusterRole its chart ships. Only then delete this binding: deleted first, it stops the subjects' every call, and a controller among them stops working.",
				}
				out = append(out, f)
			}
			return out
		},
	}
}
