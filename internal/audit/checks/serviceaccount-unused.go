package checks

import (
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func serviceAccountUnused() audit.Check {
	return ruleCheck{
		id:        "serviceaccount-unused",
		reads:     readsOf(kServiceAccounts, kRoleBindings, kClusterRoleBindings, templateKinds),
		manifests: audit.NeedsCluster("needs a cluster: the workloads that run as a ServiceAccount may be outside the manifests"),
		category:  audit.Hygiene,
		severity:  audit.Info,
		description: "A ServiceAccount that no pod template runs as and that no RoleBinding or ClusterRoleBinding names " +
			"as a subject. A ServiceAccount named in a binding is in use even without pods: CI pipelines and external " +
			"tools authenticate with its tokens. The default ServiceAccount, owned ServiceAccounts and the platform " +
			"namespaces are skipped.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			ix := in.Index
			bound := boundServiceAccounts(ix.S)
			var out []audit.Finding
			for i := range ix.S.ServiceAccounts {
				sa := &ix.S.ServiceAccounts[i]
				if sa.Name == "default" || platformNamespace(sa.Namespace) || len(sa.OwnerReferences) > 0 {
					continue
				}
				r := ref("ServiceAccount", sa.Namespace, sa.Name)
				if len(ix.UsersOf(r)) > 0 || len(bound[r]) > 0 {
					continue
				}
				f := c.finding(r, fmt.Sprintf("ServiceAccount %s/%s is used by no workload and bound to no role", sa.Namespace, sa.Name))
				f.Cause = "No pod template in namespace " + sa.Namespace + " sets serviceAccountName: " + sa.Name +
					", and no RoleBinding or ClusterRoleBinding names it as a subject, so it can neither run pods nor do anything with its tokens."
				f.Evidence = append(f.Evidence, "no pod template uses it", "no RoleBinding or ClusterRoleBinding names it")
				f.Remediation = audit.Remediation{
					Text:    "Check that no external system authenticates with a token of this ServiceAccount, then delete it.",
					Command: fmt.Sprintf("kubectl delete serviceaccount %s%s", shell.Quote(sa.Name), nsArg(sa.Namespace)),
				}
				out = append(out, f)
			}
			return out
		},
	}
}

// boundServiceAccounts maps each ServiceAccount named as a subject to the
// bindings naming it.
func boundServiceAccounts(s *snapshot.Snapshot) map[snapshot.Ref][]string {
	out := map[snapshot.Ref][]string{}
	add := func(bindingNS, binding string, subs []rbacv1.Subject) {
		for _, sub := range subs {
			if sub.Kind != rbacv1.ServiceAccountKind {
				continue
			}
			ns := sub.Namespace
			if ns == "" {
				ns = bindingNS
			}
			r := ref("ServiceAccount", ns, sub.Name)
			out[r] = append(out[r], binding)
		}
	}
	for _, b := range s.RoleBindings {
		add(b.Namespace, "RoleBinding/"+b.Namespace+"/"+b.Name, b.Subjects)
	}
	for _, b := range s.ClusterRoleBindings {
		add("", "ClusterRoleBinding/"+b.Name, b.Subjects)
	}
	return out
}
