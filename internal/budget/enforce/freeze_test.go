package enforce

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/purserhq/purser/internal/budget"
)

// A quota named like the freeze that Purser did not make is neither
// replaced nor deleted.
func TestFreezeLeavesAForeignQuotaAlone(t *testing.T) {
	t.Parallel()
	foreign := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: FreezeName, Namespace: "shop"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("9")}}}
	kube := fake.NewClientset(foreign)
	e := &Enforcer{Kube: kube, Usage: map[string]Usage{"shop": {Pods: 2}}}
	step := budget.Step{Applied: budget.Applied{Budget: "b", Action: budget.ActionBlockNewResources, Operation: "budget-x", Namespaces: []string{"shop"}}}
	if _, err := e.freeze(t.Context(), step); err == nil || !strings.Contains(err.Error(), "is not Purser's") {
		t.Fatalf("freeze over a foreign quota: %v", err)
	}
	if err := e.unfreeze(t.Context(), step); err != nil {
		t.Fatal(err)
	}
	q, err := kube.CoreV1().ResourceQuotas("shop").Get(t.Context(), FreezeName, metav1.GetOptions{})
	if err != nil || q.Spec.Hard.Pods().Value() != 9 {
		t.Fatalf("the foreign quota changed: %v %v", q, err)
	}
}
