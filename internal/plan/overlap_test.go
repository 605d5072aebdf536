package plan

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/snapshot"
)

// overlapSnapshot: namespaces prod-0..prod-(n-1) of environment
// production each run Deployment web-i (app=web) behind Service web-i, plus,
// in prod-0, a PDB on app=web and a Service selecting nothing moved.
func overlapSnapshot(n int) *snapshot.Snapshot {
	s := &snapshot.Snapshot{}
	web := map[string]string{"app": "web"}
	for i := range n {
		ns := fmt.Sprintf("prod-%d", i)
		s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"environment": "production"}}})
		// Named after their namespace: equal names would collide in the target.
		name := fmt.Sprintf("web-%d", i)
		s.Deployments = append(s.Deployments, appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: web},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}}}}})
		s.Services = append(s.Services, corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Selector: web, Ports: []corev1.ServicePort{{Port: 80}}}})
	}
	s.Services = append(s.Services, corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "prod-0", Name: "lonely"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "none"}, Ports: []corev1.ServicePort{{Port: 80}}}})
	s.PDBs = append(s.PDBs, policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: "prod-0", Name: "web"},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"front"}}}}}})
	return s
}

// TestSelectorOverlapsOnePerSelector: when a target merges namespaces that
// run the same app, each Service and PDB gets one issue naming the first
// few pods' owners it would also select and counting the rest, not one
// issue per pair; every namespace is scoped; a selector matching nothing
// else gets none; a single overlap reads as it always did.
func TestSelectorOverlapsOnePerSelector(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			p, err := Build(t.Context(), snapshot.NewIndex(overlapSnapshot(n)), Input{Strategy: StrategyEnvironment})
			if err != nil {
				t.Fatal(err)
			}
			var target *Target
			for i := range p.Spec.Targets {
				if p.Spec.Targets[i].Name == "production" {
					target = &p.Spec.Targets[i]
				}
			}
			if target == nil {
				t.Fatalf("no production target in %d targets", len(p.Spec.Targets))
			}
			var overlaps []Issue
			for _, c := range target.Conflicts {
				if c.Kind == IssueSelectorOverlap {
					overlaps = append(overlaps, c)
				}
			}
			// One per Service web and one for the PDB.
			if len(overlaps) != n+1 {
				t.Fatalf("%d selector-overlap issues, want %d:\n%v", len(overlaps), n+1, overlaps)
			}
			for _, c := range overlaps {
				if !c.Resolved() {
					t.Errorf("unresolved: %s", c.Message)
				}
				if strings.Contains(c.Message, "lonely") {
					t.Errorf("a Service selecting nothing else has an issue: %s", c.Message)
				}
			}
			first := overlaps[0]
			switch n {
			case 2:
				want := "in production, Service/prod-0/web-0 would also select the pods of Deployment/prod-1/web-1"
				if first.Message != want || first.Resolution != "selectors and pod labels of prod-0 and prod-1 scoped by label "+OriginLabel ||
					!slices.Equal(first.Objects, []string{"Service/prod-0/web-0", "Deployment/prod-1/web-1"}) {
					t.Errorf("single overlap:\n%+v", first)
				}
			case 7:
				want := "in production, Service/prod-0/web-0 would also select the pods of Deployment/prod-1/web-1, Deployment/prod-2/web-2, " +
					"Deployment/prod-3/web-3, Deployment/prod-4/web-4 and 2 more"
				if first.Message != want || first.Resolution != "selectors and pod labels of prod-0 and the 6 other namespaces whose pods it selects scoped by label "+OriginLabel ||
					len(first.Objects) != 5 {
					t.Errorf("grouped overlap:\n%+v", first)
				}
			}
			// Every moved Deployment and Service web is scoped by its origin.
			files, err := p.Tree()
			if err != nil {
				t.Fatal(err)
			}
			scoped := 0
			for _, f := range files {
				if strings.Contains(f.Path, "web") && strings.Contains(string(f.Data), OriginLabel) {
					scoped++
				}
			}
			if scoped < 2*n {
				t.Errorf("%d manifests of web carry %s, want at least %d", scoped, OriginLabel, 2*n)
			}
		})
	}
}
