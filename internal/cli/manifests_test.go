package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/audit"
)

// manifestsDir holds public applications' published manifests, with
// their source, commit and licence in its README.
const manifestsDir = "testdata/manifests"

// runAuditIn is runAudit with stdin.
func runAuditIn(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	root.SetArgs(append([]string{"audit"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func decodeAudit(t *testing.T, out string) *audit.Result {
	t.Helper()
	var res audit.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("decoding the JSON report: %v\n%s", err, out)
	}
	return &res
}

// aboutBuiltins reports the checks that would report a binding to a
// built-in role or ServiceAccount as one to nothing.
func aboutBuiltins(id string) bool {
	return id == "rolebinding-missing-role" || id == "rolebinding-missing-subject"
}

// Manifest mode on public applications' manifests reports what their
// specs show and nothing that needs a cluster: no availability finding,
// none about built-in roles; the checks that need a cluster are listed
// as skipped.
func TestAuditManifestsPublicApplications(t *testing.T) {
	t.Parallel()
	guestbook := filepath.Join(manifestsDir, "guestbook", "web", "guestbook")
	var files []string
	for _, f := range []string{"frontend-deployment", "frontend-service", "redis-master-deployment", "redis-master-service",
		"redis-replica-deployment", "redis-replica-service"} {
		files = append(files, filepath.Join(guestbook, f+".yaml"))
	}
	allInOne, err := os.ReadFile(filepath.Join(guestbook, "all-in-one", "guestbook-all-in-one.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	podinfo := filepath.Join(manifestsDir, "podinfo")
	tests := []struct {
		name  string
		stdin string
		args  []string
		// want are check IDs with the namespace of one of their findings.
		want map[string]string
	}{
		{name: "guestbook files, comma list", args: []string{"--manifests", strings.Join(files, ",")},
			want: map[string]string{"container-no-limits": "default", "container-no-probes": "default", "pod-runs-as-root": "default"}},
		{name: "guestbook all-in-one on stdin with -n", stdin: string(allInOne), args: []string{"--manifests", "-", "-n", "shop"},
			want: map[string]string{"container-no-limits": "shop", "deployment-single-replica-no-pdb": "shop"}},
		{name: "podinfo kustomization", args: []string{"--manifests", filepath.Join(podinfo, "kustomize")},
			want: map[string]string{"pod-runs-as-root": "default"}},
		{name: "podinfo production overlay", args: []string{"--manifests", filepath.Join(podinfo, "deploy", "overlays", "production")},
			want: map[string]string{"pod-runs-as-root": "production", "namespace-no-networkpolicy": ""}},
		{name: "podinfo webapp, repeated flag", args: []string{"--manifests", filepath.Join(podinfo, "deploy", "webapp", "common"),
			"--manifests", filepath.Join(podinfo, "deploy", "webapp", "backend"), "--manifests", filepath.Join(podinfo, "deploy", "webapp", "frontend")},
			want: map[string]string{"pod-runs-as-root": "webapp", "deployment-single-replica-no-pdb": "webapp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, stderr, err := runAuditIn(t, tt.stdin, append(tt.args, "-o", "json", "--fail-on", "error")...)
			if err != nil {
				t.Fatalf("want exit 0 (no error findings), got %v\n%s", err, stderr)
			}
			res := decodeAudit(t, out)
			if res.Mode != audit.ModeManifests {
				t.Errorf("mode %q, want manifests", res.Mode)
			}
			got := map[string]bool{}
			for _, f := range res.Findings {
				got[f.CheckID+" "+f.Object.Namespace] = true
				if f.Category == audit.Availability {
					t.Errorf("availability finding in manifest mode: %s %s: %s", f.CheckID, f.Object, f.Message)
				}
				if aboutBuiltins(f.CheckID) {
					t.Errorf("finding about a built-in role or ServiceAccount: %s %s: %s", f.CheckID, f.Object, f.Message)
				}
			}
			for id, ns := range tt.want {
				if !got[id+" "+ns] {
					t.Errorf("no %s finding in namespace %q; findings: %v", id, ns, got)
				}
			}
			skipped := map[string]string{}
			for _, c := range res.Checks {
				if c.Status == audit.StatusSkipped {
					skipped[c.ID] = c.SkipReason
				}
			}
			for _, id := range []string{"service-no-endpoints", "workload-unavailable", "pod-pending", "configmap-unused"} {
				if !strings.HasPrefix(skipped[id], "needs a cluster: ") {
					t.Errorf("check %s not listed as skipped with its reason: %q", id, skipped[id])
				}
			}
			if res.Skipped != len(skipped) || res.Skipped == 0 {
				t.Errorf("skippedChecks %d, %d listed", res.Skipped, len(skipped))
			}
		})
	}
}

// The same manifests read as a snapshot (--from) are taken for a cluster
// without status: what manifest mode exists to avoid.
func TestAuditFromManifestsReportsAvailability(t *testing.T) {
	t.Parallel()
	out, _, err := runAudit(t, "--from", filepath.Join(manifestsDir, "podinfo", "deploy", "webapp"), "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range decodeAudit(t, out).Findings {
		if f.Category == audit.Availability {
			n++
		}
	}
	if n == 0 {
		t.Fatal("--from on manifests gave no availability finding; the manifest-mode test above would prove nothing")
	}
}

// Bindings to built-in roles and default ServiceAccounts are not
// "missing"; a binding to a role that neither the set nor Kubernetes
// defines still is, and a cluster-admin grant is still reported as one.
func TestAuditManifestsBuiltinRBAC(t *testing.T) {
	t.Parallel()
	const rbac = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: deployer, namespace: team-a}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: readers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: default}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: typo}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: viewer}
subjects: [{kind: ServiceAccount, name: default}]
`
	out, stderr, err := runAuditIn(t, rbac, "--manifests", "-", "-n", "team-a", "-o", "json", "--fail-on", "warning")
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 2 {
		t.Fatalf("want exit 2 for the cluster-admin grant and the missing role, got %v\n%s", err, stderr)
	}
	var got []string
	for _, f := range decodeAudit(t, out).Findings {
		got = append(got, f.CheckID+" "+f.Object.String())
	}
	want := []string{"clusterrolebinding-cluster-admin ClusterRoleBinding/ci-admin", "rolebinding-missing-role RoleBinding/team-a/typo"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAuditManifestsFlags(t *testing.T) {
	t.Parallel()
	file := filepath.Join(manifestsDir, "podinfo", "kustomize", "deployment.yaml")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--cluster", "--demo"}, "--cluster lays --manifests over the live cluster"},
		{[]string{"--manifests", file, "--cluster", "--from", file}, "--cluster and --from are exclusive"},
		{[]string{"--manifests", file, "--cluster", "--demo"}, "--cluster and --demo are exclusive"},
		{[]string{"--manifests", "-", "--from", "-"}, "--from - and --manifests - both read stdin"},
		{[]string{"--manifests", file, "--collected-at", "2026-03-01T10:00:00Z"}, "manifests have no time"},
		{[]string{"--manifests", "-,-"}, "- (stdin) is given 2 times"},
		{[]string{"--manifests", filepath.Join(manifestsDir, "missing.yaml")}, "missing.yaml"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			_, _, err := runAudit(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
