package scenario

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// TestBlueOceanFigures checks the scenario's data against the seed's
// figures, without a cluster.
func TestBlueOceanFigures(t *testing.T) {
	t.Parallel()
	sc := BlueOcean()
	nodes := 0
	for _, p := range sc.Pools {
		nodes += p.Count
	}
	storage := resource.Quantity{}
	lbs := 0
	namespaces := map[string]bool{}
	populated := map[string]bool{}
	for _, o := range sc.Objects {
		switch v := o.Object.(type) {
		case *corev1.Node:
			if v.Annotations["kwok.x-k8s.io/node"] != "fake" {
				t.Errorf("node %s is not a KWOK node", v.Name)
			}
		case *corev1.Namespace:
			namespaces[v.Name] = true
		case *corev1.PersistentVolumeClaim:
			storage.Add(v.Spec.Resources.Requests[corev1.ResourceStorage])
			populated[v.Namespace] = true
		case *corev1.Service:
			if v.Spec.Type == corev1.ServiceTypeLoadBalancer {
				lbs++
			}
			populated[v.Namespace] = true
		default:
			if m, ok := o.Object.(interface{ GetNamespace() string }); ok && m.GetNamespace() != "" {
				populated[m.GetNamespace()] = true
			}
		}
	}
	if nodes != 27 || len(sc.Pools) != 6 {
		t.Errorf("%d nodes in %d pools, want 27 in 6", nodes, len(sc.Pools))
	}
	// The four Kubernetes namespaces exist in every cluster.
	if got := len(namespaces) + 4; got != 69 {
		t.Errorf("%d namespaces, want 69", got)
	}
	if want := resource.MustParse("533Gi"); storage.Cmp(want) != 0 {
		t.Errorf("PVCs add up to %s, want 533Gi", storage.String())
	}
	if lbs != 9 {
		t.Errorf("%d LoadBalancer Services, want 9", lbs)
	}
	for _, ns := range populatedNamespaces() {
		if !populated[ns] {
			t.Errorf("namespace %s is listed as populated but holds nothing", ns)
		}
	}
	for _, ns := range emptyNamespaces() {
		if populated[ns] {
			t.Errorf("namespace %s is listed as empty but holds objects", ns)
		}
	}
	if len(emptyNamespaces()) != 18 {
		t.Errorf("%d empty namespaces, want 18", len(emptyNamespaces()))
	}
}
