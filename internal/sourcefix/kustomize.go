package sourcefix

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

// overlayName returns the name a patch in the overlay at dir must give
// the workload the cluster calls kind ns/name. Kustomize applies an
// overlay's patches before its own namePrefix and nameSuffix, so the
// patch names the object without them. The overlay is built (read, never
// written) to check that it does make the workload.
func overlayName(dir, kind, ns, name string) (string, error) {
	k, err := readKustomization(dir)
	if err != nil {
		return "", err
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return "", fmt.Errorf("building overlay %s: %w", dir, err)
	}
	found := false
	for _, r := range m.Resources() {
		if r.GetKind() == kind && r.GetName() == name && (r.GetNamespace() == "" || r.GetNamespace() == ns) {
			found = true
			break
		}
	}
	if !found {
		return "", fmt.Errorf("overlay %s builds no %s %s in namespace %s", dir, kind, name, ns)
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(name, k.NamePrefix), k.NameSuffix)
	if inner == "" || len(inner)+len(k.NamePrefix)+len(k.NameSuffix) != len(name) {
		return "", fmt.Errorf("overlay %s: %s does not carry the overlay's namePrefix %q and nameSuffix %q", dir, name, k.NamePrefix, k.NameSuffix)
	}
	return inner, nil
}

// readKustomization reads the kustomization file of dir under any of the
// names kustomize accepts.
func readKustomization(dir string) (*types.Kustomization, error) {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		p := filepath.Join(dir, n)
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading overlay: %w", err)
		}
		var k types.Kustomization
		if err := sigsyaml.Unmarshal(data, &k); err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		return &k, nil
	}
	return nil, fmt.Errorf("overlay %s has no kustomization.yaml", dir)
}
