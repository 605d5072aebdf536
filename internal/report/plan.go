package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/purserhq/purser/internal/plan"
)

// PlanMarkdown writes the review document of a plan: per target its
// sources, moves, conflicts, risks and steps, then the savings beside the
// naive estimate, and the return on investment with its arithmetic.
func PlanMarkdown(w io.Writer, p *plan.Plan) error {
	var b strings.Builder
	s := p.Spec
	fmt.Fprintf(&b, "# Consolidation plan: strategy %s\n\n", p.Metadata.Strategy)
	fmt.Fprintf(&b, "Source: %s, collected %s. Content hash: `%s`.\n\n", p.Metadata.Source,
		SnapshotTime(p.Metadata.CollectedAt, "2006-01-02 15:04 MST"), p.Metadata.ContentHash)
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
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d (%d) | %d |\n", t.Name, exists, planSources(t), len(t.Moves), len(t.Conflicts), resolved, len(t.Risks))
	}
	b.WriteString("\n")

	for _, t := range s.Targets {
		fmt.Fprintf(&b, "## Target %s\n\n", t.Name)
		fmt.Fprintf(&b, "Sources: %s.", planSources(t))
		if t.Stays > 0 {
			fmt.Fprintf(&b, " %d objects already in %s stay.", t.Stays, t.Name)
		}
		b.WriteString("\n\n")
		if len(t.Moves) > 0 {
			b.WriteString("### Moves\n\n| Kind | From | Name | New name | How |\n|---|---|---|---|---|\n")
			for _, m := range t.Moves {
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", m.Kind, m.From, m.Name, m.NewName, m.How)
			}
			b.WriteString("\n")
		}
		planIssues(&b, "Conflicts", t.Conflicts)
		planIssues(&b, "Risks", t.Risks)
		if len(t.Steps) > 0 {
			b.WriteString("### Steps\n\n")
			for i, st := range t.Steps {
				fmt.Fprintf(&b, "%d. %s\n", i+1, st.Text)
				if st.Command != "" {
					fmt.Fprintf(&b, "   ```\n   %s\n   ```\n", st.Command)
				}
			}
			b.WriteString("\n")
		}
	}

	if len(s.Deletions) > 0 {
		b.WriteString("## Deleted namespaces\n\n")
		for _, d := range s.Deletions {
			fmt.Fprintf(&b, "- %s: %s\n", d.Namespace, d.Reason)
		}
		b.WriteString("\n")
	}
	if len(s.Untouched) > 0 {
		fmt.Fprintf(&b, "## Untouched\n\n%s\n\n", strings.Join(s.Untouched, ", "))
	}
	for _, note := range s.Notes {
		fmt.Fprintf(&b, "- %s\n", note)
	}

	sv := s.Savings
	b.WriteString("## Savings\n\n")
	fmt.Fprintf(&b, "Measured by packing the pods onto the node pools (%s) and pricing what goes away, in %s.\n\n", sv.Packing.Method, sv.Currency)
	b.WriteString("| Pool | Instance type | Nodes today | Needed before | Needed after | Freed | Node price | Monthly |\n|---|---|---|---|---|---|---|---|\n")
	for _, ps := range sv.Pools {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %+d | %s | %s |\n", ps.Pool, ps.InstanceType, ps.Nodes, ps.NeededBefore, ps.NeededAfter,
			ps.Freed, ps.NodeMonthly.String(), ps.Monthly.String())
	}
	fmt.Fprintf(&b, "\n- Load balancers: %s (%s)\n", sv.LoadBalancers.Monthly.String(), sv.LoadBalancers.Note)
	fmt.Fprintf(&b, "- Volumes: %d GiB, %s (%s)\n", sv.Volumes.GiB, sv.Volumes.Monthly.String(), sv.Volumes.Note)
	fmt.Fprintf(&b, "- **Real savings: %s a month** = %s\n", sv.Monthly.String(), sv.Arithmetic)
	fmt.Fprintf(&b, "- Of which the moves: %s; resizing the pools: %s. %s\n", sv.FromMoves.String(), sv.FromRightsizing.String(), sv.Note)
	for _, u := range sv.Unplaced {
		fmt.Fprintf(&b, "- Unplaced pod (no pool can hold it): %s\n", u)
	}
	for _, e := range sv.Errors {
		fmt.Fprintf(&b, "- Price error: %s\n", e)
	}
	if len(sv.Steps) > 0 {
		b.WriteString("\nPool steps:\n\n")
		for _, st := range sv.Steps {
			fmt.Fprintf(&b, "- %s `%s`\n", st.Text, st.Command)
		}
	}
	nv := s.Naive
	fmt.Fprintf(&b, "\n### Naive estimate (not a saving)\n\n%s\n\n", nv.Note)

	r := s.ROI
	b.WriteString("## Return on investment\n\n")
	if r.Error != "" {
		fmt.Fprintf(&b, "Not computed: %s.\n", r.Error)
	} else {
		fmt.Fprintf(&b, "Investment: %d days × %s = %s.\n\n", r.Days, r.DailyRate.String(), r.Investment.String())
		if x := r.ExchangeRate; x != nil {
			fmt.Fprintf(&b, "Monthly savings: %s = %s at 1 %s = %s %s (rate of %s, from plan.roi.exchangeRate).\n\n",
				sv.Monthly.String(), r.MonthlySavings.String(), x.From, x.Rate, x.To, planRateDate(x.AsOf))
		} else {
			fmt.Fprintf(&b, "Monthly savings: %s.\n\n", r.MonthlySavings.String())
		}
		if r.PaybackMonth > 0 {
			fmt.Fprintf(&b, "Payback: month %d.\n\n", r.PaybackMonth)
		} else {
			b.WriteString("Payback: never, the plan saves nothing a month.\n\n")
		}
		b.WriteString("| Month | Cumulative | Arithmetic |\n|---|---|---|\n")
		for _, pt := range r.Cumulative {
			fmt.Fprintf(&b, "| %d | %s | %s |\n", pt.Month, pt.Value.String(), pt.Arithmetic)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
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
		fmt.Fprintf(b, "- %s[%s] %s (%s)", status, i.Kind, i.Message, strings.Join(i.Objects, ", "))
		if i.Resolution != "" {
			fmt.Fprintf(b, " → %s", i.Resolution)
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
	fmt.Fprintf(&b, "  Real savings: %s/month (%s)\n", sv.Monthly.String(), sv.Arithmetic)
	// Say where the money comes from: merging namespaces frees nothing by
	// itself; resizing pools to what the pods request does.
	fmt.Fprintf(&b, "    of which the moves themselves: %s; resizing the pools to their packed size (steps in the plan): %s\n",
		sv.FromMoves.String(), sv.FromRightsizing.String())
	fmt.Fprintf(&b, "  Naive estimate: %s/month (%d namespaces × %s; namespaces cost nothing, not a saving)\n",
		s.Naive.Monthly.String(), s.Naive.Namespaces, s.Naive.PerNamespace.String())
	if r := s.ROI; r.Error != "" {
		fmt.Fprintf(&b, "  ROI: not computed: %s\n", r.Error)
	} else {
		payback := "never"
		if r.PaybackMonth > 0 {
			payback = fmt.Sprintf("month %d", r.PaybackMonth)
		}
		fmt.Fprintf(&b, "  ROI: investment %s, savings %s/month, payback %s", r.Investment.String(), r.MonthlySavings.String(), payback)
		for _, pt := range r.Cumulative {
			fmt.Fprintf(&b, "; %d months %s", pt.Month, pt.Value.String())
		}
		b.WriteString("\n")
	}
	if blocking := p.Blocking(); len(blocking) > 0 {
		fmt.Fprintf(&b, "  BLOCKED by %d unresolved conflicts\n", len(blocking))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func planTruncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
