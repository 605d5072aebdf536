package plan

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/manifest"
	"github.com/purserhq/purser/internal/snapshot"
)

// Input is what a plan is built from.
type Input struct {
	Classify classify.Rules
	Config   Config
	Strategy string
	Prices   Prices
	// SnapshotDigest is snapshot.Digest of the snapshot, which the plan
	// records as the identity of what it was built from; empty for none.
	SnapshotDigest string
}

// OriginLabel is added to the pod templates and selectors of objects
// whose selectors would, once merged into one namespace, match the pods
// of another source: a selector used to be scoped by its namespace, and
// the label keeps that scope.
const OriginLabel = "purser.dev/origin-namespace"

// dest is where an object lands.
type dest struct{ ns, name string }

type objKey struct{ kind, ns, name string }

// builder carries the state of one Build.
type builder struct {
	in      Input
	ix      *snapshot.Index
	objs    map[string][]*object
	lay     *layout
	moved   map[objKey]dest // every object that moves, by its current place
	targets map[string]*Target
	// touched are the preconditions, by object.
	touched map[objKey]Precondition
	pvs     map[string]*corev1.PersistentVolume
}

// Build builds a plan. Config errors a snapshot reveals (a pattern that
// matches nothing) are *yamldoc.FieldError, for the caller to locate.
func Build(ctx context.Context, ix *snapshot.Index, in Input) (*Plan, error) {
	if ix == nil {
		return nil, fmt.Errorf("building plan: no snapshot")
	}
	s := ix.S
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if in.SnapshotDigest != "" && !validHash(in.SnapshotDigest) {
		return nil, fmt.Errorf("building plan: snapshot digest %q is not %s followed by 64 hex digits", in.SnapshotDigest, hashPrefix)
	}
	b := &builder{in: in, ix: ix, moved: map[objKey]dest{}, targets: map[string]*Target{},
		touched: map[objKey]Precondition{}, pvs: map[string]*corev1.PersistentVolume{}}
	for i := range s.PVs {
		b.pvs[s.PVs[i].Name] = &s.PVs[i]
	}
	b.objs = movable(s)
	lay, err := group(b.ix, in.Classify, in.Config, in.Strategy)
	if err != nil {
		return nil, err
	}
	b.lay = lay

	names := make([]string, 0, len(lay.targets))
	for t := range lay.targets {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		b.resolveNames(t)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, t := range names {
		b.rewrite(t)
	}
	b.scanDNS()
	b.scanClusterRefs()
	for _, t := range names {
		b.checkTarget(t)
		b.steps(t)
		if err := b.cleanManifests(t); err != nil {
			return nil, err
		}
	}

	// Everything recorded comes from the snapshot, never from the clock or
	// map order, so that the same snapshot and config give the same file.
	meta := s.Meta
	p := &Plan{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Strategy: in.Strategy, Source: meta.Source, Context: meta.Context,
		CollectedAt: meta.CollectedAt.UTC(), KubernetesVersion: meta.ServerVersion, SnapshotDigest: in.SnapshotDigest}}
	for _, t := range names {
		tg := b.targets[t]
		p.Spec.Targets = append(p.Spec.Targets, *tg)
		b.touchNamespaces(tg)
	}
	p.Spec.Deletions = lay.deletions
	for _, d := range lay.deletions {
		b.touchNamespace(d.Namespace, ActionDelete)
	}
	p.Spec.Preconditions = b.preconditions()
	p.Spec.Untouched = append([]string{}, lay.untouched...)
	p.Spec.Notes = lay.notes
	if len(lay.targets) == 0 && len(lay.untouched) > 0 {
		if hint := noTargetsHint(in.Strategy); hint != "" {
			p.Spec.Notes = append([]string{hint}, p.Spec.Notes...)
		}
	}
	p.Spec.Namespaces = b.count()

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.Spec.Savings, err = b.savings(); err != nil {
		return nil, err
	}
	p.Spec.Naive = naive(in.Config, p.Spec.Namespaces)
	p.Spec.ROI = roi(in.Config, p.Spec.Savings.Plan.Monthly)
	p.Spec.ROIWithRightsizing = roi(in.Config, p.Spec.Savings.Monthly)
	h, err := p.Hash()
	if err != nil {
		return nil, err
	}
	p.Metadata.ContentHash = h
	return p, nil
}

