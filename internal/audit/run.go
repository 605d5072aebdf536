package audit

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/yamldoc"
)

// IgnoreAnnotation, on an object or its namespace, lists the check IDs
// whose findings about it are dropped ("*" for all).
const IgnoreAnnotation = "purser.dev/ignore"

// Options narrow a run.
type Options struct {
	// Checks, when not empty, are the only checks that run.
	Checks []string
	// Prices is the price book checks quote costs from; nil for none.
	Prices *pricing.Book
	// Mode is what the snapshot holds; ModeManifests skips the checks
	// that manifests cannot answer. Empty means ModeCluster.
	Mode Mode
	// Cluster, with ModeManifests, names the cluster whose objects the
	// manifests were laid over (see Input.Cluster).
	Cluster string
}

// Suppressed is a finding dropped by an exemption or an annotation; it is
// kept so that reports can say what was hidden and why.
type Suppressed struct {
	Finding Finding `json:"finding"`
	By      string  `json:"by"`
}

// CheckInfo describes a check that ran.
type CheckInfo struct {
	ID          string   `json:"id"`
	Category    Category `json:"category"`
	Severity    Severity `json:"severity"` // after overrides
	Description string   `json:"description"`
	Findings    int      `json:"findings"`
	// Status is StatusOK, or StatusIncomplete when the snapshot could not
	// list a kind the check reads: it ran on what was listed, so its
	// findings may miss objects, and no findings does not mean none.
	// StatusSkipped is a check that did not run at all, because the
	// audit's mode cannot answer it (SkipReason says why).
	Status string `json:"status"`
	// Unread names the kinds the check reads that were not listed.
	Unread []string `json:"unreadKinds,omitempty"`
	// SkipReason says why a skipped check did not run.
	SkipReason string `json:"skipReason,omitempty"`
}

// Check statuses.
const (
	StatusOK         = "ok"
	StatusIncomplete = "incomplete"
	StatusSkipped    = "skipped"
)

// Incomplete reports whether the check ran without some kind it reads.
func (c CheckInfo) Incomplete() bool { return c.Status == StatusIncomplete }

// Skipped reports whether the check did not run.
func (c CheckInfo) Skipped() bool { return c.Status == StatusSkipped }

// Result is the outcome of an audit.
type Result struct {
	Source string `json:"source"`
	// Mode is "manifests" for manifests audited before they ship, where
	// the checks that need a cluster are skipped; empty for a cluster.
	Mode Mode `json:"mode,omitempty"`
	// Cluster names the cluster the manifests were laid over, when one
	// was given (--cluster or --cluster-from).
	Cluster       string    `json:"cluster,omitempty"`
	Context       string    `json:"context,omitempty"`
	ServerVersion string    `json:"serverVersion,omitempty"`
	CollectedAt   time.Time `json:"collectedAt,omitzero"` // zero when unknown
	// Scope is the namespace the findings were narrowed to (InNamespace);
	// empty for the whole cluster, as in cost.Result.
	Scope string `json:"scope,omitempty"`
	// Findings are sorted by severity (most serious first), check, object.
	Findings   []Finding    `json:"findings"`
	Suppressed []Suppressed `json:"suppressed,omitempty"`
	Checks     []CheckInfo  `json:"checks"`
	Pools      []PoolHealth `json:"pools"`
	// Unlisted names the kinds the snapshot could not read, namespaced
	// and cluster-scoped; the checks that read them are incomplete.
	Unlisted []string `json:"unlistedKinds,omitempty"`
	// Incomplete counts the checks that ran without a kind they read.
	Incomplete int `json:"incompleteChecks"`
	// Skipped counts the checks that did not run in this mode.
	Skipped int `json:"skippedChecks,omitempty"`
}

// IncompleteChecks returns the checks that ran without a kind they read,
// in order.
func (r *Result) IncompleteChecks() []CheckInfo {
	var out []CheckInfo
	for _, c := range r.Checks {
		if c.Incomplete() {
			out = append(out, c)
		}
	}
	return out
}

// IncompleteText says, in one line, how many checks are incomplete and
// which kinds made them so ("2 checks incomplete: kinds secrets could not
// be read"); "" when every check is complete.
func (r *Result) IncompleteText() string {
	n := len(r.IncompleteChecks())
	if n == 0 {
		return ""
	}
	checks := "checks"
	if n == 1 {
		checks = "check"
	}
	return fmt.Sprintf("%d %s incomplete: kinds %s could not be read", n, checks, strings.Join(r.UnreadKinds(), ", "))
}

