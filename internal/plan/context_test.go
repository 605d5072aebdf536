package plan

import (
	"bytes"
	"testing"

	"github.com/purserhq/purser/internal/scenario"
)

// A plan records the kubeconfig context its snapshot was read through,
// so that apply can name it when pointed at another cluster; a snapshot
// without one (files, the demo) records none, and its plan is unchanged.
func TestPlanRecordsContext(t *testing.T) {
	t.Parallel()
	for _, ctxName := range []string{"do-fra1-prod", ""} {
		s, err := scenario.DemoSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		s.Meta.Context = ctxName
		f, err := parseConfig(scenario.DemoConfigFile, scenario.DemoConfigYAML())
		if err != nil {
			t.Fatal(err)
		}
		p, err := build(t, s, f, StrategyEmpty)
		if err != nil {
			t.Fatal(err)
		}
		if p.Metadata.Context != ctxName {
			t.Errorf("plan records context %q, want %q", p.Metadata.Context, ctxName)
		}
		if p.Metadata.ContentHash, err = p.Hash(); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := p.WriteYAML(&b); err != nil {
			t.Fatal(err)
		}
		back, err := Parse("p.yaml", b.Bytes())
		if err != nil || back.Metadata.Context != ctxName {
			t.Errorf("read back: context %q, %v", back.Metadata.Context, err)
		}
	}
}
