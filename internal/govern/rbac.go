package govern

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/yamldoc"
)

// RBACConfig is govern.rbac: who gets which ClusterRole in the namespaces
// of each environment.
//
//	rbac:
//	  access:
//	  - group: developers
//	    roles: {production: view, staging: edit, development: edit}
//	  - user: team-lead
//	    roles: {production: view}
//	  clusterRoles:
//	  - name: log-reader
//	    rules: [{apiGroups: [""], resources: [pods, pods/log], verbs: [get, list]}]
type RBACConfig struct {
	// Access lists the subjects and their role per environment; default
	// the strategy's: developers read production (view) and work in
	// staging and development (edit), ops run everything (admin).
	Access []AccessConfig `yaml:"access"`
	// ClusterRoles are shipped with the bindings that name them, so that
	// no binding ever refers to a role that does not exist.
	ClusterRoles []ClusterRoleConfig `yaml:"clusterRoles"`
}

// AccessConfig gives one group or user a ClusterRole in every namespace
// of each environment named.
type AccessConfig struct {
	Group string `yaml:"group"`
	User  string `yaml:"user"`
	// Roles maps an environment to the ClusterRole bound there: a
	// built-in one (view, edit, admin), one of ClusterRoles, or one the
	// cluster already has.
	Roles map[string]string `yaml:"roles"`
}

// ClusterRoleConfig is a ClusterRole to generate.
type ClusterRoleConfig struct {
	Name  string       `yaml:"name"`
	Rules []RuleConfig `yaml:"rules"`
}

// RuleConfig is one rule of a ClusterRole, as in rbac.authorization.k8s.io.
type RuleConfig struct {
	APIGroups     []string `yaml:"apiGroups"`
	Resources     []string `yaml:"resources"`
	ResourceNames []string `yaml:"resourceNames"`
	Verbs         []string `yaml:"verbs"`
}

// StrategyAccess is the strategy's Phase 2 RBAC with a role that exists:
// production is read-only for developers through the built-in view (the
// strategy's production-readonly does not exist, and a binding to it
// grants nothing). In development and staging they get edit rather than
// admin: admin adds Roles and RoleBindings in the namespace, with which a
// developer could rebind the namespace's access, including the bindings
// generated here; edit covers every workload object and Secrets. Ops get
// admin, since managing a namespace's access is their job.
func StrategyAccess() []AccessConfig {
	return []AccessConfig{
		{Group: "developers", Roles: map[string]string{"production": "view", "staging": "edit", "development": "edit"}},
		{Group: "ops", Roles: map[string]string{"production": "admin", "staging": "admin", "development": "admin"}},
	}
}

func (r RBACConfig) validate() error {
	for i, a := range r.Access {
		at := fmt.Sprintf("rbac.access[%d]", i)
		if (a.Group == "") == (a.User == "") {
			return fieldErr(at, "expected one of group or user")
		}
		if strings.ContainsAny(a.Group+a.User, "\x00\n\r") {
			return fieldErr(at, "a subject name holds a control character")
		}
		if len(a.Roles) == 0 {
			return fieldErr(at+".roles", "expected a role per environment, such as {production: view, development: edit}")
		}
		for _, env := range sortedKeys(a.Roles) {
			if errs := validation.IsValidLabelValue(env); env == "" || len(errs) > 0 {
				return fieldErr(at+".roles."+env, "%q is not an environment name", env)
			}
			// ClusterRole names are path segments: system:aggregate-to-view is one.
			if errs := path.IsValidPathSegmentName(a.Roles[env]); a.Roles[env] == "" || len(errs) > 0 {
				return fieldErr(at+".roles."+env, "%q is not a ClusterRole name", a.Roles[env])
			}
		}
	}
	seen := map[string]bool{}
	for i, cr := range r.ClusterRoles {
		at := fmt.Sprintf("rbac.clusterRoles[%d]", i)
		if errs := validation.IsDNS1123Subdomain(cr.Name); len(errs) > 0 {
			return fieldErr(at+".name", "%q is not a ClusterRole name: %s", cr.Name, errs[0])
		}
		if slices.Contains(snapshot.BootstrapClusterRoles(), cr.Name) {
			return fieldErr(at+".name", "%q is a built-in ClusterRole: bind it, do not redefine it", cr.Name)
		}
		if seen[cr.Name] {
			return fieldErr(at+".name", "ClusterRole %q is defined twice", cr.Name)
		}
		seen[cr.Name] = true
		if len(cr.Rules) == 0 {
			return fieldErr(at+".rules", "expected at least one rule")
		}
		for j, rule := range cr.Rules {
			if len(rule.Verbs) == 0 || len(rule.Resources) == 0 {
				return fieldErr(fmt.Sprintf("%s.rules[%d]", at, j), "expected verbs and resources")
			}
		}
	}
	return nil
}

// RBACResult is what RBAC generates.
type RBACResult struct {
	ClusterRoles []rbacv1.ClusterRole
	RoleBindings []rbacv1.RoleBinding
	// Notes say what was left out and why.
	Notes []string
}

