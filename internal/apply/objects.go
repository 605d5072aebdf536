package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// fieldManager is the field manager of every write: server-side apply
// records Purser as the owner of what it wrote, and a field another
// manager owns is a conflict, never forced.
const fieldManager = "purser"

// resource finds the API resource of o's kind.
func (c *cluster) resource(o Object) (dynamic.ResourceInterface, error) {
	gv, err := schema.ParseGroupVersion(o.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("%s: apiVersion %q: %w", o, o.APIVersion, err)
	}
	m, err := c.mapper.RESTMapping(gv.WithKind(o.Kind).GroupKind(), gv.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: finding its API resource: %w", o, err)
	}
	if o.Namespace == "" {
		return c.dyn.Resource(m.Resource), nil
	}
	return c.dyn.Resource(m.Resource).Namespace(o.Namespace), nil
}

// get reads an object in full; nil when it does not exist.
func (c *cluster) get(ctx context.Context, o Object) (*unstructured.Unstructured, error) {
	ri, err := c.resource(o)
	if err != nil {
		return nil, err
	}
	u, err := ri.Get(ctx, o.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", o, err)
	}
	return u, nil
}

// ConflictError is a server-side apply that another field manager's fields
// refused: the run stops, nothing is forced.
type ConflictError struct {
	Object   Object
	Managers []string
	Err      error
}

func (e *ConflictError) Error() string {
	who := "another field manager"
	if len(e.Managers) > 0 {
		who = strings.Join(e.Managers, ", ")
	}
	return fmt.Sprintf("%s: server-side apply conflicts with fields owned by %s: purser never forces; resolve the conflict, then resume (%v)", e.Object, who, e.Err)
}

func (e *ConflictError) Unwrap() error { return e.Err }

// apply writes m by server-side apply, field manager purser, never forced;
// on the server's dry run when dryRun is set.
func (c *cluster) apply(ctx context.Context, o Object, m *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	ri, err := c.resource(o)
	if err != nil {
		return nil, err
	}
	opts := metav1.ApplyOptions{FieldManager: fieldManager}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	u, err := ri.Apply(ctx, o.Name, m, opts)
	if apierrors.IsConflict(err) {
		return nil, &ConflictError{Object: o, Managers: conflictManagers(err), Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("applying %s: %w", o, err)
	}
	return u, nil
}

// conflictManagers names the managers a server-side apply conflict
// reports: the server says `conflict with "manager"` per field.
func conflictManagers(err error) []string {
	var out []string
	seen := map[string]bool{}
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Details == nil {
		return nil
	}
	for _, cause := range status.Status().Details.Causes {
		_, rest, ok := strings.Cut(cause.Message, `conflict with "`)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, `"`)
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// remove deletes an object if it still has uid; on the server's dry run
// when dryRun is set. Background propagation: the controllers' children
// go with it. It is not an error when the object is already gone.
func (c *cluster) remove(ctx context.Context, o Object, uid string, dryRun bool) error {
	ri, err := c.resource(o)
	if err != nil {
		return err
	}
	u := types.UID(uid)
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &u}, PropagationPolicy: &bg}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	err = ri.Delete(ctx, o.Name, opts)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting %s (uid %s): %w", o, uid, err)
	}
	return nil
}

// waitFor polls cond every 250 ms until it holds, at most timeout. A
// failed read is retried until the bound, as waitGone does; the last
// reason cond gave is in the error.
func waitFor(parent context.Context, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		ok, why, err := cond(ctx)
		var stop *stopError
		if errors.As(err, &stop) {
			return err
		}
		switch {
		case err == nil && ok:
			return nil
		case err != nil:
			last = err.Error()
		default:
			last = why
		}
		select {
		case <-ctx.Done():
			if err := parent.Err(); err != nil {
				return err
			}
			return fmt.Errorf("%s: not done after %s: %s", what, timeout, last)
		case <-tick.C:
		}
	}
}

// waitObjectGone waits until the object with uid is gone.
func (c *cluster) waitObjectGone(ctx context.Context, o Object, uid string, timeout time.Duration) error {
	return waitFor(ctx, timeout, "waiting for "+o.String()+" to go", func(ctx context.Context) (bool, string, error) {
		u, err := c.get(ctx, o)
		if err != nil {
			return false, "", err
		}
		if u == nil || string(u.GetUID()) != uid {
			return true, "", nil
		}
		return false, fmt.Sprintf("still there (finalizers %v)", u.GetFinalizers()), nil
	})
}

// patch sends a JSON merge patch, or a JSON patch when jsonPatch is set,
// with field manager purser.
func (c *cluster) patch(ctx context.Context, o Object, body any, jsonPatch, dryRun bool, subresources ...string) (*unstructured.Unstructured, error) {
	ri, err := c.resource(o)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("patching %s: %w", o, err)
	}
	pt := types.MergePatchType
	if jsonPatch {
		pt = types.JSONPatchType
	}
	opts := metav1.PatchOptions{FieldManager: fieldManager}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	u, err := ri.Patch(ctx, o.Name, pt, data, opts, subresources...)
	if err != nil {
		return nil, fmt.Errorf("patching %s: %w", o, err)
	}
	return u, nil
}

// restorable is a backed-up object made ready to create again: what the
// server sets (identity, versions, status, times) is left for it to set;
// everything else, allocated addresses included, is what it was.
func restorable(u *unstructured.Unstructured) *unstructured.Unstructured {
	c := u.DeepCopy()
	for _, f := range []string{"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink",
		"deletionTimestamp", "deletionGracePeriodSeconds"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(c.Object, "status")
	return c
}