func (b *builder) count() NamespaceCount {
	c := NamespaceCount{Before: len(b.ix.S.Namespaces), Targets: len(b.lay.targets), Untouched: len(b.lay.untouched)}
	for _, n := range b.ix.S.Namespaces {
		if b.in.Config.IsProtected(n.Name) {
			c.Kubernetes++
		}
	}
	c.After = c.Kubernetes + c.Targets + c.Untouched
	c.Deleted = c.Before - c.After
	return c
}

// resolveNames decides the name of every object that lands in target t
// and records name collisions, resolved by rename rules or not.
func (b *builder) resolveNames(t string) {
	tg := &Target{Name: t, Exists: b.ix.Namespace(t) != nil, Sources: b.lay.targets[t], EmptySources: b.lay.folded[t], Moves: []Move{}}
	b.targets[t] = tg
	type entry struct {
		o      *object
		moving bool
	}
	byName := map[string][]entry{} // kind/name -> entries
	if tg.Exists {
		for _, o := range b.objs[t] {
			byName[o.kind+"/"+o.name] = append(byName[o.kind+"/"+o.name], entry{o, false})
			tg.Stays++
		}
	}
	for _, src := range tg.Sources {
		if src == t {
			continue
		}
		for _, o := range b.objs[src] {
			byName[o.kind+"/"+o.name] = append(byName[o.kind+"/"+o.name], entry{o, true})
			b.moved[objKey{o.kind, o.ns, o.name}] = dest{t, o.name}
		}
	}
	keys := make([]string, 0, len(byName))
	for k := range byName {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	taken := map[string]bool{}
	for _, k := range keys {
		if len(byName[k]) == 1 {
			taken[k] = true
		}
	}
	for _, k := range keys {
		es := byName[k]
		if len(es) < 2 {
			continue
		}
		var refs, renamed []string
		unresolved := 0
		// The first entry without a rule keeps the name; objects already
		// in the target always keep theirs.
		keeper := false
		for _, e := range es {
			if !e.moving {
				keeper = true
			}
		}
		for _, e := range es {
			refs = append(refs, e.o.ref())
			if !e.moving {
				continue
			}
			suffix, ok := b.renameSuffix(e.o)
			if !ok {
				if !keeper {
					keeper = true
					continue
				}
				unresolved++
				continue
			}
			nn := e.o.name + suffix
			if taken[e.o.kind+"/"+nn] || len(nn) > 253 {
				unresolved++
				continue
			}
			taken[e.o.kind+"/"+nn] = true
			b.moved[objKey{e.o.kind, e.o.ns, e.o.name}] = dest{t, nn}
			renamed = append(renamed, fmt.Sprintf("%s → %s", e.o.ref(), nn))
		}
		is := Issue{Kind: IssueCollision, Objects: refs,
			Message: fmt.Sprintf("%d objects would be %s %q in %s", len(es), es[0].o.kind, es[0].o.name, t)}
		if unresolved == 0 {
			is.Resolution = "renamed by plan.renames: " + strings.Join(renamed, ", ")
		} else {
			is.Message += "; add a rule to plan.renames for their source namespaces (e.g. suffix: \"-{source}\")"
		}
		tg.Conflicts = append(tg.Conflicts, is)
	}
}

// renameSuffix returns the suffix of the first rename rule that applies.
func (b *builder) renameSuffix(o *object) (string, bool) {
	for _, r := range b.in.Config.Renames {
		if len(r.Kinds) > 0 && !contains(r.Kinds, o.kind) {
			continue
		}
		for _, p := range r.Sources {
			if ok, _ := path.Match(p, o.ns); ok {
				env := b.in.Classify.Environment(b.ix.Namespace(o.ns))
				if env == classify.Unassigned && strings.Contains(r.Suffix, "{environment}") {
					return "", false // no environment to name it by: the collision stays
				}
				return strings.NewReplacer("{source}", o.ns, "{environment}", env).Replace(r.Suffix), true
			}
		}
	}
	return "", false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// destOf returns where a namespaced object ends up: moved, or where it is.
func (b *builder) destOf(kind, ns, name string) dest {
	if d, ok := b.moved[objKey{kind, ns, name}]; ok {
		return d
	}
	return dest{ns, name}
}

// rewrite turns the moving objects of t into the manifests of the target:
// namespace and names changed, references within them followed, and
// selectors scoped by origin where merging would widen them.
func (b *builder) rewrite(t string) {
	tg := b.targets[t]
	var moving []*object
	for _, src := range tg.Sources {
		if src != t {
			moving = append(moving, b.objs[src]...)
		}
	}
	scoped := b.selectorOverlaps(t, moving)
	for _, o := range moving {
		d := b.destOf(o.kind, o.ns, o.name)
		m := Move{Kind: o.kind, From: o.ns, Name: o.name, How: "manifest"}
		if d.name != o.name {
			m.NewName = d.name
		}
		switch o.kind {
		case "Secret":
			m.How = "copy-secret"
		case "PersistentVolumeClaim":
			m.How = "rebind"
			// Its volume is handed over: patched, then bound anew.
			if pvc, ok := o.obj.(*corev1.PersistentVolumeClaim); ok {
				if pv := b.pvs[pvc.Spec.VolumeName]; pv != nil {
					b.touch("v1", "PersistentVolume", "", pv.Name, pv, ActionRebind)
				}
			}
		}
		tg.Moves = append(tg.Moves, m)
		b.touch(o.apiVersion, o.kind, o.ns, o.name, o.obj, ActionMove)

		obj := o.obj
		obj.SetNamespace(t)
		obj.SetName(d.name)
		if spec := podSpec(obj); spec != nil {
			b.rewritePodSpec(o.ns, spec)
		}
		switch x := obj.(type) {
		case *appsv1.StatefulSet:
			x.Spec.ServiceName = b.destOf("Service", o.ns, x.Spec.ServiceName).name
			for i := range x.Spec.VolumeClaimTemplates {
				x.Spec.VolumeClaimTemplates[i].Namespace = ""
			}
		case *networkingv1.Ingress:
			rewriteIngress(x, func(svc string) string { return b.destOf("Service", o.ns, svc).name })
		case *autoscalingv2.HorizontalPodAutoscaler:
			x.Spec.ScaleTargetRef.Name = b.destOf(x.Spec.ScaleTargetRef.Kind, o.ns, x.Spec.ScaleTargetRef.Name).name
		case *rbacv1.RoleBinding:
			if x.RoleRef.Kind == "Role" {
				x.RoleRef.Name = b.destOf("Role", o.ns, x.RoleRef.Name).name
			}
			b.rewriteSubjects(tg, o, x.Subjects)
		}
		if scoped[o.ns] {
			addOrigin(obj, o.ns)
		}
	}
}

// cleanManifests turns the moved objects of t, once every rewrite is done
// (the DNS rewrites come last), into the target's manifests, in apply
// order across sources: what others refer to first.
func (b *builder) cleanManifests(t string) error {
	var out []*unstructured.Unstructured
	for _, src := range b.targets[t].Sources {
		if src == t {
			continue
		}
		for _, o := range b.objs[src] {
			if o.kind == "Secret" {
				continue // values are copied by a command, see steps
			}
			u, err := manifest.Clean(o.obj, o.apiVersion, o.kind)
			if err != nil {
				return fmt.Errorf("building plan: %s: %w", o.ref(), err)
			}
			out = append(out, u)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return kindOrder(out[i].GetKind()) < kindOrder(out[j].GetKind()) })
	b.targets[t].Manifests = append([]*unstructured.Unstructured{namespaceManifest(t)}, out...)
	return nil
}

// namespaceManifest is the Namespace of a target. For a target that exists
// it changes nothing; it is there so that the tree stands alone.
func namespaceManifest(t string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": t}}}
}

// touch records an object the plan acts on, as the snapshot read it.
func (b *builder) touch(apiVersion, kind, ns, name string, o metav1.Object, action string) {
	b.touched[objKey{kind, ns, name}] = Precondition{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name,
		UID: string(o.GetUID()), ResourceVersion: o.GetResourceVersion(), Action: action}
}

func (b *builder) touchNamespace(name, action string) {
	if n := b.ix.Namespace(name); n != nil {
		b.touch("v1", "Namespace", "", name, n, action)
	}
}

// touchNamespaces records a target's namespaces: the target when it is
// reused, and the sources it empties, which are deleted.
func (b *builder) touchNamespaces(tg *Target) {
	if tg.Exists {
		b.touchNamespace(tg.Name, ActionReuse)
	}
	for _, s := range append(append([]string{}, tg.Sources...), tg.EmptySources...) {
		if s != tg.Name {
			b.touchNamespace(s, ActionDelete)
		}
	}
}

func (b *builder) preconditions() []Precondition {
	out := make([]Precondition, 0, len(b.touched))
	for _, p := range b.touched {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, c := out[i], out[j]
		if a.Kind != c.Kind {
			return a.Kind < c.Kind
		}
		if a.Namespace != c.Namespace {
			return a.Namespace < c.Namespace
		}
		return a.Name < c.Name
	})
	return out
}

func (b *builder) rewritePodSpec(ns string, spec *corev1.PodSpec) {
	cm := func(n string) string { return b.destOf("ConfigMap", ns, n).name }
	sec := func(n string) string { return b.destOf("Secret", ns, n).name }
	if spec.ServiceAccountName != "" {
		spec.ServiceAccountName = b.destOf("ServiceAccount", ns, spec.ServiceAccountName).name
	}
	spec.DeprecatedServiceAccount = ""
	spec.NodeName = ""
	for i := range spec.ImagePullSecrets {
		spec.ImagePullSecrets[i].Name = sec(spec.ImagePullSecrets[i].Name)
	}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		switch {
		case v.ConfigMap != nil:
			v.ConfigMap.Name = cm(v.ConfigMap.Name)
		case v.Secret != nil:
			v.Secret.SecretName = sec(v.Secret.SecretName)
		case v.PersistentVolumeClaim != nil:
			v.PersistentVolumeClaim.ClaimName = b.destOf("PersistentVolumeClaim", ns, v.PersistentVolumeClaim.ClaimName).name
		case v.Projected != nil:
			for j := range v.Projected.Sources {
				s := &v.Projected.Sources[j]
				if s.ConfigMap != nil {
					s.ConfigMap.Name = cm(s.ConfigMap.Name)
				}
				if s.Secret != nil {
					s.Secret.Name = sec(s.Secret.Name)
				}
			}
		}
	}
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			c := &cs[i]
			for j := range c.EnvFrom {
				if r := c.EnvFrom[j].ConfigMapRef; r != nil {
					r.Name = cm(r.Name)
				}
				if r := c.EnvFrom[j].SecretRef; r != nil {
					r.Name = sec(r.Name)
				}
			}
			for j := range c.Env {
				if vf := c.Env[j].ValueFrom; vf != nil {
					if vf.ConfigMapKeyRef != nil {
						vf.ConfigMapKeyRef.Name = cm(vf.ConfigMapKeyRef.Name)
					}
					if vf.SecretKeyRef != nil {
						vf.SecretKeyRef.Name = sec(vf.SecretKeyRef.Name)
					}
				}
			}
		}
	}
}

