package policy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// TestStrategyNetworkPolicy evaluates the strategy's own Phase 2 policy,
// copied verbatim from it: it selects namespaces by a `name` label no
// namespace has, so the ingress controller cannot reach production, the
// platform is out of reach too, and with no DNS rule no pod resolves a
// name. Unmatched says why.
func TestStrategyNetworkPolicy(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "strategy-networkpolicy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var np networkingv1.NetworkPolicy
	if err := yaml.UnmarshalStrict(data, &np); err != nil {
		t.Fatal(err)
	}
	var nss []corev1.Namespace
	for _, n := range []string{"production", "ingress-nginx", "platform", "kube-system"} {
		nss = append(nss, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}})
	}
	pod := func(ns, name string, l map[string]string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l}}
	}
	pods := []corev1.Pod{
		pod("production", "api", map[string]string{"app": "api"}),
		pod("ingress-nginx", "controller", map[string]string{"app.kubernetes.io/name": "ingress-nginx"}),
		pod("platform", "vault", map[string]string{"app": "vault"}),
		pod("kube-system", "coredns", map[string]string{"k8s-app": "kube-dns"}),
	}
	ev, err := New(nss, []networkingv1.NetworkPolicy{np})
	if err != nil {
		t.Fatal(err)
	}
	at := func(i int) Endpoint { return PodEndpoint(&pods[i]) }
	for _, tc := range []struct {
		from, to int
		port     int32
		proto    corev1.Protocol
		what     string
	}{
		{1, 0, 8080, "", "the ingress controller to production"},
		{0, 2, 8200, "", "production to the platform"},
		{0, 3, 53, corev1.ProtocolUDP, "production's DNS lookups"},
	} {
		if v := ev.Reach(Query{From: at(tc.from), To: at(tc.to), Port: tc.port, Protocol: tc.proto}); v.Allowed {
			t.Errorf("%s: allowed, but the strategy's policy blocks it (%s)", tc.what, v.Reason())
		}
	}
	got := ev.Unmatched(pods)
	want := []string{
		"NetworkPolicy production/production-isolation: ingress[0] peer 0: namespaceSelector name=ingress-nginx matches no namespace",
		"NetworkPolicy production/production-isolation: egress[0] peer 0: namespaceSelector name=platform matches no namespace",
	}
	if !slices.Equal(got, want) {
		t.Errorf("unmatched:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Selecting by kubernetes.io/metadata.name, as Purser does, fixes it.
	fixed := np.DeepCopy()
	fixed.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels = map[string]string{NamespaceNameLabel: "ingress-nginx"}
	ev, err = New(nss, []networkingv1.NetworkPolicy{*fixed})
	if err != nil {
		t.Fatal(err)
	}
	if v := ev.Reach(Query{From: at(1), To: at(0), Port: 8080}); !v.Allowed {
		t.Errorf("the corrected selector still blocks the ingress controller: %s", v.Reason())
	}
	if u := ev.Unmatched(pods); len(u) != 1 {
		t.Errorf("unmatched after the fix: %v, want only the platform selector", u)
	}
}
