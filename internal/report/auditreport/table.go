package auditreport

import (
	"fmt"
	"io"
	"strings"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/output"
)

// TableOptions shape the terminal view of an audit. The zero value is the
// default view: every finding, one line per check, no width limit, no
// colour.
type TableOptions struct {
	// Width is the number of columns the view fits in; 0 means no limit
	// (a file, a pipe). Table cells are cut with an ellipsis and sentences
	// are wrapped; with Details, commands and manifests are kept whole,
	// since a cut or folded command cannot be copied.
	Width int
	// Color shows severities in colour. Set it for a terminal that wants
	// colour (output.ColorEnabled); without it no escape code is written.
	Color bool
	// Details lists every finding under its check, with its cause,
	// evidence and fix, instead of one line per check.
	Details bool
	// MinSeverity hides the findings below it; the view says how many it
	// hid and how to show them. Its zero value, info, hides nothing.
	MinSeverity audit.Severity
}

// Table writes the default terminal view of res: TableWith and no options.
// It is also the "table" format of Write, and of a .txt report.
func Table(w io.Writer, res *audit.Result) error {
	return TableWith(w, res, TableOptions{})
}

// TableWith writes the terminal view of res: a headline with the scope and
// the counts, the findings grouped by check (the most serious first), the
// node pools, and closing lines that say what was left out and how to get
// the fixes. Every piece of text from the cluster or the snapshot passes
// through output.TerminalText, so that no escape sequence in a name or a
// message reaches the terminal.
func TableWith(w io.Writer, res *audit.Result, o TableOptions) error {
	return writeView(w, res, o, true)
}

// Summary is the account purser demo prints: the default view, fitted and
// coloured as o says, without its closing lines, which name purser
// audit's flags.
func Summary(w io.Writer, res *audit.Result, o TableOptions) error {
	return writeView(w, res, o, false)
}

// maxObjects is how many objects a check's line names at most; the count
// column says how many there are.
const maxObjects = 4

