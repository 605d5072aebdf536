package apply

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/svcref"
)

// Helm's bookkeeping on the objects of a release.
const (
	helmManagedBy        = "app.kubernetes.io/managed-by"
	helmReleaseName      = "meta.helm.sh/release-name"
	helmReleaseNamespace = "meta.helm.sh/release-namespace"
)

// blockers lists what stops an approved run before it writes anything,
// and what the person accepted (warnings). Secrets need their values read
// (--include-secret-values); references the plan could not rewrite need
// --accept-reference; objects of a Helm release need --accept-helm, since
// Helm's release record stays behind.
func blockers(p *plan.Plan, steps []Step, o Options) (blocking, accepted []string) {
	put := func(ok bool, msg string) {
		if ok {
			accepted = append(accepted, msg)
		} else {
			blocking = append(blocking, msg)
		}
	}
	for _, s := range steps {
		if s.Change == ChangeCopySecret && !o.IncludeSecretValues {
			blocking = append(blocking, fmt.Sprintf("Secret %s/%s: copying it to %s needs its values, read from the cluster at that step: give --include-secret-values (they go to the target and to the backup, mode 0600, never to the journal or the output)",
				s.From.Namespace, s.From.Name, s.Object.Namespace))
		}
	}
	rewrites := policyRewrites(steps)
	for _, t := range p.Spec.Targets {
		for _, r := range t.Risks {
			switch r.Kind {
			case plan.IssueDNS, plan.IssueRoleBinding, plan.IssueNetworkPolicy:
			default:
				continue
			}
			if r.Resolved() || resolvedByRun(r, rewrites) {
				continue
			}
			put(o.AcceptReference, fmt.Sprintf("reference (%s, %s): %s: not rewritten by the plan (accept with --accept-reference once you will change it by hand)",
				r.Kind, strings.Join(r.Objects, ", "), r.Message))
		}
	}
	for _, s := range steps {
		if s.policy == nil {
			continue
		}
		for _, u := range s.policy.Unsafe {
			put(o.AcceptReference, fmt.Sprintf("reference (%s, NetworkPolicy/%s): %s: not rewritten (accept with --accept-reference once you will change it by hand)",
				plan.IssueNetworkPolicy, s.movedFrom, u))
		}
	}
	for _, h := range helmReleases(p) {
		put(o.AcceptHelm, h)
	}
	return blocking, accepted
}

// helmReleases describes, per release, the moved objects Helm manages and
// how to re-point the release: Purser does not rewrite Helm's records.
func helmReleases(p *plan.Plan) []string {
	type release struct {
		name, from, to, chart string
		objects               []string
	}
	byKey := map[string]*release{}
	for _, t := range p.Spec.Targets {
		from := map[string]string{}
		for _, mv := range t.Moves {
			name := mv.Name
			if mv.NewName != "" {
				name = mv.NewName
			}
			from[mv.Kind+"/"+name] = mv.From
		}
		for _, m := range t.Manifests[1:] {
			labels, ann := m.GetLabels(), m.GetAnnotations()
			if labels[helmManagedBy] != "Helm" && ann[helmReleaseName] == "" {
				continue
			}
			src := from[m.GetKind()+"/"+m.GetName()]
			name := cmp(ann[helmReleaseName], labels["app.kubernetes.io/instance"], labels["release"], "RELEASE")
			k := src + "/" + name + "/" + t.Name
			r := byKey[k]
			if r == nil {
				r = &release{name: name, from: src, to: t.Name, chart: cmp(labels["helm.sh/chart"], "CHART")}
				byKey[k] = r
			}
			r.objects = append(r.objects, m.GetKind()+" "+m.GetName())
		}
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		r := byKey[k]
		// helm.sh/chart is "<chart>-<version>"; the repository is not
		// recorded on the objects, so it is left for the person to name.
		chart, version := r.chart, ""
		if i := strings.LastIndexByte(r.chart, '-'); i > 0 {
			chart, version = r.chart[:i], " --version "+shell.Quote(r.chart[i+1:])
		}
		out = append(out, fmt.Sprintf("Helm release %s of namespace %s (%s): its release record stays in %s; re-point it after the move with `helm upgrade --install %s %s%s -n %s`, or set the annotation %s=%s on the moved objects (kubectl annotate -n %s … %s=%s --overwrite); accept with --accept-helm",
			r.name, r.from, strings.Join(r.objects, ", "), r.from, shell.Quote(r.name), shell.Quote("REPO/"+chart), version, shell.Quote(r.to),
			helmReleaseNamespace, r.to, shell.Quote(r.to), helmReleaseNamespace, shell.Quote(r.to)))
	}
	return out
}

