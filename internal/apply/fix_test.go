package apply

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/snapshot"
)

// fixPlan is a plan of three fixes: a NetworkPolicy to create, a Service
// to patch, a ConfigMap to delete.
func fixPlan() *plan.Plan {
	svc := snapshot.Ref{Kind: "Service", Namespace: "shop", Name: "web"}
	cm := snapshot.Ref{Kind: "ConfigMap", Namespace: "shop", Name: "old"}
	np := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "default-deny", "namespace": "shop"}}}
	return &plan.Plan{Metadata: plan.Metadata{Strategy: plan.StrategyFix}, Spec: plan.Spec{
		Fixes: []plan.Fix{
			{Check: "configmap-unused", Object: cm, Action: plan.FixDelete, Target: &cm},
			{Check: "service-no-endpoints", Object: svc, Action: plan.FixPatch, Target: &svc, PatchType: "merge", Patch: `{"spec":{"selector":{"app":"web"}}}`},
			{Check: "namespace-no-networkpolicy", Object: snapshot.Ref{Kind: "Namespace", Name: "shop"}, Action: plan.FixCreate, Manifests: []*unstructured.Unstructured{np}},
		},
		Preconditions: []plan.Precondition{
			{APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "old", UID: "u1", ResourceVersion: "1", Action: plan.ActionDelete},
			{APIVersion: "v1", Kind: "Service", Namespace: "shop", Name: "web", UID: "u2", ResourceVersion: "2", Action: plan.ActionPatch},
		},
	}}
}

func TestFixSteps(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(p *plan.Plan)
		want []string // "change object", or the error
		err  string
	}{
		{name: "patch with the workloads, NetworkPolicies after, delete last",
			want: []string{"patch Service shop/web", "create NetworkPolicy shop/default-deny", "delete ConfigMap shop/old"}},
		{name: "a patch without its precondition",
			edit: func(p *plan.Plan) { p.Spec.Preconditions = p.Spec.Preconditions[:1] },
			err:  "spec.fixes[1] (service-no-endpoints Service/shop/web): Service shop/web has no patch precondition"},
		{name: "a precondition no fix uses",
			edit: func(p *plan.Plan) { p.Spec.Fixes = p.Spec.Fixes[1:] },
			err:  "delete ConfigMap shop/old: acted on by no target move or deletion"},
		{name: "an unknown patch type",
			edit: func(p *plan.Plan) { p.Spec.Fixes[1].PatchType = "apply" },
			err:  `patch type "apply" is not merge, strategic or json`},
		{name: "an unknown action",
			edit: func(p *plan.Plan) { p.Spec.Fixes[2].Action = "scale" },
			err:  `unknown fix action "scale"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := fixPlan()
			if tc.edit != nil {
				tc.edit(p)
			}
			steps, err := Steps(p)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range steps {
				got = append(got, string(s.Change)+" "+s.Object.String())
				if s.Change == ChangePatch && (s.Object.UID != "u2" || s.Object.ResourceVersion != "2" || s.PatchType != "merge") {
					t.Errorf("patch step %+v: not the plan's precondition and patch", s)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("steps\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestGuarded(t *testing.T) {
	t.Parallel()
	cases := []struct{ typ, body, want string }{
		{"merge", `{"spec":{"selector":{"app":null}}}`, `{"metadata":{"resourceVersion":"7"},"spec":{"selector":{"app":null}}}`},
		{"strategic", `{"metadata":{"labels":{"a":"b"}}}`, `{"metadata":{"labels":{"a":"b"},"resourceVersion":"7"}}`},
		{"json", `[{"op":"remove","path":"/spec/selector/app"}]`,
			`[{"op":"test","path":"/metadata/resourceVersion","value":"7"},{"op":"remove","path":"/spec/selector/app"}]`},
	}
	for _, tc := range cases {
		got, err := guarded(tc.typ, tc.body, "7")
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%s: %s, want %s", tc.typ, got, tc.want)
		}
	}
}
