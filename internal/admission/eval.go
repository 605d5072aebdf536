package admission

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/purserhq/purser/internal/snapshot"
)

// Problem is one lint error of one rule.
type Problem struct {
	Source  Source `json:"-"`
	File    string `json:"file"`
	Object  string `json:"object"`
	Message string `json:"message"`
}

// Lint checks every template and policy of the set as Gatekeeper and the
// API server would take them, and that every constraint has its template
// and every binding its policy.
func Lint(s *Set) []Problem {
	var out []Problem
	add := func(src Source, obj, msg string) {
		out = append(out, Problem{Source: src, File: src.String(), Object: obj, Message: msg})
	}
	kinds := map[string]bool{}
	for _, t := range s.Templates {
		ct, problems := lintTemplate(t.Obj)
		for _, p := range problems {
			add(t.Source, "ConstraintTemplate/"+t.Obj.GetName(), p)
		}
		if ct != nil {
			kinds[ct.kind] = true
		}
	}
	for _, c := range s.Constraints {
		if !kinds[c.Obj.GetKind()] {
			add(c.Source, c.Obj.GetKind()+"/"+c.Obj.GetName(), fmt.Sprintf("no valid ConstraintTemplate of kind %s among the files: Gatekeeper never creates the kind, so kubectl apply refuses the constraint", c.Obj.GetKind()))
		}
	}
	policies := map[string]bool{}
	for _, p := range s.Policies {
		for _, msg := range lintPolicy(p.Obj) {
			add(p.Source, "ValidatingAdmissionPolicy/"+p.Obj.Name, msg)
		}
		policies[p.Obj.Name] = true
	}
	if len(s.Rego) > 0 {
		_, problems := compileRego(s.Rego)
		out = append(out, problems...)
	}
	for _, b := range s.Bindings {
		if !policies[b.Obj.Spec.PolicyName] {
			add(b.Source, "ValidatingAdmissionPolicyBinding/"+b.Obj.Name, fmt.Sprintf("policy %q is not among the files: the binding enforces nothing", b.Obj.Spec.PolicyName))
		}
		if len(b.Obj.Spec.ValidationActions) == 0 {
			add(b.Source, "ValidatingAdmissionPolicyBinding/"+b.Obj.Name, "spec.validationActions: Required value: at least one of Deny, Warn, Audit")
		}
	}
	return out
}

