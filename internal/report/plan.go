package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/plan"
)

// PlanMarkdown writes the review document of a plan: per target its
// sources, moves, conflicts, risks and steps, then the savings beside the
// naive estimate, and the return on investment with its arithmetic.
func PlanMarkdown(w io.Writer, p *plan.Plan) error {
	var b strings.Builder
	s := p.Spec
	fmt.Fprintf(&b, "# Consolidation plan: strategy %s\n\n", md(p.Metadata.Strategy))
	fmt.Fprintf(&b, "Source: %s, collected %s. Content hash: %s.\n\n", md(p.Metadata.Source),
		md(SnapshotTime(p.Metadata.CollectedAt, "2006-01-02 15:04 MST")), output.MarkdownCode(p.Metadata.ContentHash))
	n := s.Namespaces
	fmt.Fprintf(&b, "Namespaces: %d → %d (%d protected + %d targets + %d untouched; %d deleted).\n\n",
		n.Before, n.After, n.Kubernetes, n.Targets, n.Untouched, n.Deleted)
	if blocking := p.Blocking(); len(blocking) > 0 {
		fmt.Fprintf(&b, "**Blocked: %d conflicts no rule resolves.** Nothing can be applied until plan.renames (or the cluster) resolves them.\n\n", len(blocking))
	}

	b.WriteString("## Summary\n\n| Target | Exists | Sources | Moves | Conflicts (resolved) | Risks |\n|---|---|---|---|---|---|\n")
	for _, t := range s.Targets {
		resolved := 0
		for _, c := range t.Conflicts {
			if c.Resolved() {
				resolved++
			}
		}
		exists := "new"
		if t.Exists {
			exists = "reused"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d (%d) | %d |\n", md(t.Name), exists, md(planSources(t)), len(t.Moves), len(t.Conflicts), resolved, len(t.Risks))
	}
	b.WriteString("\n")

	for _, t := range s.Targets {
		fmt.Fprintf(&b, "## Target %s\n\n", md(t.Name))
		fmt.Fprintf(&b, "Sources: %s.", md(planSources(t)))
		if t.Stays > 0 {
			fmt.Fprintf(&b, " %d objects already in %s stay.", t.Stays, md(t.Name))
		}
		b.WriteString("\n\n")
		if len(t.Moves) > 0 {
			b.WriteString("### Moves\n\n| Kind | From | Name | New name | How |\n|---|---|---|---|---|\n")
			for _, m := range t.Moves {
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", md(m.Kind), md(m.From), md(m.Name), md(m.NewName), md(m.How))
			}
			b.WriteString("\n")
		}
		planIssues(&b, "Conflicts", t.Conflicts)
		planIssues(&b, "Risks", t.Risks)
		if len(t.Steps) > 0 {
			b.WriteString("### Steps\n\n")
			for i, st := range t.Steps {
				fmt.Fprintf(&b, "%d. %s\n", i+1, md(st.Text))
				if st.Command != "" {
					planFenced(&b, "   ", st.Command)
				}
			}
			b.WriteString("\n")
		}
	}

	if len(s.Deletions) > 0 {
		b.WriteString("## Deleted namespaces\n\n")
		for _, d := range s.Deletions {
			fmt.Fprintf(&b, "- %s: %s\n", md(d.Namespace), md(d.Reason))
		}
		b.WriteString("\n")
	}
	if len(s.Untouched) > 0 {
		fmt.Fprintf(&b, "## Untouched\n\n%s\n\n", md(strings.Join(s.Untouched, ", ")))
	}
	for _, note := range s.Notes {
		fmt.Fprintf(&b, "- %s\n", md(note))
	}

	sv := s.Savings
	b.WriteString("## Savings\n\n")
	priced := "and pricing what goes away, in " + sv.Currency
	if sv.Currency == "" {
		priced = "without prices (see below)"
	}
	fmt.Fprintf(&b, "Measured by packing the pods onto the node pools, %s, %s. Method: %s.\n\n", md(planTargetText(sv)), md(priced), md(sv.Packing.Method))
	b.WriteString("| Pool | Instance type | Target | Nodes today | Needed before | Needed after | Freed by the plan | Right-sizing | Node price | Monthly |\n" +
		"|---|---|---|---|---|---|---|---|---|---|\n")
	for _, ps := range sv.Pools {
		fmt.Fprintf(&b, "| %s | %s | %d%% | %d | %d | %d | %+d | %+d | %s | %s |\n", md(ps.Pool), md(ps.InstanceType), ps.TargetUtilization, ps.Nodes,
			ps.NeededBefore, ps.NeededAfter, ps.FreedByPlan, ps.Rightsizing, md(planAmount(ps.NodeMonthly)), md(planAmount(ps.Monthly)))
	}
	fmt.Fprintf(&b, "\n### What the plan itself saves: %s\n\n", md(planMonthly(sv.Plan.Monthly, " a month")))
	planMarkdownArithmetic(&b, sv.Plan, planNothing)
	fmt.Fprintf(&b, "- Load balancers: %s (%s)\n", md(planAmount(sv.LoadBalancers.Monthly)), md(sv.LoadBalancers.Note))
	fmt.Fprintf(&b, "- Volumes: %d GiB, %s (%s)\n", sv.Volumes.GiB, md(planAmount(sv.Volumes.Monthly)), md(sv.Volumes.Note))
	fmt.Fprintf(&b, "\n### Right-sizing the pools, with or without the plan: %s\n\n", md(planMonthly(sv.Rightsizing.Monthly, " a month")))
	planMarkdownArithmetic(&b, sv.Rightsizing, plan.NoRightsizing)
	for _, ps := range sv.Pools {
		if ps.Note != "" {
			fmt.Fprintf(&b, "- %s pool: %s.\n", md(ps.Pool), md(ps.Note))
		}
	}
	fmt.Fprintf(&b, "\n**With the plan and its pool steps: %s.** %s\n", md(planMonthly(sv.Monthly, " a month")), md(sv.Note))
	for _, u := range sv.Unplaced {
		fmt.Fprintf(&b, "- Unplaced pod (no pool can hold it): %s\n", md(u))
	}
	for _, e := range sv.Errors {
		fmt.Fprintf(&b, "- Not priced: %s\n", md(e))
	}
	for _, w := range sv.Warnings {
		fmt.Fprintf(&b, "- Warning: %s\n", md(w))
	}
	if len(sv.Steps) > 0 {
		b.WriteString("\nPool steps:\n\n")
		for _, st := range sv.Steps {
			fmt.Fprintf(&b, "- %s %s\n", md(st.Text), output.MarkdownCode(st.Command))
		}
	}
	nv := s.Naive
	fmt.Fprintf(&b, "\n### Naive estimate (not a saving)\n\n%s\n\n", md(nv.Note))

	b.WriteString("## Return on investment\n\n")
	if s.ROI.Error != "" {
		fmt.Fprintf(&b, "Not computed: %s.\n", md(s.ROI.Error))
	} else {
		fmt.Fprintf(&b, "Investment: %d days × %s = %s. The return is computed on what the plan itself saves: the investment buys the "+
			"consolidation, and the right-sizing needs none (resizing a pool is one command). The same with the right-sizing counted "+
			"follows, labelled as such.\n\n", s.ROI.Days, md(s.ROI.DailyRate.String()), md(s.ROI.Investment.String()))
		planROI(&b, "On the plan's own savings", sv.Plan.Monthly, s.ROI)
		planROI(&b, "With the right-sizing counted (it needs no consolidation)", sv.Monthly, s.ROIWithRightsizing)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// planTargetText names the target utilisation the packing used: "each node
// full at 80% of its allocatable CPU and memory (plan.packing; pool
// applications 70%)".
func planTargetText(sv plan.Savings) string {
	out := fmt.Sprintf("each node full at %d%% of its allocatable CPU and memory (plan.packing.targetUtilization", sv.Packing.TargetUtilization)
	var own []string
	for _, ps := range sv.Pools {
		if ps.TargetUtilization != sv.Packing.TargetUtilization {
			own = append(own, fmt.Sprintf("%s %d%%", ps.Pool, ps.TargetUtilization))
		}
	}
	if len(own) > 0 {
		out += "; pool " + strings.Join(own, ", ")
	}
	return out + ")"
}

// planNothing is what the plan itself saves when nothing goes away.
const planNothing = "nothing goes away: the pods need the same nodes after the plan as before, and no load balancer or volume is deleted"

// planArithmetic writes a saving's lines, or none, the sentence that says
// why it has none.
func planArithmetic(b *strings.Builder, indent string, s plan.Saving, none string) {
	if len(s.Arithmetic) == 0 {
		fmt.Fprintf(b, "%s%s\n", indent, none)
	}
	for _, line := range s.Arithmetic {
		fmt.Fprintf(b, "%s%s\n", indent, line)
	}
}

// planAmount writes an amount with its currency; one without a currency
// was not priced, and a bare figure would read as a price.
func planAmount(a money.Amount) string {
	if a.Currency == "" {
		return "not priced"
	}
	return a.String()
}

// planMonthly writes a monthly saving followed by per ("/month", " a
// month"): a negative one is a cost and says so, one without a currency
// was not priced.
func planMonthly(a money.Amount, per string) string {
	switch {
	case a.Currency == "":
		return "not priced"
	case a.Micros < 0:
		return money.New(a.Currency, -a.Micros).String() + per + " more (a cost)"
	}
	return a.String() + per
}

// planROI writes one return on investment with its arithmetic.
func planROI(b *strings.Builder, title string, savings money.Amount, r plan.ROI) {
	fmt.Fprintf(b, "### %s\n\n", md(title))
	if x := r.ExchangeRate; x != nil {
		fmt.Fprintf(b, "Monthly savings: %s = %s at 1 %s = %s %s (rate of %s, from plan.roi.exchangeRate).\n\n",
			md(savings.String()), md(r.MonthlySavings.String()), md(x.From), md(x.Rate), md(x.To), md(planRateDate(x.AsOf)))
	} else {
		fmt.Fprintf(b, "Monthly savings: %s.\n\n", md(r.MonthlySavings.String()))
	}
	if r.PaybackMonth > 0 {
		fmt.Fprintf(b, "Payback: month %d.\n\n", r.PaybackMonth)
	} else {
		b.WriteString("Payback: never, nothing is saved a month.\n\n")
	}
	b.WriteString("| Month | Cumulative | Arithmetic |\n|---|---|---|\n")
	for _, pt := range r.Cumulative {
		fmt.Fprintf(b, "| %d | %s | %s |\n", pt.Month, md(pt.Value.String()), md(pt.Arithmetic))
	}
	b.WriteString("\n")
}

// planMarkdownArithmetic writes a saving's lines as list items, or the
// sentence that says why it has none.
func planMarkdownArithmetic(b *strings.Builder, s plan.Saving, none string) {
	if len(s.Arithmetic) == 0 {
		fmt.Fprintf(b, "- %s\n", md(none))
	}
	for _, line := range s.Arithmetic {
		fmt.Fprintf(b, "- %s\n", md(line))
	}
}

// planFenced writes a step's command verbatim in a fenced code block no
// line of it can close, every line indented to sit in the list item.
func planFenced(b *strings.Builder, indent, command string) {
	command = output.TerminalText(strings.TrimRight(command, "\n"))
	open, close := output.MarkdownFence(command)
	fmt.Fprintf(b, "%s%s\n", indent, open)
	for _, line := range strings.Split(command, "\n") {
		fmt.Fprintf(b, "%s%s\n", indent, line)
	}
	fmt.Fprintf(b, "%s%s\n", indent, close)
}

func planRateDate(s string) string {
	if s == "" {
		return "unknown date"
	}
	return s
}

func planSources(t plan.Target) string {
	out := strings.Join(t.Sources, ", ")
	if len(t.EmptySources) > 0 {
		out += " (+ empty, deleted: " + strings.Join(t.EmptySources, ", ") + ")"
	}
	return out
}

func planIssues(b *strings.Builder, title string, is []plan.Issue) {
	if len(is) == 0 {
		return
	}
	fmt.Fprintf(b, "### %s\n\n", title)
	for _, i := range is {
		status := ""
		if title == "Conflicts" {
			status = "**BLOCKS** "
			if i.Resolved() {
				status = "resolved: "
			}
		}
		fmt.Fprintf(b, "- %s[%s] %s (%s)", status, md(i.Kind), md(i.Message), md(strings.Join(i.Objects, ", ")))
		if i.Resolution != "" {
			fmt.Fprintf(b, " → %s", md(i.Resolution))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// PlanSummary writes the short form of a plan: targets, moves,
// conflicts, savings and payback, a few lines for a terminal.
func PlanSummary(w io.Writer, p *plan.Plan) error {
	var b strings.Builder
	s := p.Spec
	n := s.Namespaces
	fmt.Fprintf(&b, "Plan (strategy %s): %d → %d namespaces, %d targets, %d deleted, %d untouched\n",
		p.Metadata.Strategy, n.Before, n.After, n.Targets, n.Deleted, n.Untouched)
	if len(s.Targets) == 0 && len(s.Notes) > 0 && strings.HasPrefix(s.Notes[0], "no target:") {
		fmt.Fprintf(&b, "  %s\n", s.Notes[0])
	}
	for _, t := range s.Targets {
		resolved, open := 0, 0
		for _, c := range t.Conflicts {
			if c.Resolved() {
				resolved++
			} else {
				open++
			}
		}
		fmt.Fprintf(&b, "  %-16s ← %-60s %9s, %s resolved, %d open, %s\n",
			t.Name, planTruncate(planSources(t), 60), plural(len(t.Moves), "move"), plural(resolved, "conflict"), open, plural(len(t.Risks), "risk"))
	}
	sv := s.Savings
	fmt.Fprintf(&b, "  Savings, packing %s:\n", planTargetText(sv))
	// Say where the money comes from: merging namespaces frees nothing by
	// itself; resizing pools to what the pods request does, plan or not.
	fmt.Fprintf(&b, "    The plan itself: %s\n", planMonthly(sv.Plan.Monthly, "/month"))
	planArithmetic(&b, "      ", sv.Plan, planNothing)
	fmt.Fprintf(&b, "    Right-sizing the pools, with or without the plan (the pool steps in the plan): %s\n", planMonthly(sv.Rightsizing.Monthly, "/month"))
	planArithmetic(&b, "      ", sv.Rightsizing, plan.NoRightsizing)
	for _, ps := range sv.Pools {
		if ps.Note != "" {
			fmt.Fprintf(&b, "      %s pool: %s\n", ps.Pool, ps.Note)
		}
	}
	fmt.Fprintf(&b, "    With the plan and its pool steps: %s\n", planMonthly(sv.Monthly, "/month"))
	for _, e := range sv.Errors {
		fmt.Fprintf(&b, "    Not priced: %s\n", e)
	}
	for _, w := range sv.Warnings {
		fmt.Fprintf(&b, "    Warning: %s\n", w)
	}
	if nv := s.Naive; nv.PerNamespace.Currency == "" {
		fmt.Fprintf(&b, "  Naive estimate: none: %s\n", nv.Note)
	} else {
		fmt.Fprintf(&b, "  Naive estimate: %s (%d namespaces × %s; namespaces cost nothing, not a saving)\n",
			planMonthly(nv.Monthly, "/month"), nv.Namespaces, nv.PerNamespace.String())
	}
	if r := s.ROI; r.Error != "" {
		fmt.Fprintf(&b, "  ROI: not computed: %s\n", r.Error)
	} else {
		fmt.Fprintf(&b, "  ROI on the plan's own savings: investment %s, %s\n", r.Investment.String(), planROILine(r))
		fmt.Fprintf(&b, "  ROI with the right-sizing counted (it needs no consolidation): %s\n", planROILine(s.ROIWithRightsizing))
	}
	if blocking := p.Blocking(); len(blocking) > 0 {
		fmt.Fprintf(&b, "  BLOCKED by %d unresolved conflicts\n", len(blocking))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// planROILine is a return on investment in one line: savings, payback
// and the cumulative results.
func planROILine(r plan.ROI) string {
	payback := "never"
	if r.PaybackMonth > 0 {
		payback = fmt.Sprintf("month %d", r.PaybackMonth)
	}
	out := fmt.Sprintf("savings %s/month, payback %s", r.MonthlySavings.String(), payback)
	for _, pt := range r.Cumulative {
		out += fmt.Sprintf("; %d months %s", pt.Month, pt.Value.String())
	}
	return out
}

func planTruncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
