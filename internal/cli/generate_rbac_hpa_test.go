package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "purser.yaml")
	if err := os.WriteFile(p, []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\n"+body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The commands print what the engine's goldens hold, for the same
// govern section, and say what they left out.
func TestGenerateRBACAndHPA(t *testing.T) {
	t.Parallel()
	demo, err := os.ReadFile(filepath.Join("..", "scenario", "blueocean-purser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withDemo := func(govern string) string {
		return writeConfig(t, strings.SplitN(string(demo), "\nkind: Config\n", 2)[1]+govern)
	}
	rbac := withDemo(`govern:
  rbac:
    access:
    - {group: developers, roles: {production: view, staging: edit, development: edit}}
    - {group: ops, roles: {production: admin, staging: admin, development: admin}}
    - {user: team-lead, roles: {production: log-reader}}
    clusterRoles:
    - name: log-reader
      rules: [{apiGroups: [""], resources: [pods, pods/log], verbs: [get, list]}]
`)
	hpa := withDemo(`govern:
  hpa:
    assumeServed: [metrics.k8s.io]
    pods: [{name: http_requests_per_second, averageValue: "100"}]
`)
	for _, tc := range []struct {
		args   []string
		golden string
		stderr string
	}{
		{[]string{"generate", "rbac", "--demo", "--config", rbac}, "demo-rbac.yaml", ""},
		{[]string{"generate", "hpa", "--demo", "--config", hpa}, "demo-hpa.yaml",
			"Warning: no Pods (http_requests_per_second) metric generated: the snapshot holds no discovery"},
	} {
		out, stderr, err := run(t, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v: %s", tc.args, err, stderr)
		}
		want, err := os.ReadFile(filepath.Join("..", "govern", "testdata", tc.golden))
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("%v differs from %s", tc.args, tc.golden)
		}
		if !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, tc.stderr)
		}
	}
	// Without discovery nor assumeServed, no autoscaler: each would read
	// a metric nobody serves.
	out, stderr, err := run(t, "generate", "hpa", "--demo")
	if err != nil || out != "" || !strings.Contains(stderr, "Warning: no CPU metric generated: the snapshot holds no discovery") {
		t.Errorf("generate hpa --demo: %v, output %q, stderr %q", err, out, stderr)
	}
}

func TestGenerateRBACErrors(t *testing.T) {
	t.Parallel()
	missing := writeConfig(t, `govern:
  rbac:
    access:
    - group: senior-devs
      roles:
        production: production-readonly
`)
	_, _, err := run(t, "generate", "rbac", "--demo", "--config", missing)
	want := missing + `:8: govern.rbac.access[0].roles.production: ClusterRole "production-readonly" does not exist`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}
