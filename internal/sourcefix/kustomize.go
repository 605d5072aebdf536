package sourcefix

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// overlayName returns the name a workload has inside its overlay, before
// the overlay's namePrefix and nameSuffix: kustomize applies patches
// before it renames, so a patch names the object as the base does. It
// builds the overlay (reading, never writing) and finds the object that
// comes out as kind/name (in namespace ns, or in none).
func overlayName(dir, kind, ns, name string) (string, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return "", fmt.Errorf("building overlay %s: %w", dir, err)
	}
	for _, r := range m.Resources() {
		if r.GetKind() != kind || r.GetName() != name {
			continue
		}
		if got := r.GetNamespace(); got != "" && got != ns {
			continue
		}
		return r.OrgId().Name, nil
	}
	return "", fmt.Errorf("overlay %s builds no %s %s in namespace %s", dir, kind, name, ns)
}
