package plan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/scenario/clusterload"
	"github.com/purserhq/purser/internal/testcluster"
)

// TestTreeContent checks what the tree holds without a cluster: server
// fields stripped, names and references rewritten, secrets left out.
func TestTreeContent(t *testing.T) {
	t.Parallel()
	p := demo(t, StrategyProduct)
	dir := writeTree(t, p)
	read := func(rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	root := read("kustomization.yaml")
	if k := read("nextstep-dev/kustomization.yaml"); !strings.Contains(k, "# PersistentVolumeClaim nextstep-data/warehouse binds to its existing volume") {
		t.Errorf("the target's kustomization does not say which claims rebind:\n%s", k)
	}
	for _, tg := range p.Spec.Targets {
		if !strings.Contains(root, "- "+tg.Name+"\n") {
			t.Errorf("root kustomization does not list %s", tg.Name)
		}
	}
	factory := read("nextstep-prod/deployment-factory-api.yaml")
	for _, want := range []string{"namespace: nextstep-prod", "http://nextstep-api.nextstep-prod.svc.cluster.local:8080", "name: app-config-factory"} {
		if !strings.Contains(factory, want) {
			t.Errorf("factory-api manifest lacks %q:\n%s", want, factory)
		}
	}
	svc := read("kvibes-prod/service-kvibe-frontend-staging.yaml")
	for _, want := range []string{"purser.dev/origin-namespace: kvibe-staging", "namespace: kvibes-prod"} {
		if !strings.Contains(svc, want) {
			t.Errorf("staging frontend Service lacks %q:\n%s", want, svc)
		}
	}
	rb := read("kvibes-prod/rolebinding-ci-deployer-edit.yaml")
	if !strings.Contains(rb, "namespace: kvibes-prod") || strings.Contains(rb, " namespace: kvibe-staging") {
		t.Errorf("RoleBinding subject not rewritten:\n%s", rb)
	}
	pvc := read("platform/persistentvolumeclaim-data-postgres-central-0.yaml")
	if !strings.Contains(pvc, "volumeName: pvc-") {
		t.Errorf("a moved claim binds to its volume by name:\n%s", pvc)
	}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, bad := range []string{"uid:", "resourceVersion:", "creationTimestamp", "managedFields", "clusterIP:", "status:", "nodeName:", "kind: Secret"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s holds %q", path, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTreeAgainstCluster builds the trees of both strategies with
// kubectl kustomize and dry-runs them, server side, against a control
// plane loaded with BlueOcean.
func TestTreeAgainstCluster(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	if err := clusterload.Load(ctx, c.Config, scenario.BlueOcean(), testWriter{t}); err != nil {
		t.Fatal(err)
	}
	for _, strategy := range []string{StrategyProduct, StrategyEnvironment} {
		// The tree comes from the plan as read from its file: what an
		// executor would apply.
		p, err := Parse(strategy+".plan.yaml", planFile(t, demo(t, strategy)))
		if err != nil {
			t.Fatal(err)
		}
		dir := writeTree(t, p)
		out, err := c.Kubectl(ctx, "kustomize", dir)
		if err != nil {
			t.Fatalf("%s: %v", strategy, err)
		}
		built := filepath.Join(t.TempDir(), "built.yaml")
		if err := os.WriteFile(built, out, 0o644); err != nil {
			t.Fatal(err)
		}
		// The plan's first step creates the new namespaces; a dry run
		// cannot create objects in a namespace that does not exist yet.
		for _, tg := range p.Spec.Targets {
			if !tg.Exists {
				if _, err := c.Kubectl(ctx, "create", "namespace", tg.Name); err != nil {
					t.Fatal(err)
				}
			}
		}
		res, err := c.Kubectl(ctx, "apply", "--server-side", "--dry-run=server", "--field-manager=purser-plan", "-f", built)
		if err != nil {
			t.Errorf("%s: server-side dry run: %v", strategy, err)
		}
		applied := strings.Count(string(res), "serverside-applied (server dry run)")
		if want := strings.Count(string(out), "\nkind: "); applied != want && err == nil {
			t.Errorf("%s: %d objects applied in the dry run, %d in the tree", strategy, applied, want)
		}
		t.Logf("%s: %d objects pass the server-side dry run", strategy, applied)
	}
}

// writeTree writes the plan's tree the way the CLI does.
func writeTree(t *testing.T, p *Plan) string {
	t.Helper()
	files := treeOf(t, p)
	dir := filepath.Join(t.TempDir(), "tree")
	if err := outdir.WriteTree(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
