package auditreport

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/report"
)

type htmlSection struct {
	Title    string
	Class    string
	Findings []audit.Finding
}

type htmlPage struct {
	Title      string
	Source     string
	Taken      string
	Scope      string
	Errors     int
	Warnings   int
	Infos      int
	Suppressed []audit.Suppressed
	Checks     int
	Unlisted   string
	// Incomplete is res.IncompleteText(); IncompleteRows one line per check.
	Incomplete     string
	IncompleteRows []htmlIncomplete
	// Skipped is res.SkippedText(); SkippedRows one line per check.
	Skipped     string
	SkippedRows []htmlSkipped
	ByCheck     []htmlCheckRow
	Sections    []htmlSection
	Pools       []htmlPool
	Recs        []string
}

type htmlIncomplete struct {
	ID, Unread string
}

type htmlSkipped struct {
	ID, Reason string
}

type htmlCheckRow struct {
	ID, Severity, Objects string
	Count                 int
}

type htmlPool struct {
	audit.PoolHealth
	CPU, Mem, Types string
}

// HTML writes the audit as one self-contained page: inline style, no
// script, nothing fetched from the network.
func HTML(w io.Writer, res *audit.Result) error {
	c := res.Count()
	p := htmlPage{
		Title: "Cluster audit: " + res.Source, Source: res.Source, Errors: c[audit.Error], Warnings: c[audit.Warning],
		Infos: c[audit.Info], Suppressed: res.Suppressed, Scope: resultScope(res), Checks: res.Ran(), Unlisted: strings.Join(res.Unlisted, ", "),
	}
	p.Incomplete = res.IncompleteText()
	for _, ch := range res.IncompleteChecks() {
		p.IncompleteRows = append(p.IncompleteRows, htmlIncomplete{ID: ch.ID, Unread: strings.Join(ch.Unread, ", ")})
	}
	p.Skipped = res.SkippedText()
	for _, ch := range res.SkippedChecks() {
		p.SkippedRows = append(p.SkippedRows, htmlSkipped{ID: ch.ID, Reason: ch.SkipReason})
	}
	p.Taken = report.SnapshotTime(res.CollectedAt, time.RFC3339)
	if res.ServerVersion != "" {
		p.Taken += ", Kubernetes " + res.ServerVersion
	}
	for _, g := range byCheck(res.Findings) {
		p.ByCheck = append(p.ByCheck, htmlCheckRow{ID: g.id, Severity: g.severity.String(), Objects: joinMax(g.objects(), 5), Count: len(g.findings)})
	}
	for _, sev := range []audit.Severity{audit.Error, audit.Warning, audit.Info} {
		sec := htmlSection{Title: severityTitle(sev), Class: sev.String()}
		for _, f := range res.Findings {
			if f.Severity == sev {
				sec.Findings = append(sec.Findings, f)
			}
		}
		if len(sec.Findings) > 0 {
			sec.Title = fmt.Sprintf("%s (%d)", sec.Title, len(sec.Findings))
			p.Sections = append(p.Sections, sec)
		}
	}
	for _, pool := range res.Pools {
		p.Pools = append(p.Pools, htmlPool{PoolHealth: pool, Types: strings.Join(pool.InstanceTypes, ", "),
			CPU: fmt.Sprintf("%dm / %dm (%d%%)", pool.CPURequestsMilli, pool.CPUAllocatableMilli, pool.CPUPercent()),
			Mem: fmt.Sprintf("%s / %s MiB (%d%%)", mib(pool.MemRequestsBytes), mib(pool.MemAllocatableBytes), pool.MemPercent())})
	}
	p.Recs = recommendations(res)
	t, err := htmlTemplate()
	if err != nil {
		return fmt.Errorf("audit HTML template: %w", err)
	}
	return report.ExecuteHTML(w, t, p)
}