func rewriteIngress(ing *networkingv1.Ingress, svc func(string) string) {
	if be := ing.Spec.DefaultBackend; be != nil && be.Service != nil {
		be.Service.Name = svc(be.Service.Name)
	}
	for i := range ing.Spec.Rules {
		if h := ing.Spec.Rules[i].HTTP; h != nil {
			for j := range h.Paths {
				if s := h.Paths[j].Backend.Service; s != nil {
					s.Name = svc(s.Name)
				}
			}
		}
	}
}

// rewriteSubjects points ServiceAccount subjects at where the accounts
// land, and records each change.
func (b *builder) rewriteSubjects(tg *Target, o *object, subjects []rbacv1.Subject) {
	for i := range subjects {
		s := &subjects[i]
		if s.Kind != rbacv1.ServiceAccountKind {
			continue
		}
		ns := s.Namespace
		if ns == "" {
			ns = o.ns
		}
		d := b.destOf("ServiceAccount", ns, s.Name)
		if d.ns == ns && d.name == s.Name {
			continue
		}
		tg.Risks = append(tg.Risks, Issue{Kind: IssueRoleBinding, Objects: []string{o.ref()},
			Message:    fmt.Sprintf("subject ServiceAccount %s/%s moves to %s/%s", ns, s.Name, d.ns, d.name),
			Resolution: "subject rewritten in the manifests"})
		s.Namespace, s.Name = d.ns, d.name
	}
}

