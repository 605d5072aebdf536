package auditreport

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/report"
)

// Markdown writes the audit as a report a person reads top to bottom.
func Markdown(w io.Writer, res *audit.Result) error {
	var b strings.Builder
	c := res.Count()
	fmt.Fprintf(&b, "# Cluster audit: %s\n\n", md(res.Source))
	fmt.Fprintf(&b, "Snapshot taken %s", report.SnapshotTime(res.CollectedAt, time.RFC3339))
	if res.ServerVersion != "" {
		fmt.Fprintf(&b, ", Kubernetes %s", md(res.ServerVersion))
	}
	fmt.Fprintf(&b, ". Scope: %s.\n\n", md(resultScope(res)))
	b.WriteString("## Global results\n\n")
	b.WriteString("| Severity | Findings |\n|---|---:|\n")
	fmt.Fprintf(&b, "| Error | %d |\n| Warning | %d |\n| Info | %d |\n", c[audit.Error], c[audit.Warning], c[audit.Info])
	if len(res.Suppressed) > 0 {
		fmt.Fprintf(&b, "| Suppressed | %d |\n", len(res.Suppressed))
	}
	fmt.Fprintf(&b, "\n%d checks ran", res.Ran())
	if len(res.Unlisted) > 0 {
		fmt.Fprintf(&b, "; these kinds could not be read, so findings that depend on them are incomplete: %s", md(strings.Join(res.Unlisted, ", ")))
	}
	b.WriteString(".\n\n")
	if text := res.IncompleteText(); text != "" {
		fmt.Fprintf(&b, "**%s.** These checks ran on what could be read; their findings may miss objects, and none found does not mean none exist:\n\n", md(text))
		for _, ch := range res.IncompleteChecks() {
			fmt.Fprintf(&b, "- %s: %s could not be read\n", output.MarkdownCode(ch.ID), md(strings.Join(ch.Unread, ", ")))
		}
		b.WriteString("\n")
	}
	if text := res.SkippedText(); text != "" {
		fmt.Fprintf(&b, "**%s.** These checks did not run, so their silence says nothing:\n\n", md(text))
		for _, ch := range res.SkippedChecks() {
			fmt.Fprintf(&b, "- %s: skipped, %s\n", output.MarkdownCode(ch.ID), md(ch.SkipReason))
		}
		b.WriteString("\n")
	}
	if len(res.Findings) > 0 {
		b.WriteString("| Check | Severity | Findings | Objects |\n|---|---|---:|---|\n")
		for _, g := range byCheck(res.Findings) {
			fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", strings.ReplaceAll(output.MarkdownCode(g.id), "|", `\|`), g.severity, len(g.findings), md(joinMax(g.objects(), 5)))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Findings\n\n")
	if len(res.Findings) == 0 {
		b.WriteString("No findings.\n\n")
	}
	for _, sev := range []audit.Severity{audit.Error, audit.Warning, audit.Info} {
		var fs []audit.Finding
		for _, f := range res.Findings {
			if f.Severity == sev {
				fs = append(fs, f)
			}
		}
		if len(fs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "### %s (%d)\n\n", severityTitle(sev), len(fs))
		for _, f := range fs {
			fmt.Fprintf(&b, "#### %s %s\n\n", output.MarkdownCode(f.CheckID), md(f.Object.String()))
			fmt.Fprintf(&b, "%s\n\n", md(f.Message))
			if f.Cause != "" {
				fmt.Fprintf(&b, "- **Cause:** %s\n", md(f.Cause))
			}
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "- %s\n", md(e))
			}
			fmt.Fprintf(&b, "- **Fix:** %s\n\n", md(f.Remediation.Text))
			if f.Remediation.Command != "" {
				fenced(&b, "sh", f.Remediation.Command)
			}
			if f.Remediation.Manifest != "" {
				fenced(&b, "yaml", f.Remediation.Manifest)
			}
			if p := f.Remediation.Patch; p != nil {
				fenced(&b, "json", patchText(p))
			}
		}
	}

	b.WriteString("## State per node pool\n\n")
	b.WriteString("| Pool | Nodes | Ready | Instance types | Pods running | Pending | Failing | CPU requested | Memory requested | Status |\n")
	b.WriteString("|---|---:|---:|---|---:|---:|---:|---:|---:|---|\n")
	for _, p := range res.Pools {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %d | %d | %d | %dm / %dm (%d%%) | %s / %s MiB (%d%%) | %s |\n",
			md(p.Name), p.Nodes, p.Ready, md(strings.Join(p.InstanceTypes, ", ")), p.PodsRunning, p.PodsPending, p.PodsFailing,
			p.CPURequestsMilli, p.CPUAllocatableMilli, p.CPUPercent(), mib(p.MemRequestsBytes), mib(p.MemAllocatableBytes), p.MemPercent(), p.Status())
	}
	b.WriteString("\n")

	if recs := recommendations(res); len(recs) > 0 {
		b.WriteString("## Recommendations\n\n")
		for i, r := range recs {
			fmt.Fprintf(&b, "%d. %s\n", i+1, md(r))
		}
		b.WriteString("\n")
	}
	if len(res.Suppressed) > 0 {
		b.WriteString("## Suppressed findings\n\n")
		for _, s := range res.Suppressed {
			fmt.Fprintf(&b, "- %s %s: %s\n", output.MarkdownCode(s.Finding.CheckID), md(s.Finding.Object.String()), md(s.By))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// md is text from the snapshot or the audit as one line of literal
// Markdown.
func md(s string) string { return output.MarkdownText(s) }

// fenced writes text verbatim in a fenced code block no line of it can
// close.
func fenced(b *strings.Builder, info, text string) {
	text = output.TerminalText(strings.TrimRight(text, "\n"))
	open, close := output.MarkdownFence(text)
	fmt.Fprintf(b, "%s%s\n%s\n%s\n\n", open, info, text, close)
}
