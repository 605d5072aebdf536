package cli

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/report/auditreport"
	"github.com/purserhq/purser/internal/rightsize"
	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/snapshot"
)

// rightsizeDoc is the JSON and YAML form of a right-sizing report.
type rightsizeDoc struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Summary    string `json:"summary"`
	*rightsize.Report
}

// RightsizeCheckID names right-sizing findings in SARIF, beside the
// audit's checks.
const RightsizeCheckID = "rightsize-requests"

func renderRightsize(w io.Writer, format string, r *rightsize.Report) error {
	switch format {
	case "json":
		return report.WriteJSON(w, rightsizeDoc{APIVersion: auditreport.APIVersion, Kind: "RightsizeReport", Summary: nodeSentence(r), Report: r})
	case "yaml":
		return report.WriteYAML(w, rightsizeDoc{APIVersion: auditreport.APIVersion, Kind: "RightsizeReport", Summary: nodeSentence(r), Report: r})
	case "markdown":
		return rightsizeMarkdown(w, r)
	case "html":
		return rightsizeHTML(w, r)
	case "sarif":
		return auditreport.SARIF(w, rightsizeFindings(r))
	}
	return rightsizeTable(w, r)
}

// resources writes requests and limits of one resource: "500m/1" or
// "1Gi/2Gi", "-" for none.
func resources(rr corev1.ResourceRequirements, name corev1.ResourceName) string {
	q := func(l corev1.ResourceList) string {
		v, ok := l[name]
		if !ok {
			return "-"
		}
		if name == corev1.ResourceCPU {
			return sched.Amount(name, v.MilliValue())
		}
		return memory(snapshot.ClampedBytes(v))
	}
	return q(rr.Requests) + "/" + q(rr.Limits)
}

// memory writes bytes in Gi when whole, else Mi.
func memory(b int64) string {
	if b != 0 && b%(1<<30) == 0 {
		return fmt.Sprintf("%dGi", b>>30)
	}
	return sched.Amount(corev1.ResourceMemory, b)
}

func containerName(rec rightsize.Recommendation) string {
	switch {
	case rec.Sidecar:
		return rec.Container + " (sidecar)"
	case rec.Init:
		return rec.Container + " (init)"
	}
	return rec.Container
}

// headline says what was measured and how.
func headline(r *rightsize.Report) string {
	scope := "every namespace"
	if r.Scope != "" {
		scope = "namespace " + r.Scope
	}
	u := r.Usage
	s := fmt.Sprintf("Right-sizing of %s (%s): usage from %s over %s; CPU at p%s, memory at the peak + %d%%.",
		r.Source, scope, u.Source, u.Window, pctText(r.Options.Percentile), r.Options.HeadroomPercent)
	if u.OneSample {
		s += " One sample per container (metrics-server): low confidence, memory limits unchanged."
	}
	if len(u.Sampled) > 0 {
		s += fmt.Sprintf(" Over the query budget: %d namespaces measured (%s).", len(u.Sampled), strings.Join(u.Sampled, ", "))
	}
	return s
}

func pctText(q float64) string { return strings.TrimSuffix(fmt.Sprintf("%.1f", q*100), ".0") }

// nodeSentence is the cluster effect in one sentence.
func nodeSentence(r *rightsize.Report) string {
	var freed []string
	nodes := 0
	for _, p := range r.Pools {
		if p.Freed > 0 {
			nodes += p.Freed
			freed = append(freed, fmt.Sprintf("%s of pool %s", nodesText(p.Freed), p.Pool))
		}
	}
	if nodes == 0 {
		return fmt.Sprintf("Applying all of these frees no node: the pools need as many nodes at the new requests as at today's. The requests move %s a month of allocated cost to idle.", r.Requests)
	}
	return fmt.Sprintf("Applying all of these frees %s, %s a month, beyond the %s that purser cost's right-sizing finds at today's requests (%s a month in all against today's nodes).",
		strings.Join(freed, ", "), r.Nodes, r.CostRightsizing, r.After)
}

