package auditreport

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/snapshot"
)

// ClusterResult is one cluster's audit in a report over several, with
// the snapshot's index it was computed from (SARIF locates and
// fingerprints by workload through it; nil fingerprints by object).
type ClusterResult struct {
	Cluster string
	Result  *audit.Result
	Index   *snapshot.Index
}

// Multi is the audit of several clusters, each run on its own snapshot.
type Multi struct {
	Clusters []ClusterResult
	Failed   []report.ClusterFailure
}

// AtLeast counts the findings at or above s in every cluster.
func (m Multi) AtLeast(s audit.Severity) int {
	n := 0
	for _, c := range m.Clusters {
		n += c.Result.AtLeast(s)
	}
	return n
}

// IncompleteText says which clusters' audits ran without a kind a check
// reads; "" when none did.
func (m Multi) IncompleteText() string {
	var parts []string
	for _, c := range m.Clusters {
		if t := c.Result.IncompleteText(); t != "" {
			parts = append(parts, "cluster "+c.Cluster+": "+t)
		}
	}
	return strings.Join(parts, "; ")
}

func (m Multi) names() string {
	names := make([]string, len(m.Clusters))
	for i, c := range m.Clusters {
		names[i] = c.Cluster
	}
	return strings.Join(names, ", ")
}

func (m Multi) count() map[audit.Severity]int {
	out := map[audit.Severity]int{}
	for _, c := range m.Clusters {
		for s, n := range c.Result.Count() {
			out[s] += n
		}
	}
	return out
}

// WriteMulti renders the audit of several clusters in format, one of
// Formats().
func WriteMulti(w io.Writer, format string, m Multi) error {
	switch format {
	case "table", "wide", "":
		return MultiTable(w, m)
	case "json":
		return report.WriteJSON(w, MultiDocument(m))
	case "yaml":
		return report.WriteYAML(w, MultiDocument(m))
	case "markdown", "md":
		return MultiMarkdown(w, m)
	case "html":
		return MultiHTML(w, m)
	case "sarif":
		return MultiSARIF(w, m)
	}
	return fmt.Errorf("unknown output format %q: expected %s", format, strings.Join(Formats(), ", "))
}

// MultiTable writes one line per finding, the cluster in its own column,
// after a line per cluster with its counts.
func MultiTable(w io.Writer, m Multi) error {
	var b strings.Builder
	c := m.count()
	fmt.Fprintf(&b, "Audit of %d clusters (%s): %d errors, %d warnings, %d info\n\n", len(m.Clusters), m.names(), c[audit.Error], c[audit.Warning], c[audit.Info])
	rows := [][]string{{"CLUSTER", "ERRORS", "WARNINGS", "INFO", "CHECKS", "SOURCE"}}
	for _, cl := range m.Clusters {
		cc := cl.Result.Count()
		rows = append(rows, []string{cl.Cluster, fmt.Sprint(cc[audit.Error]), fmt.Sprint(cc[audit.Warning]), fmt.Sprint(cc[audit.Info]), fmt.Sprint(cl.Result.Ran()), cl.Result.Source})
	}
	writeColumns(&b, rows)
	b.WriteString("\n")
	rows = [][]string{{"CLUSTER", "SEVERITY", "CHECK", "OBJECT", "MESSAGE"}}
	for _, cl := range m.Clusters {
		for _, f := range cl.Result.Findings {
			rows = append(rows, []string{cl.Cluster, f.Severity.String(), f.CheckID, shortRef(f.Object), f.Message})
		}
	}
	if len(rows) == 1 {
		b.WriteString("No findings.\n")
	} else {
		writeColumns(&b, rows)
	}
	for _, cl := range m.Clusters {
		if t := cl.Result.IncompleteText(); t != "" {
			fmt.Fprintf(&b, "\nCluster %s: %s.\n", cl.Cluster, t)
		}
	}
	if len(m.Failed) > 0 {
		b.WriteString("\nNot read:\n")
		for _, f := range m.Failed {
			fmt.Fprintf(&b, "  cluster %s: %s\n", f.Cluster, f.Error)
		}
	}
	_, err := io.WriteString(w, output.TerminalText(b.String()))
	return err
}

