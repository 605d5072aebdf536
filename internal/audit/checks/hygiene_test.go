package checks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// runHygiene runs every hygiene check over s with cfg.
func runHygiene(s *snapshot.Snapshot, cfg *audit.Config) []audit.Finding {
	in := &audit.Input{Index: snapshot.NewIndex(s), Config: cfg}
	var out []audit.Finding
	for _, c := range hygieneChecks() {
		out = append(out, c.Run(context.Background(), in)...)
	}
	return out
}

// fixtureConfig is the audit config fixtures run with: it requires the
// labels namespace-missing-labels looks for.
func fixtureConfig() *audit.Config {
	return &audit.Config{RequiredNamespaceLabels: []string{"environment", "team"}}
}

func TestHygieneIDsStable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range hygieneChecks() {
		id := c.ID()
		if seen[id] {
			t.Errorf("duplicate check ID %s", id)
		}
		seen[id] = true
		if id != strings.ToLower(id) || strings.ContainsAny(id, " _") || strings.HasPrefix(id, "-") || strings.HasSuffix(id, "-") {
			t.Errorf("check ID %q is not kebab-case", id)
		}
		if _, err := os.Stat(id + ".go"); err != nil {
			t.Errorf("check %s is not in its own file %s.go", id, id)
		}
		if c.Description() == "" {
			t.Errorf("check %s has no description", id)
		}
	}
}

// TestHygieneDemo pins what these checks find on the BlueOcean demo: its
// true hygiene problems and nothing else. The expected single-replica
// Deployments and populated namespaces come from the scenario's own
// definition, not from the recorded snapshot.
func TestHygieneDemo(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"pvc-unused PersistentVolumeClaim/nextstep-factory/factory-exports-old": true,
		"service-unused-loadbalancer Service/onlyoneapi-prod/public-api":        true,
	}
	populated := map[string]bool{}
	for _, o := range scenario.BlueOcean().Objects {
		switch x := o.Object.(type) {
		case *appsv1.Deployment:
			populated[x.Namespace] = true
			if x.Namespace != "kube-system" && x.Spec.Replicas != nil && *x.Spec.Replicas == 1 {
				want["deployment-single-replica-no-pdb Deployment/"+x.Namespace+"/"+x.Name] = true
			}
		case *appsv1.StatefulSet:
			populated[x.Namespace] = true
		case *appsv1.DaemonSet:
			populated[x.Namespace] = true
		case *batchv1.CronJob:
			populated[x.Namespace] = true
		case *batchv1.Job:
			populated[x.Namespace] = true
		}
	}
	for ns := range populated {
		if !snapshot.IsSystemNamespace(ns) {
			want["namespace-no-networkpolicy Namespace/"+ns] = true
		}
	}
	got := map[string]bool{}
	for _, f := range runHygiene(s, nil) {
		got[f.CheckID+" "+f.Object.String()] = true
	}
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, k := range missing {
		t.Errorf("missing finding: %s", k)
	}
	for _, k := range extra {
		t.Errorf("false positive: %s", k)
	}
	if n := len(populated); n < 40 {
		t.Errorf("scenario has %d populated namespaces; expected the 47 of BlueOcean (a change in the scenario?)", n)
	}
}

// TestHygieneDemoRequiredLabels checks namespace-missing-labels on the
// demo: silent by default, and every user namespace reported once labels
// are required (BlueOcean's namespaces carry none).
func TestHygieneDemoRequiredLabels(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	count := func(cfg *audit.Config) int {
		n := 0
		for _, f := range runHygiene(s, cfg) {
			if f.CheckID == "namespace-missing-labels" {
				n++
			}
		}
		return n
	}
	if n := count(nil); n != 0 {
		t.Errorf("without required labels: %d findings, want 0", n)
	}
	if n := count(&audit.Config{}); n != 0 {
		t.Errorf("with an empty config: %d findings, want 0", n)
	}
	users := 0
	for _, ns := range s.Namespaces {
		if !snapshot.IsSystemNamespace(ns.Name) {
			users++
		}
	}
	if n := count(fixtureConfig()); n != users {
		t.Errorf("with environment and team required: %d findings, want %d (every user namespace)", n, users)
	}
}

