package helm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/testcluster"
)

const (
	// helmVersion is the Makefile's HELM_VERSION: where `make helm` puts
	// the binary when PURSER_HELM does not name one.
	helmVersion = "v3.22.0"
	// envHelm names a helm binary to use instead of the cached one.
	envHelm = "PURSER_HELM"
	// envRequireHelm, set to 1, turns a missing helm into a failure, as
	// PURSER_REQUIRE_CLUSTER=1 does (make test sets both).
	envRequireHelm = "PURSER_REQUIRE_HELM"
)

// helmBinary finds helm, or skips the test without it (fails when
// required).
func helmBinary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(envHelm)
	if bin == "" {
		bin = filepath.Join(repoRoot(t), ".cache", "helm", helmVersion, "helm")
	}
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("no helm at %s: build it with `make helm` (or set %s)", bin, envHelm)
		if os.Getenv(envRequireHelm) == "1" || os.Getenv(testcluster.EnvRequire) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

// repoRoot is the directory holding the module's go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func chartDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(repoRoot(t), "deploy", "helm", "purser")
}

// runHelm runs helm with its caches and configuration in a temporary
// directory, so that nothing in the user's home changes or leaks in.
func runHelm(t testing.TB, args ...string) (string, string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.CommandContext(t.Context(), helmBinary(t), args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		// helm template reads no cluster; an inherited KUBECONFIG must not
		// make it try.
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), stderr.String(), err
}

// rendered is what helm template wrote: the YAML, and each object.
type rendered struct {
	YAML    string
	Objects []*unstructured.Unstructured
}

// render runs helm template for release "purser" in namespace ns.
func render(t testing.TB, ns string, args ...string) rendered {
	t.Helper()
	out, err := renderErr(t, ns, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func renderErr(t testing.TB, ns string, args ...string) (rendered, error) {
	t.Helper()
	full := append([]string{"template", "purser", chartDir(t), "--namespace", ns}, args...)
	stdout, _, err := runHelm(t, full...)
	if err != nil {
		return rendered{}, err
	}
	r := rendered{YAML: stdout}
	for i, doc := range strings.Split(stdout, "\n---") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return r, fmt.Errorf("rendered document %d: %w\n%s", i, err, doc)
		}
		if len(m) == 0 {
			continue
		}
		r.Objects = append(r.Objects, &unstructured.Unstructured{Object: m})
	}
	return r, nil
}

// find returns the objects of one kind.
func (r rendered) find(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r.Objects {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// one returns the only object of kind named name, failing otherwise.
func (r rendered) one(t testing.TB, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range r.find(kind) {
		if o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s among the rendered objects: %s", kind, name, r.names())
	return nil
}

func (r rendered) names() string {
	var out []string
	for _, o := range r.Objects {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return strings.Join(out, ", ")
}

// typed converts a rendered object to its Go type, rejecting unknown
// fields: a misspelt field would otherwise pass until the API server
// drops it.
func typed[T any](t testing.TB, o *unstructured.Unstructured) *T {
	t.Helper()
	var v T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, &v, true); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
	return &v
}

// podSpecs returns the pod specs of the rendered workloads, by workload.
func (r rendered) podSpecs(t testing.TB) map[string]corev1.PodSpec {
	t.Helper()
	out := map[string]corev1.PodSpec{}
	for _, o := range r.find("Deployment") {
		out["Deployment/"+o.GetName()] = typed[appsv1.Deployment](t, o).Spec.Template.Spec
	}
	for _, o := range r.find("CronJob") {
		out["CronJob/"+o.GetName()] = typed[batchv1.CronJob](t, o).Spec.JobTemplate.Spec.Template.Spec
	}
	return out
}

// configMapData returns a key of the chart's ConfigMap.
func (r rendered) configMapData(t testing.TB, key string) string {
	t.Helper()
	cm := typed[corev1.ConfigMap](t, r.one(t, "ConfigMap", "purser"))
	v, ok := cm.Data[key]
	if !ok {
		t.Fatalf("the ConfigMap has no %s", key)
	}
	return v
}

// valuesFile writes values to a file for helm's -f.
func valuesFile(t testing.TB, values map[string]any) string {
	t.Helper()
	data, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// kubectl runs the control plane's kubectl with stdin, returning both
// streams: apply's warnings (PodSecurity's among them) go to stderr.
func kubectl(ctx context.Context, c *testcluster.Cluster, stdin string, args ...string) (string, string, error) {
	full := append([]string{"--kubeconfig=" + c.Kubeconfig, "--cache-dir=" + filepath.Join(c.Dir, "kubectl-cache")}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "kubectl"), full...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), stderr.String(), err
}
