package helm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/app"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/scenario/clusterload"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
)

// cluster is the control plane the package's live tests share.
var cluster *testcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(testcluster.Main(m, func(c *testcluster.Cluster) error {
		cluster = c
		return nil
	}))
}

// serviceMonitorCRD stands in for the Prometheus Operator's: enough for
// the API server to accept, and so dry-run, a ServiceMonitor.
const serviceMonitorCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// serviceMonitorAPI makes the cluster serve ServiceMonitors.
func serviceMonitorAPI(ctx context.Context, t *testing.T, c *testcluster.Cluster) {
	t.Helper()
	if _, _, err := kubectl(ctx, c, serviceMonitorCRD, "apply", "--server-side", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := kubectl(ctx, c, "", "wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com", "--timeout=60s"); err != nil {
		t.Fatal(err)
	}
}

// restrictedNamespace creates a namespace that enforces, and warns about,
// the restricted Pod Security profile.
func restrictedNamespace(ctx context.Context, t *testing.T, c *testcluster.Cluster, name string) {
	t.Helper()
	ns := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
`, name)
	if _, _, err := kubectl(ctx, c, ns, "apply", "--server-side", "-f", "-"); err != nil {
		t.Fatal(err)
	}
}

// TestDryRun applies what each mode renders with the API server's dry run,
// in a namespace that enforces the restricted Pod Security profile: the
// API server validates every object, and PodSecurity, which only warns
// about a Deployment's or CronJob's template, must find nothing to say.
func TestDryRun(t *testing.T) {
	c := testcluster.Require(t, cluster)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	// Not deferred: the parallel subtests run after this function returns.
	t.Cleanup(cancel)
	serviceMonitorAPI(ctx, t, c)
	for i, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			ns := fmt.Sprintf("chart-dry-run-%d", i)
			restrictedNamespace(ctx, t, c, ns)
			r := render(t, ns, m.args...)
			out, stderr, err := kubectl(ctx, c, r.YAML, "apply", "--server-side", "--dry-run=server", "-f", "-")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(stderr, "PodSecurity") || strings.Contains(stderr, "would violate") {
				t.Errorf("the restricted profile objects:\n%s", stderr)
			}
			if got, want := strings.Count(out, "(server dry run)"), len(r.Objects); got != want {
				t.Errorf("%d objects dry-run, want %d:\n%s", got, want, out)
			}
		})
	}
}

// TestPodSecurityEnforced creates, with the server's dry run, the pods the
// Deployment and the CronJob would create, where the restricted profile is
// enforced: admission accepts them, and refuses the same pods stripped of
// their security contexts (so the namespace does enforce).
func TestPodSecurityEnforced(t *testing.T) {
	c := testcluster.Require(t, cluster)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	const ns = "chart-pod-security"
	restrictedNamespace(ctx, t, c, ns)
	if _, _, err := kubectl(ctx, c, "", "-n", ns, "create", "serviceaccount", "purser"); err != nil {
		t.Fatal(err)
	}
	pods := map[string]corev1.PodTemplateSpec{}
	d := typed[appsv1.Deployment](t, render(t, ns).one(t, "Deployment", "purser"))
	pods["serve"] = d.Spec.Template
	cj := typed[batchv1.CronJob](t, render(t, ns, "--set", "mode=cronjob", "--set", "cronjob.store=true").one(t, "CronJob", "purser"))
	pods["cronjob"] = cj.Spec.JobTemplate.Spec.Template
	for name, tmpl := range pods {
		pod := corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: "purser-" + name, Namespace: ns, Labels: tmpl.Labels}, Spec: tmpl.Spec}
		t.Run(name, func(t *testing.T) {
			if _, stderr, err := kubectl(ctx, c, podYAML(t, pod), "create", "--dry-run=server", "-f", "-"); err != nil || stderr != "" {
				t.Errorf("the restricted profile refused the pod: %v %s", err, stderr)
			}
			bare := *pod.DeepCopy()
			bare.Spec.SecurityContext = nil
			for i := range bare.Spec.Containers {
				bare.Spec.Containers[i].SecurityContext = nil
			}
			_, _, err := kubectl(ctx, c, podYAML(t, bare), "create", "--dry-run=server", "-f", "-")
			if err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
				t.Errorf("a pod without security contexts: %v, want refused by PodSecurity", err)
			}
		})
	}
}

func podYAML(t *testing.T, p corev1.Pod) string {
	t.Helper()
	data, err := yaml.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestServiceAccount installs the chart's objects for real, checks with
// kubectl auth can-i what its ServiceAccount may do, then scans BlueOcean
// with that account's token through the kubeconfig the chart mounts: the
// scan reads every kind but Secrets, and finds what an administrator's
// scan finds.
func TestServiceAccount(t *testing.T) {
	c := testcluster.Require(t, cluster)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	const ns = "purser-system"
	restrictedNamespace(ctx, t, c, ns)
	// A custom resource, which the scan lists as metadata like any other
	// namespaced kind: rbac.listCustomResources grants it from the groups
	// the cluster serves, which helm reads from the cluster with
	// --validate as helm install does.
	serviceMonitorAPI(ctx, t, c)
	values := valuesFile(t, map[string]any{"config": demoConfigValues(t)})
	r := render(t, ns, "-f", values, "--set", "kubeAPI.server="+c.Config.Host, "--set", "rbac.listCustomResources=true",
		"--validate", "--kubeconfig", c.Kubeconfig)
	t.Logf("custom resource rules: %q", customResourceGroups(t, r))
	if groups := customResourceGroups(t, r); !slices.Equal(groups, []string{"monitoring.coreos.com"}) {
		t.Errorf("list on every resource of %q, want the one custom group the cluster serves", groups)
	}
	if _, _, err := kubectl(ctx, c, r.YAML, "apply", "--server-side", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	sa := "system:serviceaccount:" + ns + ":purser"

	t.Run("can-i", func(t *testing.T) {
		type check struct {
			verb, resource, ns string
			want               bool
		}
		var checks []check
		// What the scan lists, from the collector's own table of kinds:
		// a kind added there fails here until the ClusterRole has it.
		for _, k := range snapshot.ModelledKinds() {
			st := k.Status()
			checks = append(checks, check{"list", st.GroupResource(), "", st.Resource != "secrets"})
		}
		checks = append(checks,
			check{"get", "secrets", "", false},
			check{"watch", "secrets", "", false},
			check{"get", "pods", "", false},
			check{"watch", "pods", "", false},
			check{"get", "configmaps", ns, false},
			check{"create", "pods", ns, false},
			check{"delete", "deployments.apps", "default", false},
			check{"patch", "services", "default", false},
			check{"update", "nodes", "", false},
			check{"create", "tokenreviews.authentication.k8s.io", "", true},
			check{"create", "subjectaccessreviews.authorization.k8s.io", "", true},
			check{"create", "leases.coordination.k8s.io", ns, true},
			check{"update", "leases.coordination.k8s.io", ns, true},
			check{"get", "leases.coordination.k8s.io", ns, true},
			check{"delete", "leases.coordination.k8s.io", ns, false},
			check{"create", "leases.coordination.k8s.io", "kube-system", false},
			check{"list", "servicemonitors.monitoring.coreos.com", "", true},
			check{"get", "servicemonitors.monitoring.coreos.com", "", false},
		)
		for _, ck := range checks {
			scope := []string{"-A"}
			if ck.ns != "" {
				scope = []string{"-n", ck.ns}
			}
			if got := canI(ctx, t, c, sa, ck.verb, ck.resource, scope...); got != ck.want {
				t.Errorf("%s may %s %s (%s): %v, want %v", sa, ck.verb, ck.resource, strings.Join(scope, " "), got, ck.want)
			}
		}
	})

	t.Run("listSecrets grants list, not get", func(t *testing.T) {
		const ns2 = "purser-secrets"
		restrictedNamespace(ctx, t, c, ns2)
		// A release of its own: its ClusterRole's name must not clash.
		yamlText, _, err := runHelm(t, "template", "purser-secrets", chartDir(t), "--namespace", ns2, "--set", "rbac.listSecrets=true")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := kubectl(ctx, c, yamlText, "apply", "--server-side", "-f", "-"); err != nil {
			t.Fatal(err)
		}
		sa2 := "system:serviceaccount:" + ns2 + ":purser-secrets"
		if !canI(ctx, t, c, sa2, "list", "secrets", "-A") {
			t.Error("rbac.listSecrets=true: the account cannot list Secrets")
		}
		if canI(ctx, t, c, sa2, "get", "secrets", "-A") {
			t.Error("rbac.listSecrets=true grants get on Secrets")
		}
	})

	t.Run("scan with the account's token", func(t *testing.T) { scanAsServiceAccount(ctx, t, c, ns, r) })
}

// canI asks kubectl auth can-i as another user; "no" exits with status 1.
func canI(ctx context.Context, t *testing.T, c *testcluster.Cluster, as, verb, resource string, scope ...string) bool {
	t.Helper()
	args := append([]string{"auth", "can-i", verb, resource, "--as", as}, scope...)
	out, _, err := kubectl(ctx, c, "", args...)
	answer := strings.TrimSpace(out)
	if answer != "yes" && answer != "no" {
		t.Fatalf("kubectl %s: %q, %v", strings.Join(args, " "), answer, err)
	}
	return answer == "yes"
}

// scanAsServiceAccount loads BlueOcean and audits it as the pod would:
// purser audit with KUBECONFIG naming the chart's kubeconfig, whose token
// file holds a token of the chart's ServiceAccount.
func scanAsServiceAccount(ctx context.Context, t *testing.T, c *testcluster.Cluster, ns string, r rendered) {
	var progress bytes.Buffer
	if err := clusterload.Load(ctx, c.Config, scenario.BlueOcean(), &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	token, _, err := kubectl(ctx, c, "", "-n", ns, "create", "token", "purser", "--duration=1h")
	if err != nil {
		t.Fatal(err)
	}
	// The pod's files, where the kubeconfig the chart mounts expects
	// them, moved to a temporary directory.
	dir := t.TempDir()
	files := map[string]string{
		"token":       strings.TrimSpace(token),
		"ca.crt":      string(c.Config.CAData),
		"purser.yaml": r.configMapData(t, "purser.yaml"),
		"kubeconfig": strings.NewReplacer("/var/run/secrets/kubernetes.io/serviceaccount/", dir+"/").
			Replace(r.configMapData(t, "kubeconfig")),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("KUBECONFIG", filepath.Join(dir, "kubeconfig"))
	var stdout, stderr bytes.Buffer
	err = app.Run(ctx, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr},
		[]string{"audit", "--config", filepath.Join(dir, "purser.yaml"), "-o", "json"})
	if err != nil {
		t.Fatalf("purser audit as the ServiceAccount: %v\n%s", err, stderr.String())
	}
	var asSA audit.Result
	if err := json.Unmarshal(stdout.Bytes(), &asSA); err != nil {
		t.Fatal(err)
	}
	if asSA.Context != "in-cluster" {
		t.Errorf("context %q, want the chart's clusterName", asSA.Context)
	}
	if !slices.Equal(asSA.Unlisted, []string{"secrets"}) {
		t.Errorf("unlisted kinds %q, want Secrets alone", asSA.Unlisted)
	}
	incomplete := map[string]bool{}
	for _, ci := range asSA.IncompleteChecks() {
		incomplete[ci.ID] = true
		if !slices.Equal(ci.Unread, []string{"secrets"}) {
			t.Errorf("check %s is incomplete for want of %q; only Secrets are withheld", ci.ID, ci.Unread)
		}
	}
	if !incomplete["secret-unused"] {
		t.Errorf("incomplete checks %v: secret-unused cannot be complete without Secrets", incomplete)
	}
	t.Logf("incomplete without Secrets: %v; stderr:\n%s", incomplete, stderr.String())

	// The account reads every kind the collector asks for, Secrets aside,
	// the unmodelled kinds it lists as metadata included.
	rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := live.Collect(ctx, rc, live.CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range s.Meta.Kinds {
		if !k.Listed() && k.GroupResource() != "secrets" {
			t.Errorf("%s: %s", k.GroupResource(), k.Error)
		}
	}

	// And it finds what an administrator finds, in every check it could
	// run completely.
	admin, err := live.Collect(ctx, c.Config, live.CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env, err := action.NewEnvFor(ctx, admin, scenarioConfig(t), action.PriceOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	asAdmin, err := action.Audit{}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	got, want := findings(&asSA, incomplete), findings(asAdmin, incomplete)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("the ServiceAccount's audit differs from an administrator's:\n  account: %q\n  admin:   %q", got, want)
	}
}

// findings names each finding by check and object, leaving out the checks
// in skip and pods, whose names change as kwok restarts them.
func findings(res *audit.Result, skip map[string]bool) []string {
	var out []string
	for _, f := range res.Findings {
		if skip[f.CheckID] || f.Object.Kind == "Pod" {
			continue
		}
		out = append(out, f.CheckID+" "+f.Object.String())
	}
	sort.Strings(out)
	return out
}

// TestInstallUpgradeUninstall runs helm itself against the API server: an
// install finds the ServiceMonitor API and renders the ServiceMonitor
// unforced, an upgrade that changes purser.yaml changes the pod template
// (so the pods restart and read it), and an uninstall keeps the history's
// claim.
func TestInstallUpgradeUninstall(t *testing.T) {
	c := testcluster.Require(t, cluster)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	const ns = "chart-install"
	restrictedNamespace(ctx, t, c, ns)
	serviceMonitorAPI(ctx, t, c)
	// Release "watch": its cluster-wide objects are watch-purser-*, apart
	// from the other tests'.
	helmAt := func(args ...string) string {
		t.Helper()
		out, _, err := runHelm(t, append(args, "--kubeconfig", c.Kubeconfig, "--namespace", ns)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	get := func(args ...string) string {
		t.Helper()
		out, _, err := kubectl(ctx, c, "", append([]string{"-n", ns, "get"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	checksum := func() string {
		return get("deployment", "watch-purser", "-o", `jsonpath={.spec.template.metadata.annotations.checksum/config}`)
	}

	notes := helmAt("install", "watch", chartDir(t), "--set", "persistence.enabled=true", "--set", "metrics.serviceMonitor.enabled=true")
	if !strings.Contains(notes, "port-forward svc/watch-purser") {
		t.Errorf("install notes:\n%s", notes)
	}
	if got := get("servicemonitor", "-o", "name"); got != "servicemonitor.monitoring.coreos.com/watch-purser" {
		t.Errorf("service monitors %q: the install should find the API served", got)
	}
	before := checksum()

	helmAt("upgrade", "watch", chartDir(t), "--reuse-values",
		"--set", "config.classify.teams[0].name=payments", "--set", "config.classify.teams[0].match[0]=payments-*")
	cm := get("configmap", "watch-purser", "-o", `jsonpath={.data.purser\.yaml}`)
	if !strings.Contains(cm, "payments") {
		t.Errorf("purser.yaml after the upgrade:\n%s", cm)
	}
	if after := checksum(); after == before || after == "" {
		t.Errorf("the pod template's checksum stayed %q: the pods would keep the old purser.yaml", after)
	}

	helmAt("uninstall", "watch")
	if got := get("persistentvolumeclaim", "-o", "name"); got != "persistentvolumeclaim/watch-purser-data" {
		t.Errorf("claims after uninstall %q: the history's claim must stay", got)
	}
	if got := get("deployment,configmap,serviceaccount,role", "-l", "app.kubernetes.io/instance=watch", "-o", "name"); got != "" {
		t.Errorf("left after uninstall: %s", got)
	}
}
