package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/purserhq/purser/internal/cost"
)

// mdEscape keeps table cells intact.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// CostMarkdown writes a cost breakdown as Markdown.
func CostMarkdown(w io.Writer, b cost.Breakdown) error {
	var s strings.Builder
	fmt.Fprintf(&s, "# Monthly cost%s: %s\n\n", mdEscape(scopeText(b.Scope)), b.Total.String())
	fmt.Fprintf(&s, "Source: `%s`. Prices: %s, dated %s (%s).\n\n", b.Source, b.PriceBook.Name, b.PriceBook.Date, mdEscape(b.PriceBook.Source))
	fmt.Fprintf(&s, "| Category | Quantity | Monthly (%s) | Share |\n|---|---:|---:|---:|\n", b.Currency)
	for _, c := range b.Categories {
		fmt.Fprintf(&s, "| %s | %s | %s | %s |\n", CategoryLabel(c.Category), categoryQuantity(c.CategoryTotal, b.Scope != ""), amount(c.Amount), pct(c.Share))
	}
	fmt.Fprintf(&s, "| **total** | | **%s** | 100.0%% |\n\n", amount(b.Total))
	var notes strings.Builder
	writeNotes(&notes, b, "- ")
	s.WriteString(mdEscapeLines(notes.String()))
	for _, g := range b.Groupings {
		fmt.Fprintf(&s, "\n## By %s\n\n", groupTitle(g.By))
		head := []string{groupTitle(g.By), "Compute", "Storage", "LB", "Other", "Total", "Share"}
		align := []string{"---", "---:", "---:", "---:", "---:", "---:", "---:"}
		if g.By == "pool" {
			head, align = append(head, "Idle"), append(align, "---:")
		}
		if g.HasComparison {
			head, align = append(head, "OpenCost"), append(align, "---:")
		}
		head, align = append(head, "Note"), append(align, "---")
		fmt.Fprintf(&s, "| %s |\n|%s|\n", strings.Join(head, " | "), strings.Join(align, "|"))
		for _, r := range g.Rows {
			cells := rowCells(g, r)
			for i := range cells {
				cells[i] = mdEscape(cells[i])
			}
			fmt.Fprintf(&s, "| %s |\n", strings.Join(cells, " | "))
		}
		if g.Note != "" {
			fmt.Fprintf(&s, "\n%s\n", mdEscape(g.Note))
		}
	}
	_, err := io.WriteString(w, s.String())
	return err
}

func mdEscapeLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, "|", `\|`)
	}
	return strings.Join(lines, "\n") + "\n"
}
