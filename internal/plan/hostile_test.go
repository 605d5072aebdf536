package plan

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/shellcheck"
)

// renameObjects returns s with the name of every Secret, claim and volume
// ending in suffix, references included; namespaces keep their names, as
// the plan's config selects them.
func renameObjects(t *testing.T, s *snapshot.Snapshot, suffix string) *snapshot.Snapshot {
	t.Helper()
	names := map[string]bool{}
	for _, x := range s.Secrets {
		names[x.Name] = true
	}
	for _, x := range s.PVCs {
		names[x.Name] = true
		names[x.Spec.VolumeName] = true
	}
	for _, x := range s.PVs {
		names[x.Name] = true
	}
	delete(names, "")
	for _, ns := range s.Namespaces {
		delete(names, ns.Name)
	}
	h := shellcheck.Rename(t, s, names, suffix)
	h.Meta = s.Meta
	return h
}

// commandsOf lists every step command of p.
func commandsOf(t *testing.T, p *Plan) []string {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "command" && s != "" {
					out = append(out, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	return out
}

// TestHostileNamesInStepCommands builds the demo plan with hostile Secret,
// claim and volume names and runs every step command with kubectl, jq and
// doctl stubbed: no name runs as code, and each reaches them whole.
func TestHostileNamesInStepCommands(t *testing.T) {
	sandbox := shellcheck.New(t)
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseConfig(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	for _, suffix := range shellcheck.Suffixes() {
		p, err := build(t, renameObjects(t, s, suffix), f, StrategyProduct)
		if err != nil {
			t.Fatal(err)
		}
		tested := 0
		for _, cmd := range commandsOf(t, p) {
			if !strings.Contains(cmd, "pwned") {
				continue
			}
			tested++
			sandbox.Check(t, fmt.Sprintf("step with suffix %q", suffix), cmd, suffix)
		}
		if tested == 0 {
			t.Errorf("suffix %q: no step command carries a hostile name", suffix)
		}
	}
}
