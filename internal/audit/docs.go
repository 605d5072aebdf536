package audit

import (
	"fmt"
	"strings"
)

// ChecksReference renders docs/checks.md from the registry, so that the
// reference cannot drift from the code.
func ChecksReference(checks []Check) string {
	var b strings.Builder
	b.WriteString(`# Audit checks

<!-- Generated from the check registry by ` + "`go test ./internal/audit/checks -run TestChecksReference -update`" + `; do not edit. -->

` + "`purser audit`" + ` runs every check below over one snapshot. Each finding names the
object, says what is wrong, why (the cause as far as the snapshot shows it), the
evidence, and how to fix it, with a ready command where one exists.

## Configuring checks

In purser.yaml:

` + "```yaml" + `
apiVersion: purser.dev/v1alpha1
kind: Config
audit:
  disable: [container-no-limits]          # never run these
  overrides:                              # change a check's severity
  - check: image-latest-tag
    severity: error                       # info, warning or error
  exemptions:                             # drop findings about matching objects
  - check: namespace-empty                # or "*" for every check
    namespace: "sandbox-*"                # shell globs; an empty field matches anything
    kind: Namespace
    name: "*"
    reason: kept for the yearly load test
  requiredNamespaceLabels: [team, environment]
` + "```" + `

On an object or on its namespace, the annotation ` + "`" + IgnoreAnnotation + `: "<check-id>,…"` + "`" + ` (or ` + "`\"*\"`" + `)
drops that check's findings about it. Dropped findings are still listed, with the reason,
under ` + "`suppressed`" + ` in the JSON report.

` + "`--fail-on info|warning|error`" + ` makes ` + "`purser audit`" + ` exit with status 2 when a finding
is at or above that severity; ` + "`-o sarif`" + ` writes SARIF 2.1.0 for code-scanning services.

Each check reads the kinds listed under it. When the snapshot could not list one of
them (RBAC forbids Secrets, say), the check still runs on what was read but is marked
incomplete in every report: no finding from it then does not mean there is nothing
to find. ` + "`--fail-on-incomplete`" + ` makes ` + "`purser audit`" + ` exit with status 2 when a check
that ran is incomplete.

` + "`purser audit --manifests`" + ` audits manifests before they ship. The checks that need what
only a cluster has (status, nodes, endpoints, the objects outside the set) are skipped
there, and listed as skipped with the reason in every report; each check below says
which it is. With ` + "`--cluster`" + ` (or ` + "`--from SNAPSHOT`" + `) the manifests are laid over that
cluster's objects and judged there; only the findings about the manifests' objects,
and those they bring to the cluster's objects, are reported.

## Checks

| ID | Category | Default severity |
|---|---|---|
`)
	for _, c := range checks {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", c.ID(), c.ID(), c.Category(), c.DefaultSeverity())
	}
	for _, cat := range []Category{Availability, Hygiene, Resources, Security, Governance} {
		var in []Check
		for _, c := range checks {
			if c.Category() == cat {
				in = append(in, c)
			}
		}
		if len(in) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s%s\n", strings.ToUpper(string(cat[:1])), cat[1:])
		for _, c := range in {
			fmt.Fprintf(&b, "\n### %s\n\nDefault severity: %s.\n\n%s\n", c.ID(), c.DefaultSeverity(), c.Description())
			if r, ok := c.(Reader); ok && len(r.Reads()) > 0 {
				fmt.Fprintf(&b, "\nReads: %s.\n", readsText(r.Reads()))
			}
			if d, ok := c.(ManifestDeclarer); ok {
				if m := d.OnManifests(); m.Runs {
					b.WriteString("\nRuns on manifests (`purser audit --manifests`).\n")
				} else if m.Skip != "" {
					fmt.Fprintf(&b, "\nSkipped on manifests (`purser audit --manifests`): %s.\n", m.Skip)
				}
			}
		}
	}
	return b.String()
}

// readsText writes the kinds a check reads for the reference.
func readsText(kinds []string) string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		if k == EveryNamespacedKind {
			out[i] = "every namespaced kind, custom resources included"
			continue
		}
		out[i] = "`" + k + "`"
	}
	return strings.Join(out, ", ")
}
