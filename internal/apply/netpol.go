package apply

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/snapshot"
)

// namespaceNameLabel is the label the API server sets on every namespace:
// the only label a policy can rely on to name one.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// policyRewrite is what the run does to the namespace selectors of a
// NetworkPolicy it moves.
type policyRewrite struct {
	// Rewritten are the source namespaces the policy's selectors named,
	// each as "source → target", sorted.
	Rewritten []string
	// Labelled are the selectors on other labels that may select a source
	// namespace: they stay as they are, which is right only when the
	// target carries the labels the source had. The run checks that
	// against the cluster before it writes anything.
	Labelled []labelledSelector
	// Unsafe says why a selector cannot be rewritten (a NotIn that
	// excludes a source: the target cannot be excluded in its place
	// without excluding what it held before).
	Unsafe []string
}

// labelledSelector is one namespace selector on labels other than the
// namespace's name, as the plan wrote it and as the run writes it.
type labelledSelector struct {
	// At is the peer's path in the policy: spec.ingress[0].from[1].
	At        string
	Before    *metav1.LabelSelector
	Rewritten *metav1.LabelSelector
}

// namespaceMoves maps every source namespace of p to its target.
func namespaceMoves(p *plan.Plan) map[string]string {
	out := map[string]string{}
	for _, t := range p.Spec.Targets {
		for _, src := range t.Sources {
			if src != t.Name {
				out[src] = t.Name
			}
		}
		for _, mv := range t.Moves {
			if mv.From != t.Name {
				out[mv.From] = t.Name
			}
		}
	}
	return out
}

// rewritePolicy rewrites the namespace selectors of a moved NetworkPolicy
// that name a source namespace: a kubernetes.io/metadata.name of a source,
// in matchLabels or in an In list, becomes its target (once, when several
// sources merge into one target). The manifest returned is a copy; m is
// left as the plan holds it.
func rewritePolicy(m *unstructured.Unstructured, moves map[string]string) (*unstructured.Unstructured, policyRewrite, error) {
	var np networkingv1.NetworkPolicy
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m.Object, &np); err != nil {
		return nil, policyRewrite{}, fmt.Errorf("NetworkPolicy %s/%s: %w", m.GetNamespace(), m.GetName(), err)
	}
	out := m.DeepCopy()
	var rw policyRewrite
	rewritten := map[string]bool{}
	sides := []struct {
		field, peers string
		n            int
		get          func(i int) []networkingv1.NetworkPolicyPeer
	}{
		{"ingress", "from", len(np.Spec.Ingress), func(i int) []networkingv1.NetworkPolicyPeer { return np.Spec.Ingress[i].From }},
		{"egress", "to", len(np.Spec.Egress), func(i int) []networkingv1.NetworkPolicyPeer { return np.Spec.Egress[i].To }},
	}
	for _, side := range sides {
		for i := 0; i < side.n; i++ {
			peers := side.get(i)
			var next []networkingv1.NetworkPolicyPeer
			changed := false
			for j, peer := range peers {
				at := fmt.Sprintf("spec.%s[%d].%s[%d]", side.field, i, side.peers, j)
				if peer.NamespaceSelector != nil {
					sel, named, other, unsafe := rewriteSelector(peer.NamespaceSelector, moves)
					if unsafe != "" {
						rw.Unsafe = append(rw.Unsafe, at+": "+unsafe)
					}
					for _, n := range named {
						rewritten[n] = true
					}
					if other {
						rw.Labelled = append(rw.Labelled, labelledSelector{At: at, Before: peer.NamespaceSelector, Rewritten: sel})
					}
					if len(named) > 0 {
						peer = *peer.DeepCopy()
						peer.NamespaceSelector = sel
						changed = true
					}
				}
				// Two sources named by two peers of one rule, merged into
				// one target, are one peer.
				if !slices.ContainsFunc(next, func(p networkingv1.NetworkPolicyPeer) bool { return equalJSON(p, peer) }) {
					next = append(next, peer)
				} else {
					changed = true
				}
			}
			if !changed {
				continue
			}
			list := make([]any, 0, len(next))
			for _, p := range next {
				u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&p)
				if err != nil {
					return nil, policyRewrite{}, fmt.Errorf("NetworkPolicy %s/%s: %w", m.GetNamespace(), m.GetName(), err)
				}
				list = append(list, u)
			}
			rules, _, err := unstructured.NestedSlice(out.Object, "spec", side.field)
			if err != nil || i >= len(rules) {
				return nil, policyRewrite{}, fmt.Errorf("NetworkPolicy %s/%s: spec.%s: %v", m.GetNamespace(), m.GetName(), side.field, err)
			}
			rule, _ := rules[i].(map[string]any)
			if rule == nil {
				return nil, policyRewrite{}, fmt.Errorf("NetworkPolicy %s/%s: spec.%s[%d] is not a rule", m.GetNamespace(), m.GetName(), side.field, i)
			}
			rule[side.peers] = list
			if err := unstructured.SetNestedSlice(out.Object, rules, "spec", side.field); err != nil {
				return nil, policyRewrite{}, fmt.Errorf("NetworkPolicy %s/%s: %w", m.GetNamespace(), m.GetName(), err)
			}
		}
	}
	for src := range rewritten {
		rw.Rewritten = append(rw.Rewritten, src+" → "+moves[src])
	}
	sort.Strings(rw.Rewritten)
	return out, rw, nil
}

