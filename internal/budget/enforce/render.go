package enforce

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/purserhq/purser/internal/budget"
	"github.com/purserhq/purser/internal/output"
)

// ForecastText is a forecast with its backtest error next to it.
func ForecastText(f budget.Forecast) string {
	s := fmt.Sprintf("%s (%s", f.Amount, f.Method)
	switch {
	case f.Backtest.TooShort:
		s += "; " + f.Backtest.Note
	default:
		s += fmt.Sprintf(", ±%.1f%% backtest MAPE over %d days, %s to %s", f.Backtest.MAPE, len(f.Backtest.Days), f.Backtest.Days[0], f.Backtest.Days[len(f.Backtest.Days)-1])
	}
	return s + ")"
}

func thresholdsText(v View) string {
	var parts []string
	for _, t := range v.Thresholds {
		mark := "not crossed"
		if t.Crossed {
			mark = "CROSSED"
		}
		at := t.At
		if t.ID == budget.ForecastThreshold {
			at = "forecast will breach"
		}
		acts := strings.Join(t.Actions, ", ")
		if acts == "" {
			acts = "no action"
		}
		parts = append(parts, fmt.Sprintf("%s (%s): %s [%s]", at, t.Amount.Format(2), mark, acts))
	}
	return strings.Join(parts, "; ")
}

func alertsText(v View) string {
	var parts []string
	for _, a := range v.Alerts {
		parts = append(parts, fmt.Sprintf("%s %s %s", budgetThreshold(a.Threshold), a.Period, a.Phase))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func budgetThreshold(id string) string {
	if id == budget.ForecastThreshold {
		return "forecast"
	}
	return id + "%"
}

// StepText says what a step does.
func StepText(s budget.Step) string {
	verb := "take"
	if s.Lift {
		verb = "lift"
	}
	txt := fmt.Sprintf("%s %s of %s at %s for %s", verb, s.Action, s.Budget, budgetThreshold(s.Threshold), s.Period)
	if len(s.Namespaces) > 0 {
		txt += " on " + strings.Join(s.Namespaces, ", ")
	}
	if s.WaitsApproval {
		txt += fmt.Sprintf(" (waits for: purser budget approve %s)", s.Budget)
	}
	return txt
}

func actionsText(v View) (inEffect, pending string) {
	var a, p []string
	for _, x := range v.InEffect {
		t := fmt.Sprintf("%s at %s for %s", x.Action, budgetThreshold(x.Threshold), x.Period)
		if len(x.Namespaces) > 0 {
			t += " on " + strings.Join(x.Namespaces, ", ")
		}
		a = append(a, t)
	}
	for _, s := range v.Pending {
		p = append(p, StepText(s))
	}
	none := func(l []string) string {
		if len(l) == 0 {
			return "none"
		}
		return strings.Join(l, "; ")
	}
	return none(a), none(p)
}

// rows are a budget's facts as label and value.
func rows(v View) [][2]string {
	inEffect, pending := actionsText(v)
	approved := "no"
	if v.Approved {
		approved = "yes, for " + v.Period.Key
	}
	return [][2]string{
		{"Period", fmt.Sprintf("%s %s, %s to %s, day %d of %d", v.Period.Kind, v.Period.Key, v.Period.First, v.Period.Last, v.Period.Elapsed, v.Period.Days)},
		{"Budget", v.Limit.String()},
		{"Spend to date", fmt.Sprintf("%s, %.2f%% of the budget", v.Spend.Amount, v.SpentPercent)},
		{"Source", v.Spend.Label},
		{"Forecast", fmt.Sprintf("%s, %.2f%% of the budget", ForecastText(v.Forecast), v.ForecastPercent)},
		{"Linear forecast", ForecastText(v.Linear)},
		{"Rounding", v.Forecast.Rounding},
		{"Thresholds", thresholdsText(v)},
		{"Alerts", alertsText(v)},
		{"Actions in effect", inEffect},
		{"Actions pending", pending},
		{"Approved", approved},
	}
}

// StatusTable writes r for a terminal.
func StatusTable(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Budgets of %s at %s\n", r.Cluster, r.Now.UTC().Format("2006-01-02 15:04 MST"))
	for _, v := range r.Budgets {
		fmt.Fprintf(&b, "\nBUDGET %s (%s)\n", strings.ToUpper(v.Budget), v.Scope)
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		for _, row := range rows(v) {
			fmt.Fprintf(tw, "  %s\t%s\n", row[0], output.CellText(row[1]))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// StatusMarkdown writes r as Markdown.
func StatusMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Budgets of %s\n\nAt %s.\n", output.MarkdownText(r.Cluster), r.Now.UTC().Format("2006-01-02 15:04 MST"))
	for _, v := range r.Budgets {
		fmt.Fprintf(&b, "\n## %s (%s)\n\n| | |\n|---|---|\n", output.MarkdownText(v.Budget), output.MarkdownText(v.Scope))
		for _, row := range rows(v) {
			fmt.Fprintf(&b, "| %s | %s |\n", row[0], output.MarkdownText(row[1]))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// StepsTable writes the steps of an enforcement and their outcomes.
func StepsTable(w io.Writer, r *Report) error {
	var b strings.Builder
	if len(r.Steps) == 0 {
		b.WriteString("No budget action to take or lift.\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	if len(r.Steps) > 0 {
		fmt.Fprintln(tw, "OUTCOME\tSTEP\tWHY")
	}
	for _, s := range r.Steps {
		out := s.Outcome
		if s.Error != "" {
			out += ": " + s.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", output.CellText(out), output.CellText(StepText(s.Step)), output.CellText(s.Why))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range r.Transitions {
		fmt.Fprintf(&b, "alert %s %s: %s -> %s\n", t.State.Rule, t.State.Subject, t.From, t.State.Phase)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
