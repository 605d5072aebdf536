package admission

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

func strategySet(t *testing.T, corrected bool) *Set {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "strategy-gatekeeper.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if corrected {
		// The one fix the strategy needs: parameters are input.parameters.
		data = bytes.ReplaceAll(data, []byte("data.regex"), []byte("input.parameters.regex"))
	}
	s, err := Parse("strategy-gatekeeper.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func generated(t *testing.T, cfg govern.Config, vap bool) *Set {
	t.Helper()
	in := govern.Input{Config: cfg}
	objs := govern.AdmissionPolicies(in)
	if !vap {
		var err error
		if objs, err = govern.GatekeeperTemplates(in); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := govern.WriteYAML(&buf, objs); err != nil {
		t.Fatal(err)
	}
	s, err := Parse("generated.yaml", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != len(objs) {
		t.Fatalf("read %d rules back, generated %d", s.Len(), len(objs))
	}
	return s
}

func TestLint(t *testing.T) {
	t.Parallel()
	badVAP := `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: bad}
spec:
  matchConstraints: {resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]}
  validations:
  - expression: object.metadata.name.matches(
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: orphan}
spec: {policyName: missing, validationActions: [Deny]}
`
	noViolation := `apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sempty}
spec:
  crd: {spec: {names: {kind: K8sEmpty}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8sempty
      deny[msg] { msg := "x" }
`
	badImport := strings.Replace(noViolation, "deny[msg]", "import data.other\n      violation[{\"msg\": msg}]", 1)
	for _, tc := range []struct {
		name string
		set  func(t *testing.T) *Set
		want []string
	}{
		{"strategy template verbatim", func(t *testing.T) *Set { return strategySet(t, false) }, []string{
			"ConstraintTemplate/nexianaming: spec.crd.spec.validation has no openAPIV3Schema",
			"ConstraintTemplate/nexianaming: invalid ConstraintTemplate: invalid data references: check refs failed on module {template}: disallowed ref data.regex, disallowed ref data.regex",
			"NexiaNaming/deployment-naming: no valid ConstraintTemplate of kind NexiaNaming",
		}},
		{"strategy template corrected", func(t *testing.T) *Set { return strategySet(t, true) }, []string{
			"ConstraintTemplate/nexianaming: spec.crd.spec.validation has no openAPIV3Schema",
			"ConstraintTemplate/nexianaming: the Rego reads input.parameters.regex, which the schema does not require",
		}},
		{"no violation rule", func(t *testing.T) *Set { s, _ := Parse("t.yaml", []byte(noViolation)); return s }, []string{
			"ConstraintTemplate/k8sempty: invalid ConstraintTemplate: invalid rego: invalid module: missing required rules: [violation]",
		}},
		{"bad import", func(t *testing.T) *Set { s, _ := Parse("t.yaml", []byte(badImport)); return s }, []string{
			`ConstraintTemplate/k8sempty: invalid ConstraintTemplate: invalid import: bad import: "data.other"`,
		}},
		{"bad CEL", func(t *testing.T) *Set { s, _ := Parse("v.yaml", []byte(badVAP)); return s }, []string{
			`ValidatingAdmissionPolicy/bad: spec.validations[0].expression: Invalid value: "object.metadata.name.matches(": compilation failed: ERROR:`,
			`ValidatingAdmissionPolicyBinding/orphan: policy "missing" is not among the files`,
		}},
		{"generated gatekeeper", func(t *testing.T) *Set { return generated(t, govern.Config{}, false) }, nil},
		{"generated vap", func(t *testing.T) *Set { return generated(t, govern.Config{}, true) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, p := range Lint(tc.set(t)) {
				got = append(got, p.Object+": "+p.Message)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], w)
				}
			}
		})
	}
}

