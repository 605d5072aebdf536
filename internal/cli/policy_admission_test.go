package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyLint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gk, stderr, err := run(t, "generate", "gatekeeper")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	vap, stderr, err := run(t, "generate", "gatekeeper", "--as", "vap")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	for name, text := range map[string]string{"gk.yaml": gk, "vap.yaml": vap} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	strategy := filepath.Join("..", "admission", "testdata", "strategy-gatekeeper.yaml")
	for _, tc := range []struct {
		name     string
		args     []string
		exit     int
		contains string
	}{
		{"strategy", []string{strategy}, 2, "disallowed ref data.regex"},
		{"generated", []string{filepath.Join(dir, "gk.yaml"), filepath.Join(dir, "vap.yaml")}, 0, ""},
		{"directory", []string{dir}, 0, ""},
		{"no rules", []string{filepath.Join("testdata", "manifests", "guestbook", "web", "guestbook", "frontend-deployment.yaml")}, 1, "no ConstraintTemplate"},
		// The strategy's guardrails fail quietly in a cluster; lint names
		// each mistake DOMAIN.md lists, Gatekeeper's included.
		{"strategy guardrails", []string{filepath.Join(strategyDir, "as-applied")}, 2, "networkpolicy-selector-matches-nothing"},
		{"strategy guardrails DNS", []string{filepath.Join(strategyDir, "as-applied")}, 2, "networkpolicy-egress-blocks-dns"},
		{"strategy guardrails quota", []string{filepath.Join(strategyDir, "as-applied")}, 2, "quota-without-limitrange"},
		{"strategy guardrails binding", []string{filepath.Join(strategyDir, "as-applied")}, 2, "rolebinding-missing-role"},
		{"strategy guardrails autoscaler", []string{filepath.Join(strategyDir, "as-applied")}, 2, "hpa-metrics-unavailable"},
		{"strategy guardrails template", []string{filepath.Join(strategyDir, "as-applied")}, 2, "disallowed ref data.regex"},
		{"strategy verbatim quotas", []string{filepath.Join(strategyDir, "verbatim")}, 2, "phase2-quotas.yaml:1: document: not a Kubernetes object"},
		// What purser generate writes for the demo passes the same lint.
		{"generated guardrails", []string{filepath.Join(dir, "gk.yaml"), filepath.Join(dir, "vap.yaml"),
			filepath.Join("..", "govern", "testdata", "demo-namespaces.yaml"), filepath.Join("..", "govern", "testdata", "demo-networkpolicies.yaml"),
			filepath.Join("..", "govern", "testdata", "demo-quotas.yaml"), filepath.Join("..", "govern", "testdata", "demo-rbac.yaml")},
			0, "16 rules and 216 guardrail objects lint clean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, stderr, err := run(t, append([]string{"policy", "lint"}, tc.args...)...)
			code := 0
			var ee *ExitError
			switch {
			case errors.As(err, &ee):
				code = ee.Code
			case err != nil:
				code = 1
			}
			if code != tc.exit || !strings.Contains(out+stderr+errString(err), tc.contains) {
				t.Errorf("exit %d (want %d), output:\n%s%s%v", code, tc.exit, out, stderr, err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestPolicyTestDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, as := range []string{"gatekeeper", "vap"} {
		if _, stderr, err := run(t, "generate", "gatekeeper", "--as", as, "--out", filepath.Join(dir, as)); err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
	}
	counts := map[string]int{}
	for _, as := range []string{"gatekeeper", "vap"} {
		out, stderr, err := run(t, "policy", "test", "--demo", "--policies", filepath.Join(dir, as), "-o", "json")
		if err != nil {
			t.Fatalf("%s: %v: %s", as, err, stderr)
		}
		var res struct {
			Kind     string `json:"kind"`
			Findings []struct {
				Check, Severity, Message string
				Object                   struct{ Kind, Namespace, Name string }
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		if res.Kind != "AuditReport" {
			t.Errorf("%s: kind %q, want the audit's document", as, res.Kind)
		}
		for _, v := range res.Findings {
			if !strings.HasPrefix(v.Check, as+":") || v.Message == "" || v.Severity != "error" {
				t.Errorf("%s: violation %+v", as, v)
			}
			if o := v.Object; o.Kind == "Deployment" && o.Namespace == "nextstep" && o.Name == "nextstep-api" && strings.Contains(v.Message, "naming convention") {
				t.Errorf("%s: nextstep-api follows the convention: %s", as, v.Message)
			}
		}
		counts[as] = len(res.Findings)
	}
	if counts["gatekeeper"] == 0 || counts["gatekeeper"] != counts["vap"] {
		t.Errorf("violations: Gatekeeper %d, ValidatingAdmissionPolicies %d", counts["gatekeeper"], counts["vap"])
	}
	sarif, _, err := run(t, "policy", "test", "--demo", "--policies", filepath.Join(dir, "vap"), "-o", "sarif")
	if err != nil || !strings.Contains(sarif, `"ruleId": "vap:purser-deployment-naming/purser-deployment-naming"`) {
		t.Errorf("sarif: %v\n%.2000s", err, sarif)
	}
	if _, _, err := run(t, "policy", "test", "--demo"); err == nil || !strings.Contains(err.Error(), "--policies is required") {
		t.Errorf("without --policies: %v", err)
	}
}

// Manifest mode reviews manifests before they ship, without a cluster.
func TestPolicyTestManifests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vap, stderr, err := run(t, "generate", "gatekeeper", "--as", "vap")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	deploy := `apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-web, namespace: shop, labels: {app: shop-web}}
spec:
  selector: {matchLabels: {app: shop-web}}
  template:
    metadata: {labels: {app: shop-web}}
    spec:
      containers:
      - {name: web, image: nginx, resources: {limits: {cpu: 100m}}}
`
	for name, text := range map[string]string{"vap.yaml": vap, "deploy.yaml": deploy} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, err := run(t, "policy", "test", "--policies", filepath.Join(dir, "vap.yaml"), "--manifests", filepath.Join(dir, "deploy.yaml"))
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	out += stderr
	for _, want := range []string{
		"3 violations",
		"Deployment shop-web does not match the naming convention",
		"Deployment shop-web has no memory limit on container web",
		"Deployment shop-web runs the latest image, not a pinned tag or digest, in container web",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

// A pattern Go's RE2 refuses (Rego and CEL use it too) is an error at its
// line, before anything is generated.
func TestGenerateGatekeeperBadRegex(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "purser.yaml")
	cfg := "apiVersion: purser.dev/v1alpha1\nkind: Config\ngovern:\n  admission:\n    namingRegex: \"^(shop|cart\"\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "generate", "gatekeeper", "--config", path)
	if err == nil || !strings.Contains(err.Error(), path+":5: govern.admission.namingRegex: \"^(shop|cart\" is not a regular expression") || out != "" {
		t.Errorf("got %v, printed %q", err, out)
	}
}
