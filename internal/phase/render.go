package phase

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/purserhq/purser/internal/output"
)

// WriteTable writes s for a terminal: the summary, what blocks the next
// phase, the strategy's KPI table with the measured column, where each
// figure comes from, and every phase's targets and triggers.
func WriteTable(w io.Writer, s *Status, scope string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Phase status of %s on %s: %s\n", scope, s.AsOf.Format(time.DateOnly), s.Summary)
	if s.Next != "" {
		fmt.Fprintf(&b, "Blocking %s:\n", s.Next)
		for _, bl := range s.Blockers {
			fmt.Fprintf(&b, "  - %s\n", bl)
		}
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(s.Table.Header, "\t")))
	for _, r := range s.Table.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\nMeasured:\n")
	for _, m := range s.Measured {
		fmt.Fprintf(&b, "  %s: %s (%s)\n", m.KPI, m.Value, m.Source)
	}
	for i, p := range s.Phases {
		state := "targets not met"
		if p.TargetsMet {
			state = "targets met"
		}
		title := p.Name
		if p.Duration != "" {
			title += " (" + p.Duration + ")"
		}
		fmt.Fprintf(&b, "\n%s: %s\n", title, state)
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  TARGET\tGOAL\tMEASURED\tSTATE")
		writeChecks(tw, p.Targets)
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(p.EnterNext) > 0 && i+1 < len(s.Phases) {
			fmt.Fprintf(&b, "To enter %s:\n", s.Phases[i+1].Name)
			tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "  TRIGGER\tGOAL\tMEASURED\tSTATE")
			writeChecks(tw, p.EnterNext)
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeChecks(w io.Writer, cs []Check) {
	for _, c := range cs {
		state := c.State
		if c.Detail != "" {
			state += ": " + c.Detail
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", c.What, c.Goal, c.Measured, state)
	}
}

// WriteMarkdown writes s as a Markdown document.
func WriteMarkdown(w io.Writer, s *Status, scope string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Phase status of %s\n\n%s: **%s**\n", md(scope), s.AsOf.Format(time.DateOnly), md(s.Summary))
	if s.Next != "" {
		fmt.Fprintf(&b, "\nBlocking %s:\n\n", md(s.Next))
		for _, bl := range s.Blockers {
			fmt.Fprintf(&b, "- %s\n", md(bl))
		}
	}
	b.WriteString("\n## KPIs\n\n")
	writeMDRow(&b, s.Table.Header)
	writeMDSep(&b, len(s.Table.Header))
	for _, r := range s.Table.Rows {
		writeMDRow(&b, r)
	}
	b.WriteString("\n## Measured\n\n")
	for _, m := range s.Measured {
		fmt.Fprintf(&b, "- %s: **%s** (%s)\n", md(m.KPI), md(m.Value), md(m.Source))
	}
	for i, p := range s.Phases {
		state := "targets not met"
		if p.TargetsMet {
			state = "targets met"
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s", md(p.Name), state)
		if p.Duration != "" {
			fmt.Fprintf(&b, " (%s)", md(p.Duration))
		}
		b.WriteString("\n\n")
		writeMDRow(&b, []string{"Target", "Goal", "Measured", "State"})
		writeMDSep(&b, 4)
		writeMDChecks(&b, p.Targets)
		if len(p.EnterNext) > 0 && i+1 < len(s.Phases) {
			fmt.Fprintf(&b, "\nTo enter %s:\n\n", md(s.Phases[i+1].Name))
			writeMDRow(&b, []string{"Trigger", "Goal", "Measured", "State"})
			writeMDSep(&b, 4)
			writeMDChecks(&b, p.EnterNext)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMDChecks(b *strings.Builder, cs []Check) {
	for _, c := range cs {
		state := c.State
		if c.Detail != "" {
			state += ": " + c.Detail
		}
		writeMDRow(b, []string{c.What, c.Goal, c.Measured, state})
	}
}

// writeMDSep writes a table's header separator, which must stay markup.
func writeMDSep(b *strings.Builder, n int) {
	b.WriteString("|" + strings.Repeat(" --- |", n) + "\n")
}

func writeMDRow(b *strings.Builder, cells []string) {
	esc := make([]string, len(cells))
	for i, c := range cells {
		esc[i] = md(c)
	}
	b.WriteString("| " + strings.Join(esc, " | ") + " |\n")
}

// md escapes what Markdown would read as markup in a cell or a line.
func md(s string) string { return output.MarkdownText(s) }
