package apply_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/policy"
	"github.com/purserhq/purser/internal/snapshot/live"
)

// The NetworkPolicy the product plan moves with its namespace selectors
// rewritten: onlyoneapi-docs lets the docs pods be reached from the
// product's three namespaces, which the plan merges into onlyoneapi-prod,
// and from monitoring, which stays.
const (
	policyNS, policyName = "onlyoneapi-docs", "allow-product"
	policyTarget         = "onlyoneapi-prod"
)

// productPolicy creates the policy in its source namespace; the test's
// cleanup deletes it once the rollback has given it back.
func (l *liveRun) productPolicy(t *testing.T) {
	t.Helper()
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: policyName, Namespace: policyNS},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "docs"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Port: ptr(intstr.FromInt32(8080))}},
				From: []networkingv1.NetworkPolicyPeer{
					{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: policy.NamespaceNameLabel,
						Operator: metav1.LabelSelectorOpIn, Values: []string{"onlyoneapi-docs", "onlyoneapi-portal", "onlyoneapi-prod"}}}}},
					{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{policy.NamespaceNameLabel: "monitoring"}}},
				},
			}},
		}}
	if _, err := l.kube.NetworkingV1().NetworkPolicies(policyNS).Create(t.Context(), np, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		err := l.kube.NetworkingV1().NetworkPolicies(policyNS).Delete(context.Background(), policyName, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// reachDocs asks the reachability engine, over the cluster as it is,
// which workloads may reach the docs pods on 8080: "origin/workload" of
// every pod whose origin is one of the product's namespaces, monitoring,
// n8n or nextstep, where origin is the namespace the workload was in
// before the plan (moves of p say which) and workload the Deployment or
// StatefulSet.
func (l *liveRun) reachDocs(t *testing.T, p *plan.Plan) map[string]bool {
	t.Helper()
	s, err := live.Collect(t.Context(), l.c.Config, live.CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := policy.New(s.Namespaces, s.NetworkPolicies)
	if err != nil {
		t.Fatal(err)
	}
	origin := map[string]string{} // "target/name" → "source/name"
	for _, tg := range p.Spec.Targets {
		for _, mv := range tg.Moves {
			name := mv.Name
			if mv.NewName != "" {
				name = mv.NewName
			}
			origin[tg.Name+"/"+name] = mv.From + "/" + mv.Name
		}
	}
	workload := func(pod *corev1.Pod) string {
		for _, o := range pod.OwnerReferences {
			switch o.Kind {
			case "ReplicaSet":
				return o.Name[:strings.LastIndex(o.Name, "-")]
			case "StatefulSet", "DaemonSet":
				return o.Name
			}
		}
		return pod.Name
	}
	peers := []string{"onlyoneapi-prod", "onlyoneapi-docs", "onlyoneapi-portal", "monitoring", "n8n", "nextstep"}
	var docs []corev1.Pod
	for _, pod := range s.Pods {
		if pod.Labels["app"] == "docs" && pod.DeletionTimestamp == nil {
			docs = append(docs, pod)
		}
	}
	if len(docs) == 0 {
		t.Fatal("no docs pod")
	}
	out := map[string]bool{}
	for i := range s.Pods {
		from := &s.Pods[i]
		if from.DeletionTimestamp != nil {
			continue
		}
		key := from.Namespace + "/" + workload(from)
		if o, ok := origin[key]; ok {
			key = o
		}
		// The same workloads before and after: those that merged into
		// monitoring gain its access, by the merge, not by the rewrite.
		if ns, _, _ := strings.Cut(key, "/"); !slices.Contains(peers, ns) {
			continue
		}
		for j := range docs {
			v := ev.Reach(policy.Query{From: policy.PodEndpoint(from), To: policy.PodEndpoint(&docs[j]), Port: 8080})
			out[key] = v.Allowed
		}
	}
	return out
}

// checkPolicyMoved checks the moved policy in its target: its namespace
// selectors name the target once and monitoring, and the same workloads
// reach the docs pods as before the move.
func (l *liveRun) checkPolicyMoved(t *testing.T, p *plan.Plan, before map[string]bool) {
	t.Helper()
	np, err := l.kube.NetworkingV1().NetworkPolicies(policyTarget).Get(t.Context(), policyName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the policy was not moved: %v", err)
	}
	var named []string
	for _, peer := range np.Spec.Ingress[0].From {
		named = append(named, slices.Sorted(maps.Values(peer.NamespaceSelector.MatchLabels))...)
		for _, e := range peer.NamespaceSelector.MatchExpressions {
			named = append(named, e.Values...)
		}
	}
	if want := []string{policyTarget, "monitoring"}; !slices.Equal(named, want) {
		t.Errorf("the moved policy's namespace selectors name %v, want %v", named, want)
	}
	after := l.reachDocs(t, p)
	if !maps.Equal(before, after) {
		t.Errorf("who reaches the docs pods:\nafter the move %v\nbefore %v", after, before)
	}
}

// reachBefore is reachDocs before the move, which must both allow and
// deny, or the comparison after the move proves nothing.
func (l *liveRun) reachBefore(t *testing.T, p *plan.Plan) map[string]bool {
	t.Helper()
	r := l.reachDocs(t, p)
	allowed, denied := 0, 0
	for _, ok := range r {
		if ok {
			allowed++
		} else {
			denied++
		}
	}
	if allowed == 0 || denied == 0 || !r["onlyoneapi-portal/portal"] {
		t.Fatalf("before the move, who reaches the docs pods: %v: want some allowed, some denied", r)
	}
	return r
}
