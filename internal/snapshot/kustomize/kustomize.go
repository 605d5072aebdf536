// Package kustomize builds kustomizations in-process for the manifest
// reader. It is apart from package snapshot because the kustomize API
// links much (a database driver interface among it) that the engines,
// which import snapshot, must not.
package kustomize

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Build runs kustomize build on dir with kubectl's defaults (no plugins,
// files only under dir's tree) and returns the objects as multi-document
// YAML.
func Build(dir string) ([]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return out, nil
}
