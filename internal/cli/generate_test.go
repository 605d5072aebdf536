package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// The command prints what the generators' goldens hold.
func TestGenerateDemoPrintsTheGenerated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ what, golden string }{
		{"networkpolicies", "demo-networkpolicies.yaml"},
		{"quotas", "demo-quotas.yaml"},
	} {
		args := []string{"generate", tc.what, "--demo"}
		if tc.what == "quotas" {
			args = append(args, "--force")
		}
		out, stderr, err := run(t, args...)
		if err != nil {
			t.Fatalf("%s: %v: %s", tc.what, err, stderr)
		}
		want, err := os.ReadFile(filepath.Join("..", "govern", "testdata", tc.golden))
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("purser generate %s --demo differs from %s", tc.what, tc.golden)
		}
	}
}

// -o json prints one List of the same objects.
func TestGenerateJSON(t *testing.T) {
	t.Parallel()
	out, stderr, err := run(t, "generate", "namespaces", "--demo", "-o", "json")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	var list struct {
		Kind  string `json:"kind"`
		Items []struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	yamlOut, _, err := run(t, "generate", "namespaces", "--demo")
	if err != nil {
		t.Fatal(err)
	}
	if list.Kind != "List" || len(list.Items) != strings.Count(yamlOut, "kind: Namespace") || len(list.Items) == 0 {
		t.Fatalf("kind %s with %d items, the YAML has %d namespaces", list.Kind, len(list.Items), strings.Count(yamlOut, "kind: Namespace"))
	}
	if it := list.Items[0]; it.Kind != "Namespace" || it.Metadata.Labels["purser.dev/environment"] == "" {
		t.Errorf("first item %+v", it)
	}
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badEnv := write("bad-env.yaml", "govern:\n  networkPolicies:\n    isolate: [production, prod]\n")
	lowQuota := write("low-quota.yaml", `govern:
  quotas:
    environments:
    - name: production
      hard:
        pods: "5"
`)
	tests := []struct {
		name   string
		args   []string
		err    string
		stderr string
	}{
		{"unknown environment", []string{"generate", "networkpolicies", "--demo", "--config", badEnv},
			badEnv + `:5: govern.networkPolicies.isolate[1]: unknown environment "prod"`, ""},
		{"quota below use", []string{"generate", "quotas", "--demo", "--config", lowQuota},
			lowQuota + `:8: govern.quotas.environments[0].hard.pods: namespace nextstep (production) uses 7 pods, above its quota 5; raise it, or pass --force`, ""},
		{"quota below use, forced", []string{"generate", "quotas", "--demo", "--config", lowQuota, "--force"},
			"", "Warning: " + lowQuota + `:8: govern.quotas.environments[0].hard.pods: namespace nextstep (production) uses 7 pods, above its quota 5`},
		{"the strategy's figures", []string{"generate", "quotas", "--demo"},
			`govern.quotas (not set, the strategy's default figures): quotas.environments[1].hard.services.loadbalancers: namespace nextstep-dev (development) uses 1 services.loadbalancers, above its quota 0`, ""},
		{"unknown kind", []string{"generate", "roles", "--demo"}, "purser generate roles: expected namespaces, networkpolicies, quotas, ", ""},
		{"json into files", []string{"generate", "namespaces", "--demo", "-o", "json", "--out", filepath.Join(dir, "t")}, "-o json: --out writes YAML files", ""},
		{"force elsewhere", []string{"generate", "namespaces", "--demo", "--force"}, "--force applies to purser generate quotas and gitops only", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, err := run(t, tc.args...)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tc.stderr)
			}
		})
	}
}

// The generated policies, written as a tree, are what policy reach
// evaluates: development cannot reach production, the factory's
// reference to the API still works, and the cluster as it is (no
// policies) allows everything.
func TestGenerateThenReach(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "np")
	if _, stderr, err := run(t, "generate", "networkpolicies", "--demo", "--out", dir); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "nextstep", "networkpolicy-purser-default-deny.yaml")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--policies", dir, "nextstep-dev/deployment/nextstep-api", "nextstep/deployment/nextstep-api"},
			[]string{"DENIED ", "8080/TCP", "egress: denied: isolated by nextstep-dev/purser-allow-dns"}},
		{[]string{"--policies", dir, "nextstep-factory/deploy/factory-api", "nextstep/deployment/nextstep-api", "--port", "http"},
			[]string{"ALLOWED", "egress: allowed by nextstep-factory/purser-egress-nextstep-api.nextstep",
				"ingress: allowed by nextstep/purser-external-nextstep-api, nextstep/purser-ingress-nextstep-api"}},
		{[]string{"--policies", dir, "kvibes-dev/deployment/kvibes-app", "kube-system/deployment/coredns", "--port", "53", "--protocol", "UDP"},
			[]string{"ALLOWED", "53/UDP", "egress: allowed by kvibes-dev/purser-allow-dns"}},
		{[]string{"--policies", dir, "203.0.113.9", "kvibe-prod/deployment/kvibe-frontend"},
			[]string{"ALLOWED", "3000/TCP", "egress: not a pod of the cluster", "ingress: allowed by kvibe-prod/purser-external-kvibe-frontend"}},
		{[]string{"nextstep-dev/deployment/nextstep-api", "nextstep/deployment/nextstep-api"},
			[]string{"Policies: the NetworkPolicies of demo:blueocean", "ALLOWED", "egress: no policy isolates the pod"}},
	}
	for _, tc := range tests {
		out, stderr, err := run(t, append([]string{"policy", "reach", "--demo"}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v: %s", tc.args, err, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output\n%s\nlacks %q", tc.args, out, w)
			}
		}
	}
}

func TestPolicyReachErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nextstep", "nextstep/deployment/nextstep-api"}, `"nextstep": expected namespace/pod, namespace/deployment/NAME`},
		{[]string{"nextstep/cronjob/x", "nextstep/deployment/nextstep-api"}, `"nextstep/cronjob/x": expected`},
		{[]string{"nowhere/deployment/a", "nextstep/deployment/nextstep-api"}, `namespace "nowhere" not found`},
		{[]string{"nextstep/deployment/nope", "nextstep/deployment/nextstep-api"}, `no deployment nope in namespace nextstep`},
		{[]string{"nextstep/deployment/nextstep-api", "nextstep/deployment/nextstep-worker"}, `declares no TCP port: give one with --port`},
		{[]string{"nextstep/deployment/nextstep-api", "nextstep/deployment/nextstep-web", "--port", "grpc"}, `--port grpc: nextstep/deployment/nextstep-web has no TCP container port`},
		{[]string{"nextstep/deployment/nextstep-api", "nextstep/deployment/nextstep-web", "--port", "70000"}, `--port 70000: expected 1 to 65535`},
	}
	for _, tc := range tests {
		_, _, err := run(t, append([]string{"policy", "reach", "--demo"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

// The strategy's own policy, put in a namespace of the demo: the
// ingress controller is denied, and the warning says why.
func TestPolicyReachWarnsOfUnmatchedSelectors(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "policy", "testdata", "strategy-networkpolicy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "strategy.yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), "namespace: production", "namespace: nextstep", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run(t, "policy", "reach", "--demo", "--policies", p, "ingress-nginx/deploy/ingress-nginx-controller", "nextstep/deploy/nextstep-web")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "DENIED ") || !strings.Contains(out, "ingress: denied: isolated by nextstep/production-isolation") {
		t.Errorf("output:\n%s", out)
	}
	if !strings.Contains(stderr, "Warning: NetworkPolicy nextstep/production-isolation: ingress[0] peer 0: namespaceSelector name=ingress-nginx matches no namespace") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// TestGenerateGatekeeperIsAGenerator: gatekeeper is an argument of
// generate like the other generators (with the same --out and -o), its
// documented spelling unchanged; --as belongs to it alone, and flags
// that read a cluster are refused, since its rules come from the config.
func TestGenerateGatekeeperIsAGenerator(t *testing.T) {
	t.Parallel()
	root := NewRoot(genericiooptions.NewTestIOStreamsDiscard())
	gen, _, err := root.Find([]string{"generate"})
	if err != nil {
		t.Fatal(err)
	}
	if len(gen.Commands()) != 0 || !slices.Contains(gen.ValidArgs, "gatekeeper") {
		t.Errorf("generate has subcommands %v and arguments %v; want gatekeeper among the arguments only", gen.Commands(), gen.ValidArgs)
	}
	out, _, err := run(t, "generate", "gatekeeper", "--as", "vap", "-o", "json")
	if err != nil || !strings.Contains(out, `"kind": "ValidatingAdmissionPolicy"`) {
		t.Errorf("generate gatekeeper --as vap -o json: %v\n%.300s", err, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "quotas", "--demo", "--as", "vap"}, "--as applies to purser generate gatekeeper only"},
		{[]string{"generate", "gatekeeper", "--from", "cluster.yaml"}, "--from: purser generate gatekeeper reads no cluster"},
		{[]string{"generate", "gatekeeper", "--as", "opa"}, "opa"},
		{[]string{"generate", "gatekeeper", "--force"}, "--force applies to purser generate quotas and gitops only"},
	} {
		if _, _, err := run(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
}
