package plan

import "github.com/purserhq/purser/internal/manifest"

// WriteTree writes the plan's tree into dir with manifest.WriteTree.
//
// It only bridges the CLI until the CLI writes Tree with manifest.WriteTree
// itself; engines do not write files, and this method goes then.
func (p *Plan) WriteTree(dir string) error {
	files, err := p.Tree()
	if err != nil {
		return err
	}
	return manifest.WriteTree(dir, files)
}