// podTemplate returns the pod template of a workload, or nil.
func podTemplate(o kobj) *corev1.PodTemplateSpec {
	switch x := o.(type) {
	case *appsv1.Deployment:
		return &x.Spec.Template
	case *appsv1.StatefulSet:
		return &x.Spec.Template
	case *appsv1.DaemonSet:
		return &x.Spec.Template
	case *appsv1.ReplicaSet:
		return &x.Spec.Template
	case *batchv1.Job:
		return &x.Spec.Template
	case *batchv1.CronJob:
		return &x.Spec.JobTemplate.Spec.Template
	}
	return nil
}

// selectorOverlaps finds the sources whose Services or PDBs would select
// pods of another source once they share a namespace. Both sides of each
// overlap get scoped by the origin label.
//
// It is linear in the objects, not in the pairs: when a target merges
// hundreds of namespaces that each run the same apps, every Service
// selects the pods of hundreds of others, and one issue per pair made the
// plan quadratic in memory. Templates are found through an index by label,
// each distinct selector is matched once, and each Service or PDB gets one
// issue for the overlaps its move resolves and one for those it cannot,
// naming the first few objects and counting the rest.
func (b *builder) selectorOverlaps(t string, moving []*object) map[string]bool {
	tg := b.targets[t]
	all := append([]*object{}, moving...)
	if tg.Exists {
		all = append(all, b.objs[t]...)
	}
	var tpls []*object
	var labelsOf []map[string]string
	byPair := map[[2]string][]int{} // label key=value -> templates carrying it, in order
	var selectors []*object
	for _, o := range all {
		var l map[string]string
		if pt := podTemplate(o.obj); pt != nil {
			l = pt.Labels
		} else if p, ok := o.obj.(*corev1.Pod); ok {
			l = p.Labels
		} else {
			switch o.obj.(type) {
			case *corev1.Service, *policyv1.PodDisruptionBudget:
				selectors = append(selectors, o)
			}
			continue
		}
		for k, v := range l {
			byPair[[2]string{k, v}] = append(byPair[[2]string{k, v}], len(tpls))
		}
		tpls = append(tpls, o)
		labelsOf = append(labelsOf, l)
	}
	matched := map[string]*selected{}
	scoped := map[string]bool{}
	for _, s := range selectors {
		key := selectorKey(s.obj)
		m := matched[key]
		if m == nil {
			m = selectTemplates(s.obj, tpls, labelsOf, byPair)
			matched[key] = m
		}
		m.selectorNS[s.ns]++
		if m.total == 0 {
			continue
		}
		inTarget := m.byNS[t]
		if s.ns == t {
			// Every match outside the target is an object that moves in
			// next to the target's own, immutable, selector.
			inTarget = m.except(s.ns, "", namesShown)
		}
		if inTarget.count > 0 {
			tg.Conflicts = append(tg.Conflicts, Issue{Kind: IssueSelectorOverlap, Objects: append([]string{s.ref()}, inTarget.refs...),
				Message: fmt.Sprintf("in %s, %s would also select the pods of %s; objects already in the target keep their immutable "+
					"selectors, so relabel them by hand first", t, s.ref(), listed(inTarget.refs, inTarget.count))})
		}
		if s.ns == t {
			continue
		}
		moved := m.except(s.ns, t, namesShown)
		if moved.count == 0 {
			continue
		}
		var others string
		if moved.namespaces == 1 {
			others = moved.ns
		} else {
			others = fmt.Sprintf("the %d other namespaces whose pods it selects", moved.namespaces)
		}
		tg.Conflicts = append(tg.Conflicts, Issue{Kind: IssueSelectorOverlap, Objects: append([]string{s.ref()}, moved.refs...),
			Message:    fmt.Sprintf("in %s, %s would also select the pods of %s", t, s.ref(), listed(moved.refs, moved.count)),
			Resolution: fmt.Sprintf("selectors and pod labels of %s and %s scoped by label %s", s.ns, others, OriginLabel)})
		scoped[s.ns] = true
	}
	// A template's namespace is scoped when a selector of another moving
	// namespace selects it, which each selector's namespaces tell.
	for _, m := range matched {
		for ns := range m.byNS {
			if ns != t && m.selectorNSOtherThan(ns, t) {
				scoped[ns] = true
			}
		}
	}
	return scoped
}

