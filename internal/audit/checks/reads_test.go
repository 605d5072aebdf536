package checks

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// Every check declares what it reads, in names the snapshot's kinds table
// uses: a misspelt name would never match an unlisted kind and would hide
// exactly the gap the declaration is for.
func TestChecksDeclareModelledKinds(t *testing.T) {
	t.Parallel()
	modelled := map[string]bool{audit.EveryNamespacedKind: true}
	for _, k := range snapshot.ModelledKinds() {
		modelled[k.GroupResource()] = true
	}
	for _, c := range Registry() {
		r, ok := c.(audit.Reader)
		if !ok {
			t.Errorf("check %s does not declare the kinds it reads", c.ID())
			continue
		}
		if len(r.Reads()) == 0 {
			t.Errorf("check %s declares no kind", c.ID())
		}
		for _, k := range r.Reads() {
			if !modelled[k] {
				t.Errorf("check %s reads %q, which is not a modelled kind", c.ID(), k)
			}
		}
	}
}

func TestIncompleteWhenAReadKindIsUnlisted(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "secret-unused", "fail-orphan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		unlisted       snapshot.KindStatus
		wantIncomplete map[string][]string // check ID -> unread kinds
		wantComplete   []string
	}{
		{
			name:     "secrets forbidden",
			unlisted: snapshot.KindStatus{Version: "v1", Resource: "secrets", Kind: "Secret", Namespaced: true, Error: "forbidden"},
			wantIncomplete: map[string][]string{
				"secret-unused":   {"secrets"},
				"namespace-empty": {"secrets"},
			},
			wantComplete: []string{"pod-crashloop", "networkpolicy-egress-blocks-dns"},
		},
		{
			name: "network policies forbidden",
			unlisted: snapshot.KindStatus{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies",
				Kind: "NetworkPolicy", Namespaced: true, Error: "forbidden"},
			wantIncomplete: map[string][]string{
				"namespace-no-networkpolicy":      {"networkpolicies.networking.k8s.io"},
				"networkpolicy-egress-blocks-dns": {"networkpolicies.networking.k8s.io"},
				"namespace-empty":                 {"networkpolicies.networking.k8s.io"},
			},
			wantComplete: []string{"secret-unused", "pod-crashloop"},
		},
		{
			name: "cluster role bindings forbidden",
			unlisted: snapshot.KindStatus{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings",
				Kind: "ClusterRoleBinding", Error: "forbidden"},
			wantIncomplete: map[string][]string{
				"clusterrolebinding-cluster-admin": {"clusterrolebindings.rbac.authorization.k8s.io"},
				"serviceaccount-unused":            {"clusterrolebindings.rbac.authorization.k8s.io"},
			},
			// A cluster-scoped kind never makes a namespace's contents unknown.
			wantComplete: []string{"namespace-empty", "secret-unused"},
		},
		{
			name:     "a custom resource forbidden",
			unlisted: snapshot.KindStatus{Group: "example.com", Version: "v1", Resource: "widgets", Kind: "Widget", Namespaced: true, Error: "forbidden"},
			wantIncomplete: map[string][]string{
				"namespace-empty": {"widgets.example.com"},
			},
			wantComplete: []string{"secret-unused", "pod-crashloop"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := snapshot.LoadManifests("fixture", data)
			if err != nil {
				t.Fatal(err)
			}
			s.SetKind(tt.unlisted)
			res, err := audit.Run(context.Background(), snapshot.NewIndex(s), Registry(), nil, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, c := range res.IncompleteChecks() {
				got[c.ID] = c.Unread
			}
			for id, want := range tt.wantIncomplete {
				if !slices.Equal(got[id], want) {
					t.Errorf("%s unread = %v, want %v", id, got[id], want)
				}
			}
			for _, id := range tt.wantComplete {
				if _, ok := got[id]; ok {
					t.Errorf("%s marked incomplete, though it reads none of the unlisted kinds", id)
				}
			}
			if res.Incomplete != len(got) {
				t.Errorf("Incomplete = %d, want %d", res.Incomplete, len(got))
			}
			for _, c := range res.Checks {
				if c.Status != audit.StatusOK && c.Status != audit.StatusIncomplete {
					t.Errorf("%s status = %q", c.ID, c.Status)
				}
			}
		})
	}
}
