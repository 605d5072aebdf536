package admission

import (
	"cmp"
	"slices"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// Audit returns the result as an audit's, so that the audit's reports
// (table, JSON, YAML, Markdown, HTML, SARIF) print it: each rule is a
// check of the governance category, each violation a finding on its
// object.
func (r *Result) Audit(source string, mode audit.Mode) *audit.Result {
	out := &audit.Result{Source: source, Mode: mode, Findings: []audit.Finding{}}
	counts := map[string]int{}
	for _, v := range r.Violations {
		counts[v.RuleID]++
		out.Findings = append(out.Findings, audit.Finding{
			CheckID: v.RuleID, Severity: severity(v.Severity), Category: audit.Governance,
			Object:  snapshot.Ref{Kind: v.Kind, Namespace: v.Namespace, Name: v.Name},
			Message: v.Message,
		})
	}
	// As the audit sorts them: most serious first, then by check, object.
	slices.SortStableFunc(out.Findings, func(a, b audit.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.CheckID, b.CheckID), cmp.Compare(a.Object.String(), b.Object.String()))
	})
	for _, ri := range r.RuleInfo {
		out.Checks = append(out.Checks, audit.CheckInfo{ID: ri.ID, Category: audit.Governance, Severity: severity(ri.Severity),
			Description: ri.Description, Findings: counts[ri.ID], Status: audit.StatusOK})
	}
	return out
}

func severity(s string) audit.Severity {
	switch s {
	case "warning":
		return audit.Warning
	case "info":
		return audit.Info
	}
	return audit.Error
}
