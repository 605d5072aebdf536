package report_test

import (
	"bytes"
	"testing"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/testutil/mdcheck"
)

// Row keys are namespace, label and annotation values; notes carry price
// book and usage sources: in the Markdown breakdown they stay text.
func TestCostMarkdownHostileText(t *testing.T) {
	t.Parallel()
	h := mdcheck.Hostile()
	b := fixtureBreakdown(t, cost.GroupBy{Kind: "namespace"})
	b.PriceBook.Source, b.Warnings = h, append(b.Warnings, h)
	g := &b.Groupings[0]
	g.Rows[0].Key, g.Rows[1].Note, g.Note = h, h, h
	var out bytes.Buffer
	if err := report.CostMarkdown(&out, b); err != nil {
		t.Fatal(err)
	}
	html := mdcheck.Check(t, out.Bytes(), "evil", nil)
	if !mdcheck.InTableCell(html) {
		t.Errorf("the hostile row key split its table row:\n%s", out.String())
	}
}
