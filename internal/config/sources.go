package config

import (
	"path/filepath"

	"github.com/purserhq/purser/internal/sourcefix/sources"
)

// SourceFix returns the sources section with its overlay, chart and
// values paths taken against the directory of the file that gave it, as
// cost.priceBook is: a run from another directory reads the same files.
func (c *Config) SourceFix() sources.Config {
	doc := c.docOf("sources")
	if doc.Line("") == 0 {
		return c.Sources
	}
	return c.Sources.Resolve(filepath.Dir(doc.File))
}
