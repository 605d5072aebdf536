package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/cli"
	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/scenario/clusterload"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
)

// TestGovernGitOpsAndHPALive generates the repository tree of BlueOcean
// loaded into a real control plane, from the live snapshot, and has the
// API server accept every overlay, platform/ and policies/ in a
// server-side dry run (kubectl apply -k); with Argo CD's Application CRD
// installed, the API server validates the Applications of clusters/
// itself. Then purser generate hpa reads the cluster's discovery: no
// autoscaler while no metrics API is served, one per eligible Deployment
// once discovery lists metrics.k8s.io, applied for real.
func TestGovernGitOpsAndHPALive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	if err := clusterload.Load(ctx, c.Config, scenario.BlueOcean(), &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	cfg, err := config.Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	s, err := live.Collect(ctx, c.Config, live.CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Govern
	g.GitOps.Cluster = "blueocean"
	in := govern.Input{Index: snapshot.NewIndex(s), Classify: cfg.Classify, Config: g}
	res, err := govern.GitOps(in)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "repo")
	if err := outdir.WriteTree(ctx, root, res.Files); err != nil {
		t.Fatal(err)
	}
	dryRun := func(dir string, want int) {
		t.Helper()
		out, err := c.Kubectl(ctx, "apply", "--server-side", "--dry-run=server", "--field-manager=argocd-controller", "-k", filepath.Join(root, dir))
		if err != nil {
			t.Errorf("%s: server-side dry run: %v\n%s", dir, err, out)
			return
		}
		if n := strings.Count(string(out), "serverside-applied (server dry run)"); n != want || n == 0 {
			t.Errorf("%s: %d objects applied in the dry run, want %d:\n%s", dir, n, want, out)
		}
	}
	overlays := 0
	for _, a := range res.Apps {
		for _, o := range a.Overlays {
			want := 0
			for _, ns := range o.Namespaces {
				want += len(res.Objects[ns])
			}
			dryRun(o.Dir, want)
			overlays++
		}
	}
	platform := 0
	for _, ns := range res.Platform {
		platform += len(res.Objects[ns])
	}
	dryRun(govern.PlatformDir, platform)
	policies := 0
	for _, f := range res.Files {
		if strings.HasPrefix(f.Path, govern.PoliciesDir+"/") && !strings.HasSuffix(f.Path, "/kustomization.yaml") {
			policies++
		}
	}
	dryRun(govern.PoliciesDir, policies)
	t.Logf("%d overlays, platform (%d objects) and policies (%d objects) pass the server-side dry run", overlays, platform, policies)

	crd := filepath.Join("..", "govern", "testdata", "argocd", "application-crd.yaml")
	if out, err := c.Kubectl(ctx, "apply", "--server-side", "-f", crd); err != nil {
		t.Fatalf("installing Argo CD's Application CRD: %v\n%s", err, out)
	}
	established(ctx, t, c, "applications.argoproj.io")
	dryRun(filepath.Join(govern.ClustersDir, res.Cluster), len(res.Applications))

	// The autoscalers, from the live cluster's discovery.
	generate := func() (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		root := cli.NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		root.SetArgs([]string{"generate", "hpa", "--kubeconfig", c.Kubeconfig})
		if err := root.ExecuteContext(ctx); err != nil {
			t.Fatalf("purser generate hpa: %v\n%s", err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	out, stderr := generate()
	if out != "" || !strings.Contains(stderr, "Warning: no CPU metric generated: the cluster's discovery shows no metrics.k8s.io") {
		t.Fatalf("without a metrics API: output %q, stderr %q", out, stderr)
	}
	// A custom resource of group metrics.k8s.io puts the group in
	// discovery, as metrics-server's APIService would.
	stand := filepath.Join(t.TempDir(), "metrics-group.yaml")
	if err := os.WriteFile(stand, []byte(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: probes.metrics.k8s.io
  annotations:
    api-approved.kubernetes.io: "unapproved, stands in for metrics-server in a test"
spec:
  group: metrics.k8s.io
  names: {kind: Probe, plural: probes}
  scope: Namespaced
  versions:
  - name: v1test1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Kubectl(ctx, "apply", "--server-side", "-f", stand); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	established(ctx, t, c, "probes.metrics.k8s.io")
	want, err := govern.HPAs(in, snapshot.Meta{ServedAPIs: []string{"metrics.k8s.io/v1test1"}}.Serves)
	if err != nil {
		t.Fatal(err)
	}
	var hpas string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		hpas, stderr = generate()
		if hpas != "" || time.Now().After(deadline) {
			break
		}
	}
	if n := strings.Count(hpas, "kind: HorizontalPodAutoscaler"); n != len(want.HPAs) || n == 0 || strings.Contains(stderr, "no CPU metric") {
		t.Fatalf("with metrics.k8s.io served: %d autoscalers, want %d; stderr %q", n, len(want.HPAs), stderr)
	}
	file := filepath.Join(t.TempDir(), "hpa.yaml")
	if err := os.WriteFile(file, []byte(hpas), 0o600); err != nil {
		t.Fatal(err)
	}
	applied, err := c.Kubectl(ctx, "apply", "--server-side", "--field-manager=purser-govern", "-f", file)
	if err != nil {
		t.Fatalf("applying the autoscalers: %v\n%s", err, applied)
	}
	if n := strings.Count(string(applied), "serverside-applied"); n != len(want.HPAs) {
		t.Errorf("%d autoscalers applied, %d generated:\n%s", n, len(want.HPAs), applied)
	}
	t.Logf("%d autoscalers generated from discovery and applied", len(want.HPAs))
}

// established waits until the API server serves a CustomResourceDefinition.
func established(ctx context.Context, t *testing.T, c *testcluster.Cluster, name string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		out, err := c.Kubectl(ctx, "get", "crd", name, "-o", `jsonpath={.status.conditions[?(@.type=="Established")].status}`)
		if err == nil && strings.TrimSpace(string(out)) == "True" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("CustomResourceDefinition %s not established: %v\n%s", name, err, out)
		}
	}
}