// Objects lists the ClusterRoles before the bindings that name them.
func (r *RBACResult) Objects() []Object {
	out := make([]Object, 0, len(r.ClusterRoles)+len(r.RoleBindings))
	for i := range r.ClusterRoles {
		out = append(out, &r.ClusterRoles[i])
	}
	for i := range r.RoleBindings {
		out = append(out, &r.RoleBindings[i])
	}
	return out
}

// RBAC binds each subject of govern.rbac.access to its ClusterRole in
// every namespace of each environment, with RoleBindings (never a
// ClusterRoleBinding: production read access must not leak into other
// namespaces). A role must exist: built in, shipped here from
// govern.rbac.clusterRoles, or already in the cluster; anything else is
// an error at the role's line, since a binding to a missing role grants
// nothing.
func RBAC(in Input) (*RBACResult, error) {
	cfg := in.Config.RBAC
	access, explicit := cfg.Access, cfg.Access != nil
	if !explicit {
		access = StrategyAccess()
	}
	known := Environments(in.Index, in.Classify)
	inCluster := map[string]bool{}
	for i := range in.Index.S.ClusterRoles {
		inCluster[in.Index.S.ClusterRoles[i].Name] = true
	}
	shipped := map[string]bool{}
	res := &RBACResult{}
	for _, cr := range cfg.ClusterRoles {
		shipped[cr.Name] = true
		role := rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: cr.Name, Labels: managedLabels(),
				Annotations: map[string]string{ReasonAnnotation: "role defined in govern.rbac.clusterRoles, shipped with its bindings"}}}
		for _, r := range cr.Rules {
			role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: r.APIGroups, Resources: r.Resources,
				ResourceNames: r.ResourceNames, Verbs: r.Verbs})
		}
		res.ClusterRoles = append(res.ClusterRoles, role)
	}
	for i, a := range access {
		kind, name := rbacv1.GroupKind, a.Group
		if a.User != "" {
			kind, name = rbacv1.UserKind, a.User
		}
		for _, env := range sortedKeys(a.Roles) {
			at := fmt.Sprintf("rbac.access[%d].roles.%s", i, env)
			role := a.Roles[env]
			if !slices.Contains(known, env) {
				if !explicit {
					continue // the strategy's environments this cluster does not have
				}
				msg := fmt.Sprintf("unknown environment %q: the namespaces' environments are %v", env, known)
				if near := yamldoc.Closest(env, known); near != "" {
					msg += fmt.Sprintf("; did you mean %q?", near)
				}
				return nil, &yamldoc.FieldError{Path: at, Msg: msg}
			}
			var why string
			switch {
			case slices.Contains(snapshot.BootstrapClusterRoles(), role):
				why = "built-in ClusterRole " + role
			case shipped[role]:
				why = "ClusterRole " + role + ", generated with this binding"
			case inCluster[role]:
				why = "ClusterRole " + role + ", which the cluster has"
			default:
				msg := fmt.Sprintf("ClusterRole %q does not exist: a binding to it would grant nothing; bind a built-in role "+
					"(view, edit, admin) or define it under govern.rbac.clusterRoles", role)
				if near := yamldoc.Closest(role, []string{"view", "edit", "admin"}); near != "" {
					msg += fmt.Sprintf("; did you mean %q?", near)
				}
				return nil, &yamldoc.FieldError{Path: at, Msg: msg}
			}
			for _, ns := range namespacesOf(in.Index, in.Classify, []string{env}) {
				res.RoleBindings = append(res.RoleBindings, rbacv1.RoleBinding{
					TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
					ObjectMeta: metav1.ObjectMeta{Name: bindingName(kind, name), Namespace: ns, Labels: managedLabels(),
						Annotations: map[string]string{ReasonAnnotation: fmt.Sprintf("%s %s: %s in environment %s (%s)", strings.ToLower(kind), name, role, env, why)}},
					Subjects: []rbacv1.Subject{{Kind: kind, APIGroup: rbacv1.GroupName, Name: name}},
					RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
				})
			}
		}
	}
	slices.SortStableFunc(res.RoleBindings, func(a, b rbacv1.RoleBinding) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	for i := 1; i < len(res.RoleBindings); i++ {
		if a, b := res.RoleBindings[i-1], res.RoleBindings[i]; a.Namespace == b.Namespace && a.Name == b.Name {
			return nil, fmt.Errorf("govern.rbac: %s %s is given two roles in namespace %s (%s and %s): one binding per subject and namespace",
				strings.ToLower(a.Subjects[0].Kind), a.Subjects[0].Name, a.Namespace, a.RoleRef.Name, b.RoleRef.Name)
		}
	}
	if len(res.RoleBindings) == 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("no namespace has an environment govern.rbac names (the namespaces' environments are %v)", known))
	}
	return res, nil
}

// bindingName is purser-<kind>-<subject>; a subject that is not a DNS
// label (oidc:Developers) is folded to one and given a digest, so that
// two subjects never share a binding.
func bindingName(kind, subject string) string {
	base := policyPrefix + strings.ToLower(kind) + "-"
	if len(validation.IsDNS1123Label(subject)) == 0 && len(base+subject) <= validation.DNS1123SubdomainMaxLength {
		return base + subject
	}
	sum := sha256.Sum256([]byte(subject))
	return base + strings.Trim(foldName(subject)+"-"+hex.EncodeToString(sum[:4]), "-")
}