const namesShown = 4

// selected is the templates one selector matches, with what the issues
// about each Service or PDB of that selector need.
type selected struct {
	order []*object         // every match, in the order of the objects
	byNS  map[string]sample // the matches of each namespace
	total int
	// selectorNS counts the Services and PDBs of this selector per namespace.
	selectorNS map[string]int
}

// sample is the first few matches of a set and how many there are.
type sample struct {
	refs       []string
	count      int
	namespaces int
	ns         string // the namespace of the matches, when there is one
}

// except samples the matches outside namespaces a and b, scanning only
// past the matches of those two namespaces.
func (m *selected) except(a, b string, n int) sample {
	out := sample{count: m.total - m.byNS[a].count, namespaces: len(m.byNS)}
	if _, ok := m.byNS[a]; ok {
		out.namespaces--
	}
	if b != "" && b != a {
		out.count -= m.byNS[b].count
		if _, ok := m.byNS[b]; ok {
			out.namespaces--
		}
	}
	for _, o := range m.order {
		if len(out.refs) == n || len(out.refs) == out.count {
			break
		}
		if o.ns != a && o.ns != b {
			out.refs = append(out.refs, o.ref())
			out.ns = o.ns
		}
	}
	if out.namespaces != 1 {
		out.ns = ""
	}
	return out
}

