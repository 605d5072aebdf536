package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/scenario"
)

const head = "apiVersion: purser.dev/v1alpha1\nkind: Config\n"

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
	}{
		{"valid", `audit:
  disable: [pod-crashloop]
  overrides: [{check: namespace-empty, severity: warning}]
  exemptions: [{check: "*", namespace: "dev-*", reason: sandbox}]
  requiredNamespaceLabels: [team]
`, ""},
		{"unknown section", "audits: {}\n", `t.yaml:3: audits: unknown field; did you mean "audit"?`},
		{"removed section", "budget: {}\n", `t.yaml:3: budget: unknown field; expected one of apiVersion, audit, classify, clusters, cost, govern, kind, plan`},
		{"unknown disabled", "audit:\n  disable: [pod-crashlop]\n", `t.yaml:4: audit.disable[0]: unknown check "pod-crashlop"; did you mean "pod-crashloop"?`},
		{"unknown override", "audit:\n  overrides:\n  - check: nope\n    severity: info\n", `t.yaml:5: audit.overrides[0].check: unknown check "nope"`},
		{"bad severity", "audit:\n  overrides:\n  - check: pod-crashloop\n    severity: high\n", `t.yaml:6: audit.overrides[0].severity: unknown severity "high"`},
		{"bad glob", "audit:\n  exemptions:\n  - check: '*'\n    name: '[a'\n", `t.yaml:6: audit.exemptions[0].name: bad pattern`},
		{"empty label", "audit:\n  requiredNamespaceLabels: ['']\n", `t.yaml:4: audit.requiredNamespaceLabels[0]: empty label key`},
		{"unknown field", "audit:\n  overides: []\n", `t.yaml:4: audit.overides: unknown field; did you mean "overrides"?`},
		{"duplicate key", "cost:\n  weights: {cpu: 50, memory: 50}\n  weights: {cpu: 10, memory: 90}\n", `t.yaml:5: cost.weights: mapping key "weights" already defined at line 4`},
		{"type error", "cost:\n  weights: {cpu: lots}\n", `t.yaml:4: cost.weights`},
		{"cost validation", "cost:\n  lineItems:\n  - name: egress\n    category: fuel\n    monthly: \"1\"\n", `t.yaml:6: cost.lineItems[0].category: got "fuel"`},
		{"classify validation", "classify:\n  teams:\n  - name: a\n", `t.yaml:5: classify.teams[0].match: expected at least one name pattern`},
		{"plan validation", "plan:\n  renames:\n  - sources: [\"a\"]\n    suffix: \"_X\"\n", `t.yaml:6: plan.renames[0].suffix`},
		{"fraction into a percentage", "plan:\n  packing:\n    targetUtilization: 99.9\n", `t.yaml:5: plan.packing.targetUtilization: got a number 99.9, expected a whole number`},
		{"fraction into a weight", "cost:\n  weights: {cpu: 0.9, memory: 50}\n", `t.yaml:4: cost.weights.cpu: got a number 0.9, expected a whole number`},
		{"word into a weight", "cost:\n  weights: {cpu: lots}\n", `t.yaml:4: cost.weights.cpu: got a string "lots", expected a whole number`},
		{"not a boolean", "cost:\n  haControlPlane: maybe\n", `t.yaml:4: cost.haControlPlane: got a string "maybe", expected true or false`},
		{"flow mapping", "plan: {roi: {days: x}}\n", `t.yaml:3: plan.roi.days: got a string "x", expected a whole number`},
		{"mapping for a list", "plan:\n  protected:\n    a: b\n", `t.yaml:4: plan.protected: got a mapping, expected a list`},
		{"list for a string", "cost:\n  priceBook: [a.yaml]\n", `t.yaml:4: cost.priceBook: got a list, expected a string`},
		{"merged unknown field", "audit:\n  overrides:\n  - &o {check: pod-crashloop, severity: info}\n  exemptions: [{<<: *o, namespace: a}]\n",
			`t.yaml:6: audit.exemptions[0].severity: unknown field; expected one of check, kind, name, namespace, reason`},
		{"aliased value validated", "audit:\n  exemptions:\n  - {check: pod-crashloop, name: a, reason: &p '[a'}\n  - check: pod-crashloop\n    name: *p\n",
			`t.yaml:7: audit.exemptions[1].name: bad pattern "[a"`},
		{"aliased validation", "audit:\n  exemptions:\n  - &e {check: pod-crashloop, namespace: a}\n  overrides:\n  - *e\n",
			`t.yaml:7: audit.overrides[0].namespace: unknown field`},
		{"wrong version", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := head + tt.body
			want := tt.want
			if tt.name == "wrong version" {
				data, want = strings.Replace(head, "v1alpha1", "v1", 1), `t.yaml:1: apiVersion: got "purser.dev/v1", expected "purser.dev/v1alpha1"`
			}
			cfg, err := Parse("t.yaml", []byte(data))
			switch {
			case want == "" && err != nil:
				t.Fatalf("valid config rejected: %v", err)
			case want == "":
				a := cfg.Audit
				if len(a.Disable) != 1 || len(a.Overrides) != 1 || len(a.Exemptions) != 1 || a.RequiredNamespaceLabels[0] != "team" {
					t.Errorf("decoded %+v", a)
				}
			case err == nil || !strings.Contains(err.Error(), want):
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
}

func TestMergedExemption(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("t.yaml", []byte(head+`audit:
  exemptions:
  - &sandbox {check: "*", namespace: "sandbox-*", reason: load tests}
  - {<<: *sandbox, namespace: "perf-*"}
`))
	if err != nil {
		t.Fatal(err)
	}
	ex := cfg.Audit.Exemptions
	if len(ex) != 2 || ex[1].Check != "*" || ex[1].Namespace != "perf-*" || ex[1].Reason != "load tests" {
		t.Errorf("exemptions decoded as %+v", ex)
	}
}

func TestDemoConfig(t *testing.T) {
	t.Parallel()
	cfg, err := Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Classify.Teams) == 0 || cfg.Cost.Prices.LoadBalancer != "10" || cfg.Plan.ROI.Days != 10 {
		t.Errorf("demo config decoded as %+v", cfg)
	}
}

func TestPriceBookPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "purser.yaml")
	if err := os.WriteFile(path, []byte(head+"cost:\n  priceBook: prices.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.PriceBookPath(); got != filepath.Join(dir, "prices.yaml") {
		t.Errorf("price book %s, want it beside the config", got)
	}
	if got := Default().PriceBookPath(); got != "" {
		t.Errorf("defaults name a price book: %q", got)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("a missing file gave %v", err)
	}
}

// What Encode writes reads back as the same configuration.
func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	demo, err := Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	out, err := demo.Encode("the demo's configuration", map[string]string{"classify.teams": "teams, as the demo names them"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("encoded.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(back.Classify, demo.Classify) || !reflect.DeepEqual(back.Cost, demo.Cost) ||
		!reflect.DeepEqual(back.Plan, demo.Plan) || !reflect.DeepEqual(back.Audit, demo.Audit) {
		t.Errorf("the encoded config reads back differently:\n%s", out)
	}
	for _, want := range []string{"# the demo's configuration", "# teams, as the demo names them", "loadBalancer: \"10\""} {
		if !strings.Contains(string(out), want) {
			t.Errorf("encoded config lacks %q", want)
		}
	}
	if strings.Contains(string(out), "teamLabel") {
		t.Error("an empty field was written")
	}
}