// verdicts maps each violating object to its messages, without the
// engine's wrapping.
func verdicts(res *Result) map[string][]string {
	out := map[string][]string{}
	for _, v := range res.Violations {
		msg := v.Message
		if i := strings.Index(msg, "denied request: "); v.Engine == "vap" && i >= 0 {
			msg = msg[i+len("denied request: "):]
		}
		key := v.Kind + " " + v.Namespace + "/" + v.Name
		out[key] = append(out[key], msg)
	}
	return out
}

func TestBlueOceanNaming(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	strategy, err := Test(t.Context(), strategySetFixed(t), s)
	if err != nil {
		t.Fatal(err)
	}
	naming := govern.Config{Admission: govern.AdmissionConfig{Rules: []string{govern.RuleNaming}}}
	vap, err := Test(t.Context(), generated(t, naming, true), s)
	if err != nil {
		t.Fatal(err)
	}
	gk, err := Test(t.Context(), generated(t, naming, false), s)
	if err != nil {
		t.Fatal(err)
	}
	// The strategy's template checks every Deployment, system ones too.
	var want []string
	for _, d := range s.Deployments {
		if !strings.HasPrefix(d.Namespace, "kube-") && !matchesStrategy(d.Name) {
			want = append(want, "Deployment "+d.Namespace+"/"+d.Name)
		}
	}
	slices.Sort(want)
	if len(want) == 0 || len(want) == len(s.Deployments) {
		t.Fatalf("%d of %d BlueOcean Deployments break the convention: the test shows nothing", len(want), len(s.Deployments))
	}
	strategyV := verdicts(strategy)
	for k := range strategyV {
		if strings.Contains(k, " kube-") {
			delete(strategyV, k)
		}
	}
	for name, got := range map[string]map[string][]string{"strategy": strategyV, "vap": verdicts(vap), "gatekeeper": verdicts(gk)} {
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("%s: violators\n got %v\nwant %v", name, keys, want)
		}
	}
	// The generated Rego and CEL say the same words.
	if g, v := verdicts(gk), verdicts(vap); !equalVerdicts(g, v) {
		t.Errorf("Gatekeeper and the ValidatingAdmissionPolicy differ:\n%v\n%v", g, v)
	}
	t.Logf("%d of %d Deployments break the naming convention; e.g. %v", len(want), len(s.Deployments), gk.Violations[0].Message)
}

func TestGeneratedRulesAgree(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	gk, err := Test(t.Context(), generated(t, govern.Config{}, false), s)
	if err != nil {
		t.Fatal(err)
	}
	vap, err := Test(t.Context(), generated(t, govern.Config{}, true), s)
	if err != nil {
		t.Fatal(err)
	}
	g, v := verdicts(gk), verdicts(vap)
	if len(g) == 0 || !equalVerdicts(g, v) {
		t.Errorf("every rule: Gatekeeper gives %d violators, the policies %d, or their messages differ", len(g), len(v))
		for k := range g {
			if !slices.Equal(g[k], v[k]) {
				t.Errorf("%s:\n gatekeeper %q\n vap        %q", k, g[k], v[k])
			}
		}
		for k := range v {
			if _, ok := g[k]; !ok {
				t.Errorf("%s: vap only %q", k, v[k])
			}
		}
	}
	t.Logf("%d objects reviewed, %d violations", gk.Reviewed, len(gk.Violations))
}

