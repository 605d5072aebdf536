package sourcefix

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/snapshot"
)

// kustomizeSnapshot is the test overlay as applied: namespace shop, the
// names prefixed with prod-.
func kustomizeSnapshot() *snapshot.Snapshot {
	s := &snapshot.Snapshot{}
	d := deployment(meta("shop", "prod-api", nil, nil),
		container("api", res(map[string]string{"cpu": "500m", "memory": "512Mi"}, map[string]string{"cpu": "1", "memory": "1Gi"})),
		container("proxy", res(map[string]string{"cpu": "100m", "memory": "64Mi"}, nil)))
	d.Spec.Template.Spec.InitContainers = []corev1.Container{container("migrate", res(map[string]string{"cpu": "100m"}, nil))}
	withChain(s, d)
	return s
}

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

func build(t *testing.T, dir string) []byte {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("building %s: %v", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKustomizePatch adds the written patch to a copy of the overlay the
// way its kustomization entry says and builds both: exactly the changed
// containers' resources differ.
func TestKustomizePatch(t *testing.T) {
	t.Parallel()
	src, err := filepath.Abs(filepath.Join("testdata", "kustomize"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     string
		changes []Change
	}{{
		name: "one container, limits dropped in part",
		key:  "shop/prod-api",
		changes: []Change{{Namespace: "shop", Kind: "Pod", Name: "prod-api-7d9f-x2x4q", Container: "api",
			Resources: res(map[string]string{"cpu": "250m", "memory": "300Mi"}, map[string]string{"memory": "400Mi"}), Reason: "p95 cpu 180m"}},
	}, {
		name: "a container and an init container, key naming the kind",
		key:  "shop/Deployment/prod-api",
		changes: []Change{
			{Namespace: "shop", Kind: "Deployment", Name: "prod-api", Container: "proxy", Resources: res(map[string]string{"cpu": "50m", "memory": "48Mi"}, map[string]string{"memory": "96Mi"})},
			{Namespace: "shop", Kind: "Deployment", Name: "prod-api", Container: "migrate", Init: true, Resources: res(map[string]string{"cpu": "20m", "memory": "32Mi"}, nil)},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tree := t.TempDir()
			copyTree(t, src, tree)
			overlay := filepath.Join(tree, "overlay")
			ix := snapshot.NewIndex(kustomizeSnapshot())
			r, err := Build(context.Background(), ix, tc.changes, Options{Sources: Config{Kustomize: map[string]string{tc.key: overlay}}})
			if err != nil {
				t.Fatal(err)
			}
			f := r.Fixes[0]
			if f.Method != MethodKustomize || f.Command != "" {
				t.Fatalf("method %s, command %q; notes %v", f.Method, f.Command, f.Notes)
			}
			if !strings.Contains(strings.Join(f.Notes, "\n"), "names the object api, its name in the overlay") {
				t.Errorf("notes %q do not say the patch names the object as the overlay does", f.Notes)
			}
			before := build(t, overlay)

			// Carry out the fix as its files say.
			var entry struct {
				Patches []map[string]string `json:"patches"`
			}
			if err := sigsyaml.Unmarshal(fileData(t, r, "kustomize/shop/deployment-prod-api/kustomization-entry.yaml"), &entry); err != nil {
				t.Fatal(err)
			}
			if len(entry.Patches) != 1 || entry.Patches[0]["path"] != "purser-deployment-api.yaml" {
				t.Fatalf("entry %v", entry)
			}
			if err := os.WriteFile(filepath.Join(overlay, entry.Patches[0]["path"]), fileData(t, r, "kustomize/shop/deployment-prod-api/patch.yaml"), 0o644); err != nil {
				t.Fatal(err)
			}
			kpath := filepath.Join(overlay, "kustomization.yaml")
			k, err := os.ReadFile(kpath)
			if err != nil {
				t.Fatal(err)
			}
			k = append(k, []byte("  - path: "+entry.Patches[0]["path"]+"\n")...)
			if err := os.WriteFile(kpath, k, 0o644); err != nil {
				t.Fatal(err)
			}
			after := build(t, overlay)

			var cs []Change
			for _, c := range tc.changes {
				c.Name = "prod-api"
				cs = append(cs, c)
			}
			assertOnlyResourcesChangedAll(t, before, after, cs)
		})
	}
}