// UnreadKinds returns, sorted, the kinds that made some check incomplete.
func (r *Result) UnreadKinds() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range r.Checks {
		for _, k := range c.Unread {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Count returns the number of findings of each severity.
func (r *Result) Count() map[Severity]int {
	out := map[Severity]int{}
	for _, f := range r.Findings {
		out[f.Severity]++
	}
	return out
}

// AtLeast counts the findings at or above sev.
func (r *Result) AtLeast(sev Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity >= sev {
			n++
		}
	}
	return n
}

// IDs returns the IDs of the checks, in order.
func IDs(checks []Check) []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.ID()
	}
	return out
}

// SelectChecks parses a comma-separated --checks list against the registry.
func SelectChecks(list string, registry []Check) ([]string, error) {
	known := map[string]bool{}
	for _, c := range registry {
		known[c.ID()] = true
	}
	var out []string
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !known[id] {
			if near := yamldoc.Closest(id, IDs(registry)); near != "" {
				return nil, fmt.Errorf("unknown check %q in --checks; did you mean %q?", id, near)
			}
			return nil, fmt.Errorf("unknown check %q in --checks; expected one of %s", id, strings.Join(IDs(registry), ", "))
		}
		out = append(out, id)
	}
	return out, nil
}

// Run runs the checks of registry over the indexed snapshot. It is a pure
// function of its inputs: the same snapshot and config give the same
// result.
func Run(ctx context.Context, ix *snapshot.Index, registry []Check, cfg *Config, opts Options) (*Result, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	only := map[string]bool{}
	if len(opts.Checks) > 0 {
		known := map[string]bool{}
		for _, c := range registry {
			known[c.ID()] = true
		}
		for _, id := range opts.Checks {
			if !known[id] {
				return nil, fmt.Errorf("unknown check %q; expected one of %s", id, strings.Join(IDs(registry), ", "))
			}
			only[id] = true
		}
	}
	s := ix.S
	mode := opts.Mode
	if mode == ModeCluster {
		mode = ""
	}
	res := &Result{
		Source:        s.Meta.Source,
		Mode:          mode,
		Cluster:       opts.Cluster,
		Context:       s.Meta.Context,
		ServerVersion: s.Meta.ServerVersion,
		CollectedAt:   s.Meta.CollectedAt,
		Findings:      []Finding{},
		Pools:         PoolsHealth(ix),
	}
	// Every kind that could not be read counts for the checks that read
	// it, cluster-scoped ones included (a forbidden ClusterRoleBinding
	// list leaves the RBAC checks blind), though only namespaced ones
	// make a namespace's contents unknown.
	unlisted := map[string]bool{}
	var unlistedNamespaced []string
	for _, k := range s.Meta.Kinds {
		if k.Listed() {
			continue
		}
		res.Unlisted = append(res.Unlisted, k.GroupResource())
		unlisted[k.GroupResource()] = true
		if k.Namespaced {
			unlistedNamespaced = append(unlistedNamespaced, k.GroupResource())
		}
	}
	ignores := ignoreAnnotations(s)
	in := &Input{Index: ix, Config: cfg, Prices: opts.Prices, Mode: cmp.Or(mode, ModeCluster), Cluster: opts.Cluster}
	profile := profileFrom(ctx)
	for _, c := range registry {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("audit interrupted before check %s: %w", c.ID(), err)
		}
		if cfg.disabled(c.ID()) || (len(only) > 0 && !only[c.ID()]) {
			continue
		}
		sev, overridden := cfg.severityOf(c.ID())
		if !overridden {
			sev = c.DefaultSeverity()
		}
		info := CheckInfo{ID: c.ID(), Category: c.Category(), Severity: sev, Description: c.Description(), Status: StatusOK}
		if why := skipReason(c, mode); why != "" {
			info.Status, info.SkipReason = StatusSkipped, why
			res.Skipped++
			res.Checks = append(res.Checks, info)
			continue
		}
		if r, ok := c.(Reader); ok {
			info.Unread = unread(r.Reads(), unlistedNamespaced, unlisted)
		}
		if len(info.Unread) > 0 {
			info.Status = StatusIncomplete
			res.Incomplete++
		}
		start := time.Now()
		fs, err := runCheck(ctx, c, in)
		if err != nil {
			return nil, err
		}
		elapsed := time.Since(start)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("audit interrupted during check %s: %w", c.ID(), err)
		}
		for _, f := range fs {
			f.CheckID = c.ID()
			f.Category = c.Category()
			if mode == ModeManifests {
				asFileEdit(&f, ix, opts.Cluster != "")
			}
			if overridden {
				f.Severity = sev
			}
			if e, ok := cfg.exemption(f); ok {
				by := "exemption in purser.yaml"
				if e.Reason != "" {
					by += ": " + e.Reason
				}
				res.Suppressed = append(res.Suppressed, Suppressed{Finding: f, By: by})
				continue
			}
			if by, ok := ignores.covers(f); ok {
				res.Suppressed = append(res.Suppressed, Suppressed{Finding: f, By: by})
				continue
			}
			res.Findings = append(res.Findings, f)
			info.Findings++
		}
		profile.add(CheckTime{ID: c.ID(), Elapsed: elapsed, Findings: info.Findings})
		res.Checks = append(res.Checks, info)
	}
	SortFindings(res.Findings)
	sort.SliceStable(res.Suppressed, func(i, j int) bool { return less(res.Suppressed[i].Finding, res.Suppressed[j].Finding) })
	return res, nil
}