// selectorNSOtherThan reports whether a Service or PDB of this selector
// lives in a namespace other than ns and the target t.
func (m *selected) selectorNSOtherThan(ns, t string) bool {
	n := len(m.selectorNS)
	if m.selectorNS[ns] > 0 {
		n--
	}
	if t != ns && m.selectorNS[t] > 0 {
		n--
	}
	return n > 0
}

// selectTemplates matches one selector against the templates, through the
// label index when the selector requires labels.
func selectTemplates(sel kobj, tpls []*object, labelsOf []map[string]string, byPair map[[2]string][]int) *selected {
	m := &selected{byNS: map[string]sample{}, selectorNS: map[string]int{}}
	var required map[string]string
	var matches func(map[string]string) bool
	switch x := sel.(type) {
	case *corev1.Service:
		required = x.Spec.Selector
		matches = func(l map[string]string) bool { return len(required) > 0 && subset(required, l) }
	case *policyv1.PodDisruptionBudget:
		ls, err := metav1.LabelSelectorAsSelector(x.Spec.Selector)
		if x.Spec.Selector != nil {
			required = x.Spec.Selector.MatchLabels
		}
		matches = func(l map[string]string) bool { return err == nil && !ls.Empty() && ls.Matches(labels.Set(l)) }
	}
	// The templates to try: those carrying the rarest required pair, or
	// every template when nothing is required.
	candidates := -1
	var from []int
	for k, v := range required {
		list := byPair[[2]string{k, v}]
		if candidates < 0 || len(list) < candidates {
			candidates, from = len(list), list
		}
	}
	try := func(i int) {
		if !matches(labelsOf[i]) {
			return
		}
		o := tpls[i]
		m.order = append(m.order, o)
		m.total++
		sm := m.byNS[o.ns]
		if len(sm.refs) < namesShown {
			sm.refs = append(sm.refs, o.ref())
		}
		sm.count++
		sm.namespaces, sm.ns = 1, o.ns
		m.byNS[o.ns] = sm
	}
	if candidates >= 0 {
		for _, i := range from {
			try(i)
		}
	} else {
		for i := range tpls {
			try(i)
		}
	}
	return m
}