func writeView(w io.Writer, res *audit.Result, o TableOptions, closing bool) error {
	var b strings.Builder
	writeHeadline(&b, res, o.Width)
	var shown []audit.Finding
	hidden := map[audit.Severity]int{}
	for _, f := range res.Findings {
		if f.Severity >= o.MinSeverity {
			shown = append(shown, f)
		} else {
			hidden[f.Severity]++
		}
	}
	b.WriteString("\n")
	groups := byCheck(shown)
	switch {
	case len(groups) == 0 && len(res.Findings) == 0:
		b.WriteString("No findings.\n")
	case len(groups) == 0:
		fmt.Fprintf(&b, "No findings at %s or above.\n", o.MinSeverity)
	case o.Details:
		writeDetails(&b, groups, o)
	default:
		writeChecks(&b, groups, o)
	}
	writeIncomplete(&b, res, o.Width)
	writeSkipped(&b, res, o.Width)
	if len(res.Pools) > 0 {
		b.WriteString("\n")
		writePools(&b, res.Pools, o)
	}
	if closing {
		var lines []string
		if n := hidden[audit.Warning] + hidden[audit.Info]; n > 0 {
			var parts []string
			for _, sev := range []audit.Severity{audit.Warning, audit.Info} {
				if hidden[sev] > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", hidden[sev], sev))
				}
			}
			lines = append(lines, fmt.Sprintf("Not shown: %s %s below %s; --min-severity info lists every finding.",
				strings.Join(parts, " and "), plural(n, "finding"), o.MinSeverity))
		}
		if len(res.Suppressed) > 0 {
			lines = append(lines, fmt.Sprintf("%d %s suppressed by exemptions or purser.dev/ignore annotations (see -o json).",
				len(res.Suppressed), plural(len(res.Suppressed), "finding")))
		}
		if o.Details {
			lines = append(lines, "The same as a document to share: --report audit.html (or .md, .json, .sarif).")
		} else {
			lines = append(lines, "Cause and fix of each finding: --details, or --report audit.html for the full report.")
		}
		b.WriteString("\n")
		for _, l := range lines {
			writeWrapped(&b, l, o.Width, "", "")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeHeadline(b *strings.Builder, res *audit.Result, width int) {
	c := res.Count()
	writeWrapped(b, fmt.Sprintf("Audit of %s, %s: %d %s, %d %s, %d info (%d checks)", res.Source, resultScope(res),
		c[audit.Error], plural(c[audit.Error], "error"), c[audit.Warning], plural(c[audit.Warning], "warning"), c[audit.Info], res.Ran()),
		width, "", "")
	if len(res.Unlisted) > 0 {
		writeWrapped(b, "Not read (findings that depend on them are incomplete): "+strings.Join(res.Unlisted, ", "), width, "", "  ")
	}
}

// writeIncomplete names the checks that ran without a kind they read:
// such a check is absent from the table when it found nothing, and its
// absence must not read as a clean result.
func writeIncomplete(b *strings.Builder, res *audit.Result, width int) {
	text := res.IncompleteText()
	if text == "" {
		return
	}
	b.WriteString("\n")
	writeWrapped(b, text+"; their findings may miss objects:", width, "", "  ")
	for _, c := range res.IncompleteChecks() {
		writeWrapped(b, c.ID+" (without "+strings.Join(c.Unread, ", ")+")", width, "  - ", "    ")
	}
}

// writeSkipped names the checks that did not run in the audit's mode, and
// why: their absence from the table is no clean result either.
func writeSkipped(b *strings.Builder, res *audit.Result, width int) {
	text := res.SkippedText()
	if text == "" {
		return
	}
	b.WriteString("\n")
	writeWrapped(b, text+":", width, "", "  ")
	for _, c := range res.SkippedChecks() {
		writeWrapped(b, c.ID+" ("+c.SkipReason+")", width, "  - ", "    ")
	}
}

// writeChecks writes one line per check: its severity, how many findings,
// and as many of their objects as fit.
func writeChecks(b *strings.Builder, groups []checkGroup, o TableOptions) {
	t := output.Table{Columns: []output.Column{
		{Header: "SEVERITY"},
		{Header: "CHECK", Shrink: true, Min: 12},
		{Header: "FINDINGS", Right: true},
		{Header: "OBJECTS", Shrink: true, Min: 20},
	}}
	objects := make([][]string, len(groups))
	for i, g := range groups {
		for _, ref := range g.objects() {
			objects[i] = append(objects[i], output.CellText(ref))
		}
		t.Rows = append(t.Rows, []output.Cell{
			{Text: g.severity.String(), Style: severityStyle(g.severity)},
			{Text: g.id},
			{Text: fmt.Sprint(len(g.findings))},
			{Text: fitList(objects[i], maxObjects, 0)},
		})
	}
	widths := t.Widths(o.Width)
	for i := range t.Rows {
		t.Rows[i][3].Text = fitList(objects[i], maxObjects, widths[3])
	}
	b.WriteString(t.Render(widths, o.Color))
}

// fitList joins up to limit items, then "+N more", dropping items rather
// than cutting one so that the names shown are whole; only when even the
// first does not fit is it cut. width 0 means no limit.
func fitList(items []string, limit, width int) string {
	more := func(k int) string {
		if k == len(items) {
			return ""
		}
		return fmt.Sprintf(", +%d more", len(items)-k)
	}
	for k := min(limit, len(items)); k >= 1; k-- {
		s := strings.Join(items[:k], ", ") + more(k)
		if width <= 0 || output.DisplayWidth(s) <= width {
			return s
		}
	}
	if len(items) == 0 {
		return ""
	}
	// The first item is cut to keep "+N more" when enough of it remains
	// to be recognised.
	suffix := more(1)
	if room := width - output.DisplayWidth(suffix); room >= 8 {
		return output.Truncate(items[0], room) + suffix
	}
	return output.Truncate(items[0]+suffix, width)
}

// detailIndent is where a finding's facts start; labelWidth fits "Evidence: ".
const (
	detailIndent = "    "
	labelWidth   = 10
)

// writeDetails writes each check, then each of its findings: the message,
// its cause, evidence and fix, and the command or manifest that applies
// the fix.
func writeDetails(b *strings.Builder, groups []checkGroup, o TableOptions) {
	for i, g := range groups {
		if i > 0 {
			b.WriteString("\n")
		}
		// The severity is padded to the longest, "warning", so that the
		// checks' names line up; it alone is painted.
		sev := g.severity.String()
		pad := strings.Repeat(" ", len("warning")-len(sev)+2)
		room := 0 // no limit
		if o.Width > 0 {
			room = max(o.Width-len(sev)-len(pad), 1)
		}
		head := output.Truncate(output.CellText(fmt.Sprintf("%s: %d %s", g.id, len(g.findings), plural(len(g.findings), "finding"))), room)
		if o.Color {
			sev = severityStyle(g.severity).Paint(sev)
		}
		head = sev + pad + head
		b.WriteString(head + "\n")
		for _, f := range g.findings {
			b.WriteString("\n")
			// Messages name their object as a rule; one that does not is
			// prefixed with it.
			msg := f.Message
			if !strings.Contains(msg, shortRef(f.Object)) {
				msg = f.Object.String() + ": " + msg
			}
			// A check may rate some of its findings lower than others: the
			// group shows the highest, the finding its own.
			if f.Severity != g.severity {
				msg = "(" + f.Severity.String() + ") " + msg
			}
			writeWrapped(b, msg, o.Width, "  - ", detailIndent)
			label := func(l string) string { return fmt.Sprintf("%s%-*s", detailIndent, labelWidth, l) }
			cont := label("")
			field := func(l, text string) {
				if text != "" {
					writeWrapped(b, text, o.Width, label(l), cont)
				}
			}
			field("Cause:", f.Cause)
			for i, e := range f.Evidence {
				if i == 0 {
					field("Evidence:", e)
				} else {
					field("", e)
				}
			}
			field("Fix:", f.Remediation.Text)
			if f.Remediation.Command != "" {
				writeVerbatim(b, f.Remediation.Command, label("Command:"), cont)
			}
			if f.Remediation.Manifest != "" {
				b.WriteString(detailIndent + "Manifest:\n")
				m := strings.TrimRight(f.Remediation.Manifest, "\n")
				writeVerbatim(b, m, detailIndent+"  ", detailIndent+"  ")
			}
			if p := f.Remediation.Patch; p != nil {
				b.WriteString(detailIndent + "Patch:\n")
				writeVerbatim(b, patchText(p), detailIndent+"  ", detailIndent+"  ")
			}
		}
	}
}

// writeWrapped writes text, made safe for a terminal, wrapped to width
// after the first line's prefix and the other lines' indent.
func writeWrapped(b *strings.Builder, text string, width int, first, rest string) {
	avail := 0
	if width > 0 {
		avail = max(width-output.DisplayWidth(first), 20)
	}
	writeLines(b, output.Wrap(output.TerminalText(text), avail), first, rest)
}

// writeVerbatim writes text line by line, made safe for a terminal but
// neither wrapped nor cut: a command or a manifest must stay as it is to
// be copied.
func writeVerbatim(b *strings.Builder, text string, first, rest string) {
	writeLines(b, strings.Split(output.TerminalText(text), "\n"), first, rest)
}

func writeLines(b *strings.Builder, lines []string, first, rest string) {
	for i, line := range lines {
		prefix := rest
		if i == 0 {
			prefix = first
		}
		b.WriteString(strings.TrimRight(prefix+line, " ") + "\n")
	}
}

func writePools(b *strings.Builder, pools []audit.PoolHealth, o TableOptions) {
	t := output.Table{Columns: []output.Column{{Header: "POOL", Shrink: true, Min: 8}, {Header: "NODES"}, {Header: "READY"},
		{Header: "RUNNING"}, {Header: "PENDING"}, {Header: "FAILING"}, {Header: "CPU REQ"}, {Header: "MEM REQ"}, {Header: "STATUS"}}}
	for _, p := range pools {
		t.Rows = append(t.Rows, []output.Cell{{Text: p.Name}, {Text: fmt.Sprint(p.Nodes)}, {Text: fmt.Sprint(p.Ready)},
			{Text: fmt.Sprint(p.PodsRunning)}, {Text: fmt.Sprint(p.PodsPending)}, {Text: fmt.Sprint(p.PodsFailing)},
			{Text: fmt.Sprintf("%d%%", p.CPUPercent())}, {Text: fmt.Sprintf("%d%%", p.MemPercent())}, {Text: p.Status()}})
	}
	b.WriteString(t.Render(t.Widths(o.Width), o.Color))
}

func severityStyle(s audit.Severity) output.Style {
	switch s {
	case audit.Error:
		return output.Red
	case audit.Warning:
		return output.Yellow
	}
	return output.Cyan
}
