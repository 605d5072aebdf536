package e2e

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

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/cli"
	"github.com/purserhq/purser/internal/testcluster"
)

// landingCluster is what the cluster already runs in the test's own
// namespace: a Deployment and the ConfigMap it reads.
const landingCluster = `apiVersion: v1
kind: Namespace
metadata: {name: landing}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-settings, namespace: landing}
data: {mode: prod}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: landing}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
`

// landingSet is a pull request against it: a Service for the running
// pods, one that selects them by Helm's label, a worker that needs the
// cluster's ConfigMap and one nobody has, and an autoscaler on a Pods
// metric, which this control plane has no adapter to serve.
const landingSet = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: landing}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-helm, namespace: landing}
spec: {selector: {app.kubernetes.io/name: web}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: landing}
spec:
  replicas: 2
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
      - name: worker
        image: nginx:1.27
        envFrom: [{configMapRef: {name: web-settings}}, {configMapRef: {name: worker-settings}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: worker, namespace: landing}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: worker}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Pods
    pods:
      metric: {name: http_requests_per_second}
      target: {type: AverageValue, averageValue: "100"}
`

// manifestsOverLive audits a set of manifests with --cluster against the
// live control plane: what the cluster has counts (pods, ConfigMaps,
// served APIs), and nothing is reported about the cluster's own objects.
func manifestsOverLive(ctx context.Context, t *testing.T, c *testcluster.Cluster, env *action.Env) {
	if !slices.Contains(env.Snapshot.Meta.ServedAPIs, "apps/v1") || slices.ContainsFunc(env.Snapshot.Meta.ServedAPIs, func(gv string) bool {
		return strings.HasPrefix(gv, "custom.metrics.k8s.io/")
	}) {
		t.Fatalf("discovery of the local control plane: %v", env.Snapshot.Meta.ServedAPIs)
	}
	dir := t.TempDir()
	clusterFile, setFile := filepath.Join(dir, "cluster.yaml"), filepath.Join(dir, "set.yaml")
	for file, doc := range map[string]string{clusterFile: landingCluster, setFile: landingSet} {
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := c.Kubectl(ctx, "apply", "-f", clusterFile); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var out, errOut bytes.Buffer
	root := cli.NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs([]string{"audit", "--manifests", setFile, "--cluster", "--kubeconfig", c.Kubeconfig, "-o", "json"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var res audit.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if res.Mode != audit.ModeManifests || res.Cluster == "" {
		t.Errorf("mode %q over cluster %q, want manifests over the local cluster", res.Mode, res.Cluster)
	}
	got := map[string]audit.Finding{}
	for _, f := range res.Findings {
		got[f.CheckID+" "+f.Object.String()] = f
		if f.Object.Namespace != "landing" {
			t.Errorf("finding about a cluster object the manifests do not change: %s %s: %s", f.CheckID, f.Object, f.Message)
		}
	}
	want := []struct {
		key      string
		severity audit.Severity
		text     string
	}{
		{"service-selector-matches-nothing Service/landing/web-helm", audit.Error, "nearest pod template: Deployment/landing/web"},
		{"workload-missing-reference Deployment/landing/worker", audit.Error, "needs ConfigMap worker-settings, which does not exist"},
		{"hpa-metrics-unavailable HorizontalPodAutoscaler/landing/worker", audit.Warning, "the cluster serves no custom.metrics.k8s.io"},
	}
	for _, w := range want {
		f, ok := got[w.key]
		if !ok {
			t.Errorf("no %s; findings: %v", w.key, keys(got))
			continue
		}
		if text := f.Message + " | " + strings.Join(f.Evidence, " | "); f.Severity != w.severity || !strings.Contains(text, w.text) {
			t.Errorf("%s: %v %q, want %v containing %q", w.key, f.Severity, text, w.severity, w.text)
		}
	}
	if f, ok := got["service-selector-matches-nothing Service/landing/web"]; ok {
		t.Errorf("Service web selects the cluster's Deployment web, yet: %s", f.Message)
	}

	// The strategy's own Phase 3 autoscaler, which manifests alone leave
	// unknown, is a warning once discovery shows no metrics API at all.
	strategyHPA := filepath.Join("..", "cli", "testdata", "manifests", "strategy", "as-applied", "phase3-hpa.yaml")
	out.Reset()
	root = cli.NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs([]string{"audit", "--manifests", strategyHPA, "--cluster", "--kubeconfig", c.Kubeconfig, "-o", "json",
		"--checks", "hpa-metrics-unavailable"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var strategy audit.Result
	if err := json.Unmarshal(out.Bytes(), &strategy); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(strategy.Findings) != 1 || strategy.Findings[0].Severity != audit.Warning ||
		!strings.Contains(strategy.Findings[0].Message, "nextstep-prod/nextstep-api-hpa would not compute its metrics: the cluster serves no metrics.k8s.io (metrics-server) and custom.metrics.k8s.io") {
		t.Errorf("the strategy's autoscaler over the live cluster: %+v", strategy.Findings)
	}
}