// htmlTemplate parses the page; parsing per call keeps the package free
// of shared state and costs well under a millisecond.
func htmlTemplate() (*template.Template, error) {
	return template.New("audit").Funcs(template.FuncMap{"patchText": patchText}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
` + report.CSPMeta + `
<title>{{.Title}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1d2733}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #e3e7eb}h3{font-size:1.05em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}
th,td{padding:.25em .7em;border-bottom:1px solid #e3e7eb;text-align:left;vertical-align:top}
td.n{text-align:right}
.meta{color:#5a6b7b}
.tiles span{display:inline-block;padding:.6em 1.2em;margin-right:.6em;border-radius:6px;font-size:1.1em}
.error{background:#fdecea;color:#8a1c12}.warning{background:#fff4e0;color:#7a4a00}.info{background:#e8f1fb;color:#17426b}.ok{background:#e6f4ea;color:#1e5b2e}
.finding{border-left:4px solid #c9d1d9;padding:.3em 1em;margin:1em 0}
.finding.error{border-color:#d93025;background:none;color:inherit}.finding.warning{border-color:#f29900;background:none;color:inherit}.finding.info{border-color:#4a90d9;background:none;color:inherit}
.finding h4{margin:.2em 0;font-size:1em}
code,pre{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.badge{font-size:.8em;padding:.05em .5em;border-radius:4px}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">Snapshot taken {{.Taken}}. Scope: {{.Scope}}. {{.Checks}} checks ran.</p>
<h2>Global results</h2>
<p class="tiles"><span class="error">{{.Errors}} errors</span><span class="warning">{{.Warnings}} warnings</span><span class="info">{{.Infos}} info</span>
{{- if .Suppressed}}<span>{{len .Suppressed}} suppressed</span>{{end}}</p>
{{- if .Unlisted}}
<p class="meta">Not read, so findings that depend on them are incomplete: {{.Unlisted}}</p>
{{- end}}
{{- if .Incomplete}}
<p class="meta"><strong>{{.Incomplete}}.</strong> These checks ran on what could be read; their findings may miss objects, and none found does not mean none exist:</p>
<ul>
{{- range .IncompleteRows}}
<li><code>{{.ID}}</code>: {{.Unread}} could not be read</li>
{{- end}}
</ul>
{{- end}}
{{- if .Skipped}}
<p class="meta"><strong>{{.Skipped}}.</strong> These checks did not run, so their silence says nothing:</p>
<ul>
{{- range .SkippedRows}}
<li><code>{{.ID}}</code>: skipped, {{.Reason}}</li>
{{- end}}
</ul>
{{- end}}
{{- if .ByCheck}}
<table>
<tr><th>Check</th><th>Severity</th><th>Findings</th><th>Objects</th></tr>
{{- range .ByCheck}}
<tr><td><code>{{.ID}}</code></td><td><span class="badge {{.Severity}}">{{.Severity}}</span></td><td class="n">{{.Count}}</td><td>{{.Objects}}</td></tr>
{{- end}}
</table>
{{- end}}
<h2>Findings</h2>
{{- if not .Sections}}
<p>No findings.</p>
{{- end}}
{{- range .Sections}}
<h3>{{.Title}}</h3>
{{- $class := .Class}}
{{- range .Findings}}
<div class="finding {{$class}}">
<h4><code>{{.CheckID}}</code> {{.Object}}</h4>
<p>{{.Message}}</p>
{{- if .Cause}}
<p><strong>Cause:</strong> {{.Cause}}</p>
{{- end}}
{{- if .Evidence}}
<ul>{{range .Evidence}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
<p><strong>Fix:</strong> {{.Remediation.Text}}</p>
{{- if .Remediation.Command}}
<pre>{{.Remediation.Command}}</pre>
{{- end}}
{{- if .Remediation.Manifest}}
<pre>{{.Remediation.Manifest}}</pre>
{{- end}}
{{- with .Remediation.Patch}}
<pre>{{patchText .}}</pre>
{{- end}}
</div>
{{- end}}
{{- end}}
<h2>State per node pool</h2>
<table>
<tr><th>Pool</th><th>Nodes</th><th>Ready</th><th>Instance types</th><th>Running</th><th>Pending</th><th>Failing</th><th>CPU requested</th><th>Memory requested</th><th>Status</th></tr>
{{- range .Pools}}
<tr><td>{{.Name}}</td><td class="n">{{.Nodes}}</td><td class="n">{{.Ready}}</td><td>{{.Types}}</td><td class="n">{{.PodsRunning}}</td><td class="n">{{.PodsPending}}</td><td class="n">{{.PodsFailing}}</td><td class="n">{{.CPU}}</td><td class="n">{{.Mem}}</td><td><span class="badge {{if eq .Status "ok"}}ok{{else}}warning{{end}}">{{.Status}}</span></td></tr>
{{- end}}
</table>
{{- if .Recs}}
<h2>Recommendations</h2>
<ol>{{range .Recs}}<li>{{.}}</li>{{end}}</ol>
{{- end}}
{{- if .Suppressed}}
<h2>Suppressed findings</h2>
<ul>{{range .Suppressed}}<li><code>{{.Finding.CheckID}}</code> {{.Finding.Object}}: {{.By}}</li>{{end}}</ul>
{{- end}}
</body>
</html>
`)
}