// cmp returns the first non-empty string.
func cmp(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// labelled returns m with the operation label added, for a create.
func labelled(m *unstructured.Unstructured, operation string) *unstructured.Unstructured {
	c := m.DeepCopy()
	l := c.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[OperationLabel] = operation
	c.SetLabels(l)
	return c
}

// ours tells whether a live object was created by the operation.
func ours(u *unstructured.Unstructured, operation string) bool {
	return u.GetLabels()[OperationLabel] == operation
}

// createStep creates a target's object by server-side apply. An object of
// that name already in the target and not created by this run is never
// taken over: the step blocks.
func (r *run) createStep(ctx context.Context, s *StepResult, m *unstructured.Unstructured) (string, *After, error) {
	live, err := r.cl.get(ctx, s.Object)
	if err != nil {
		return "", nil, err
	}
	if live != nil && !ours(live, r.rep.Operation) {
		return "", nil, r.blocked(s, fmt.Sprintf("already exists in the target (uid %s) and was not created by this run: it is never taken over", live.GetUID()))
	}
	u, err := r.cl.apply(ctx, s.Object, labelled(m, r.rep.Operation), false)
	if err != nil {
		return "", nil, err
	}
	msg := "created"
	if live != nil {
		msg = "created by this run before; applied again"
	}
	return msg, &After{UID: string(u.GetUID()), ResourceVersion: u.GetResourceVersion()}, nil
}

// secretManifest is the target's copy of a Secret: its type, data,
// labels and annotations, under its new name and namespace.
func secretManifest(src *corev1.Secret, to Object) (*unstructured.Unstructured, error) {
	ann := maps.Clone(src.Annotations)
	delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
	c := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: to.Name, Namespace: to.Namespace, Labels: maps.Clone(src.Labels), Annotations: ann},
		Type:       src.Type, Data: src.Data, Immutable: src.Immutable,
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c)
	if err != nil {
		return nil, fmt.Errorf("copying Secret %s/%s: %w", src.Namespace, src.Name, err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// copySecretStep reads the source Secret, now and not before, and applies
// its copy. Its values are held in memory for the write only.
func (r *run) copySecretStep(ctx context.Context, s *StepResult) (string, *After, error) {
	src, err := r.cl.kube.CoreV1().Secrets(s.From.Namespace).Get(ctx, s.From.Name, metav1.GetOptions{})
	if err != nil {
		return "", nil, fmt.Errorf("reading Secret %s/%s: %w", s.From.Namespace, s.From.Name, err)
	}
	if string(src.UID) != s.From.UID {
		return "", nil, r.blocked(s, fmt.Sprintf("the source Secret %s/%s was recreated since the plan was built (uid %s, the plan's %s)", s.From.Namespace, s.From.Name, src.UID, s.From.UID))
	}
	m, err := secretManifest(src, s.Object)
	if err != nil {
		return "", nil, err
	}
	return r.createStep(ctx, s, m)
}

// scaleDownStep scales a source workload to zero and waits until its pods
// are gone.
func (r *run) scaleDownStep(ctx context.Context, s *StepResult) (string, *After, error) {
	live, err := r.cl.get(ctx, s.Object)
	if err != nil {
		return "", nil, err
	}
	if live == nil || string(live.GetUID()) != s.Object.UID {
		return "already gone", &After{Gone: true}, nil
	}
	if _, err := r.cl.patch(ctx, s.Object, map[string]any{"spec": map[string]any{"replicas": 0}}, false, false, "scale"); err != nil {
		return "", nil, err
	}
	err = waitFor(ctx, r.o.Wait, "scaling "+s.Object.String()+" down", func(ctx context.Context) (bool, string, error) {
		u, err := r.cl.get(ctx, s.Object)
		if err != nil || u == nil {
			return u == nil, "", err
		}
		n, _, _ := unstructured.NestedInt64(u.Object, "status", "replicas")
		return n == 0, fmt.Sprintf("%d pods left", n), nil
	})
	if err != nil {
		return "", nil, err
	}
	return "scaled to 0", nil, nil
}

// deleteObjectStep deletes a moved source object, UID as precondition, and
// waits until it is gone.
func (r *run) deleteObjectStep(ctx context.Context, s *StepResult) (string, *After, error) {
	live, err := r.cl.get(ctx, s.Object)
	if err != nil {
		return "", nil, err
	}
	if live == nil || string(live.GetUID()) != s.Object.UID {
		if live != nil {
			return "", nil, r.blocked(s, fmt.Sprintf("recreated since the plan was built (uid %s, the plan's %s): not deleted", live.GetUID(), s.Object.UID))
		}
		return "already gone", &After{Gone: true}, nil
	}
	if err := r.cl.remove(ctx, s.Object, s.Object.UID, false); err != nil {
		return "", nil, err
	}
	if err := r.cl.waitObjectGone(ctx, s.Object, s.Object.UID, r.o.Wait); err != nil {
		return "", nil, err
	}
	return "deleted", &After{Gone: true}, nil
}

// verifyStep checks a target before its sources go: every moved workload
// as available as its source was when the run backed it up, every moved
// Service with ready endpoints when its source had some, and every
// Service address in its ConfigMaps and environment naming a Service that
// exists. It waits, at most --wait, for the target to get there.
func (r *run) verifyStep(ctx context.Context, s *StepResult) (string, *After, error) {
	target := s.Object.Name
	var checks []func(ctx context.Context) (string, error)
	for _, o := range r.stepsOf(target) {
		m := o.manifest
		if m == nil {
			continue
		}
		switch o.Object.Kind {
		case "Deployment", "StatefulSet", "DaemonSet":
			obj := o.Object
			want := r.sourceAvailable(obj)
			checks = append(checks, func(ctx context.Context) (string, error) {
				u, err := r.cl.get(ctx, obj)
				if err != nil || u == nil {
					return fmt.Sprintf("%s not found", obj), err
				}
				if got := available(u); got < want {
					return fmt.Sprintf("%s: %d available, want %d (as its source)", obj, got, want), nil
				}
				return "", nil
			})
		case "Service":
			if sel, _, _ := unstructured.NestedStringMap(m.Object, "spec", "selector"); len(sel) == 0 {
				continue
			}
			obj := o.Object
			src := r.sourceOf(obj)
			checks = append(checks, func(ctx context.Context) (string, error) {
				if src != nil {
					n, err := r.readyEndpoints(ctx, src.Namespace, src.Name)
					if err != nil || n == 0 {
						return "", err // the source had none: nothing to keep
					}
				}
				n, err := r.readyEndpoints(ctx, obj.Namespace, obj.Name)
				if err != nil {
					return "", err
				}
				if n == 0 {
					return fmt.Sprintf("%s has no ready endpoints", obj), nil
				}
				return "", nil
			})
		}
		for _, ref := range references(m) {
			svc := Object{APIVersion: "v1", Kind: "Service", Namespace: ref[1], Name: ref[0]}
			what := fmt.Sprintf("%s refers to %s.%s.svc", o.Object, ref[0], ref[1])
			if r.deleted[ref[1]] {
				return "", nil, r.blocked(s, what+", in a namespace this plan deletes")
			}
			checks = append(checks, func(ctx context.Context) (string, error) {
				u, err := r.cl.get(ctx, svc)
				if err != nil || u == nil {
					return what + ", which does not exist", err
				}
				return "", nil
			})
		}
	}
	err := waitFor(ctx, r.o.Wait, "verifying target "+target, func(ctx context.Context) (bool, string, error) {
		for _, c := range checks {
			why, err := c(ctx)
			if err != nil || why != "" {
				return false, why, err
			}
		}
		return true, "", nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return "", nil, err
		}
		return "", nil, r.blocked(s, err.Error())
	}
	return fmt.Sprintf("%d checks passed", len(checks)), nil, nil
}

// references are the Service addresses [service, namespace] in a
// ConfigMap's data or a pod template's environment.
func references(m *unstructured.Unstructured) [][2]string {
	var texts []string
	if m.GetKind() == "ConfigMap" {
		data, _, _ := unstructured.NestedStringMap(m.Object, "data")
		for _, k := range slices.Sorted(maps.Keys(data)) {
			texts = append(texts, data[k])
		}
	}
	for _, path := range [][]string{{"spec", "template", "spec"}, {"spec", "jobTemplate", "spec", "template", "spec"}, {"spec"}} {
		spec, ok, _ := unstructured.NestedMap(m.Object, path...)
		if !ok {
			continue
		}
		for _, field := range []string{"initContainers", "containers"} {
			cs, _, _ := unstructured.NestedSlice(spec, field)
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				env, _, _ := unstructured.NestedSlice(cm, "env")
				for _, e := range env {
					em, _ := e.(map[string]any)
					if v, ok := em["value"].(string); ok {
						texts = append(texts, v)
					}
				}
			}
		}
		break
	}
	var out [][2]string
	seen := map[[2]string]bool{}
	for _, t := range texts {
		// Only "<service>.<namespace>.svc[.cluster.local]": a bare
		// "<a>.<b>" in free text is too often something else to verify.
		for _, m := range svcref.Find(t) {
			if m.Suffix == "" {
				continue
			}
			k := [2]string{m.Service, m.Namespace}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// available is how many pods of a workload are available.
func available(u *unstructured.Unstructured) int64 {
	if u.GetKind() == "DaemonSet" {
		n, _, _ := unstructured.NestedInt64(u.Object, "status", "numberAvailable")
		return n
	}
	n, _, _ := unstructured.NestedInt64(u.Object, "status", "availableReplicas")
	return n
}

// sourceAvailable is how many pods the source of a target workload had
// available when the run backed it up: the target must do as well, not
// better (a source with pods Pending for lack of room is no worse moved).
func (r *run) sourceAvailable(target Object) int64 {
	src := r.sourceOf(target)
	if src == nil {
		return 1
	}
	for i := range r.saved {
		u := &r.saved[i]
		if u.GetKind() == src.Kind && u.GetNamespace() == src.Namespace && u.GetName() == src.Name {
			return available(u)
		}
	}
	return 1
}

// sourceOf is the source object a target object was moved from.
func (r *run) sourceOf(target Object) *Object {
	for _, s := range r.rep.Steps {
		if s.Change == ChangeDelete && s.Object.Kind == target.Kind && r.movedTo[s.Object.key()] == target.key() {
			o := s.Object
			return &o
		}
	}
	return nil
}

// readyEndpoints counts the ready endpoints of a Service.
func (r *run) readyEndpoints(ctx context.Context, ns, name string) (int, error) {
	l, err := r.cl.kube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
	if err != nil {
		return 0, fmt.Errorf("listing the EndpointSlices of Service %s/%s: %w", ns, name, err)
	}
	n := 0
	for _, s := range l.Items {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				n++
			}
		}
	}
	return n, nil
}

// stepsOf are the create and rebind steps of a target.
func (r *run) stepsOf(target string) []Step {
	var out []Step
	for _, s := range r.rep.Steps {
		if (s.Change == ChangeCreate || s.Change == ChangeRebind || s.Change == ChangeCopySecret) && s.Object.Namespace == target {
			out = append(out, s.Step)
		}
	}
	return out
}
