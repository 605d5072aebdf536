package audit

import (
	"fmt"
	"strings"
)

// Mode is what an audit reads: a cluster (live, or a snapshot of one), or
// manifests that have not been applied yet.
type Mode string

// Modes of an audit.
const (
	// ModeCluster audits objects as a cluster holds them, status
	// included. Results record it as the empty mode.
	ModeCluster Mode = "cluster"
	// ModeManifests audits a set of manifests before they ship: they
	// carry no status, and the set is part of a cluster, not the whole.
	ModeManifests Mode = "manifests"
)

// Manifests says whether a check gives a true answer on manifests alone.
// Its zero value is "undeclared", which the runner treats as skipped and
// the registry's test refuses: every check states its case.
type Manifests struct {
	// Runs is true when the check's evidence is in the manifests
	// themselves (specs, references within the set, security settings).
	Runs bool
	// Skip, when the check does not run, says what it needs that
	// manifests lack (status, nodes, the rest of the cluster); reports
	// show it.
	Skip string
}

// RunsOnManifests declares a check that runs on manifests.
func RunsOnManifests() Manifests { return Manifests{Runs: true} }

// NeedsCluster declares a check that manifests cannot answer, and why.
func NeedsCluster(why string) Manifests { return Manifests{Skip: why} }

// Declared reports whether the declaration says one thing or the other.
func (m Manifests) Declared() bool { return m.Runs != (m.Skip != "") }

// ManifestDeclarer is implemented by checks that say whether they run on
// manifests.
type ManifestDeclarer interface {
	OnManifests() Manifests
}

// skipReason returns why c does not run in mode, or "" when it runs.
func skipReason(c Check, mode Mode) string {
	if mode != ModeManifests {
		return ""
	}
	d, ok := c.(ManifestDeclarer)
	if !ok {
		return "needs a cluster: the check does not say whether manifests alone answer it"
	}
	m := d.OnManifests()
	switch {
	case m.Runs && m.Skip == "":
		return ""
	case m.Skip != "":
		return m.Skip
	default:
		return "needs a cluster: the check does not say whether manifests alone answer it"
	}
}

// SkippedChecks returns the checks that did not run in the result's mode,
// in order.
func (r *Result) SkippedChecks() []CheckInfo {
	var out []CheckInfo
	for _, c := range r.Checks {
		if c.Skipped() {
			out = append(out, c)
		}
	}
	return out
}

// SkippedText says, in one line, how many checks were skipped and why
// ("9 checks skipped: manifests carry no status and are not the whole
// cluster"); "" when none was.
func (r *Result) SkippedText() string {
	n := len(r.SkippedChecks())
	if n == 0 {
		return ""
	}
	checks := "checks"
	if n == 1 {
		checks = "check"
	}
	why := "they need what only a cluster has"
	if r.Mode == ModeManifests {
		why = "manifests carry no status and are not the whole cluster"
	}
	return fmt.Sprintf("%d %s skipped: %s", n, checks, why)
}

// SkippedIDs returns the IDs of the skipped checks, comma-separated.
func (r *Result) SkippedIDs() string {
	var ids []string
	for _, c := range r.SkippedChecks() {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ", ")
}

// Ran counts the checks that ran, skipped ones excluded.
func (r *Result) Ran() int { return len(r.Checks) - len(r.SkippedChecks()) }
