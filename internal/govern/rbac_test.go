package govern

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/golden"
	"github.com/purserhq/purser/internal/yamldoc"
)

// Every generated binding names a role that exists: a built-in one (the
// audit's table) or one generated in the same output. Developers read
// production through view and edit development.
func TestDemoRBAC(t *testing.T) {
	t.Parallel()
	in := demoInput(t)
	in.Config.RBAC.ClusterRoles = []ClusterRoleConfig{{Name: "log-reader", Rules: []RuleConfig{
		{APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}, Verbs: []string{"get", "list"}}}}}
	in.Config.RBAC.Access = append(StrategyAccess(), AccessConfig{User: "team-lead", Roles: map[string]string{"production": "log-reader"}})
	res, err := RBAC(in)
	if err != nil {
		t.Fatal(err)
	}
	shipped := map[string]bool{}
	for _, cr := range res.ClusterRoles {
		shipped[cr.Name] = true
	}
	if !shipped["log-reader"] {
		t.Fatalf("log-reader is not shipped: %v", shipped)
	}
	got := map[string]string{}
	for _, b := range res.RoleBindings {
		if b.RoleRef.Kind != "ClusterRole" || !(slices.Contains(snapshot.BootstrapClusterRoles(), b.RoleRef.Name) || shipped[b.RoleRef.Name]) {
			t.Errorf("RoleBinding %s/%s refers to %s %s, which neither Kubernetes nor the output has", b.Namespace, b.Name, b.RoleRef.Kind, b.RoleRef.Name)
		}
		got[b.Namespace+"/"+b.Subjects[0].Kind+"/"+b.Subjects[0].Name] = b.RoleRef.Name
	}
	for k, want := range map[string]string{
		"nextstep/Group/developers":      "view",
		"nextstep-dev/Group/developers":  "edit",
		"kvibe-staging/Group/developers": "edit",
		"nextstep/Group/ops":             "admin",
		"nextstep/User/team-lead":        "log-reader",
		"monitoring/Group/developers":    "",
		"nextstep-dev/User/team-lead":    "",
	} {
		if got[k] != want {
			t.Errorf("%s bound to %q, want %q", k, got[k], want)
		}
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, res.Objects()); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "demo-rbac.yaml"), buf.Bytes())
}

func TestRBACErrors(t *testing.T) {
	t.Parallel()
	in := demoInput(t)
	in.Index.S.ClusterRoles = append(slices.Clone(in.Index.S.ClusterRoles), rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "team-reader"}},
		rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "team:auditor"}})
	tests := []struct {
		name   string
		rbac   RBACConfig
		path   string
		msg    string
		config bool // caught by Validate, before any snapshot
	}{
		{"the strategy's missing role", RBACConfig{Access: []AccessConfig{{Group: "senior-devs", Roles: map[string]string{"production": "production-readonly"}}}},
			"rbac.access[0].roles.production", `ClusterRole "production-readonly" does not exist: a binding to it would grant nothing`, false},
		{"unknown environment", RBACConfig{Access: []AccessConfig{{Group: "developers", Roles: map[string]string{"prod": "view"}}}},
			"rbac.access[0].roles.prod", `unknown environment "prod"`, false},
		{"group and user", RBACConfig{Access: []AccessConfig{{Group: "a", User: "b", Roles: map[string]string{"production": "view"}}}},
			"rbac.access[0]", "expected one of group or user", true},
		{"no roles", RBACConfig{Access: []AccessConfig{{Group: "a"}}}, "rbac.access[0].roles", "expected a role per environment", true},
		{"redefined built-in", RBACConfig{ClusterRoles: []ClusterRoleConfig{{Name: "view", Rules: []RuleConfig{{Resources: []string{"pods"}, Verbs: []string{"get"}}}}}},
			"rbac.clusterRoles[0].name", `"view" is a built-in ClusterRole`, true},
		{"rule without verbs", RBACConfig{ClusterRoles: []ClusterRoleConfig{{Name: "x", Rules: []RuleConfig{{Resources: []string{"pods"}}}}}},
			"rbac.clusterRoles[0].rules[0]", "expected verbs and resources", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Config{RBAC: tc.rbac}
			err := c.Validate()
			if err == nil && !tc.config {
				in := in
				in.Config = c
				_, err = RBAC(in)
			} else if tc.config != (err != nil) {
				t.Fatalf("Validate: %v", err)
			}
			var fe *yamldoc.FieldError
			if !errors.As(err, &fe) || fe.Path != tc.path || !strings.Contains(fe.Msg, tc.msg) {
				t.Fatalf("error %v, want %s: %s", err, tc.path, tc.msg)
			}
		})
	}
	// A role the cluster already has is bound, not shipped, whatever its
	// name (ClusterRole names are path segments, colons allowed).
	for _, role := range []string{"team-reader", "team:auditor"} {
		in.Config = Config{RBAC: RBACConfig{Access: []AccessConfig{{Group: "readers", Roles: map[string]string{"production": role}}}}}
		if err := in.Config.Validate(); err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		res, err := RBAC(in)
		if err != nil || len(res.RoleBindings) == 0 || len(res.ClusterRoles) != 0 || res.RoleBindings[0].RoleRef.Name != role {
			t.Fatalf("binding to the cluster's own role %s: %v, %d bindings, %d roles", role, err, len(res.RoleBindings), len(res.ClusterRoles))
		}
	}
	if err := (Config{RBAC: RBACConfig{Access: []AccessConfig{{Group: "g", Roles: map[string]string{"production": "a/b"}}}}}).Validate(); err == nil {
		t.Error("a role name with a slash was accepted")
	}
}

func TestBindingName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ kind, subject, want string }{
		{"Group", "developers", "purser-group-developers"},
		{"User", "team-lead", "purser-user-team-lead"},
		{"Group", "oidc:Developers", "purser-group-oidc-developers-"},
	} {
		got := bindingName(tc.kind, tc.subject)
		if !strings.HasPrefix(got, tc.want) || (tc.want[len(tc.want)-1] != '-' && got != tc.want) {
			t.Errorf("bindingName(%s, %s) = %s, want %s", tc.kind, tc.subject, got, tc.want)
		}
	}
	if bindingName("Group", "a:b") == bindingName("Group", "a.b") {
		t.Error("two subjects share a binding name")
	}
}
