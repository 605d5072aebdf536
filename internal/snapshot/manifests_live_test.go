package snapshot_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testcluster"
)

// The table of bootstrap ClusterRoles is exactly what a real API server
// creates, so that manifest mode neither misses a built-in role nor takes
// a role of the user's for one.
func TestBootstrapClusterRolesLive(t *testing.T) {
	c := testcluster.ForTest(t)
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	list, err := cs.RbacV1().ClusterRoles().List(t.Context(), metav1.ListOptions{LabelSelector: "kubernetes.io/bootstrapping=rbac-defaults"})
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, r := range list.Items {
		live = append(live, r.Name)
	}
	slices.Sort(live)
	table := snapshot.BootstrapClusterRoles()
	for _, name := range live {
		if !slices.Contains(table, name) {
			t.Errorf("the API server creates ClusterRole %s, missing from BootstrapClusterRoles", name)
		}
	}
	for _, name := range table {
		if !slices.Contains(live, name) {
			t.Errorf("BootstrapClusterRoles lists %s, which the API server does not create", name)
		}
	}
	namespaces, err := cs.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range snapshot.BuiltinNamespaces() {
		if !slices.ContainsFunc(namespaces.Items, func(n corev1.Namespace) bool { return n.Name == ns }) {
			t.Errorf("built-in namespace %s does not exist on a fresh cluster", ns)
		}
	}
}
