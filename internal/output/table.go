package output

import (
	"strings"
)

// Style is a list of SGR attributes ("1;31" is bold red) that colours
// text on a terminal; the zero Style is plain text.
type Style string

// Styles for severities and emphasis.
const (
	Plain  Style = ""
	Bold   Style = "1"
	Red    Style = "31"
	Yellow Style = "33"
	Cyan   Style = "36"
)

// Paint wraps text in the escape codes of s. Callers paint only for a
// terminal that wants colour (ColorEnabled), and only text already passed
// through TerminalText: the codes written here must be the only ones.
func (s Style) Paint(text string) string {
	if s == Plain || text == "" {
		return text
	}
	return "\x1b[" + string(s) + "m" + text + "\x1b[0m"
}

// Column is one column of a Table.
type Column struct {
	Header string
	// Right aligns the column on the right, for numbers.
	Right bool
	// Shrink lets the column be narrower than its widest cell when the
	// table would not fit its width, its cells cut with an ellipsis, down
	// to Min columns (the header's width when Min is smaller). Other
	// columns keep their width: a severity or a count cut short would
	// mislead.
	Shrink bool
	Min    int
}

// Cell is the text of one cell and the style it has in colour.
type Cell struct {
	Text  string
	Style Style
}

// Table lays out rows in columns two spaces apart, like kubectl get, within
// a width. Every cell goes through TerminalText, its newlines and tabs
// become spaces, and cells wider than their column are cut with an
// ellipsis rather than wrapped, so that each row stays one line.
type Table struct {
	Columns []Column
	Rows    [][]Cell
}

// gap separates columns.
const gap = 2

// CellText is a cell's text as the table shows it, before any cut: for
// callers that fit their own text to a column (a list that drops items
// rather than cutting one).
func CellText(s string) string {
	return strings.NewReplacer("\n", " ", "\t", " ").Replace(TerminalText(s))
}

// Widths returns the width of each column so that the table fits in width
// columns; 0 means no limit. Shrinkable columns give up room, the widest
// first, until the table fits or each is at its minimum: a table that
// cannot fit then runs over rather than losing its fixed columns.
func (t *Table) Widths(width int) []int {
	ws := make([]int, len(t.Columns))
	mins := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		ws[i] = DisplayWidth(CellText(c.Header))
		mins[i] = max(ws[i], c.Min)
	}
	for _, row := range t.Rows {
		for i, c := range row {
			if i < len(ws) {
				ws[i] = max(ws[i], DisplayWidth(CellText(c.Text)))
			}
		}
	}
	if width <= 0 {
		return ws
	}
	total := gap * max(len(ws)-1, 0)
	for _, w := range ws {
		total += w
	}
	for total > width {
		widest := -1
		for i, c := range t.Columns {
			if c.Shrink && ws[i] > mins[i] && (widest < 0 || ws[i] > ws[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		ws[widest]--
		total--
	}
	return ws
}

// Render returns the header and the rows laid out in widths (from
// Widths), one line each, with the cells' styles when color is true.
func (t *Table) Render(widths []int, color bool) string {
	var b strings.Builder
	header := make([]Cell, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = Cell{Text: c.Header}
	}
	t.line(&b, header, widths, color)
	for _, row := range t.Rows {
		t.line(&b, row, widths, color)
	}
	return b.String()
}

func (t *Table) line(b *strings.Builder, row []Cell, widths []int, color bool) {
	var line strings.Builder
	for i := range widths {
		var c Cell
		if i < len(row) {
			c = row[i]
		}
		text := Truncate(CellText(c.Text), widths[i])
		pad := strings.Repeat(" ", max(widths[i]-DisplayWidth(text), 0))
		if color {
			text = c.Style.Paint(text)
		}
		if i > 0 {
			line.WriteString(strings.Repeat(" ", gap))
		}
		if t.Columns[i].Right {
			line.WriteString(pad + text)
		} else {
			line.WriteString(text + pad)
		}
	}
	b.WriteString(strings.TrimRight(line.String(), " "))
	b.WriteString("\n")
}