func equalVerdicts(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w := slices.Clone(b[k])
		v = slices.Clone(v)
		slices.Sort(v)
		slices.Sort(w)
		if !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// strategySetFixed is the strategy's template with input.parameters and
// the schema under openAPIV3Schema, as Gatekeeper wants it.
func strategySetFixed(t *testing.T) *Set {
	s := strategySet(t, true)
	for _, tpl := range s.Templates {
		v := tpl.Obj.Object["spec"].(map[string]any)["crd"].(map[string]any)["spec"].(map[string]any)
		schema := v["validation"].(map[string]any)
		schema["required"] = []any{"regex"}
		v["validation"] = map[string]any{"openAPIV3Schema": schema}
	}
	return s
}

func matchesStrategy(name string) bool {
	return regexp.MustCompile(govern.StrategyNamingRegex).MatchString(name)
}

// Plain Rego policies review each object as their input, as conftest's
// do, in Rego v1 or v0, and may import one another.
func TestPlainRego(t *testing.T) {
	t.Parallel()
	set, err := Load([]string{filepath.Join("testdata", "rego")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if problems := Lint(set); len(problems) > 0 {
		t.Fatalf("lint: %+v", problems)
	}
	s, err := snapshot.Load(t.Context(), filepath.Join("testdata", "rego-objects.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Test(t.Context(), set, s)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range res.Violations {
		got = append(got, v.Engine+" "+v.Namespace+"/"+v.Name+": "+v.Message)
	}
	want := []string{
		"rego shop/cart: Deployment cart has no team label",
		"rego shop/cart-np: Service cart-np is a NodePort",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	bad := &Set{Rego: []RegoFile{{Source: Source{File: "bad.rego", Doc: 1}, Text: "package x\ndeny contains msg if {"},
		{Source: Source{File: "idle.rego", Doc: 1}, Text: "package idle\nallow := true\n"}}}
	problems := Lint(bad)
	if len(problems) != 1 || !strings.Contains(problems[0].Message, "bad.rego:2") {
		t.Errorf("a syntax error: %+v", problems)
	}
	idle := &Set{Rego: bad.Rego[1:]}
	if problems := Lint(idle); len(problems) != 1 || !strings.Contains(problems[0].Message, "neither deny nor violation") {
		t.Errorf("a policy that reports nothing: %+v", problems)
	}
}

// A rule's severity follows what it does: deny, warn or dry run.
func TestSeverities(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	naming := govern.Config{Admission: govern.AdmissionConfig{Rules: []string{govern.RuleNaming}}}
	for _, tc := range []struct {
		action string
		want   audit.Severity
	}{{"deny", audit.Error}, {"warn", audit.Warning}, {"dryrun", audit.Info}} {
		set := generated(t, naming, false)
		if err := unstructured.SetNestedField(set.Constraints[0].Obj.Object, tc.action, "spec", "enforcementAction"); err != nil {
			t.Fatal(err)
		}
		res, err := Test(t.Context(), set, s)
		if err != nil {
			t.Fatal(err)
		}
		a := res.Audit("demo", audit.ModeCluster)
		if len(a.Findings) == 0 || len(a.Checks) != 1 || a.Checks[0].Findings != len(a.Findings) {
			t.Fatalf("%s: %d findings, checks %+v", tc.action, len(a.Findings), a.Checks)
		}
		for _, f := range a.Findings {
			if f.Severity != tc.want || f.CheckID != "gatekeeper:PurserNaming/deployment-naming" {
				t.Errorf("%s: finding %s %s, want severity %s", tc.action, f.CheckID, f.Severity, tc.want)
			}
		}
	}
}

// Bindings that only audit, and policies with parameters, are said to be
// skipped, not evaluated into false violations.
func TestSkipped(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	naming := govern.Config{Admission: govern.AdmissionConfig{Rules: []string{govern.RuleNaming}}}
	audited := generated(t, naming, true)
	audited.Bindings[0].Obj.Spec.ValidationActions = []admissionv1.ValidationAction{admissionv1.Audit}
	withParams := generated(t, naming, true)
	withParams.Policies[0].Obj.Spec.ParamKind = &admissionv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"}
	for name, tc := range map[string]struct {
		set  *Set
		want string
	}{
		"audit only": {audited, "neither deny nor warn"},
		"params":     {withParams, "paramKind ConfigMap"},
	} {
		res, err := Test(t.Context(), tc.set, s)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Violations) != 0 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], tc.want) {
			t.Errorf("%s: %d violations, skipped %q", name, len(res.Violations), res.Skipped)
		}
	}
}
