package checks

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/snapshot"
)

// TestTemplateOwnersOncePerIndex: every check of an audit walks the same
// list, built once per index, sorted by reference, and the list without
// the platform namespaces likewise; another index gets its own.
func TestTemplateOwnersOncePerIndex(t *testing.T) {
	t.Parallel()
	pod := func(ns, name string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	s := &snapshot.Snapshot{Pods: []corev1.Pod{pod("shop", "web"), pod("kube-system", "dns"), pod("shop", "api")}}
	ix := snapshot.NewIndex(s)
	first, again := templateOwners(ix), templateOwners(ix)
	if len(first) != 3 || &first[0] != &again[0] {
		t.Fatalf("templateOwners built twice (or wrong): %d owners", len(first))
	}
	var names []string
	for _, o := range first {
		names = append(names, o.Ref.String())
	}
	if want := "Pod/kube-system/dns Pod/shop/api Pod/shop/web"; joinWords(names) != want {
		t.Errorf("order: got %s, want %s", joinWords(names), want)
	}
	users, usersAgain := userTemplateOwners(ix), userTemplateOwners(ix)
	if len(users) != 2 || &users[0] != &usersAgain[0] {
		t.Errorf("userTemplateOwners: %d owners or built twice", len(users))
	}
	if other := templateOwners(snapshot.NewIndex(s)); &other[0] == &first[0] {
		t.Error("another index shares the list")
	}
}

func joinWords(ws []string) string {
	out := ""
	for i, w := range ws {
		if i > 0 {
			out += " "
		}
		out += w
	}
	return out
}
