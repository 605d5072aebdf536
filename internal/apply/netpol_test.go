package apply

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/snapshot"
)

// policyManifest is a NetworkPolicy of namespace shop-a with one ingress
// rule from peers and one egress rule to egress.
func policyManifest(t *testing.T, from, to []networkingv1.NetworkPolicyPeer) *unstructured.Unstructured {
	t.Helper()
	np := &networkingv1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop-a"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: from}}, Egress: []networkingv1.NetworkPolicyEgressRule{{To: to}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(np)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: u}
}

func byName(names ...string) networkingv1.NetworkPolicyPeer {
	if len(names) == 1 {
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{namespaceNameLabel: names[0]}}}
	}
	return byExpr(metav1.LabelSelectorOpIn, names...)
}

func byExpr(op metav1.LabelSelectorOperator, names ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: namespaceNameLabel, Operator: op, Values: names}}}}
}

func byLabels(l map[string]string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: l}}
}

// withPods narrows a peer by pod labels.
func withPods(p networkingv1.NetworkPolicyPeer, app string) networkingv1.NetworkPolicyPeer {
	p.PodSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	return p
}

// TestRewritePolicy is the table of what a moved NetworkPolicy's
// namespace selectors become: shop-a and shop-b merge into shop, ops stays.
func TestRewritePolicy(t *testing.T) {
	t.Parallel()
	moves := map[string]string{"shop-a": "shop", "shop-b": "shop"}
	cases := []struct {
		name               string
		from, to           []networkingv1.NetworkPolicyPeer
		wantFrom, wantTo   []networkingv1.NetworkPolicyPeer
		rewritten          []string
		labelled           []string // At of each labelled selector
		unsafe             string   // a part of the reason, or ""
		unchangedManifests bool
	}{
		{name: "a source named by matchLabels becomes its target",
			from: []networkingv1.NetworkPolicyPeer{withPods(byName("shop-b"), "api")}, to: []networkingv1.NetworkPolicyPeer{byName("ops")},
			wantFrom: []networkingv1.NetworkPolicyPeer{withPods(byName("shop"), "api")}, wantTo: []networkingv1.NetworkPolicyPeer{byName("ops")},
			rewritten: []string{"shop-b → shop"}},
		{name: "an In list of two sources of one target names it once",
			from: []networkingv1.NetworkPolicyPeer{byName("shop-a", "ops", "shop-b")}, to: []networkingv1.NetworkPolicyPeer{byName("shop-a", "shop-b")},
			wantFrom: []networkingv1.NetworkPolicyPeer{byName("shop", "ops")}, wantTo: []networkingv1.NetworkPolicyPeer{byExpr(metav1.LabelSelectorOpIn, "shop")},
			rewritten: []string{"shop-a → shop", "shop-b → shop"}},
		{name: "two peers naming two sources of one target are one peer",
			from:      []networkingv1.NetworkPolicyPeer{byName("shop-a"), byName("shop-b"), byName("ops")},
			wantFrom:  []networkingv1.NetworkPolicyPeer{byName("shop"), byName("ops")},
			rewritten: []string{"shop-a → shop", "shop-b → shop"}},
		{name: "a namespace that stays is left as it is",
			from:     []networkingv1.NetworkPolicyPeer{byName("ops"), withPods(networkingv1.NetworkPolicyPeer{}, "db")},
			to:       []networkingv1.NetworkPolicyPeer{byExpr(metav1.LabelSelectorOpNotIn, "ops")},
			wantFrom: []networkingv1.NetworkPolicyPeer{byName("ops"), withPods(networkingv1.NetworkPolicyPeer{}, "db")},
			wantTo:   []networkingv1.NetworkPolicyPeer{byExpr(metav1.LabelSelectorOpNotIn, "ops")}, unchangedManifests: true},
		{name: "a source excluded by NotIn is not rewritten",
			from: []networkingv1.NetworkPolicyPeer{byExpr(metav1.LabelSelectorOpNotIn, "shop-a")}, wantFrom: []networkingv1.NetworkPolicyPeer{byExpr(metav1.LabelSelectorOpNotIn, "shop-a")},
			unsafe: "spec.ingress[0].from[0]: its namespace selector excludes shop-a, which merges into shop", unchangedManifests: true},
		{name: "a selector on other labels is left for the cluster check",
			from: []networkingv1.NetworkPolicyPeer{byLabels(map[string]string{"team": "shop"})}, wantFrom: []networkingv1.NetworkPolicyPeer{byLabels(map[string]string{"team": "shop"})},
			labelled: []string{"spec.ingress[0].from[0]"}, unchangedManifests: true},
		{name: "the name rewritten, other labels left for the cluster check",
			to:       []networkingv1.NetworkPolicyPeer{byLabels(map[string]string{"team": "shop", namespaceNameLabel: "shop-a"})},
			wantTo:   []networkingv1.NetworkPolicyPeer{byLabels(map[string]string{"team": "shop", namespaceNameLabel: "shop"})},
			labelled: []string{"spec.egress[0].to[0]"}, rewritten: []string{"shop-a → shop"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := policyManifest(t, tc.from, tc.to)
			orig := m.DeepCopy()
			got, rw, err := rewritePolicy(m, moves)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.Object, orig.Object) {
				t.Error("the plan's manifest was changed in place")
			}
			if tc.unchangedManifests != reflect.DeepEqual(got.Object, orig.Object) {
				t.Errorf("manifest unchanged: %v, want %v", !tc.unchangedManifests, tc.unchangedManifests)
			}
			var np networkingv1.NetworkPolicy
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(got.Object, &np); err != nil {
				t.Fatal(err)
			}
			if g := np.Spec.Ingress[0].From; !equalJSON(g, tc.wantFrom) {
				t.Errorf("from %s, want %s", jsonOf(g), jsonOf(tc.wantFrom))
			}
			if g := np.Spec.Egress[0].To; !equalJSON(g, tc.wantTo) {
				t.Errorf("to %s, want %s", jsonOf(g), jsonOf(tc.wantTo))
			}
			if !reflect.DeepEqual(rw.Rewritten, tc.rewritten) {
				t.Errorf("rewritten %q, want %q", rw.Rewritten, tc.rewritten)
			}
			var labelled []string
			for _, l := range rw.Labelled {
				labelled = append(labelled, l.At)
			}
			if !reflect.DeepEqual(labelled, tc.labelled) {
				t.Errorf("labelled %q, want %q", labelled, tc.labelled)
			}
			if u := strings.Join(rw.Unsafe, "\n"); tc.unsafe == "" && u != "" || !strings.Contains(u, tc.unsafe) {
				t.Errorf("unsafe %q, want %q", u, tc.unsafe)
			}
		})
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// policyPlan moves NetworkPolicy web of shop-a to target shop (created by
// the run, labelled as the plan says) with the risk the plan records.
func policyPlan(t *testing.T, m *unstructured.Unstructured, targetLabels map[string]string) (*plan.Plan, []Step) {
	t.Helper()
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop"}}}
	if targetLabels != nil {
		ns.SetLabels(targetLabels)
	}
	dst := m.DeepCopy()
	dst.SetNamespace("shop")
	p := &plan.Plan{Spec: plan.Spec{
		Targets: []plan.Target{{Name: "shop", Sources: []string{"shop-a"}, Manifests: []*unstructured.Unstructured{ns, dst},
			Moves: []plan.Move{{Kind: "NetworkPolicy", From: "shop-a", Name: "web", How: "manifest"}},
			Risks: []plan.Issue{{Kind: plan.IssueNetworkPolicy, Objects: []string{"NetworkPolicy/shop-a/web"},
				Message: "its namespace selector matches shop-a, which merges into shop: the rule will no longer match"}}}},
		Preconditions: []plan.Precondition{
			{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "shop-a", Name: "web", UID: "np-uid", ResourceVersion: "1", Action: plan.ActionMove},
			{APIVersion: "v1", Kind: "Namespace", Name: "shop-a", UID: "ns-uid", ResourceVersion: "1", Action: plan.ActionDelete},
		}}}
	steps, err := Steps(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, steps
}

// The plan's risk on a moved policy's namespace selector blocks no more
// once the run rewrites it; a NotIn it cannot rewrite still blocks, with
// the reason; a policy the plan does not move stays the plan's risk.
func TestPolicyBlockers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		from []networkingv1.NetworkPolicyPeer
		// also adds a risk on a policy of a namespace that stays.
		also  bool
		block []string
	}{
		{name: "rewritten", from: []networkingv1.NetworkPolicyPeer{byName("shop-a")}},
		{name: "NotIn", from: []networkingv1.NetworkPolicyPeer{byExpr(metav1.LabelSelectorOpNotIn, "shop-a")},
			block: []string{"NetworkPolicy/shop-a/web): its namespace selector matches shop-a", "excludes shop-a, which merges into shop"}},
		{name: "a policy that stays", from: []networkingv1.NetworkPolicyPeer{byName("shop-a")}, also: true,
			block: []string{"NetworkPolicy/ops/allow-shop): its namespace selector matches shop-a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, steps := policyPlan(t, policyManifest(t, tc.from, nil), nil)
			if tc.also {
				p.Spec.Targets[0].Risks = append(p.Spec.Targets[0].Risks, plan.Issue{Kind: plan.IssueNetworkPolicy, Objects: []string{"NetworkPolicy/ops/allow-shop"},
					Message: "its namespace selector matches shop-a, which merges into shop: the rule will no longer match"})
			}
			blocking, _ := blockers(p, steps, Options{})
			if len(blocking) != len(tc.block) {
				t.Fatalf("blocking %q, want %d", blocking, len(tc.block))
			}
			for _, w := range tc.block {
				if !strings.Contains(strings.Join(blocking, "\n"), w) {
					t.Errorf("blocking %q does not say %q", blocking, w)
				}
			}
			if _, accepted := blockers(p, steps, Options{AcceptReference: true}); len(accepted) != len(tc.block) {
				t.Errorf("accepted %q, want %d", accepted, len(tc.block))
			}
		})
	}
}

