package engine

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/snapshot"
)

// TestEstimate: two 40 USD nodes of 2 CPU and 4 GiB; web's three pods
// ask 1 CPU and 1 GiB each, 15 USD a month each at the cluster's rates
// (half the price by CPU, half by memory). Asleep from Monday 21:00 to
// Tuesday 08:00 they save 45 × 11/730 USD, and 274 hours of the next 730.
// Without them, the pool needs one node of its two.
func TestEstimate(t *testing.T) {
	t.Parallel()
	rl := func(cpu, mem string) corev1.ResourceList {
		return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem), corev1.ResourcePods: resource.MustParse("110")}
	}
	node := func(name string) corev1.Node {
		return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"doks.digitalocean.com/node-pool": "apps", "node.kubernetes.io/instance-type": "s-2vcpu-4gb"}},
			Status: corev1.NodeStatus{Allocatable: rl("2", "4Gi"), Capacity: rl("2", "4Gi"),
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	}
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: rl("1", "1Gi")}}}}
	ctl := true
	s := &snapshot.Snapshot{
		Nodes:      []corev1.Node{node("n1"), node("n2")},
		Namespaces: []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "dev"}}},
		Deployments: []appsv1.Deployment{{ObjectMeta: metav1.ObjectMeta{Namespace: "dev", Name: "web", UID: "d1"},
			Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Template: corev1.PodTemplateSpec{Spec: spec}}}},
		ReplicaSets: []appsv1.ReplicaSet{{ObjectMeta: metav1.ObjectMeta{Namespace: "dev", Name: "web-1", UID: "r1",
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", UID: "d1", Controller: &ctl}}}}},
	}
	for i, n := range []string{"n1", "n1", "n2"} {
		pspec := spec
		pspec.NodeName = n
		s.Pods = append(s.Pods, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "dev", Name: "web-1-" + string(rune('a'+i)),
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-1", UID: types.UID("r1"), Controller: &ctl}}},
			Spec: pspec, Status: corev1.PodStatus{Phase: corev1.PodRunning}})
	}
	ix := snapshot.NewIndex(s)
	usd := func(micros int64) money.Amount { return money.New("USD", micros) }
	c := &cost.Result{Currency: "USD", Weights: cost.DefaultWeights(), Nodes: []cost.NodeCost{
		{Name: "n1", Monthly: usd(40e6), CPUMilli: 2000, MemoryBytes: 4 << 30},
		{Name: "n2", Monthly: usd(40e6), CPUMilli: 2000, MemoryBytes: 4 << 30},
	}}
	cfg := Config{Schedules: []Rule{{Name: "n", Schedule: "Mon-Fri 20:00-08:00 UTC", Namespaces: []string{"dev"}}}}
	p := Decide(Input{Index: ix, Config: cfg, Now: night})
	sv, err := Estimate(ix, c, p, nil, 730, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sv.Workloads) != 1 {
		t.Fatalf("workloads %+v", sv.Workloads)
	}
	w := sv.Workloads[0]
	if w.Pods != 3 || w.Monthly != usd(45e6) || w.WindowHours != 11 || w.Window != usd(678082) || w.MonthHours != 274 || w.Month != usd(16890411) {
		t.Errorf("web saves %+v", w)
	}
	if sv.Window != w.Window || sv.Month != w.Month {
		t.Errorf("totals %v %v", sv.Window, sv.Month)
	}
	if len(sv.Pools) != 1 || sv.Pools[0].Today != 2 || sv.Pools[0].Awake != 2 || sv.Pools[0].Asleep != 0 {
		t.Errorf("pools %+v, want apps needing 2 nodes awake and 0 asleep", sv.Pools)
	}

	// Asleep already: the same figures from the recorded original.
	s.Deployments[0].Spec.Replicas = ptr(int32(0))
	s.Deployments[0].Annotations = map[string]string{AnnoOriginalReplicas: "3"}
	s.Pods = nil
	ix = snapshot.NewIndex(s)
	p = Decide(Input{Index: ix, Config: cfg, Now: night})
	if sv, err = Estimate(ix, c, p, nil, 730, nil); err != nil {
		t.Fatal(err)
	}
	if len(sv.Workloads) != 1 || sv.Workloads[0].Monthly != usd(45e6) || sv.Workloads[0].Window != usd(678082) {
		t.Errorf("asleep web saves %+v", sv.Workloads)
	}
}