// selectorKey identifies a selector: Services and PDBs of equal
// selectors select the same templates.
func selectorKey(o kobj) string {
	switch x := o.(type) {
	case *corev1.Service:
		return "svc\x00" + labels.SelectorFromSet(x.Spec.Selector).String()
	case *policyv1.PodDisruptionBudget:
		if x.Spec.Selector == nil {
			return "pdb-nil"
		}
		return "pdb\x00" + metav1.FormatLabelSelector(x.Spec.Selector)
	}
	return ""
}

// listed writes the first names of count: "a, b, c, d and 40 more".
func listed(refs []string, count int) string {
	out := strings.Join(refs, ", ")
	if count > len(refs) {
		out += fmt.Sprintf(" and %d more", count-len(refs))
	}
	return out
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func addOrigin(o kobj, ns string) {
	set := func(m map[string]string) map[string]string {
		if m == nil {
			m = map[string]string{}
		}
		m[OriginLabel] = ns
		return m
	}
	o.SetLabels(set(o.GetLabels()))
	if pt := podTemplate(o); pt != nil {
		pt.Labels = set(pt.Labels)
	}
	switch x := o.(type) {
	case *appsv1.Deployment:
		x.Spec.Selector.MatchLabels = set(x.Spec.Selector.MatchLabels)
	case *appsv1.StatefulSet:
		x.Spec.Selector.MatchLabels = set(x.Spec.Selector.MatchLabels)
	case *appsv1.DaemonSet:
		x.Spec.Selector.MatchLabels = set(x.Spec.Selector.MatchLabels)
	case *appsv1.ReplicaSet:
		x.Spec.Selector.MatchLabels = set(x.Spec.Selector.MatchLabels)
	case *corev1.Service:
		if len(x.Spec.Selector) > 0 {
			x.Spec.Selector = set(x.Spec.Selector)
		}
	case *policyv1.PodDisruptionBudget:
		if x.Spec.Selector != nil {
			x.Spec.Selector.MatchLabels = set(x.Spec.Selector.MatchLabels)
		}
	case *corev1.Pod:
		// labels set above
	}
}

// noTargetsHint says which part of purser.yaml a strategy that found no
// target needs: on a cluster whose namespaces carry no team, product or
// environment labels, nothing classifies them until the config does.
func noTargetsHint(strategy string) string {
	switch strategy {
	case StrategyProduct:
		return "no target: no namespace has both a product and an environment. Label the namespaces, or fill classify.products and classify.environments (name patterns) in purser.yaml"
	case StrategyEnvironment:
		return "no target: no namespace has an environment. Label the namespaces, or fill classify.environments or plan.environment.rules in purser.yaml"
	}
	return ""
}
