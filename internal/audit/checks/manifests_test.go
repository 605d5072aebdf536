package checks

import (
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
)

// Every check says whether it runs on manifests, and a check that does
// not says why: reports show the reason beside the skipped check.
func TestEveryCheckDeclaresManifestMode(t *testing.T) {
	t.Parallel()
	for _, c := range Registry() {
		d, ok := c.(audit.ManifestDeclarer)
		if !ok {
			t.Errorf("check %s does not implement audit.ManifestDeclarer", c.ID())
			continue
		}
		m := d.OnManifests()
		if !m.Declared() {
			t.Errorf("check %s: manifest mode undeclared or contradictory: %+v", c.ID(), m)
		}
		if !m.Runs && !strings.HasPrefix(m.Skip, "needs a cluster: ") {
			t.Errorf("check %s: skip reason %q should start with \"needs a cluster: \"", c.ID(), m.Skip)
		}
		// A suspended CronJob and a Service selector that matches no pod
		// template are in the specs themselves.
		if c.Category() == audit.Availability && m.Runs && c.ID() != "cronjob-suspended" && c.ID() != serviceSelectorID {
			t.Errorf("availability check %s runs on manifests, which carry no status", c.ID())
		}
	}
}