// TestSecretInEnvLiteralHidesValues checks that a finding names the
// variables and never carries their values.
func TestSecretInEnvLiteralHidesValues(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "secret-in-env-literal", "fail-password.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.LoadManifests("fail-password.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	got := secretInEnvLiteral().Run(context.Background(), &audit.Input{Index: snapshot.NewIndex(s)})
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1", len(got))
	}
	text := fmt.Sprintf("%+v", got[0])
	for _, v := range []string{"hunter2-do-not-print", "sk_live_xyz"} {
		if strings.Contains(text, v) {
			t.Errorf("finding shows the value %q: %s", v, text)
		}
	}
	for _, name := range []string{"DB_PASSWORD", "STRIPE_API_KEY"} {
		if !strings.Contains(got[0].Message, name) {
			t.Errorf("message %q does not name %s", got[0].Message, name)
		}
	}
	if strings.Contains(got[0].Message, "LOG_LEVEL") {
		t.Errorf("message %q names LOG_LEVEL, which is not a secret", got[0].Message)
	}
}

// TestBaselinePoliciesAreSound applies every baseline NetworkPolicy that
// namespace-no-networkpolicy proposes on the demo, and checks that the
// result selects real namespaces, keeps DNS working and leaves no
// namespace without a policy.
func TestBaselinePoliciesAreSound(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	in := &audit.Input{Index: snapshot.NewIndex(s)}
	proposed := namespaceNoNetworkPolicy().Run(t.Context(), in)
	if len(proposed) == 0 {
		t.Fatal("no baseline proposed on the demo")
	}
	for _, f := range proposed {
		m := f.Remediation.Manifest
		if !strings.Contains(m, "kubernetes.io/metadata.name: kube-system") ||
			!strings.Contains(m, "protocol: UDP") || strings.Contains(m, "{name:") {
			t.Errorf("%s: baseline lacks DNS egress or selects by name:\n%s", f.Object, m)
		}
		ps, err := snapshot.LoadManifests(f.Object.Name+".yaml", []byte(m))
		if err != nil {
			t.Fatalf("%s: manifest does not parse: %v\n%s", f.Object, err, m)
		}
		if len(ps.NetworkPolicies) == 0 {
			t.Fatalf("%s: manifest holds no NetworkPolicy", f.Object)
		}
		s.NetworkPolicies = append(s.NetworkPolicies, ps.NetworkPolicies...)
	}
	in = &audit.Input{Index: snapshot.NewIndex(s)}
	for _, c := range []audit.Check{namespaceNoNetworkPolicy(), networkPolicySelectorMatchesNothing(), networkPolicyEgressBlocksDNS()} {
		for _, f := range c.Run(t.Context(), in) {
			t.Errorf("after applying the baselines: %s %s: %s %v", f.CheckID, f.Object, f.Message, f.Evidence)
		}
	}
}

// TestBaselinePolicyStandardDNS checks the baseline on a cluster whose DNS
// pods carry the standard label: DNS egress goes to k8s-app=kube-dns and
// the ingress controller's namespace is selected by its metadata name.
func TestBaselinePolicyStandardDNS(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "namespace-no-networkpolicy", "fail-open.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.LoadManifests("fail-open.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	got := namespaceNoNetworkPolicy().Run(context.Background(), &audit.Input{Index: snapshot.NewIndex(s)})
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1", len(got))
	}
	m := got[0].Remediation.Manifest
	for _, want := range []string{`"k8s-app": "kube-dns"`, `kubernetes.io/metadata.name: "ingress-nginx"`, "port: 53", "protocol: TCP"} {
		if !strings.Contains(m, want) {
			t.Errorf("manifest lacks %q:\n%s", want, m)
		}
	}
}
