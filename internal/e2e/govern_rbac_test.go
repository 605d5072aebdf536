package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
)

// TestGovernRBACLive applies the generated RBAC (the strategy's access:
// developers read production, edit development) to a production and a
// development namespace of a real control plane, for real, and asks the
// API server's authorizer what a developer may do: list pods in both,
// delete them only in development, and never read production's Secrets.
func TestGovernRBACLive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	for ns, env := range map[string]string{"shop-prod": "production", "shop-dev": "development"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{"environment": env}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.CoreV1().Secrets("shop-prod").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		StringData: map[string]string{"password": "s3cret"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := live.Collect(ctx, c.Config, live.CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ix := snapshot.NewIndex(s)
	res, err := govern.RBAC(govern.Input{Index: ix, Classify: classify.Rules{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.RoleBindings) != 4 {
		t.Fatalf("%d RoleBindings, want 4 (developers and ops in two namespaces)", len(res.RoleBindings))
	}
	// Every roleRef names a ClusterRole the server has.
	for _, b := range res.RoleBindings {
		if _, err := cs.RbacV1().ClusterRoles().Get(ctx, b.RoleRef.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("RoleBinding %s/%s: roleRef %s: %v", b.Namespace, b.Name, b.RoleRef.Name, err)
		}
	}
	var buf bytes.Buffer
	if err := govern.WriteYAML(&buf, res.Objects()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rbac.yaml")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := c.Kubectl(ctx, "apply", "--server-side", "--field-manager=purser-govern", "-f", path)
	if err != nil {
		t.Fatalf("applying the generated RBAC: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "serverside-applied"); n != len(res.RoleBindings) {
		t.Fatalf("%d objects applied, %d generated:\n%s", n, len(res.RoleBindings), out)
	}

	tests := []struct {
		groups             []string
		verb, resource, ns string
		allowed            bool
	}{
		{[]string{"developers"}, "list", "pods", "shop-dev", true},
		{[]string{"developers"}, "delete", "pods", "shop-dev", true},
		{[]string{"developers"}, "get", "secrets", "shop-dev", true},
		{[]string{"developers"}, "list", "pods", "shop-prod", true},
		{[]string{"developers"}, "get", "pods/log", "shop-prod", true},
		{[]string{"developers"}, "delete", "pods", "shop-prod", false},
		{[]string{"developers"}, "patch", "deployments", "shop-prod", false},
		{[]string{"developers"}, "get", "secrets", "shop-prod", false},
		{[]string{"developers"}, "list", "secrets", "shop-prod", false},
		{[]string{"developers"}, "create", "rolebindings", "shop-dev", false},
		{[]string{"ops"}, "create", "rolebindings", "shop-prod", true},
		{[]string{"designers"}, "list", "pods", "shop-dev", false},
	}
	for _, tc := range tests {
		res, sub, _ := strings.Cut(tc.resource, "/")
		group := map[string]string{"deployments": "apps", "rolebindings": "rbac.authorization.k8s.io"}[res]
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice", Groups: tc.groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: tc.ns, Verb: tc.verb, Group: group, Resource: res, Subresource: sub}}}
		// The aggregated roles (view, edit, admin) are filled by a
		// controller: wait for an expected grant rather than race it.
		var got bool
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
			r, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got = r.Status.Allowed
			if got == tc.allowed || !tc.allowed || time.Now().After(deadline) {
				break
			}
		}
		if got != tc.allowed {
			t.Errorf("alice (groups %v) %s %s in %s: allowed=%v, want %v", tc.groups, tc.verb, tc.resource, tc.ns, got, tc.allowed)
		}
	}
	// And as kubectl says it to a person.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"auth", "can-i", "list", "pods", "-n", "shop-dev", "--as", "alice", "--as-group", "developers"}, "yes"},
		{[]string{"auth", "can-i", "delete", "pods", "-n", "shop-prod", "--as", "alice", "--as-group", "developers"}, "no"},
		{[]string{"auth", "can-i", "get", "secrets", "-n", "shop-prod", "--as", "alice", "--as-group", "developers"}, "no"},
	} {
		out, _ := c.Kubectl(ctx, tc.args...) // can-i exits 1 for "no"
		if got := strings.TrimSpace(string(out)); !slices.Contains(strings.Fields(got), tc.want) {
			t.Errorf("kubectl %s: %q, want %s", strings.Join(tc.args, " "), got, tc.want)
		}
	}
}
