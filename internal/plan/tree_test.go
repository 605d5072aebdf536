package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/outdir"
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

// writeTree writes the plan's tree the way the CLI does.
func writeTree(t *testing.T, p *Plan) string {
	t.Helper()
	files := treeOf(t, p)
	dir := filepath.Join(t.TempDir(), "tree")
	if err := outdir.WriteTree(t.Context(), dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}
