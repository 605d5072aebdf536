package plan

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// demoAudit audits the demo with the given checks, with an unused
// ConfigMap and an unused Secret in namespace shop-leftovers.
func demoAudit(t *testing.T, ids ...string) (*snapshot.Index, *audit.Result) {
	t.Helper()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	meta := func(name, uid string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: "nextstep", UID: types.UID(uid), ResourceVersion: "42"}
	}
	s.ConfigMaps = append(s.ConfigMaps, corev1.ConfigMap{ObjectMeta: meta("old-settings", "cm-uid"), Data: map[string]string{"a": "b"}})
	s.Secrets = append(s.Secrets, corev1.Secret{ObjectMeta: meta("old-token", "secret-uid")})
	ix := snapshot.NewIndex(s)
	res, err := audit.Run(context.Background(), ix, checks.Registry(), nil, audit.Options{Checks: ids})
	if err != nil {
		t.Fatal(err)
	}
	return ix, res
}

func TestBuildFixes(t *testing.T) {
	t.Parallel()
	type want struct {
		action, check string
		// objects are "Kind ns/name" of what the fixes touch or create.
		objects []string
		// manual are "object: reason prefix".
		manual []string
		// preconditions are "action Kind ns/name".
		preconditions []string
	}
	cases := []struct {
		name       string
		checks     []string
		sel        FixSelection
		incomplete string
		want       want
	}{
		{
			name:   "selector patches, public-api advice only",
			checks: []string{"service-no-endpoints"},
			want: want{action: FixPatch, check: "service-no-endpoints",
				objects: []string{"Service jaeger/jaeger-collector", "Service jaeger/jaeger-query", "Service monitoring/alertmanager",
					"Service monitoring/prometheus-node-exporter", "Service monitoring/prometheus-server"},
				manual: []string{"Service onlyoneapi-prod/public-api: the remediation is advice"},
				preconditions: []string{"patch Service jaeger/jaeger-collector", "patch Service jaeger/jaeger-query", "patch Service monitoring/alertmanager",
					"patch Service monitoring/prometheus-node-exporter", "patch Service monitoring/prometheus-server"}},
		},
		{
			name:   "narrowed to a namespace and an object",
			checks: []string{"service-no-endpoints"},
			sel:    FixSelection{Namespace: "jaeger", Objects: []snapshot.Ref{{Kind: "service", Name: "jaeger-query"}}},
			want: want{action: FixPatch, check: "service-no-endpoints", objects: []string{"Service jaeger/jaeger-query"},
				preconditions: []string{"patch Service jaeger/jaeger-query"}},
		},
		{
			name:   "a namespace's finding is in it for -n",
			checks: []string{"namespace-no-networkpolicy"},
			sel:    FixSelection{Namespace: "directus"},
			want:   want{action: FixCreate, check: "namespace-no-networkpolicy", objects: []string{"NetworkPolicy directus/baseline"}},
		},
		{
			name:       "an incomplete check fixes nothing",
			checks:     []string{"service-no-endpoints"},
			sel:        FixSelection{Namespace: "jaeger"},
			incomplete: "service-no-endpoints",
			want:       want{manual: []string{"Service jaeger/jaeger-collector: the check could not read", "Service jaeger/jaeger-query: the check could not read"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ix, res := demoAudit(t, tc.checks...)
			for i := range res.Checks {
				if res.Checks[i].ID == tc.incomplete {
					res.Checks[i].Status = audit.StatusIncomplete
				}
			}
			sel := tc.sel
			sel.Checks = tc.checks
			p, err := BuildFixes(FixInput{Index: ix, Audit: res, Select: sel})
			if err != nil {
				t.Fatal(err)
			}
			var objects, manual, pre []string
			for _, f := range p.Spec.Fixes {
				if f.Action != tc.want.action || f.Check != tc.want.check {
					t.Errorf("fix %s %s: action %s, want %s", f.Check, f.Object, f.Action, tc.want.action)
				}
				if f.Target != nil {
					objects = append(objects, f.Target.Kind+" "+f.Target.Namespace+"/"+f.Target.Name)
				}
				for _, m := range f.Manifests {
					objects = append(objects, m.GetKind()+" "+m.GetNamespace()+"/"+m.GetName())
				}
			}
			for _, m := range p.Spec.Manual {
				manual = append(manual, m.Object.Kind+" "+m.Object.Namespace+"/"+m.Object.Name+": "+m.Reason)
			}
			for _, c := range p.Spec.Preconditions {
				if c.UID == "" || c.ResourceVersion == "" {
					t.Errorf("precondition %s %s/%s without uid or resourceVersion", c.Kind, c.Namespace, c.Name)
				}
				pre = append(pre, c.Action+" "+c.Kind+" "+c.Namespace+"/"+c.Name)
			}
			if strings.Join(objects, "\n") != strings.Join(tc.want.objects, "\n") {
				t.Errorf("fixes touch\n%s\nwant\n%s", strings.Join(objects, "\n"), strings.Join(tc.want.objects, "\n"))
			}
			if strings.Join(pre, "\n") != strings.Join(tc.want.preconditions, "\n") {
				t.Errorf("preconditions\n%s\nwant\n%s", strings.Join(pre, "\n"), strings.Join(tc.want.preconditions, "\n"))
			}
			if len(manual) != len(tc.want.manual) {
				t.Fatalf("manual %q, want %q", manual, tc.want.manual)
			}
			for i := range manual {
				if !strings.HasPrefix(manual[i], tc.want.manual[i]) {
					t.Errorf("manual[%d] %q, want it to start with %q", i, manual[i], tc.want.manual[i])
				}
			}
			roundTrip(t, p)
		})
	}
}

// roundTrip writes the plan and reads it back: same hash, same fixes.
func roundTrip(t *testing.T, p *Plan) {
	t.Helper()
	var buf bytes.Buffer
	if err := p.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Parse("fix.yaml", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if back.Metadata.ContentHash != p.Metadata.ContentHash || len(back.Spec.Fixes) != len(p.Spec.Fixes) || back.Metadata.Strategy != StrategyFix {
		t.Errorf("read back: hash %s, %d fixes; wrote %s, %d", back.Metadata.ContentHash, len(back.Spec.Fixes), p.Metadata.ContentHash, len(p.Spec.Fixes))
	}
}

// Each unused kind gets the fix its evidence allows: ConfigMaps are
// deleted, Secrets never, objects to create are created.
func TestBuildFixesByKind(t *testing.T) {
	t.Parallel()
	cases := []struct {
		check, action, reason string
	}{
		{check: "configmap-unused", action: FixDelete},
		{check: "secret-unused", reason: "deleting a Secret does not revoke"},
		{check: "namespace-no-networkpolicy", action: FixCreate},
		// A PriorityClass is only a fix with the patch of the DaemonSet
		// that its command runs after it.
		{check: "pod-pending", reason: "its command does more than apply"},
	}
	for _, tc := range cases {
		t.Run(tc.check, func(t *testing.T) {
			t.Parallel()
			ix, res := demoAudit(t, tc.check)
			p, err := BuildFixes(FixInput{Index: ix, Audit: res, Select: FixSelection{Checks: []string{tc.check}}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.action == "" {
				if len(p.Spec.Fixes) != 0 || len(p.Spec.Manual) == 0 {
					t.Fatalf("%d fixes, %d manual: want none fixed", len(p.Spec.Fixes), len(p.Spec.Manual))
				}
				for _, m := range p.Spec.Manual {
					if !strings.HasPrefix(m.Reason, tc.reason) {
						t.Errorf("%s: reason %q", m.Object, m.Reason)
					}
				}
				return
			}
			if len(p.Spec.Fixes) == 0 {
				t.Fatalf("no fix (%d manual: %+v)", len(p.Spec.Manual), p.Spec.Manual)
			}
			for _, f := range p.Spec.Fixes {
				if f.Action != tc.action {
					t.Errorf("%s: action %s, want %s", f.Object, f.Action, tc.action)
				}
				if tc.action == FixCreate && (len(f.Manifests) == 0 || f.Manifests[0].GetNamespace() == "") {
					t.Errorf("%s: no namespaced manifest", f.Object)
				}
			}
			if tc.action == FixDelete && len(p.Spec.Preconditions) != len(p.Spec.Fixes) {
				t.Errorf("%d preconditions for %d deletions", len(p.Spec.Preconditions), len(p.Spec.Fixes))
			}
			roundTrip(t, p)
		})
	}
}

// A patch of a Secret, whose backup would hold its values, and a second
// fix of one object are left to be done by hand.
func TestBuildFixesLeavesToHand(t *testing.T) {
	t.Parallel()
	ix, res := demoAudit(t, "configmap-unused")
	secret := snapshot.Ref{Kind: "Secret", Namespace: "nextstep", Name: "old-token"}
	cm := snapshot.Ref{Kind: "ConfigMap", Namespace: "nextstep", Name: "old-settings"}
	patch := func(r snapshot.Ref) audit.Remediation {
		return audit.Remediation{Patch: &audit.Patch{Target: r, Type: "merge", Body: `{"metadata":{"labels":{"a":"b"}}}`}}
	}
	res.Findings = []audit.Finding{
		{CheckID: "made-up", Object: secret, Remediation: patch(secret)},
		{CheckID: "made-up", Object: cm, Remediation: patch(cm)},
		{CheckID: "configmap-unused", Object: cm},
	}
	p, err := BuildFixes(FixInput{Index: ix, Audit: res})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Spec.Fixes) != 1 || p.Spec.Fixes[0].Action != FixPatch || p.Spec.Fixes[0].Target.Name != "old-settings" {
		t.Fatalf("fixes %+v", p.Spec.Fixes)
	}
	want := []string{"Purser does not patch Secrets", "is changed by another fix of this plan (made-up)"}
	if len(p.Spec.Manual) != len(want) {
		t.Fatalf("manual %+v", p.Spec.Manual)
	}
	for i, w := range want {
		if !strings.Contains(p.Spec.Manual[i].Reason, w) {
			t.Errorf("manual[%d]: %q, want %q", i, p.Spec.Manual[i].Reason, w)
		}
	}
}

func TestWhole(t *testing.T) {
	t.Parallel()
	patch := &audit.Patch{Type: "merge", Body: "{}"}
	cases := []struct {
		name string
		r    audit.Remediation
		want bool
	}{
		{"a manifest applied", audit.Remediation{Manifest: "x", Command: "kubectl apply --dry-run=server -f a.yaml && kubectl apply -f a.yaml"}, true},
		{"a patch applied, an alternative below", audit.Remediation{Patch: patch, Command: "kubectl patch service web --type merge --patch-file p.json\n# or delete it"}, true},
		{"a scale-up before the PDB", audit.Remediation{Manifest: "x", Command: "kubectl scale deployment web --replicas=2 && kubectl apply -f pdb.yaml"}, false},
		{"a PriorityClass and a patch", audit.Remediation{Manifest: "x", Command: "kubectl apply -f pc.yaml && kubectl patch daemonset a -p '{}'"}, false},
		{"two patches", audit.Remediation{Patch: patch, Command: "kubectl patch a && kubectl patch b"}, false},
	}
	for _, tc := range cases {
		if got := whole(tc.r); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The checks that call for a scale-up give it as a merge patch of
// spec.replicas: fix plans it under the workload's resourceVersion; a
// PodDisruptionBudget that must follow two replicas comes after the scale
// of the same Deployment; a workload whose volume forbids a second
// replica gets its budget alone.
func TestBuildFixesScaleUps(t *testing.T) {
	t.Parallel()
	cases := []struct {
		check string
		sel   FixSelection
		// fixes are "action target" or "create Kind ns/name", in order.
		fixes []string
	}{
		{check: "workload-scaled-to-zero", sel: FixSelection{Namespace: "konqer-dev"},
			fixes: []string{`patch Deployment konqer-dev/konqer-api {"spec":{"replicas":1}}`}},
		{check: "service-no-endpoints", sel: FixSelection{Namespace: "konqer-dev"},
			fixes: []string{`patch Deployment konqer-dev/konqer-api {"spec":{"replicas":1}}`}},
		{check: "deployment-single-replica-no-pdb", sel: FixSelection{Namespace: "n8n"},
			fixes: []string{`patch Deployment n8n/n8n {"spec":{"replicas":2}}`, "create PodDisruptionBudget n8n/n8n"}},
		{check: "deployment-single-replica-no-pdb", sel: FixSelection{Namespace: "wordpress"},
			fixes: []string{"create PodDisruptionBudget wordpress/wordpress"}},
	}
	for _, tc := range cases {
		t.Run(tc.check+" "+tc.sel.Namespace, func(t *testing.T) {
			t.Parallel()
			ix, res := scaledBehindService(t, tc.check)
			sel := tc.sel
			sel.Checks = []string{tc.check}
			p, err := BuildFixes(FixInput{Index: ix, Audit: res, Select: sel})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range p.Spec.Fixes {
				switch f.Action {
				case FixPatch:
					if f.PatchType != "merge" {
						t.Errorf("%s: patch type %s", f.Target, f.PatchType)
					}
					got = append(got, "patch "+f.Target.Kind+" "+f.Target.Namespace+"/"+f.Target.Name+" "+f.Patch)
				case FixCreate:
					for _, m := range f.Manifests {
						got = append(got, "create "+m.GetKind()+" "+m.GetNamespace()+"/"+m.GetName())
					}
				default:
					got = append(got, f.Action)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.fixes, "\n") {
				t.Fatalf("fixes\n%s\nwant\n%s\nmanual %+v", strings.Join(got, "\n"), strings.Join(tc.fixes, "\n"), p.Spec.Manual)
			}
			if len(p.Spec.Manual) != 0 {
				t.Errorf("manual %+v", p.Spec.Manual)
			}
			for _, f := range p.Spec.Fixes {
				if f.Action != FixPatch {
					continue
				}
				found := false
				for _, c := range p.Spec.Preconditions {
					found = found || c.Action == ActionPatch && c.Kind == f.Target.Kind && c.Namespace == f.Target.Namespace &&
						c.Name == f.Target.Name && c.ResourceVersion != ""
				}
				if !found {
					t.Errorf("%s: no patch precondition with a resourceVersion", f.Target)
				}
			}
			roundTrip(t, p)
		})
	}
}

// scaledBehindService is the demo, its objects with uids and
// resourceVersions, with a Service in front of konqer-dev's konqer-api,
// which is scaled to 0.
func scaledBehindService(t *testing.T, check string) (*snapshot.Index, *audit.Result) {
	t.Helper()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]string
	for i := range s.Deployments {
		d := &s.Deployments[i]
		d.UID, d.ResourceVersion = types.UID("uid-"+d.Namespace+"-"+d.Name), "7"
		if d.Namespace == "konqer-dev" && d.Name == "konqer-api" {
			tpl = d.Spec.Template.Labels
		}
	}
	if tpl == nil {
		t.Fatal("the demo has no konqer-dev/konqer-api")
	}
	s.Services = append(s.Services, corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "konqer-api", Namespace: "konqer-dev", UID: "svc-uid", ResourceVersion: "8"},
		Spec: corev1.ServiceSpec{Selector: tpl, Ports: []corev1.ServicePort{{Port: 80}}}})
	ix := snapshot.NewIndex(s)
	res, err := audit.Run(context.Background(), ix, checks.Registry(), nil, audit.Options{Checks: []string{check}})
	if err != nil {
		t.Fatal(err)
	}
	return ix, res
}

func TestScaleCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cmd  string
		want string // "Kind ns/name N", or "" for no scale command
	}{
		{"kubectl scale deployment/web --replicas=1 -n shop", "Deployment shop/web 1"},
		{"kubectl scale deployment web -n shop --replicas=2", "Deployment shop/web 2"},
		{"kubectl scale 'statefulset/db' --replicas=3 --namespace 'shop'", "StatefulSet shop/db 3"},
		{"kubectl scale deployment/web --replicas=1", ""},               // no namespace: which one is not said
		{"kubectl scale deployment/web -n shop", ""},                    // no replicas
		{"kubectl scale deployment/web --replicas=-1 -n shop", ""},      // not a count
		{"kubectl scale replicaset/web --replicas=1 -n shop", ""},       // not a workload fix sets
		{"kubectl scale deployment/web --replicas=1 -n shop --all", ""}, // another flag
		{"kubectl scale deployment a b --replicas=1 -n shop", ""},
		{"kubectl patch deployment web -n shop -p '{}'", ""},
	}
	for _, tc := range cases {
		ref, n, ok := scaleCommand(tc.cmd)
		got := ""
		if ok {
			got = fmt.Sprintf("%s %s/%s %d", ref.Kind, ref.Namespace, ref.Name, n)
		}
		if got != tc.want {
			t.Errorf("%q: %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

// A kubectl scale before a manifest is taken for a patch of the
// replicas only when it scales the finding's own workload.
func TestLeadingScale(t *testing.T) {
	t.Parallel()
	web := snapshot.Ref{Kind: "Deployment", Namespace: "shop", Name: "web"}
	cases := []struct {
		name      string
		r         audit.Remediation
		scale     string // the split-off patch body, or ""
		whole     bool
		remaining string
	}{
		{"a scale before the budget", audit.Remediation{Manifest: "x", Command: "kubectl scale deployment web -n shop --replicas=2 && kubectl apply -f pdb.yaml"},
			`{"spec":{"replicas":2}}`, true, "kubectl apply -f pdb.yaml"},
		{"an alternative below is kept", audit.Remediation{Manifest: "x", Command: "kubectl scale deployment web -n shop --replicas=2 && kubectl apply -f pdb.yaml\n# or leave it single"},
			`{"spec":{"replicas":2}}`, true, "kubectl apply -f pdb.yaml\n# or leave it single"},
		{"a scale of another workload before the budget", audit.Remediation{Manifest: "x", Command: "kubectl scale deployment other -n shop --replicas=2 && kubectl apply -f pdb.yaml"},
			"", false, "kubectl scale deployment other -n shop --replicas=2 && kubectl apply -f pdb.yaml"},
		{"a scale and nothing to apply after it", audit.Remediation{Manifest: "x", Command: "kubectl scale deployment web -n shop --replicas=2"},
			"", false, "kubectl scale deployment web -n shop --replicas=2"},
		{"a patch's command is the patch's", audit.Remediation{Patch: &audit.Patch{Target: web, Type: "merge", Body: "{}"}, Command: "kubectl scale deployment web -n shop --replicas=2"},
			"", false, "kubectl scale deployment web -n shop --replicas=2"},
	}
	for _, tc := range cases {
		scale, r := leadingScale(audit.Finding{Object: web, Remediation: tc.r})
		got := ""
		if scale != nil {
			got = scale.Body
			if scale.Target != web {
				t.Errorf("%s: scale of %s", tc.name, scale.Target)
			}
		}
		if got != tc.scale || r.Command != tc.remaining || whole(r) != tc.whole {
			t.Errorf("%s: scale %q, command %q, whole %v; want %q, %q, %v", tc.name, got, r.Command, whole(r), tc.scale, tc.remaining, tc.whole)
		}
	}
}
