package history

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/snapshot"
)

// Formats are the -o values a diff renders to.
func Formats() []string { return []string{"table", "json", "yaml", "markdown"} }

func sideText(s Side) string {
	if s.CollectedAt.IsZero() {
		return s.Source
	}
	return s.Source + " (" + s.CollectedAt.UTC().Format(time.RFC3339) + ")"
}

// Counts says, in one line, how many findings are new, fixed and open.
func (d *Diff) Counts() string {
	s := fmt.Sprintf("%d new, %d fixed, %d still open", len(d.New), len(d.Fixed), len(d.Open))
	if len(d.Unknown) > 0 {
		s += fmt.Sprintf(", %d unknown (their check did not run completely in the later scan)", len(d.Unknown))
	}
	return s
}

// Table writes the diff for a terminal; cluster-supplied text is escaped.
func Table(w io.Writer, d *Diff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\nTo:   %s\n", output.TerminalText(sideText(d.From)), output.TerminalText(sideText(d.To)))
	fmt.Fprintf(&b, "Findings: %s\n", d.Counts())
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	section := func(title string, fs []Finding) {
		if len(fs) == 0 {
			return
		}
		fmt.Fprintf(tw, "\n%s (%d)\n", title, len(fs))
		fmt.Fprintln(tw, "SEVERITY\tCHECK\tOBJECT\tMESSAGE")
		for _, f := range fs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Severity, f.Check, output.CellText(f.Object.String()), output.CellText(f.Message))
		}
	}
	section("NEW", d.New)
	section("FIXED", d.Fixed)
	section("UNKNOWN", d.Unknown)
	// The findings that did not change are most of them and no news: a
	// terminal gets their number, the documents list them.
	if len(d.Open) > 0 {
		fmt.Fprintf(tw, "\nSTILL OPEN: %d (-o markdown, json or yaml lists them)\n", len(d.Open))
	}
	if len(d.Cost) > 0 {
		fmt.Fprintf(tw, "\nCOST CHANGE (monthly, %s): total %s -> %s\n", d.Currency, d.TotalFrom.Format(2), d.TotalTo.Format(2))
		fmt.Fprintln(tw, "BY\tGROUP\tFROM\tTO\tCHANGE")
		for _, c := range d.Cost {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.By, output.CellText(c.Key), c.From.Format(2), c.To.Format(2), signed(c.Change.Format(2)))
		}
	} else if d.Currency != "" {
		fmt.Fprintf(tw, "\nCost: unchanged (%s %s a month)\n", d.Currency, d.TotalTo.Format(2))
	}
	refs := func(sign string, rs []snapshot.Ref) {
		for _, r := range rs {
			fmt.Fprintf(tw, "%s %s\n", sign, output.CellText(r.String()))
		}
	}
	if len(d.Added)+len(d.Removed) > 0 {
		fmt.Fprintf(tw, "\nOBJECTS (%d added, %d removed)\n", len(d.Added), len(d.Removed))
		refs("+", d.Added)
		refs("-", d.Removed)
	} else {
		fmt.Fprintln(tw, "\nObjects: none added or removed")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func signed(s string) string {
	if strings.HasPrefix(s, "-") {
		return s
	}
	return "+" + s
}

// Markdown writes the diff as a Markdown document.
func Markdown(w io.Writer, d *Diff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Changes\n\nFrom %s to %s.\n\nFindings: %s.\n", output.MarkdownText(sideText(d.From)), output.MarkdownText(sideText(d.To)), d.Counts())
	section := func(title string, fs []Finding) {
		if len(fs) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n## %s (%d)\n\n| Severity | Check | Object | Message |\n|---|---|---|---|\n", title, len(fs))
		for _, f := range fs {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.Severity, output.MarkdownCode(f.Check), output.MarkdownCode(f.Object.String()), output.MarkdownText(f.Message))
		}
	}
	section("New", d.New)
	section("Fixed", d.Fixed)
	section("Still open", d.Open)
	section("Unknown", d.Unknown)
	if len(d.Cost) > 0 {
		fmt.Fprintf(&b, "\n## Cost change (monthly, %s)\n\nTotal %s → %s.\n\n| By | Group | From | To | Change |\n|---|---|---:|---:|---:|\n",
			d.Currency, d.TotalFrom.Format(2), d.TotalTo.Format(2))
		for _, c := range d.Cost {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", c.By, output.MarkdownText(c.Key), c.From.Format(2), c.To.Format(2), signed(c.Change.Format(2)))
		}
	}
	if len(d.Added)+len(d.Removed) > 0 {
		fmt.Fprintf(&b, "\n## Objects (%d added, %d removed)\n\n", len(d.Added), len(d.Removed))
		for _, r := range d.Added {
			fmt.Fprintf(&b, "- added %s\n", output.MarkdownCode(r.String()))
		}
		for _, r := range d.Removed {
			fmt.Fprintf(&b, "- removed %s\n", output.MarkdownCode(r.String()))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