// writeColumns writes rows left-aligned in columns two spaces apart.
func writeColumns(b *strings.Builder, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

// MultiMarkdown writes a summary table of the clusters, then each
// cluster's findings under its own heading.
func MultiMarkdown(w io.Writer, m Multi) error {
	var b strings.Builder
	c := m.count()
	fmt.Fprintf(&b, "# Audit of %d clusters: %s\n\n", len(m.Clusters), md(m.names()))
	fmt.Fprintf(&b, "%d errors, %d warnings, %d info in all.\n\n", c[audit.Error], c[audit.Warning], c[audit.Info])
	b.WriteString("| Cluster | Errors | Warnings | Info | Checks | Source | Snapshot |\n|---|---:|---:|---:|---:|---|---|\n")
	for _, cl := range m.Clusters {
		cc := cl.Result.Count()
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %s |\n", md(cl.Cluster), cc[audit.Error], cc[audit.Warning], cc[audit.Info], cl.Result.Ran(),
			output.MarkdownCode(cl.Result.Source), md(report.SnapshotTime(cl.Result.CollectedAt, time.RFC3339)))
	}
	for _, cl := range m.Clusters {
		fmt.Fprintf(&b, "\n## Cluster %s\n\n", md(cl.Cluster))
		if t := cl.Result.IncompleteText(); t != "" {
			fmt.Fprintf(&b, "**%s.**\n\n", md(t))
		}
		if len(cl.Result.Findings) == 0 {
			b.WriteString("No findings.\n")
			continue
		}
		b.WriteString("| Severity | Check | Object | Message |\n|---|---|---|---|\n")
		for _, f := range cl.Result.Findings {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.Severity, strings.ReplaceAll(output.MarkdownCode(f.CheckID), "|", `\|`), md(shortRef(f.Object)), md(f.Message))
		}
	}
	if len(m.Failed) > 0 {
		b.WriteString("\n## Not read\n\n")
		for _, f := range m.Failed {
			fmt.Fprintf(&b, "- cluster %s: %s\n", md(f.Cluster), md(f.Error))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// MultiDoc is the JSON and YAML form of an audit over several clusters:
// each cluster's summary, then every finding with its cluster and its
// identity, which includes the cluster.
type MultiDoc struct {
	APIVersion string                  `json:"apiVersion"`
	Kind       string                  `json:"kind"`
	Summary    DocSummary              `json:"summary"`
	Clusters   []ClusterDoc            `json:"clusters"`
	Findings   []ClusterFinding        `json:"findings"`
	Failed     []report.ClusterFailure `json:"failed,omitempty"`
}

// ClusterDoc is one cluster's audit without its findings, which the
// document lists with their cluster.
type ClusterDoc struct {
	Cluster       string     `json:"cluster"`
	Context       string     `json:"context,omitempty"`
	Source        string     `json:"source"`
	ServerVersion string     `json:"serverVersion,omitempty"`
	CollectedAt   time.Time  `json:"collectedAt,omitzero"`
	Scope         string     `json:"scope,omitempty"`
	Summary       DocSummary `json:"summary"`
	Unlisted      []string   `json:"unlistedKinds,omitempty"`
	Incomplete    int        `json:"incompleteChecks"`
}

// ClusterFinding is a finding labelled with its cluster.
type ClusterFinding struct {
	Cluster  string `json:"cluster"`
	Identity string `json:"identity"`
	audit.Finding
}

// MultiDocument builds the document of an audit over several clusters.
func MultiDocument(m Multi) MultiDoc {
	d := MultiDoc{APIVersion: APIVersion, Kind: "MultiClusterAuditReport", Findings: []ClusterFinding{}, Failed: m.Failed}
	for _, cl := range m.Clusters {
		one := Document(cl.Result).Summary
		d.Summary.Errors += one.Errors
		d.Summary.Warnings += one.Warnings
		d.Summary.Infos += one.Infos
		d.Summary.Suppressed += one.Suppressed
		r := cl.Result
		d.Clusters = append(d.Clusters, ClusterDoc{Cluster: cl.Cluster, Context: r.Context, Source: r.Source, ServerVersion: r.ServerVersion,
			CollectedAt: r.CollectedAt, Scope: r.Scope, Summary: one, Unlisted: r.Unlisted, Incomplete: r.Incomplete})
		for _, f := range r.Findings {
			workload := f.Object
			if cl.Index != nil {
				workload = cl.Index.Workload(f.Object)
			}
			d.Findings = append(d.Findings, ClusterFinding{Cluster: cl.Cluster, Identity: audit.ClusterIdentity(cl.Cluster, f.CheckID, workload), Finding: f})
		}
	}
	return d
}

// MultiSARIF writes one SARIF run per cluster: each its own category, so
// that clusters uploading to one repository do not close each other's
// alerts, and each result fingerprinted with its cluster.
func MultiSARIF(w io.Writer, m Multi) error {
	runs := make([]sarifRun, 0, len(m.Clusters))
	for _, cl := range m.Clusters {
		runs = append(runs, sarifRunOf(cl.Result, SARIFOptions{Index: cl.Index, Cluster: cl.Cluster}))
	}
	return writeSARIF(w, runs)
}

type multiHTMLCluster struct {
	Name, Source, Snapshot          string
	Errors, Warnings, Infos, Checks int
	Incomplete                      string
}

type multiHTMLFinding struct {
	Cluster, Severity, Check, Object, Message, Fix string
}

// MultiHTML writes the audit of several clusters as a self-contained
// page: no script, nothing fetched.
func MultiHTML(w io.Writer, m Multi) error {
	c := m.count()
	page := struct {
		Title    string
		Clusters []multiHTMLCluster
		Findings []multiHTMLFinding
		Failed   []report.ClusterFailure
	}{Title: fmt.Sprintf("Audit of %d clusters (%s): %d errors, %d warnings, %d info", len(m.Clusters), m.names(), c[audit.Error], c[audit.Warning], c[audit.Info]),
		Failed: m.Failed}
	for _, cl := range m.Clusters {
		cc := cl.Result.Count()
		page.Clusters = append(page.Clusters, multiHTMLCluster{Name: cl.Cluster, Source: cl.Result.Source, Snapshot: report.SnapshotTime(cl.Result.CollectedAt, time.RFC3339),
			Errors: cc[audit.Error], Warnings: cc[audit.Warning], Infos: cc[audit.Info], Checks: cl.Result.Ran(), Incomplete: cl.Result.IncompleteText()})
		for _, f := range cl.Result.Findings {
			page.Findings = append(page.Findings, multiHTMLFinding{Cluster: cl.Cluster, Severity: f.Severity.String(), Check: f.CheckID,
				Object: shortRef(f.Object), Message: f.Message, Fix: f.Remediation.Text})
		}
	}
	t, err := template.New("multi").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
` + report.CSPMeta + `
<title>{{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#1d2733}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}
th,td{padding:.2em .7em;border-bottom:1px solid #e3e7eb;text-align:left;vertical-align:top}
.note{color:#5a6b7b}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<table>
<tr><th>Cluster</th><th>Errors</th><th>Warnings</th><th>Info</th><th>Checks</th><th>Source</th><th>Snapshot</th></tr>
{{- range .Clusters}}
<tr><td>{{.Name}}</td><td>{{.Errors}}</td><td>{{.Warnings}}</td><td>{{.Infos}}</td><td>{{.Checks}}</td><td>{{.Source}}</td><td>{{.Snapshot}}</td></tr>
{{- end}}
</table>
{{- range .Clusters}}{{if .Incomplete}}
<p class="note">Cluster {{.Name}}: {{.Incomplete}}.</p>
{{- end}}{{end}}
<h2>Findings</h2>
{{- if .Findings}}
<table>
<tr><th>Cluster</th><th>Severity</th><th>Check</th><th>Object</th><th>Message</th><th>Fix</th></tr>
{{- range .Findings}}
<tr><td>{{.Cluster}}</td><td>{{.Severity}}</td><td>{{.Check}}</td><td>{{.Object}}</td><td>{{.Message}}</td><td>{{.Fix}}</td></tr>
{{- end}}
</table>
{{- else}}
<p>No findings.</p>
{{- end}}
{{- if .Failed}}
<h2>Not read</h2>
{{- range .Failed}}
<p class="note">Cluster {{.Cluster}}: {{.Error}}</p>
{{- end}}
{{- end}}
</body>
</html>
`)
	if err != nil {
		return fmt.Errorf("audit HTML template: %w", err)
	}
	return report.ExecuteHTML(w, t, page)
}