// unread returns the kinds among reads that were not listed; when reads
// names every namespaced kind, that is all of unlistedNamespaced.
func unread(reads, unlistedNamespaced []string, isUnlisted map[string]bool) []string {
	var out []string
	for _, k := range reads {
		if k == EveryNamespacedKind {
			return append([]string(nil), unlistedNamespaced...)
		}
		if isUnlisted[k] {
			out = append(out, k)
		}
	}
	return out
}

// runCheck turns a check's panic into an error naming the check, so that
// one faulty check on an unusual object says which one it was.
func runCheck(ctx context.Context, c Check, in *Input) (fs []Finding, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("check %s failed: %v", c.ID(), r)
		}
	}()
	return c.Run(ctx, in), nil
}

// SortFindings orders findings most serious first, then by check and object.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool { return less(fs[i], fs[j]) })
}

func less(a, b Finding) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if a.CheckID != b.CheckID {
		return a.CheckID < b.CheckID
	}
	return a.Object.String() < b.Object.String()
}

// ignoreSet maps objects (and namespaces) to the check IDs their
// purser.dev/ignore annotation names.
type ignoreSet map[snapshot.Ref][]string

func (is ignoreSet) covers(f Finding) (string, bool) {
	match := func(r snapshot.Ref) bool {
		for _, id := range is[r] {
			if id == "*" || id == f.CheckID {
				return true
			}
		}
		return false
	}
	if match(f.Object) {
		return "annotation " + IgnoreAnnotation + " on " + f.Object.String(), true
	}
	ns := f.Object.Namespace
	if f.Object.Kind == "Namespace" {
		ns = f.Object.Name
	}
	if ns != "" {
		nsRef := snapshot.Ref{Kind: "Namespace", Name: ns}
		if nsRef != f.Object && match(nsRef) {
			return "annotation " + IgnoreAnnotation + " on namespace " + ns, true
		}
	}
	return "", false
}

func ignoreAnnotations(s *snapshot.Snapshot) ignoreSet {
	out := ignoreSet{}
	add := func(kind string, o metav1.Object) {
		v, ok := o.GetAnnotations()[IgnoreAnnotation]
		if !ok {
			return
		}
		var ids []string
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
		out[snapshot.Ref{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}] = ids
	}
	s.EachObject(add)
	return out
}

// InNamespace keeps the findings about objects of namespace ns, and about
// the namespace itself, as kubectl's -n narrows what it shows, and records
// ns as the result's scope so that every report states it. Checks still
// ran over the whole cluster: a Service's endpoints and a node's free room
// are judged with everything else in view. Each check's count of findings
// is the count kept, so that it agrees with the findings listed.
func (r *Result) InNamespace(ns string) {
	r.Scope = ns
	keep := func(ref snapshot.Ref) bool {
		return ref.Namespace == ns || (ref.Kind == "Namespace" && ref.Name == ns)
	}
	findings := r.Findings[:0]
	for _, f := range r.Findings {
		if keep(f.Object) {
			findings = append(findings, f)
		}
	}
	r.Findings = findings
	suppressed := r.Suppressed[:0]
	for _, s := range r.Suppressed {
		if keep(s.Finding.Object) {
			suppressed = append(suppressed, s)
		}
	}
	r.Suppressed = suppressed
	kept := map[string]int{}
	for _, f := range r.Findings {
		kept[f.CheckID]++
	}
	for i := range r.Checks {
		r.Checks[i].Findings = kept[r.Checks[i].ID]
	}
}