func nodesText(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

func signed(a money.Amount) string { return a.Format(2) }

func rightsizeTable(w io.Writer, r *rightsize.Report) error {
	var b strings.Builder
	t := func(s string) string { return output.TerminalText(s) }
	fmt.Fprintln(&b, t(headline(r)))
	fmt.Fprintf(&b, "%d changes in %d workloads; %d containers already right; %d not measured.\n\n",
		len(r.Recommendations), len(r.Workloads), r.Unchanged, len(r.Unmeasured))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "WORKLOAD\tCONTAINER\tUSED CPU/MEM\tCPU REQ/LIM\tMEMORY REQ/LIM\tCONFIDENCE\tSAVES (%s)\n", r.Currency)
	for _, rec := range r.Recommendations {
		fmt.Fprintf(tw, "%s\t%s\t%s/%s\t%s → %s\t%s → %s\t%s\t%s\n", t(rec.Workload.String()), t(containerName(rec)),
			sched.Amount(corev1.ResourceCPU, rec.Evidence.CPUMilli), memory(rec.Evidence.MemoryBytes),
			resources(rec.Current, corev1.ResourceCPU), resources(rec.Resources, corev1.ResourceCPU),
			resources(rec.Current, corev1.ResourceMemory), resources(rec.Resources, corev1.ResourceMemory),
			rec.Confidence, signed(rec.Monthly))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nBy workload\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "WORKLOAD\tPOOL\tREPLICAS\tCPU\tMEMORY\tCOST TODAY\tSAVES (%s)\n", r.Currency)
	for _, s := range r.Workloads {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", t(s.Workload.String()), t(s.Pool), s.Replicas,
			signedAmount(corev1.ResourceCPU, s.CPUMilli), signedAmount(corev1.ResourceMemory, s.MemoryBytes), s.Current.Format(2), signed(s.Monthly))
	}
	fmt.Fprintf(tw, "total\t\t\t\t\t\t%s\n", signed(r.Requests))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nNodes, packed at each pool's target utilisation\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "POOL\tINSTANCE TYPE\tTARGET\tTODAY\tNEEDED NOW\tNEEDED AFTER\tFREED\tSAVES (%s)\n", r.Currency)
	for _, p := range r.Pools {
		fmt.Fprintf(tw, "%s\t%s\t%d%%\t%d\t%d\t%d\t%d\t%s\n", t(p.Pool), t(p.InstanceType), p.TargetUtilization, p.Today, p.Needed, p.NeededAfter, p.Freed, signed(p.Monthly))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\n%s\n", t(nodeSentence(r)))
	for _, p := range r.Pools {
		if p.Note != "" {
			fmt.Fprintf(&b, "Pool %s: %s\n", t(p.Pool), t(p.Note))
		}
	}
	notes := notesOf(r)
	if len(notes) > 0 {
		fmt.Fprintf(&b, "\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "%s\n", t(n))
		}
	}
	if len(r.Unmeasured) > 0 {
		fmt.Fprintf(&b, "\nNot measured: %s\n", t(strings.Join(r.Unmeasured, ", ")))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// notesOf are the reasons worth reading beyond the figures: OOM kills,
// restarts, HPA targets.
func notesOf(r *rightsize.Report) []string {
	var out []string
	for _, rec := range r.Recommendations {
		for _, reason := range rec.Reasons {
			if strings.HasPrefix(reason, "OOMKilled") || strings.HasPrefix(reason, "restarted") || strings.HasPrefix(reason, "HPA ") {
				out = append(out, rec.Workload.String()+" "+rec.Container+": "+reason)
			}
		}
	}
	return out
}

func signedAmount(r corev1.ResourceName, v int64) string {
	sign := "+"
	if v < 0 {
		sign, v = "-", -v
	}
	if r == corev1.ResourceMemory {
		return sign + memory(v)
	}
	return sign + sched.Amount(r, v)
}

func rightsizeMarkdown(w io.Writer, r *rightsize.Report) error {
	md := output.MarkdownText
	var b strings.Builder
	fmt.Fprintf(&b, "# Right-sizing\n\n%s\n\n", md(headline(r)))
	fmt.Fprintf(&b, "**%s**\n\n", md(nodeSentence(r)))
	fmt.Fprintf(&b, "## Recommendations\n\n| Workload | Container | Used CPU/memory | CPU request/limit | Memory request/limit | Confidence | Saves (%s) |\n|---|---|---|---|---|---|---:|\n", r.Currency)
	for _, rec := range r.Recommendations {
		fmt.Fprintf(&b, "| %s | %s | %s/%s | %s → %s | %s → %s | %s | %s |\n", md(rec.Workload.String()), md(containerName(rec)),
			sched.Amount(corev1.ResourceCPU, rec.Evidence.CPUMilli), memory(rec.Evidence.MemoryBytes),
			resources(rec.Current, corev1.ResourceCPU), resources(rec.Resources, corev1.ResourceCPU),
			resources(rec.Current, corev1.ResourceMemory), resources(rec.Resources, corev1.ResourceMemory), rec.Confidence, signed(rec.Monthly))
	}
	fmt.Fprintf(&b, "\n## By workload\n\n| Workload | Pool | Replicas | Cost today | Saves (%s) |\n|---|---|---:|---:|---:|\n", r.Currency)
	for _, s := range r.Workloads {
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s |\n", md(s.Workload.String()), md(s.Pool), s.Replicas, s.Current.Format(2), signed(s.Monthly))
	}
	fmt.Fprintf(&b, "| **total** | | | | **%s** |\n", signed(r.Requests))
	fmt.Fprintf(&b, "\n## Nodes\n\n| Pool | Instance type | Target | Today | Needed now | Needed after | Freed | Saves (%s) |\n|---|---|---:|---:|---:|---:|---:|---:|\n", r.Currency)
	for _, p := range r.Pools {
		fmt.Fprintf(&b, "| %s | %s | %d%% | %d | %d | %d | %d | %s |\n", md(p.Pool), md(p.InstanceType), p.TargetUtilization, p.Today, p.Needed, p.NeededAfter, p.Freed, signed(p.Monthly))
	}
	if notes := notesOf(r); len(notes) > 0 {
		fmt.Fprintf(&b, "\n## Notes\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", md(n))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

const rightsizePage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Right-sizing — {{.R.Source}}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .5em}td.n{text-align:right}</style></head>
<body><h1>Right-sizing</h1><p>{{.Headline}}</p><p><strong>{{.Nodes}}</strong></p>
<h2>Recommendations</h2><table><tr><th>Workload</th><th>Container</th><th>Used CPU/memory</th><th>CPU request/limit</th><th>Memory request/limit</th><th>Confidence</th><th>Saves ({{.R.Currency}})</th></tr>
{{range .Rows}}<tr><td>{{.Workload}}</td><td>{{.Container}}</td><td>{{.Used}}</td><td>{{.CPU}}</td><td>{{.Memory}}</td><td>{{.Confidence}}</td><td class="n">{{.Saves}}</td></tr>
{{end}}</table>
<h2>By workload</h2><table><tr><th>Workload</th><th>Pool</th><th>Replicas</th><th>Cost today</th><th>Saves ({{.R.Currency}})</th></tr>
{{range .R.Workloads}}<tr><td>{{.Workload}}</td><td>{{.Pool}}</td><td class="n">{{.Replicas}}</td><td class="n">{{.Current.Format 2}}</td><td class="n">{{.Monthly.Format 2}}</td></tr>
{{end}}<tr><th>total</th><td></td><td></td><td></td><td class="n">{{.R.Requests.Format 2}}</td></tr></table>
<h2>Nodes</h2><table><tr><th>Pool</th><th>Instance type</th><th>Target</th><th>Today</th><th>Needed now</th><th>Needed after</th><th>Freed</th><th>Saves ({{.R.Currency}})</th></tr>
{{range .R.Pools}}<tr><td>{{.Pool}}</td><td>{{.InstanceType}}</td><td class="n">{{.TargetUtilization}}%</td><td class="n">{{.Today}}</td><td class="n">{{.Needed}}</td><td class="n">{{.NeededAfter}}</td><td class="n">{{.Freed}}</td><td class="n">{{.Monthly.Format 2}}</td></tr>
{{end}}</table>
{{with .Notes}}<h2>Notes</h2><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body></html>
`

func rightsizeHTML(w io.Writer, r *rightsize.Report) error {
	tpl, err := template.New("rightsize").Parse(rightsizePage)
	if err != nil {
		return err
	}
	type row struct{ Workload, Container, Used, CPU, Memory, Confidence, Saves string }
	var rows []row
	for _, rec := range r.Recommendations {
		rows = append(rows, row{rec.Workload.String(), containerName(rec),
			sched.Amount(corev1.ResourceCPU, rec.Evidence.CPUMilli) + "/" + memory(rec.Evidence.MemoryBytes),
			resources(rec.Current, corev1.ResourceCPU) + " → " + resources(rec.Resources, corev1.ResourceCPU),
			resources(rec.Current, corev1.ResourceMemory) + " → " + resources(rec.Resources, corev1.ResourceMemory),
			string(rec.Confidence), signed(rec.Monthly)})
	}
	return tpl.Execute(w, map[string]any{"R": r, "Headline": headline(r), "Nodes": nodeSentence(r), "Rows": rows, "Notes": notesOf(r)})
}

// rightsizeFindings are the recommendations as audit findings, for the
// audit's SARIF writer: one per container, on its workload.
func rightsizeFindings(r *rightsize.Report) *audit.Result {
	res := &audit.Result{Source: r.Source, Scope: r.Scope, Checks: []audit.CheckInfo{{ID: RightsizeCheckID, Category: audit.Resources,
		Severity: audit.Info, Description: "Container requests and limits that differ from what the container used over the window, with the new resources and what they save.",
		Findings: len(r.Recommendations), Status: audit.StatusOK}}, Findings: []audit.Finding{}}
	for _, rec := range r.Recommendations {
		f := audit.Finding{CheckID: RightsizeCheckID, Severity: audit.Info, Category: audit.Resources,
			Object: snapshot.Ref{Kind: rec.Workload.Kind, Namespace: rec.Workload.Namespace, Name: rec.Workload.Name},
			Message: fmt.Sprintf("container %s: CPU %s → %s, memory %s → %s (requests/limits), saves %s a month",
				rec.Container, resources(rec.Current, corev1.ResourceCPU), resources(rec.Resources, corev1.ResourceCPU),
				resources(rec.Current, corev1.ResourceMemory), resources(rec.Resources, corev1.ResourceMemory), rec.Monthly),
			Cause: fmt.Sprintf("used %s CPU at p%s and %s memory at peak over %s (%d samples, %s confidence, from %s)",
				sched.Amount(corev1.ResourceCPU, rec.Evidence.CPUMilli), pctText(rec.Evidence.Percentile), memory(rec.Evidence.MemoryBytes),
				rec.Evidence.Window, rec.Evidence.Samples, rec.Confidence, rec.Evidence.Source),
			Evidence:    rec.Reasons,
			Remediation: audit.Remediation{Text: "set the container's resources to the recommended requests and limits in the workload's source (chart values, kustomize overlay or manifest)"},
		}
		res.Findings = append(res.Findings, f)
	}
	return res
}
