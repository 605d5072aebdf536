package apply

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/purserhq/purser/internal/plan"
)

// Changes of a fix plan.
const (
	// ChangePatch patches an object with an audit finding's patch, under
	// the resourceVersion the plan recorded.
	ChangePatch Change = "patch"
	// ChangeUnpatch is the rollback of a patch: the object as the backup
	// holds it.
	ChangeUnpatch Change = "unpatch"
)

// fixSteps returns the steps of a fix plan's spec.fixes: creations in the
// phase of their kind, patches with the workloads, deletions last.
// precond finds, and marks used, the precondition of an object.
func fixSteps(p *plan.Plan, precond func(kind, ns, name, action string) (Object, error)) ([]planned, error) {
	var out []planned
	for i, f := range p.Spec.Fixes {
		at := fmt.Sprintf("spec.fixes[%d] (%s %s)", i, f.Check, f.Object)
		target := func(action string) (Object, error) {
			if f.Target == nil {
				return Object{}, fmt.Errorf("%s: a %s fix without a target", at, f.Action)
			}
			o, err := precond(f.Target.Kind, f.Target.Namespace, f.Target.Name, action)
			if err != nil {
				return Object{}, fmt.Errorf("%s: %w", at, err)
			}
			return o, nil
		}
		switch f.Action {
		case plan.FixPatch:
			o, err := target(plan.ActionPatch)
			if err != nil {
				return nil, err
			}
			if !json.Valid([]byte(f.Patch)) {
				return nil, fmt.Errorf("%s: the patch is not JSON", at)
			}
			if _, err := patchType(f.PatchType); err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			out = append(out, planned{phaseWorkloads, Step{Change: ChangePatch, Object: o, PatchType: f.PatchType, Patch: f.Patch,
				What: fmt.Sprintf("patch %s (%s patch) for %s: %s", o, f.PatchType, f.Check, f.Patch)}})
		case plan.FixDelete:
			o, err := target(plan.ActionDelete)
			if err != nil {
				return nil, err
			}
			out = append(out, planned{phaseDeleteSources, Step{Change: ChangeDelete, Object: o,
				What: fmt.Sprintf("delete %s, unused (%s)", o, f.Check)}})
		case plan.FixCreate:
			if len(f.Manifests) == 0 {
				return nil, fmt.Errorf("%s: a create fix without manifests", at)
			}
			for _, m := range f.Manifests {
				o := Object{APIVersion: m.GetAPIVersion(), Kind: m.GetKind(), Namespace: m.GetNamespace(), Name: m.GetName()}
				if o.APIVersion == "" || o.Kind == "" || o.Name == "" {
					return nil, fmt.Errorf("%s: a manifest without an apiVersion, kind or name", at)
				}
				out = append(out, planned{kindPhase(o.Kind), Step{Change: ChangeCreate, Object: o, manifest: m,
					What: fmt.Sprintf("create %s for %s", o, f.Check)}})
			}
		default:
			return nil, fmt.Errorf("%s: unknown fix action %q", at, f.Action)
		}
	}
	return out, nil
}

// patchType maps kubectl's --type to the API's patch type.
func patchType(t string) (types.PatchType, error) {
	switch t {
	case "merge":
		return types.MergePatchType, nil
	case "strategic":
		return types.StrategicMergePatchType, nil
	case "json":
		return types.JSONPatchType, nil
	}
	return "", fmt.Errorf("patch type %q is not merge, strategic or json", t)
}

