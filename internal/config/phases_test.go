package config

import (
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/scenario"
)

func TestPhasesSection(t *testing.T) {
	t.Parallel()
	head := "apiVersion: purser.dev/v1alpha1\nkind: Config\n"
	good := `phases:
  baseline: {month: "2025-09", monthlyCost: "1289.30 USD", namespaces: 69, openErrors: 8}
  traffic: {query: 'sum(rate(x[1d]))'}
  sequence:
  - name: one
    targets:
      monthlyCost: {reductionPercent: 40}
      namespaces: {max: 27}
    enterNext:
    - costTargetMet: {months: 1}
    - attested: {condition: cash flow, met: true}
  - name: two
    targets:
      openErrors: {max: 0}
      trafficGrowth: {percent: 50, over: 90d}
`
	tests := []struct {
		name string
		yaml string
		// want is the whole error: one message, at file:line.
		want string
	}{
		{"a valid section", good, ""},
		{"a trigger with two conditions", `phases:
  sequence:
  - name: one
    targets: {namespaces: {max: 27}}
    enterNext:
    - costTargetMet: {months: 1}
      attested: {condition: x}
  - name: two
    targets: {namespaces: {max: 8}}
`, "purser.yaml:8: phases.sequence[0].enterNext[0]: give exactly one of costTargetMet, incidentFree, trafficGrowth or attested"},
		{"a reduction above 100%", `phases:
  baseline: {monthlyCost: "100 USD"}
  sequence:
  - name: one
    targets:
      monthlyCost:
        reductionPercent: 140
`, "purser.yaml:9: phases.sequence[0].targets.monthlyCost.reductionPercent: 140: expected a percentage from 0 to 100"},
		{"a reduction without a baseline", `phases:
  sequence:
  - name: one
    targets:
      openErrors: {reductionPercent: 80}
`, "purser.yaml:7: phases.sequence[0].targets.openErrors.reductionPercent: a reduction needs baseline.openErrors"},
		{"an unknown trigger", `phases:
  sequence:
  - name: one
    targets: {namespaces: {max: 1}}
    enterNext:
    - secondTeam: {}
`, "purser.yaml:8: phases.sequence[0].enterNext[0].secondTeam: unknown field"},
		{"a target in another currency than the baseline", `phases:
  baseline: {monthlyCost: "1289.30 USD"}
  sequence:
  - name: one
    targets: {monthlyCost: {amount: "1200 EUR"}}
`, "purser.yaml:7: phases.sequence[0].targets.monthlyCost.amount: 1200 EUR: currencies differ: the baseline is in USD"},
		{"traffic growth without a query", `phases:
  sequence:
  - name: one
    targets: {trafficGrowth: {percent: 50, over: 3 months}}
`, "purser.yaml:6: phases.sequence[0].targets.trafficGrowth.over: \"3 months\": expected a window such as 90d, 12w or 720h"},
		{"a cost trigger on a phase without a cost target", `phases:
  sequence:
  - name: one
    targets: {namespaces: {max: 1}}
    enterNext: [{costTargetMet: {months: 2}}]
  - name: two
    targets: {namespaces: {max: 1}}
`, "purser.yaml:7: phases.sequence[0].enterNext[0].costTargetMet: phase \"one\" has no monthlyCost target to meet"},
		{"a baseline month that is not one", `phases:
  baseline:
    month: September
  sequence: [{name: one, targets: {namespaces: {max: 1}}}]
`, "purser.yaml:5: phases.baseline.month: \"September\": expected a month such as 2025-09"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("purser.yaml", []byte(head+tt.yaml))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(c.Phases.Sequence) != 2 || *c.Phases.Sequence[1].Targets.OpenErrors.Max != 0 {
					t.Errorf("phases %+v", c.Phases)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %s", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
			if strings.Count(err.Error(), "purser.yaml:") != 1 {
				t.Errorf("want one error at one place, got %s", err)
			}
		})
	}
}

// TestPhasesEncodeKeepsZeros: a ceiling of 0 errors and an incident-free
// window of 0 days are figures, not defaults; written out by config init
// and read back, they stay.
func TestPhasesEncodeKeepsZeros(t *testing.T) {
	t.Parallel()
	c, err := Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Encode("", nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("encoded.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	last := back.Phases.Sequence[2].Targets.OpenErrors
	if last == nil || last.Max == nil || *last.Max != 0 {
		t.Errorf("Phase 3's open error ceiling lost: %+v", last)
	}
	if f := back.Phases.Sequence[0].EnterNext[1].IncidentFree; f == nil || f.Days != 0 {
		t.Errorf("Phase 1's incident-free trigger lost: %+v", back.Phases.Sequence[0].EnterNext[1])
	}
}

// TestDemoPhases: the demo's phases are the strategy's with its figures
// corrected: reductions of the measured USD 1,289.30, 69 → 27 → 8.
func TestDemoPhases(t *testing.T) {
	t.Parallel()
	c, err := Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	p := c.Phases
	if p.Baseline.MonthlyCost != "1289.30 USD" || *p.Baseline.Namespaces != 69 || len(p.Sequence) != 3 {
		t.Fatalf("baseline %+v, %d phases", p.Baseline, len(p.Sequence))
	}
	for i, want := range []struct{ cost, ns int }{{40, 27}, {60, 8}, {70, 8}} {
		tg := p.Sequence[i].Targets
		if *tg.MonthlyCost.ReductionPercent != want.cost || *tg.Namespaces.Max != want.ns {
			t.Errorf("%s: -%d%%, %d namespaces; want -%d%%, %d", p.Sequence[i].Name, *tg.MonthlyCost.ReductionPercent, *tg.Namespaces.Max, want.cost, want.ns)
		}
	}
}
