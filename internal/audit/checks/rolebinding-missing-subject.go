package checks

import (
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func roleBindingMissingSubject() audit.Check {
	return ruleCheck{
		id:        "rolebinding-missing-subject",
		reads:     readsOf(kRoleBindings, kClusterRoleBindings, kServiceAccounts, kNamespaces),
		manifests: audit.RunsOnManifests(),
		category:  audit.Security,
		severity:  audit.Warning,
		description: "A RoleBinding or ClusterRoleBinding that grants a role to a ServiceAccount that does not exist. The " +
			"grant is dormant: whoever later creates a ServiceAccount of that name (in a namespace they control) receives " +
			"the role. Bootstrap bindings (labelled kubernetes.io/bootstrapping=rbac-defaults or named system:*) are " +
			"skipped: they name control-plane identities.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			s := in.Index.S
			if !kindListed(s, "", "serviceaccounts") {
				return nil
			}
			exists := map[string]bool{}
			for _, sa := range s.ServiceAccounts {
				exists[sa.Namespace+"/"+sa.Name] = true
			}
			var out []audit.Finding
			check := func(kind, ns string, meta metav1.ObjectMeta, roleRef rbacv1.RoleRef, subjects []rbacv1.Subject) {
				if bootstrapBinding(meta) {
					return
				}
				r := ref(kind, ns, meta.Name)
				// One patch removes every missing subject of the binding,
				// from the last to the first so that no removal shifts the
				// position of another; each findings of the binding applies
				// the same file.
				var ops []map[string]any
				for i := len(subjects) - 1; i >= 0; i-- {
					sub := subjects[i]
					if sub.Kind == rbacv1.ServiceAccountKind && !exists[bindingSubjectNS(sub, ns)+"/"+sub.Name] {
						ops = append(ops, subjectRemoval(fmt.Sprintf("/subjects/%d", i), sub)...)
					}
				}
				for i, sub := range subjects {
					if sub.Kind != rbacv1.ServiceAccountKind {
						continue
					}
					sns := bindingSubjectNS(sub, ns)
					if exists[sns+"/"+sub.Name] {
						continue
					}
					f := c.finding(r, fmt.Sprintf("%s %s grants %s %s to ServiceAccount %s/%s, which does not exist",
						kind, nameOf(ns, meta.Name), roleRef.Kind, roleRef.Name, sns, sub.Name))
					f.Cause = "The ServiceAccount was deleted or renamed, or the subject names the wrong namespace; the grant " +
						"waits for anyone who creates a ServiceAccount with that name."
					if in.Index.Namespace(sns) == nil {
						f.Cause = "Namespace " + sns + " does not exist either: whoever creates it and a ServiceAccount " + sub.Name +
							" in it receives the role."
					}
					f.Evidence = append(f.Evidence, fmt.Sprintf("subjects[%d]: ServiceAccount %s/%s", i, sns, sub.Name),
						"no ServiceAccount "+sub.Name+" in namespace "+sns)
					kubectlKind := "rolebinding"
					if kind == "ClusterRoleBinding" {
						kubectlKind = "clusterrolebinding"
					}
					// The patch tests that each position still holds the
					// subject it removes: once the binding changed, a position
					// may name a live subject, and the patch must fail rather
					// than revoke it.
					f.Remediation = patchFix(c.id, "Remove the subject if the ServiceAccount is gone for good; if the workload was renamed, name its "+
						"current ServiceAccount instead. The patch removes every missing subject of the binding by position, "+
						"and first checks that each position still holds the subject: if the binding changed since the audit, it "+
						"fails and changes nothing.", r, "json", ops)
					if len(subjects) == 1 {
						f.Remediation.Text = "The ServiceAccount was the binding's only subject: delete the binding if it is gone for good, " +
							"or create the ServiceAccount if a workload still expects it."
						f.Remediation.Command = fmt.Sprintf("kubectl delete %s %s%s", kubectlKind, shell.Quote(meta.Name), nsFlag(r))
					}
					out = append(out, f)
				}
			}
			for _, b := range s.RoleBindings {
				check("RoleBinding", b.Namespace, b.ObjectMeta, b.RoleRef, b.Subjects)
			}
			for _, b := range s.ClusterRoleBindings {
				check("ClusterRoleBinding", "", b.ObjectMeta, b.RoleRef, b.Subjects)
			}
			return out
		},
	}
}

func nameOf(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// subjectRemoval removes the subject at path, after testing that it is
// still there.
func subjectRemoval(at string, sub rbacv1.Subject) []map[string]any {
	ops := []map[string]any{
		{"op": "test", "path": at + "/kind", "value": sub.Kind},
		{"op": "test", "path": at + "/name", "value": sub.Name},
	}
	if sub.Namespace != "" {
		ops = append(ops, map[string]any{"op": "test", "path": at + "/namespace", "value": sub.Namespace})
	}
	return append(ops, map[string]any{"op": "remove", "path": at})
}
