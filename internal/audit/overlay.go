package audit

import "github.com/purserhq/purser/internal/snapshot"

// KeepLanding narrows the audit of manifests laid over a cluster to what
// the manifests change: the findings about the manifests' own objects
// (fromSet), and the findings about the cluster's objects that the audit
// of the cluster alone (before) does not have, which the manifests would
// break. A cluster's existing problems are not the pull request's.
func (r *Result) KeepLanding(fromSet []snapshot.Ref, before *Result) {
	inSet := make(map[snapshot.Ref]bool, len(fromSet))
	for _, ref := range fromSet {
		inSet[ref] = true
	}
	type key struct {
		check string
		obj   snapshot.Ref
	}
	existing := map[key]bool{}
	if before != nil {
		for _, f := range before.Findings {
			existing[key{f.CheckID, f.Object}] = true
		}
		for _, s := range before.Suppressed {
			existing[key{s.Finding.CheckID, s.Finding.Object}] = true
		}
	}
	keep := func(f Finding) bool { return inSet[f.Object] || !existing[key{f.CheckID, f.Object}] }
	kept := r.Findings[:0]
	counts := map[string]int{}
	for _, f := range r.Findings {
		if keep(f) {
			kept = append(kept, f)
			counts[f.CheckID]++
		}
	}
	r.Findings = kept
	var suppressed []Suppressed
	for _, s := range r.Suppressed {
		if keep(s.Finding) {
			suppressed = append(suppressed, s)
		}
	}
	r.Suppressed = suppressed
	for i := range r.Checks {
		r.Checks[i].Findings = counts[r.Checks[i].ID]
	}
}