// rewriteSelector rewrites one namespace selector: the sources it names
// by kubernetes.io/metadata.name become their targets. It returns the
// selector to write, the sources it named, whether it also selects by
// other labels (or by the name with Exists, which any namespace has), and
// why it cannot be rewritten safely, if it cannot.
func rewriteSelector(ls *metav1.LabelSelector, moves map[string]string) (*metav1.LabelSelector, []string, bool, string) {
	out := ls.DeepCopy()
	var named []string
	other := false
	unsafe := ""
	for k, v := range out.MatchLabels {
		if k != namespaceNameLabel {
			other = true
			continue
		}
		if t, ok := moves[v]; ok {
			out.MatchLabels[k] = t
			named = append(named, v)
		}
	}
	for i, e := range out.MatchExpressions {
		if e.Key != namespaceNameLabel {
			other = true
			continue
		}
		switch e.Operator {
		case metav1.LabelSelectorOpIn:
			var values []string
			for _, v := range e.Values {
				if t, ok := moves[v]; ok {
					named = append(named, v)
					v = t
				}
				if !slices.Contains(values, v) {
					values = append(values, v)
				}
			}
			out.MatchExpressions[i].Values = values
		case metav1.LabelSelectorOpNotIn:
			for _, v := range e.Values {
				if t, ok := moves[v]; ok {
					unsafe = fmt.Sprintf("its namespace selector excludes %s, which merges into %s: excluding %s instead would also exclude what it held before; change the rule by hand", v, t, t)
				}
			}
		}
	}
	sort.Strings(named)
	return out, slices.Compact(named), other, unsafe
}

// policyRewrites are the rewrites of the moved NetworkPolicies of steps,
// by "namespace/name" of the source policy.
func policyRewrites(steps []Step) map[string]*Step {
	out := map[string]*Step{}
	for i := range steps {
		s := &steps[i]
		if s.policy != nil && s.movedFrom != "" {
			out[s.movedFrom] = s
		}
	}
	return out
}

// resolvedByRun reports whether the run rewrites every NetworkPolicy an
// unresolved namespace-selector risk of the plan names: each is moved, its
// selectors that named a source rewritten, none unsafe. What selects by
// other labels is checked against the cluster (labelBlockers).
func resolvedByRun(r plan.Issue, rewrites map[string]*Step) bool {
	if r.Kind != plan.IssueNetworkPolicy || !strings.HasPrefix(r.Message, "its namespace selector matches ") || len(r.Objects) == 0 {
		return false
	}
	for _, o := range r.Objects {
		name, ok := strings.CutPrefix(o, "NetworkPolicy/")
		if !ok {
			return false
		}
		s := rewrites[name]
		if s == nil || len(s.policy.Unsafe) > 0 {
			return false
		}
	}
	return true
}

// labelBlockers checks, against the namespaces as the cluster holds them,
// the namespace selectors of moved NetworkPolicies that select by labels
// other than the name: each must select the target of every source it
// selected, or the moved policy would stop matching the moved pods. A
// target the run creates carries the labels its plan manifest gives it.
// A source gone from the cluster (a resumed run deleted it) is passed:
// the run that began checked it.
func labelBlockers(steps []Step, s *snapshot.Snapshot) []string {
	live := map[string]labels.Set{}
	for _, n := range s.Namespaces {
		l := labels.Set{namespaceNameLabel: n.Name}
		for k, v := range n.Labels {
			l[k] = v
		}
		live[n.Name] = l
	}
	planned := map[string]labels.Set{}
	moves := map[string]string{}
	for _, st := range steps {
		if st.Change == ChangeCreate && st.Object.Kind == "Namespace" && st.manifest != nil {
			l := labels.Set{namespaceNameLabel: st.Object.Name}
			for k, v := range st.manifest.GetLabels() {
				l[k] = v
			}
			planned[st.Object.Name] = l
		}
		if st.movedFrom != "" {
			ns, _, _ := strings.Cut(st.movedFrom, "/")
			moves[ns] = st.Object.Namespace
		}
		if st.From != nil {
			moves[st.From.Namespace] = st.Object.Namespace
		}
	}
	targetLabels := func(t string) labels.Set {
		if l, ok := live[t]; ok {
			return l
		}
		return planned[t]
	}
	var out []string
	for _, st := range steps {
		if st.policy == nil {
			continue
		}
		for _, ls := range st.policy.Labelled {
			before, err1 := metav1.LabelSelectorAsSelector(ls.Before)
			after, err2 := metav1.LabelSelectorAsSelector(ls.Rewritten)
			if err1 != nil || err2 != nil {
				out = append(out, fmt.Sprintf("NetworkPolicy %s (%s): its namespace selector is not valid: %v", st.movedFrom, ls.At, errors.Join(err1, err2)))
				continue
			}
			for _, src := range slices.Sorted(maps.Keys(moves)) {
				l, ok := live[src]
				if !ok || !before.Matches(l) {
					continue
				}
				t := moves[src]
				if tl := targetLabels(t); tl == nil || !after.Matches(tl) {
					out = append(out, fmt.Sprintf("NetworkPolicy %s (%s): its namespace selector %s selects source %s by its labels, but not target %s, which does not carry them: label %s as %s is (kubectl label namespace %s ...), or accept with --accept-reference",
						st.movedFrom, ls.At, after, src, t, t, src, t))
				}
			}
		}
	}
	return out
}
