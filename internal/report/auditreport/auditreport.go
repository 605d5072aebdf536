// Package auditreport renders an audit result: a terminal table and
// summary, JSON and YAML (the stable machine form), Markdown and HTML
// reports that read like an audit written by hand (global results,
// findings by severity with cause and fix, state per node pool,
// recommendations), and SARIF for CI pipelines.
package auditreport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/snapshot"
)

// Formats are the values of -o.
func Formats() []string { return []string{"table", "json", "yaml", "markdown", "html", "sarif"} }

// Write renders res in format, one of Formats() ("md" is markdown). The
// table has no width limit and no colour: a terminal gets those, and the
// details, through TableWith.
func Write(w io.Writer, format string, res *audit.Result) error {
	switch format {
	case "table", "":
		return Table(w, res)
	case "json":
		return report.WriteJSON(w, Document(res))
	case "yaml":
		return report.WriteYAML(w, Document(res))
	case "markdown", "md":
		return Markdown(w, res)
	case "html":
		return HTML(w, res)
	case "sarif":
		return SARIF(w, res)
	}
	return fmt.Errorf("unknown output format %q: expected %s", format, strings.Join(Formats(), ", "))
}

// APIVersion and Kind identify the JSON and YAML audit document.
const (
	APIVersion = "purser.dev/v1alpha1"
	Kind       = "AuditReport"
)

// Doc is the JSON and YAML form of an audit, documented in
// docs/audit-json.md. Fields are only ever added.
type Doc struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Summary counts findings by severity.
	Summary DocSummary `json:"summary"`
	*audit.Result
}

// DocSummary counts findings.
type DocSummary struct {
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
	Infos      int `json:"infos"`
	Suppressed int `json:"suppressed"`
}

// Document wraps a result for JSON and YAML.
func Document(res *audit.Result) Doc {
	c := res.Count()
	return Doc{APIVersion: APIVersion, Kind: Kind, Result: res,
		Summary: DocSummary{Errors: c[audit.Error], Warnings: c[audit.Warning], Infos: c[audit.Info], Suppressed: len(res.Suppressed)}}
}

type checkGroup struct {
	id       string
	severity audit.Severity
	findings []audit.Finding
}

// objects names the group's objects, namespace/name, in order.
func (g checkGroup) objects() []string {
	out := make([]string, 0, len(g.findings))
	for _, f := range g.findings {
		out = append(out, shortRef(f.Object))
	}
	return out
}

// byCheck groups findings by check, most serious first, keeping the
// findings' order.
func byCheck(fs []audit.Finding) []checkGroup {
	idx := map[string]int{}
	var out []checkGroup
	for _, f := range fs {
		i, ok := idx[f.CheckID]
		if !ok {
			i = len(out)
			idx[f.CheckID] = i
			out = append(out, checkGroup{id: f.CheckID, severity: f.Severity})
		}
		if f.Severity > out[i].severity {
			out[i].severity = f.Severity
		}
		out[i].findings = append(out[i].findings, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].severity > out[j].severity })
	return out
}

// scopeText names an audit's scope for a person: every report states it.
func scopeText(ns string) string {
	if ns == "" {
		return "whole cluster"
	}
	return "namespace " + ns
}

// resultScope is scopeText for a result: manifests audited before they
// ship are no cluster, whole or not.
func resultScope(res *audit.Result) string {
	if res.Mode == audit.ModeManifests && res.Scope == "" {
		if res.Cluster != "" {
			return "manifests, as they would land in " + res.Cluster
		}
		return "manifests, before they ship"
	}
	return scopeText(res.Scope)
}

func shortRef(r snapshot.Ref) string {
	if r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}

func joinMax(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("%s, +%d more", strings.Join(s[:n], ", "), len(s)-n)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// severityTitle names a severity section.
func severityTitle(s audit.Severity) string {
	switch s {
	case audit.Error:
		return "Errors"
	case audit.Warning:
		return "Warnings"
	}
	return "Information"
}

// recommendations sums up each check that found something, from all of
// its findings: how many, on which objects, and each distinct fix with the
// objects it applies to, so that a check whose findings call for
// different fixes (scale one Deployment, leave another single) is not
// summed up by the first one's.
func recommendations(res *audit.Result) []string {
	type fix struct {
		text    string
		objects []string
	}
	var out []string
	for _, g := range byCheck(res.Findings) {
		var fixes []*fix
		byText := map[string]*fix{}
		files := 0
		for _, f := range g.findings {
			if f.Remediation.File != "" {
				files++
			}
			text := firstSentence(f.Remediation.Text)
			fx, ok := byText[text]
			if !ok {
				fx = &fix{text: text}
				byText[text] = fx
				fixes = append(fixes, fx)
			}
			fx.objects = append(fx.objects, shortRef(f.Object))
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s (%d %s, %s) on %s: ", g.id, len(g.findings), plural(len(g.findings), "finding"), g.severity, joinMax(g.objects(), 5))
		if len(fixes) == 1 {
			b.WriteString(fixes[0].text)
		} else {
			const shown = 4
			parts := make([]string, 0, shown+1)
			for i, fx := range fixes {
				if i == shown {
					word := "fixes"
					if len(fixes)-shown == 1 {
						word = "fix"
					}
					parts = append(parts, fmt.Sprintf("and %d other %s", len(fixes)-shown, word))
					break
				}
				parts = append(parts, fmt.Sprintf("%s (%s)", strings.TrimSuffix(fx.text, "."), joinMax(fx.objects, 3)))
			}
			fmt.Fprintf(&b, "%d fixes: %s.", len(fixes), strings.Join(parts, "; "))
		}
		switch {
		case files == len(g.findings):
			b.WriteString(" Every fix is a file written by --write-fixes.")
		case files == 1:
			fmt.Fprintf(&b, " 1 of the %d fixes is a file written by --write-fixes.", len(g.findings))
		case files > 0:
			fmt.Fprintf(&b, " %d of the %d fixes are files written by --write-fixes.", files, len(g.findings))
		}
		out = append(out, b.String())
	}
	return out
}

// patchText is a patch as a person reads it: indented JSON, as
// --write-fixes writes it.
func patchText(p *audit.Patch) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(p.Body), "", "  "); err != nil {
		return p.Body
	}
	return b.String()
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

func mib(b int64) string { return fmt.Sprintf("%d", b>>20) }
