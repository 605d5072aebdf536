package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/output"
)

// md is text from the snapshot, the configuration or a price book as one
// line of literal Markdown.
func md(s string) string { return output.MarkdownText(s) }

// CostMarkdown writes a cost breakdown as Markdown.
func CostMarkdown(w io.Writer, b cost.Breakdown) error {
	var s strings.Builder
	fmt.Fprintf(&s, "# Monthly cost%s: %s\n\n", md(scopeText(b.Scope)), md(b.Total.String()))
	fmt.Fprintf(&s, "Source: %s. Prices: %s, dated %s (%s).\n\n", output.MarkdownCode(b.Source), md(b.PriceBook.Name), md(b.PriceBook.Date), md(b.PriceBook.Source))
	fmt.Fprintf(&s, "| Category | Quantity | Monthly (%s) | Share |\n|---|---:|---:|---:|\n", md(b.Currency))
	for _, c := range b.Categories {
		fmt.Fprintf(&s, "| %s | %s | %s | %s |\n", md(CategoryLabel(c.Category)), md(categoryQuantity(c.CategoryTotal, b.Scope != "")), md(amount(c.Amount)), md(pct(c.Share)))
	}
	fmt.Fprintf(&s, "| **total** | | **%s** | 100.0%% |\n\n", md(amount(b.Total)))
	// The notes are written one to a line; a value that held a line break
	// has become two lines, each escaped on its own.
	var notes strings.Builder
	writeNotes(&notes, b, "")
	for _, line := range strings.Split(strings.TrimRight(notes.String(), "\n"), "\n") {
		fmt.Fprintf(&s, "- %s\n", md(line))
	}
	for _, g := range b.Groupings {
		fmt.Fprintf(&s, "\n## By %s\n\n", md(groupTitle(g.By)))
		head := []string{md(groupTitle(g.By)), "Compute", "Storage", "LB", "Other", "Total", "Share"}
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
				cells[i] = md(cells[i])
			}
			fmt.Fprintf(&s, "| %s |\n", strings.Join(cells, " | "))
		}
		if g.Note != "" {
			fmt.Fprintf(&s, "\n%s\n", md(g.Note))
		}
	}
	_, err := io.WriteString(w, s.String())
	return err
}
