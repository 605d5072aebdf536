package report

import (
	"bytes"
	"context"
	"testing"

	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/demo"
	"github.com/purserhq/purser/internal/testutil/mdcheck"
)

// A plan file can come from someone else and names come from the cluster:
// in the review they stay text, and step commands stay in their fences.
func TestPlanMarkdownHostileText(t *testing.T) {
	t.Parallel()
	s, cfg := demo.Snapshot(t), demo.Config(t)
	p, err := plan.Build(context.Background(), snapshot.NewIndex(s), plan.Input{Classify: cfg.Classify, Config: cfg.Plan, Strategy: plan.StrategyProduct})
	if err != nil {
		t.Fatal(err)
	}
	h := mdcheck.Hostile()
	var fences []string
	moves := 0
	for i := range p.Spec.Targets {
		tg := &p.Spec.Targets[i]
		tg.Name = h
		tg.Sources = append(tg.Sources, h)
		moves += len(tg.Moves)
		for j := range tg.Moves {
			tg.Moves[j].Name = h
		}
		for j := range tg.Conflicts {
			tg.Conflicts[j].Message, tg.Conflicts[j].Resolution = h, h
		}
		for j := range tg.Risks {
			tg.Risks[j].Message, tg.Risks[j].Objects = h, []string{h}
		}
		tg.Steps = append(tg.Steps, plan.Step{Text: "then", Command: "kubectl get ns x"})
		for j := range tg.Steps {
			tg.Steps[j].Text = h
			if tg.Steps[j].Command != "" {
				tg.Steps[j].Command = "kubectl get ns " + h
				fences = append(fences, output.TerminalText(tg.Steps[j].Command))
			}
		}
	}
	if len(fences) == 0 || moves == 0 {
		t.Fatal("the demo plan has no moves and no step commands to test with")
	}
	p.Spec.Deletions = append(p.Spec.Deletions, plan.Deletion{Namespace: h, Reason: h})
	p.Spec.Notes = append(p.Spec.Notes, h)
	p.Spec.Savings.Warnings = append(p.Spec.Savings.Warnings, h)
	p.Spec.Savings.Steps = append(p.Spec.Savings.Steps, plan.Step{Text: h, Command: h})
	var out bytes.Buffer
	if err := PlanMarkdown(&out, p); err != nil {
		t.Fatal(err)
	}
	html := mdcheck.Check(t, out.Bytes(), "evil", fences)
	if !mdcheck.InTableCell(html) {
		t.Errorf("a hostile target or move name split its table row:\n%s", out.String())
	}
}
