package checks

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func roleBindingMissingRole() audit.Check {
	return ruleCheck{
		id:        "rolebinding-missing-role",
		reads:     readsOf(kRoleBindings, kClusterRoleBindings, kRoles, kClusterRoles),
		manifests: audit.RunsOnManifests(),
		category:  audit.Security,
		severity:  audit.Warning,
		description: "A RoleBinding or ClusterRoleBinding whose roleRef names a Role or ClusterRole that does not exist. " +
			"The binding grants nothing, so its subjects lack the access it was written for (a common case is a made-up " +
			"name such as production-readonly: the built-in read-only role is the ClusterRole view). roleRef is immutable: " +
			"the fix re-creates the binding.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			s := in.Index.S
			rolesListed := kindListed(s, "rbac.authorization.k8s.io", "roles")
			clusterRolesListed := kindListed(s, "rbac.authorization.k8s.io", "clusterroles")
			roles, clusterRoles := map[string]bool{}, map[string]bool{}
			for _, r := range s.Roles {
				roles[r.Namespace+"/"+r.Name] = true
			}
			for _, r := range s.ClusterRoles {
				clusterRoles[r.Name] = true
			}
			var out []audit.Finding
			check := func(kind, ns string, meta metav1.ObjectMeta, rr rbacv1.RoleRef, subjects []rbacv1.Subject) {
				if bootstrapBinding(meta) {
					return
				}
				switch rr.Kind {
				case "Role":
					if !rolesListed || roles[ns+"/"+rr.Name] {
						return
					}
				case "ClusterRole":
					if !clusterRolesListed || clusterRoles[rr.Name] {
						return
					}
				default:
					return
				}
				r := ref(kind, ns, meta.Name)
				where := "cluster-wide"
				if rr.Kind == "Role" {
					where = "in namespace " + ns
				}
				f := c.finding(r, fmt.Sprintf("%s %s refers to %s %s, which does not exist: it grants nothing",
					kind, nameOf(ns, meta.Name), rr.Kind, rr.Name))
				f.Cause = fmt.Sprintf("No %s named %s exists %s. Kubernetes accepts a binding to a missing role and grants "+
					"nothing through it until the role is created.", rr.Kind, rr.Name, where)
				builtin := builtinRoleFor(rr.Name)
				if builtin != "" {
					f.Cause += fmt.Sprintf(" %q is not a built-in role; the built-in one for this is the ClusterRole %s%s.",
						rr.Name, builtin, map[string]string{"view": " (read-only, aggregated, excludes Secrets)",
							"edit": " (read-write on most namespaced objects, no RBAC)", "admin": " (namespace admin, RBAC included)"}[builtin])
				}
				f.Evidence = append(f.Evidence, fmt.Sprintf("roleRef %s %s", rr.Kind, rr.Name))
				for _, sub := range subjects {
					f.Evidence = append(f.Evidence, "subject "+subjectText(sub, ns))
				}
				kubectlKind := "rolebinding"
				if kind == "ClusterRoleBinding" {
					kubectlKind = "clusterrolebinding"
				}
				f.Remediation = audit.Remediation{
					Text: "roleRef cannot be changed: delete the binding and create it again with an existing role " +
						"(or ship the missing role with the binding).",
				}
				if builtin != "" {
					f.Remediation.Command = fmt.Sprintf("kubectl delete %s %s%s && kubectl create %s %s%s %s%s",
						kubectlKind, shell.Quote(meta.Name), nsFlag(r), kubectlKind, shell.Quote(meta.Name), nsFlag(r),
						shell.Quote("--clusterrole="+builtin), subjectFlags(subjects, ns))
				} else {
					// A placeholder role name would be accepted as is, and
					// the binding recreated still granting nothing.
					f.Remediation.Text += " No built-in role is close to the missing one's name: choose the role, then " +
						"recreate the binding with kubectl create " + kubectlKind + " --clusterrole=<role>."
				}
				out = append(out, f)
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

// builtinRoleFor names the built-in ClusterRole a made-up role name most
// likely meant, or "".
func builtinRoleFor(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "admin"), strings.Contains(n, "owner"):
		return "admin"
	case strings.Contains(n, "read"), strings.Contains(n, "view"), strings.Contains(n, "audit"),
		strings.HasSuffix(n, "-ro"), strings.HasPrefix(n, "ro-"):
		return "view"
	case strings.Contains(n, "edit"), strings.Contains(n, "write"), strings.Contains(n, "deploy"), strings.Contains(n, "dev"):
		return "edit"
	}
	return ""
}

func subjectText(sub rbacv1.Subject, ns string) string {
	if sub.Kind == rbacv1.ServiceAccountKind {
		return "ServiceAccount " + bindingSubjectNS(sub, ns) + "/" + sub.Name
	}
	return sub.Kind + " " + sub.Name
}

func subjectFlags(subjects []rbacv1.Subject, ns string) string {
	var b strings.Builder
	for _, sub := range subjects {
		switch sub.Kind {
		case rbacv1.ServiceAccountKind:
			b.WriteString(" " + shell.Quote("--serviceaccount="+bindingSubjectNS(sub, ns)+":"+sub.Name))
		case rbacv1.UserKind:
			b.WriteString(" " + shell.Quote("--user="+sub.Name))
		case rbacv1.GroupKind:
			b.WriteString(" " + shell.Quote("--group="+sub.Name))
		}
	}
	return b.String()
}