// A selector on other labels is safe when the target carries the labels
// the source had: as the cluster holds it, or, for a target the run
// creates, as its plan manifest labels it.
func TestLabelBlockers(t *testing.T) {
	t.Parallel()
	team := []networkingv1.NetworkPolicyPeer{byLabels(map[string]string{"team": "shop"})}
	nsOf := func(name string, l map[string]string) corev1.Namespace {
		return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
	}
	cases := []struct {
		name         string
		from         []networkingv1.NetworkPolicyPeer
		namespaces   []corev1.Namespace
		targetLabels map[string]string
		want         string
	}{
		{name: "the target created with the source's labels", from: team, namespaces: []corev1.Namespace{nsOf("shop-a", map[string]string{"team": "shop"})},
			targetLabels: map[string]string{"team": "shop"}},
		{name: "the target in the cluster with the source's labels", from: team,
			namespaces: []corev1.Namespace{nsOf("shop-a", map[string]string{"team": "shop"}), nsOf("shop", map[string]string{"team": "shop"})}},
		{name: "the target without them", from: team, namespaces: []corev1.Namespace{nsOf("shop-a", map[string]string{"team": "shop"}), nsOf("shop", nil)},
			want: "NetworkPolicy shop-a/web (spec.ingress[0].from[0]): its namespace selector team=shop selects source shop-a by its labels, but not target shop"},
		{name: "a selector that never selected the source", from: team, namespaces: []corev1.Namespace{nsOf("shop-a", nil)}},
		{name: "a source gone (a resumed run deleted it)", from: team, namespaces: []corev1.Namespace{nsOf("shop", nil)}},
		{name: "by name only", from: []networkingv1.NetworkPolicyPeer{byName("shop-a")}, namespaces: []corev1.Namespace{nsOf("shop-a", nil)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, steps := policyPlan(t, policyManifest(t, tc.from, nil), tc.targetLabels)
			got := strings.Join(labelBlockers(steps, &snapshot.Snapshot{Namespaces: tc.namespaces}), "\n")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("label blockers %q, want %q", got, tc.want)
			}
		})
	}
}