// Violation is one rule an object breaks.
type Violation struct {
	// Engine is gatekeeper, vap or rego.
	Engine string `json:"engine"`
	// Rule is the constraint (Kind/name) or the policy (and its binding).
	Rule string `json:"rule"`
	// RuleID names the rule stably: engine, then constraint, policy and
	// binding, or Rego package.
	RuleID string `json:"ruleId"`
	// Severity is error for a rule that denies, warning for one that
	// warns, info for a dry run.
	Severity  string `json:"severity"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Message is what the admission controller would answer.
	Message string `json:"message"`
}

// Result is the outcome of purser policy test.
type Result struct {
	// Reviewed counts the objects reviewed.
	Reviewed   int         `json:"reviewed"`
	Rules      int         `json:"rules"`
	Violations []Violation `json:"violations"`
	// RuleInfo describes every rule evaluated, with or without violations.
	RuleInfo []RuleInfo `json:"ruleInfo"`
	// Skipped says which rules were not evaluated, and why.
	Skipped []string `json:"skipped,omitempty"`
}

// RuleInfo describes one rule evaluated.
type RuleInfo struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Severity    string `json:"severity"`
}

// gatekeeperSeverity maps a constraint's enforcementAction.
func gatekeeperSeverity(action string) string {
	switch action {
	case "warn":
		return "warning"
	case "dryrun":
		return "info"
	}
	return "error"
}

// reviewKind is a kind of the snapshot the rules can review.
type reviewKind struct {
	gvr  schema.GroupVersionResource
	kind string
	list func(s *snapshot.Snapshot) []runtime.Object
}

func listOf[T any, PT interface {
	*T
	runtime.Object
}](items []T) []runtime.Object {
	out := make([]runtime.Object, len(items))
	for i := range items {
		out[i] = PT(&items[i])
	}
	return out
}

func reviewKinds() []reviewKind {
	return []reviewKind{
		{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "Deployment", func(s *snapshot.Snapshot) []runtime.Object { return listOf(s.Deployments) }},
		{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, "StatefulSet", func(s *snapshot.Snapshot) []runtime.Object { return listOf(s.StatefulSets) }},
		{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}, "DaemonSet", func(s *snapshot.Snapshot) []runtime.Object { return listOf(s.DaemonSets) }},
		{schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}, "Job", func(s *snapshot.Snapshot) []runtime.Object { return listOf(s.Jobs) }},
		{schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}, "CronJob", func(s *snapshot.Snapshot) []runtime.Object { return listOf(s.CronJobs) }},
		{schema.GroupVersionResource{Version: "v1", Resource: "pods"}, "Pod", func(s *snapshot.Snapshot) []runtime.Object { return listOf(s.Pods) }},
		{schema.GroupVersionResource{Version: "v1", Resource: "services"}, "Service", func(s *snapshot.Snapshot) []runtime.Object { return listOf(s.Services) }},
		{schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, "Namespace", func(s *snapshot.Snapshot) []runtime.Object { return listOf(s.Namespaces) }},
	}
}

// review is one object under review.
type review struct {
	gvr schema.GroupVersionResource
	obj *unstructured.Unstructured
}

func reviews(s *snapshot.Snapshot) ([]review, error) {
	var out []review
	for _, k := range reviewKinds() {
		for _, o := range k.list(s) {
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k.kind, err)
			}
			u := &unstructured.Unstructured{Object: m}
			u.SetAPIVersion(k.gvr.GroupVersion().String())
			u.SetKind(k.kind)
			// A snapshot keeps what the engines read; the review
			// carries no status, as a request to create it would not.
			delete(u.Object, "status")
			out = append(out, review{gvr: k.gvr, obj: u})
		}
	}
	return out, nil
}

// Test evaluates the set's constraints (through their templates) and
// bound policies against the snapshot's objects, as if each were created
// now. Templates and policies that do not lint are an error: Gatekeeper
// would not enforce them.
func Test(ctx context.Context, set *Set, s *snapshot.Snapshot) (*Result, error) {
	if problems := Lint(set); len(problems) > 0 {
		p := problems[0]
		return nil, fmt.Errorf("%s: %s: %s (purser policy lint lists every problem)", p.File, p.Object, p.Message)
	}
	objs, err := reviews(s)
	if err != nil {
		return nil, err
	}
	nss := map[string]*corev1.Namespace{}
	for i := range s.Namespaces {
		nss[s.Namespaces[i].Name] = &s.Namespaces[i]
	}
	res := &Result{Reviewed: len(objs), Rules: len(set.Constraints) + len(set.Bindings) + len(set.Rego)}
	if len(set.Rego) > 0 {
		policies, _ := compileRego(set.Rego)
		for pkg, src := range policies.packages {
			res.RuleInfo = append(res.RuleInfo, RuleInfo{ID: "rego:" + pkg, Severity: "error",
				Description: fmt.Sprintf("Rego policy %s (%s): its deny and violation rules", pkg, src.File)})
		}
		for _, r := range objs {
			found, err := policies.violations(ctx, r.obj)
			if err != nil {
				return nil, fmt.Errorf("%s %s/%s: %w", r.obj.GetKind(), r.obj.GetNamespace(), r.obj.GetName(), err)
			}
			for pkg, msgs := range found {
				for _, m := range msgs {
					res.Violations = append(res.Violations, Violation{Engine: "rego", Rule: pkg + " (" + policies.packages[pkg].File + ")",
						RuleID: "rego:" + pkg, Severity: "error",
						Kind: r.obj.GetKind(), Namespace: r.obj.GetNamespace(), Name: r.obj.GetName(), Message: m})
				}
			}
		}
	}
	evals := map[string]*gatekeeperEvaluator{}
	for _, t := range set.Templates {
		ct, _ := lintTemplate(t.Obj)
		ev, err := prepare(ctx, ct)
		if err != nil {
			return nil, err
		}
		evals[ct.kind] = ev
	}
	for _, c := range set.Constraints {
		ev := evals[c.Obj.GetKind()]
		params, _, _ := unstructured.NestedMap(c.Obj.Object, "spec", "parameters")
		action, _, _ := unstructured.NestedString(c.Obj.Object, "spec", "enforcementAction")
		id := "gatekeeper:" + c.Obj.GetKind() + "/" + c.Obj.GetName()
		sev := gatekeeperSeverity(action)
		res.RuleInfo = append(res.RuleInfo, RuleInfo{ID: id, Severity: sev,
			Description: fmt.Sprintf("Gatekeeper constraint %s %s (template %s)", c.Obj.GetKind(), c.Obj.GetName(), strings.ToLower(c.Obj.GetKind()))})
		for _, r := range objs {
			if !constraintMatches(c.Obj, r.obj, nss) {
				continue
			}
			gvk := r.obj.GroupVersionKind()
			rev := map[string]any{
				"kind":      map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind},
				"name":      r.obj.GetName(),
				"namespace": r.obj.GetNamespace(),
				"operation": "CREATE",
				"object":    r.obj.Object,
				"userInfo":  map[string]any{"username": "purser"},
			}
			msgs, err := ev.violations(ctx, rev, params)
			if err != nil {
				return nil, fmt.Errorf("constraint %s/%s on %s %s/%s: %w", c.Obj.GetKind(), c.Obj.GetName(), gvk.Kind, r.obj.GetNamespace(), r.obj.GetName(), err)
			}
			for _, m := range msgs {
				res.Violations = append(res.Violations, Violation{Engine: "gatekeeper", Rule: c.Obj.GetKind() + "/" + c.Obj.GetName(), RuleID: id, Severity: sev,
					Kind: gvk.Kind, Namespace: r.obj.GetNamespace(), Name: r.obj.GetName(), Message: m})
			}
		}
	}
	for _, b := range set.Bindings {
		var p *admissionv1.ValidatingAdmissionPolicy
		for _, cand := range set.Policies {
			if cand.Obj.Name == b.Obj.Spec.PolicyName {
				p = cand.Obj
			}
		}
		if !slices.Contains(b.Obj.Spec.ValidationActions, admissionv1.Deny) && !slices.Contains(b.Obj.Spec.ValidationActions, admissionv1.Warn) {
			res.Skipped = append(res.Skipped, fmt.Sprintf("binding %s of policy %s: its actions %v neither deny nor warn", b.Obj.Name, p.Name, b.Obj.Spec.ValidationActions))
			continue
		}
		if p.Spec.ParamKind != nil {
			// Its expressions read params, which live in the cluster's
			// objects of that kind: evaluated without them, every object
			// would fail on the missing variable.
			res.Skipped = append(res.Skipped, fmt.Sprintf("policy %s: it reads parameters (paramKind %s), which purser policy test does not load", p.Name, p.Spec.ParamKind.Kind))
			continue
		}
		id := "vap:" + p.Name + "/" + b.Obj.Name
		sev := "warning"
		if slices.Contains(b.Obj.Spec.ValidationActions, admissionv1.Deny) {
			sev = "error"
		}
		res.RuleInfo = append(res.RuleInfo, RuleInfo{ID: id, Severity: sev,
			Description: fmt.Sprintf("ValidatingAdmissionPolicy %s with binding %s (%v)", p.Name, b.Obj.Name, b.Obj.Spec.ValidationActions)})
		ev, err := newPolicyEvaluator(p)
		if err != nil {
			return nil, err
		}
		for _, r := range objs {
			ns := nss[r.obj.GetNamespace()]
			if !resourcesMatch(p.Spec.MatchConstraints, r, ns) || !resourcesMatch(b.Obj.Spec.MatchResources, r, ns) {
				continue
			}
			for _, m := range ev.denials(ctx, r.obj, r.gvr, ns) {
				res.Violations = append(res.Violations, Violation{Engine: "vap", Rule: p.Name + " (binding " + b.Obj.Name + ")", RuleID: id, Severity: sev,
					Kind: r.obj.GetKind(), Namespace: r.obj.GetNamespace(), Name: r.obj.GetName(), Message: DeniedMessage(p.Name, b.Obj.Name, m)})
			}
		}
	}
	slices.SortFunc(res.RuleInfo, func(a, b RuleInfo) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortStableFunc(res.Violations, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Engine, b.Engine), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message))
	})
	return res, nil
}

// constraintMatches applies a constraint's match: kinds, namespaces,
// excludedNamespaces, labelSelector and namespaceSelector.
func constraintMatches(c, obj *unstructured.Unstructured, nss map[string]*corev1.Namespace) bool {
	match, _, _ := unstructured.NestedMap(c.Object, "spec", "match")
	gvk := obj.GroupVersionKind()
	if kinds, ok := match["kinds"].([]any); ok && len(kinds) > 0 {
		found := false
		for _, k := range kinds {
			km, _ := k.(map[string]any)
			groups, _, _ := unstructured.NestedStringSlice(km, "apiGroups")
			names, _, _ := unstructured.NestedStringSlice(km, "kinds")
			if (slices.Contains(groups, "*") || slices.Contains(groups, gvk.Group)) && (slices.Contains(names, "*") || slices.Contains(names, gvk.Kind)) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	ns := obj.GetNamespace()
	if gvk.Kind == "Namespace" {
		ns = obj.GetName()
	}
	if list, _, _ := unstructured.NestedStringSlice(match, "namespaces"); len(list) > 0 && !slices.Contains(list, ns) {
		return false
	}
	if list, _, _ := unstructured.NestedStringSlice(match, "excludedNamespaces"); slices.Contains(list, ns) {
		return false
	}
	if !selectorMatches(match["labelSelector"], obj.GetLabels()) {
		return false
	}
	if sel, ok := match["namespaceSelector"]; ok && ns != "" {
		var l map[string]string
		if n := nss[ns]; n != nil {
			l = n.Labels
		}
		if !selectorMatches(sel, l) {
			return false
		}
	}
	return true
}

func selectorMatches(raw any, l map[string]string) bool {
	m, ok := raw.(map[string]any)
	if !ok {
		return true
	}
	ls := &metav1.LabelSelector{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, ls); err != nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	return err == nil && sel.Matches(labels.Set(l))
}

// resourcesMatch applies a policy's or binding's matchResources: the
// resource rules (for CREATE), namespaceSelector, objectSelector and the
// excluded rules.
func resourcesMatch(m *admissionv1.MatchResources, r review, ns *corev1.Namespace) bool {
	if m == nil {
		return true
	}
	ruleMatch := func(rules []admissionv1.NamedRuleWithOperations) bool {
		for _, nr := range rules {
			if len(nr.ResourceNames) > 0 && !slices.Contains(nr.ResourceNames, r.obj.GetName()) {
				continue
			}
			ops := nr.Operations
			if (slices.Contains(ops, admissionv1.Create) || slices.Contains(ops, admissionv1.OperationAll)) &&
				(slices.Contains(nr.APIGroups, "*") || slices.Contains(nr.APIGroups, r.gvr.Group)) &&
				(slices.Contains(nr.APIVersions, "*") || slices.Contains(nr.APIVersions, r.gvr.Version)) &&
				(slices.Contains(nr.Resources, "*") || slices.Contains(nr.Resources, r.gvr.Resource)) {
				return true
			}
		}
		return false
	}
	if len(m.ResourceRules) > 0 && !ruleMatch(m.ResourceRules) {
		return false
	}
	if ruleMatch(m.ExcludeResourceRules) {
		return false
	}
	if m.ObjectSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(m.ObjectSelector)
		if err != nil || !sel.Matches(labels.Set(r.obj.GetLabels())) {
			return false
		}
	}
	if m.NamespaceSelector != nil {
		var l map[string]string
		switch {
		case r.obj.GetKind() == "Namespace":
			l = r.obj.GetLabels()
		case ns != nil:
			l = ns.Labels
		case r.obj.GetNamespace() == "":
			return true // cluster-scoped objects pass namespace selectors
		}
		// The API server labels every namespace with its name.
		merged := map[string]string{}
		for k, v := range l {
			merged[k] = v
		}
		name := r.obj.GetNamespace()
		if r.obj.GetKind() == "Namespace" {
			name = r.obj.GetName()
		}
		merged["kubernetes.io/metadata.name"] = name
		sel, err := metav1.LabelSelectorAsSelector(m.NamespaceSelector)
		if err != nil || !sel.Matches(labels.Set(merged)) {
			return false
		}
	}
	return true
}