// guarded returns the patch with the resourceVersion rv as its
// precondition: in the metadata of a merge or strategic patch (the server
// refuses it with a conflict when the object is at another version), as a
// leading test operation of a JSON patch.
func guarded(typ, body, rv string) ([]byte, error) {
	if typ == "json" {
		var ops []any
		if err := json.Unmarshal([]byte(body), &ops); err != nil {
			return nil, fmt.Errorf("JSON patch: %w", err)
		}
		ops = append([]any{map[string]any{"op": "test", "path": "/metadata/resourceVersion", "value": rv}}, ops...)
		return json.Marshal(ops)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return nil, fmt.Errorf("%s patch: %w", typ, err)
	}
	meta, _ := doc["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["resourceVersion"] = rv
	doc["metadata"] = meta
	return json.Marshal(doc)
}

// sendPatch patches s.Object at resourceVersion rv.
func (c *cluster) sendPatch(ctx context.Context, s Step, rv string, dryRun bool) (*unstructured.Unstructured, error) {
	ri, err := c.resource(s.Object)
	if err != nil {
		return nil, err
	}
	pt, err := patchType(s.PatchType)
	if err != nil {
		return nil, err
	}
	data, err := guarded(s.PatchType, s.Patch, rv)
	if err != nil {
		return nil, fmt.Errorf("patching %s: %w", s.Object, err)
	}
	opts := metav1.PatchOptions{FieldManager: fieldManager}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	u, err := ri.Patch(ctx, s.Object.Name, pt, data, opts)
	if err != nil {
		return nil, fmt.Errorf("patching %s: %w", s.Object, err)
	}
	return u, nil
}

// patchStep patches one object. The object must be the one the plan
// recorded; on a resumed run an object at another version was patched by
// the run before (its intent is journalled): a merge or strategic patch
// is applied again at the live version, which changes nothing when it is
// in already; a JSON patch, which need not be repeatable, is not.
func (r *run) patchStep(ctx context.Context, s *StepResult) (string, *After, error) {
	live, err := r.cl.get(ctx, s.Object)
	if err != nil {
		return "", nil, err
	}
	switch {
	case live == nil:
		return "", nil, r.blocked(s, "deleted since the plan was built: not patched")
	case string(live.GetUID()) != s.Object.UID:
		return "", nil, r.blocked(s, fmt.Sprintf("recreated since the plan was built (uid %s, the plan's %s): not patched", live.GetUID(), s.Object.UID))
	}
	rv := s.Object.ResourceVersion
	if live.GetResourceVersion() != rv {
		if r.o.Resume == "" || s.PatchType == "json" {
			return "", nil, r.blocked(s, fmt.Sprintf("changed since the plan was built (resourceVersion %s, the plan's %s): not patched", live.GetResourceVersion(), rv))
		}
		rv = live.GetResourceVersion()
	}
	u, err := r.cl.sendPatch(ctx, s.Step, rv, false)
	if apierrors.IsConflict(err) || apierrors.IsInvalid(err) && s.PatchType == "json" {
		return "", nil, r.blocked(s, "changed while the run read it (the server refused the resourceVersion precondition): not patched")
	}
	if err != nil {
		return "", nil, err
	}
	return "patched", &After{UID: string(u.GetUID()), ResourceVersion: u.GetResourceVersion()}, nil
}

// unpatch sets an object the run patched back to the backup: the backed-up
// object written over the live one at the live version (an update, not a
// reverse patch: the patch may have removed keys only the backup knows).
func (rb *rollback) unpatch(ctx context.Context, r *StepResult) error {
	var src *unstructured.Unstructured
	for i := range rb.saved {
		if savedObject(&rb.saved[i]).key() == r.Object.key() {
			src = &rb.saved[i]
		}
	}
	if src == nil {
		return fmt.Errorf("%s is not in the backup", r.Object)
	}
	live, err := rb.cl.get(ctx, r.Object)
	if err != nil {
		return err
	}
	switch {
	case live == nil:
		r.Status, r.Message = StatusBlocked, "deleted since the run: left as it is"
		return nil
	case string(live.GetUID()) != string(src.GetUID()):
		r.Status, r.Message = StatusBlocked, fmt.Sprintf("exists again with another uid (%s), created since: left as it is", live.GetUID())
		return nil
	}
	if same(live, src) {
		r.Status, r.Message = StatusUnchanged, "as in the backup: nothing to restore"
		return nil
	}
	m := src.DeepCopy()
	unstructured.RemoveNestedField(m.Object, "metadata", "managedFields")
	unstructured.RemoveNestedField(m.Object, "status")
	m.SetResourceVersion(live.GetResourceVersion())
	ri, err := rb.cl.resource(r.Object)
	if err != nil {
		return err
	}
	opts := metav1.UpdateOptions{FieldManager: fieldManager}
	if rb.j == nil {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if rb.j != nil {
		if err := rb.journal(RecordRestoreIntent, r, nil); err != nil {
			return err
		}
	}
	u, err := ri.Update(ctx, m, opts)
	if err != nil {
		return fmt.Errorf("restoring %s from the backup: %w", r.Object, err)
	}
	if rb.j == nil {
		r.Status, r.Message = StatusDryRun, "patched by the run; the server accepts the backed-up object again"
		return nil
	}
	r.Status, r.Message = StatusRestored, "as in the backup again"
	return rb.journal(RecordRestoreDone, r, &After{UID: string(u.GetUID()), ResourceVersion: u.GetResourceVersion()})
}

// same compares what a patch can change: labels, annotations, spec and
// the top-level fields of objects without a spec (a ConfigMap's data).
func same(a, b *unstructured.Unstructured) bool {
	return equalJSON(Normalized(a), Normalized(b))
}

// Normalized is an object without what the server sets or a controller
// reports: identity, versions, timestamps, managed fields and status.
// Two objects that compare equal normalized hold the same content.
func Normalized(u *unstructured.Unstructured) map[string]any {
	c := restorable(u)
	ann := c.GetAnnotations()
	delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
	if len(ann) == 0 {
		ann = nil
	}
	c.SetAnnotations(ann)
	return c.Object
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
