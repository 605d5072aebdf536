package apply

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
)

// Changes a rollback makes.
const (
	// ChangeRestore recreates an object from the backup, or sets back
	// what the run changed in it (replicas).
	ChangeRestore Change = "restore"
	// ChangeRemove deletes an object the run created: only when its
	// operation label and the journal agree.
	ChangeRemove Change = "remove"
	// ChangeUnbind hands a volume back to its original claim.
	ChangeUnbind Change = "unbind"
)

// RollbackOptions say which run to roll back.
type RollbackOptions struct {
	// Journal is the journal of the run; its backup is beside it.
	Journal string
	// Approve is the content hash of the plan the run carried out, as its
	// journal records it. Empty, the rollback is a dry run.
	Approve string
	// Wait bounds each wait: a namespace still Terminating to go before it
	// is recreated, an object to go, a volume to bind; DefaultWait when
	// zero.
	Wait  time.Duration
	Clock clock.PassiveClock
	Log   *slog.Logger
}

// Rollback restores what the run of a journal changed, from its backup,
// and removes what it created, in this order: the source namespaces it
// deleted are recreated (with their labels, annotations, finalizers and
// spec); the objects it created in the targets are removed, each only if
// it carries the run's operation label and the journal records its
// creation; every volume it handed over is handed back to its original
// claim (recreated from the backup, bound to the same volume, reclaim
// policy restored); the source objects it deleted are recreated from the
// backup, allocated addresses included, and those it scaled down get
// their replicas back; last, the target namespaces it created are removed.
// An object that was created again by someone else since (another UID) is
// reported, never touched. Without an approval it is a dry run.
func Rollback(ctx context.Context, cfg *rest.Config, o RollbackOptions) (*Report, error) {
	defaults(&o.Wait, &o.Clock, &o.Log)
	jr, err := ReadJournal(o.Journal)
	if err != nil {
		return nil, err
	}
	hash := jr.Begin.Plan
	if o.Approve != "" && o.Approve != hash {
		return nil, fmt.Errorf("--approve %s is not the content hash of the plan journal %s records (%s): nothing was changed", o.Approve, o.Journal, hash)
	}
	name := jr.Begin.Backup
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return nil, fmt.Errorf("journal %s: backup %q is not a file name beside the journal", o.Journal, name)
	}
	dir := filepath.Dir(o.Journal)
	saved, err := ReadBackup(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	rep := &Report{Operation: jr.Begin.Operation, Plan: hash, Source: jr.Begin.Source, DryRun: o.Approve == "", Dir: dir, Journal: o.Journal}
	rep.Steps = rollbackSteps(jr, saved)
	cl, err := newCluster(cfg)
	if err != nil {
		return rep, err
	}
	if host := "live:" + cfg.Host; jr.Begin.Source != host {
		return rep, fmt.Errorf("journal %s records a run on %s, not on this cluster (%s): nothing was changed", o.Journal, jr.Begin.Source, host)
	}
	rb := &rollback{cl: cl, o: o, rep: rep, saved: saved, created: createdUIDs(jr), intended: map[int]bool{}}
	for _, r := range jr.Records {
		if r.Type == RecordRestoreIntent {
			rb.intended[r.Step] = true
		}
	}
	if o.Approve != "" {
		if rb.j, err = appendJournal(o.Journal, o.Clock.Now); err != nil {
			return rep, err
		}
		defer rb.j.close()
	}
	var blocked []string
	for k := range rep.Steps {
		r := &rep.Steps[k]
		if r.Status != StatusPending {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		err := retryTransient(ctx, o.Log, fmt.Sprintf("rollback %d (%s %s)", r.Index, r.Change, r.Object), sleepCtx, func() error { return rb.step(ctx, r) })
		if err != nil {
			if ctx.Err() == nil {
				err = fmt.Errorf("rollback, step %d (%s): %w", r.Index, r.Object, err)
			}
			return rep, err
		}
		if r.Status == StatusBlocked {
			blocked = append(blocked, r.Object.String())
		}
	}
	if len(blocked) > 0 {
		return rep, fmt.Errorf("rollback: %d objects left as they are: %s", len(blocked), strings.Join(blocked, ", "))
	}
	return rep, nil
}

// rollbackSteps orders what a rollback does with the run a journal
// records: only steps the run started are undone, each once.
func rollbackSteps(jr *Journal, saved []unstructured.Unstructured) []StepResult {
	type entry struct {
		phase int
		res   StepResult
	}
	started := map[int]Record{}
	for _, r := range jr.Records {
		if r.Type == RecordIntent && r.Object != nil {
			started[r.Step] = r
		}
	}
	restored := map[string]bool{}
	for _, r := range jr.Records {
		if r.Type == RecordRestoreDone && r.Object != nil {
			restored[fmt.Sprint(r.Step, r.Change, r.Object.key())] = true
		}
	}
	var out []entry
	add := func(phase, index int, change Change, obj Object, from, volume *Object, what string) {
		res := StepResult{Step: Step{Index: index, Change: change, Object: obj, From: from, Volume: volume, What: what}, Status: StatusPending}
		if restored[fmt.Sprint(index, change, obj.key())] {
			res.Status, res.Message = StatusRestored, "restored by an earlier rollback"
		}
		out = append(out, entry{phase, res})
	}
	idx := make([]int, 0, len(started))
	for i := range started {
		idx = append(idx, i)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(idx)))
	sources := map[string]int{}
	for _, i := range idx {
		r := started[i]
		obj := *r.Object
		switch {
		case r.Change == ChangeDelete && obj.Kind == "Namespace":
			add(0, i, ChangeRestore, obj, nil, nil, fmt.Sprintf("recreate %s from the backup, with its labels and annotations", obj))
		case r.Change == ChangeCreate && obj.Kind == "Namespace":
			add(4, i, ChangeRemove, obj, nil, nil, fmt.Sprintf("remove %s, created by the run", obj))
		case r.Change == ChangeCreate || r.Change == ChangeCopySecret:
			add(1, i, ChangeRemove, obj, nil, nil, fmt.Sprintf("remove %s, created by the run", obj))
		case r.Change == ChangeRebind && r.From != nil && r.Volume != nil:
			add(2, i, ChangeUnbind, obj, r.From, r.Volume, fmt.Sprintf("hand volume %s back to claim %s/%s", r.Volume.Name, r.From.Namespace, r.From.Name))
			// What mounted the claim was scaled down with it.
			for _, u := range saved {
				if u.GetNamespace() == r.From.Namespace && scaled(u.GetKind()) {
					if _, ok := sources[savedObject(&u).key()]; !ok {
						sources[savedObject(&u).key()] = i
					}
				}
			}
		case r.Change == ChangePatch:
			add(3, i, ChangeUnpatch, obj, nil, nil, fmt.Sprintf("restore %s as the backup holds it", obj))
		case r.Change == ChangeDelete || r.Change == ChangeScaleDown:
			if cur, ok := sources[obj.key()]; !ok || i > cur {
				sources[obj.key()] = i
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(sources)) {
		i := sources[k]
		for _, u := range saved {
			if o := savedObject(&u); o.key() == k {
				add(3, i, ChangeRestore, o, nil, nil, fmt.Sprintf("restore %s from the backup", o))
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].phase != out[b].phase {
			return out[a].phase < out[b].phase
		}
		if out[a].phase == 3 {
			return out[a].res.Index > out[b].res.Index
		}
		return false
	})
	res := make([]StepResult, len(out))
	for i, e := range out {
		res[i] = e.res
	}
	return res
}

// savedObject names a backed-up object.
func savedObject(u *unstructured.Unstructured) Object {
	return Object{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
		UID: string(u.GetUID()), ResourceVersion: u.GetResourceVersion()}
}

// createdUIDs are the UIDs of the objects the journal records the run
// created, by step.
func createdUIDs(jr *Journal) map[int]string {
	out := map[int]string{}
	for _, r := range jr.Records {
		if r.Type == RecordDone && r.After != nil && r.After.UID != "" {
			out[r.Step] = r.After.UID
		}
	}
	return out
}

// rollback is one rollback under way; j is nil on a dry run.
type rollback struct {
	cl      *cluster
	o       RollbackOptions
	rep     *Report
	j       *journal
	saved   []unstructured.Unstructured
	created map[int]string
	// intended are the steps whose restoring a rollback of this journal
	// started, this one or an earlier one.
	intended map[int]bool
}

// recreatedEarlier tells whether live, found under another UID than the
// backup's, is the copy that an attempt of this rollback recreated before
// it was cut short (killed, or its answer lost to a timeout after the
// server had carried the create out): the journal records that attempt's
// intent, and Purser created the object. Without this a rollback run
// again would take its own copy for someone else's and stop there.
func (rb *rollback) recreatedEarlier(index int, live metav1.Object) bool {
	if !rb.intended[index] {
		return false
	}
	for _, m := range live.GetManagedFields() {
		if m.Manager == fieldManager && m.Operation == metav1.ManagedFieldsOperationUpdate {
			return true
		}
	}
	return false
}

func (rb *rollback) journal(typ string, r *StepResult, after *After) error {
	if rb.j == nil {
		return nil
	}
	obj := r.Object
	if typ == RecordRestoreIntent {
		rb.intended[r.Index] = true
	}
	return rb.j.add(Record{Type: typ, Step: r.Index, Change: r.Change, Object: &obj, From: r.From, Volume: r.Volume, After: after})
}

func (rb *rollback) step(ctx context.Context, r *StepResult) error {
	switch r.Change {
	case ChangeRestore:
		if r.Object.Kind == "Namespace" {
			src, err := fromBackup(rb.saved, r.Object)
			if err != nil {
				return err
			}
			return restoreNamespace(ctx, rb.cl, rb.o, rb.j, r, src, func(ns *corev1.Namespace) bool { return rb.recreatedEarlier(r.Index, ns) },
				func() { rb.intended[r.Index] = true })
		}
		return rb.restoreObject(ctx, r)
	case ChangeRemove:
		return rb.remove(ctx, r)
	case ChangeUnbind:
		return rb.unbind(ctx, r)
	case ChangeUnpatch:
		return rb.unpatch(ctx, r)
	}
	return fmt.Errorf("unknown rollback change %q", r.Change)
}

// remove deletes an object the run created: it must carry the run's
// operation label, and, when the journal recorded its creation, the UID
// recorded then. Anything else of that name is someone else's.
func (rb *rollback) remove(ctx context.Context, r *StepResult) error {
	live, err := rb.cl.get(ctx, r.Object)
	if err != nil {
		return err
	}
	if live == nil {
		r.Status, r.Message = StatusUnchanged, "not there: nothing to remove"
		return nil
	}
	uid := rb.created[r.Index]
	if !ours(live, rb.rep.Operation) || uid != "" && string(live.GetUID()) != uid {
		r.Status, r.Message = StatusBlocked, fmt.Sprintf("not the object this run created (uid %s, label %s=%q): left as it is", live.GetUID(), OperationLabel, live.GetLabels()[OperationLabel])
		return nil
	}
	if rb.j == nil {
		if err := rb.cl.remove(ctx, r.Object, string(live.GetUID()), true); err != nil {
			return err
		}
		r.Status, r.Message = StatusDryRun, "created by the run; the server accepts its deletion"
		return nil
	}
	if err := rb.journal(RecordRestoreIntent, r, nil); err != nil {
		return err
	}
	if r.Object.Kind == "Namespace" {
		if err := rb.cl.deleteNamespace(ctx, Object{Name: r.Object.Name, UID: string(live.GetUID()), ResourceVersion: live.GetResourceVersion()}, false); err != nil {
			return err
		}
		if err := rb.cl.waitGone(ctx, r.Object.Name, string(live.GetUID()), rb.o.Wait); err != nil {
			return err
		}
	} else {
		if err := rb.cl.remove(ctx, r.Object, string(live.GetUID()), false); err != nil {
			return err
		}
		if err := rb.cl.waitObjectGone(ctx, r.Object, string(live.GetUID()), rb.o.Wait); err != nil {
			return err
		}
	}
	r.Status, r.Message = StatusRestored, "removed"
	return rb.journal(RecordRestoreDone, r, &After{Gone: true})
}

// restoreObject recreates a source object from the backup when it is
// gone, and sets back the replicas the run scaled down when it is there.
func (rb *rollback) restoreObject(ctx context.Context, r *StepResult) error {
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
	if live != nil && string(live.GetUID()) != r.Object.UID {
		if rb.recreatedEarlier(r.Index, live) {
			if rb.j == nil {
				r.Status, r.Message = StatusDryRun, fmt.Sprintf("recreated from the backup by an earlier attempt of this rollback (uid %s)", live.GetUID())
				return nil
			}
			r.Status, r.Message = StatusRestored, fmt.Sprintf("recreated from the backup by an earlier attempt of this rollback (uid %s)", live.GetUID())
			return rb.journal(RecordRestoreDone, r, &After{UID: string(live.GetUID()), ResourceVersion: live.GetResourceVersion()})
		}
		r.Status, r.Message = StatusBlocked, "exists again with another uid, created since: left as it is"
		return nil
	}
	if live == nil {
		if rb.j == nil {
			r.Status, r.Message = StatusDryRun, "gone; recreated from the backup once its namespace is back"
			return nil
		}
		if err := rb.journal(RecordRestoreIntent, r, nil); err != nil {
			return err
		}
		ri, err := rb.cl.resource(r.Object)
		if err != nil {
			return err
		}
		created, err := ri.Create(ctx, restorable(src), metav1.CreateOptions{FieldManager: fieldManager})
		if err != nil {
			r.Status, r.Message = StatusFailed, err.Error()
			return fmt.Errorf("recreating %s: %w", r.Object, err)
		}
		r.Status, r.Message = StatusRestored, fmt.Sprintf("recreated from the backup (uid %s)", created.GetUID())
		return rb.journal(RecordRestoreDone, r, &After{UID: string(created.GetUID()), ResourceVersion: created.GetResourceVersion()})
	}
	want, hasReplicas, _ := unstructured.NestedInt64(src.Object, "spec", "replicas")
	got, _, _ := unstructured.NestedInt64(live.Object, "spec", "replicas")
	if !hasReplicas || got == want {
		r.Status, r.Message = StatusUnchanged, "as in the backup: nothing to restore"
		return nil
	}
	if _, err := rb.cl.patch(ctx, r.Object, map[string]any{"spec": map[string]any{"replicas": want}}, false, rb.j == nil, "scale"); err != nil {
		return err
	}
	if rb.j == nil {
		r.Status, r.Message = StatusDryRun, fmt.Sprintf("scaled to %d; the server accepts %d replicas again", got, want)
		return nil
	}
	r.Status, r.Message = StatusRestored, fmt.Sprintf("replicas %d again (were %d)", want, got)
	return rb.journal(RecordRestoreDone, r, nil)
}

// unbind hands a volume back from the target claim to its original claim:
// Retain, remove the target claim (the run's own), wait until the volume
// is released, re-point it to the original claim, recreate that claim from
// the backup with spec.volumeName, wait Bound, restore the reclaim policy.
func (rb *rollback) unbind(ctx context.Context, r *StepResult) error {
	vol, src, dst := *r.Volume, *r.From, r.Object
	if rb.j == nil {
		r.Status, r.Message = StatusDryRun, fmt.Sprintf("volume %s goes back to claim %s/%s", vol.Name, src.Namespace, src.Name)
		return nil
	}
	if err := rb.journal(RecordRestoreIntent, r, nil); err != nil {
		return err
	}
	v := &volumes{cl: rb.cl, wait: rb.o.Wait, progress: func(stage string) error {
		obj := r.Object
		return rb.j.add(Record{Type: RecordProgress, Step: r.Index, Change: r.Change, Object: &obj, Stage: "unbind-" + stage})
	}}
	policy, err := policyOf(rb.saved, vol)
	if err != nil {
		return err
	}
	pv, err := v.pv(ctx, vol.Name)
	if err != nil {
		return err
	}
	if string(pv.UID) != vol.UID {
		r.Status, r.Message = StatusBlocked, fmt.Sprintf("volume %s was recreated (uid %s): left as it is", vol.Name, pv.UID)
		return nil
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		if err := v.setPolicy(ctx, vol.Name, corev1.PersistentVolumeReclaimRetain); err != nil {
			return err
		}
	}
	srcClaim, err := v.claim(ctx, src.Namespace, src.Name)
	if err != nil {
		return err
	}
	ref := pv.Spec.ClaimRef
	onSource := ref != nil && ref.Namespace == src.Namespace && ref.Name == src.Name
	switch {
	case onSource && ref.UID != "" && srcClaim == nil:
		// The run stopped after deleting the original claim and before
		// re-pointing the volume: it still names the deleted claim's UID,
		// which no new claim can match.
		if err := v.pointTo(ctx, vol.Name, src.Namespace, src.Name); err != nil {
			return err
		}
	case onSource && ref.UID != "" && srcClaim.UID != ref.UID:
		r.Status, r.Message = StatusBlocked, fmt.Sprintf("volume %s names claim %s/%s uid %s, and that claim is now another (uid %s): left as it is", vol.Name, src.Namespace, src.Name, ref.UID, srcClaim.UID)
		return nil
	case !onSource:
		c, err := v.claim(ctx, dst.Namespace, dst.Name)
		if err != nil {
			return err
		}
		uid := ""
		if c != nil {
			uid = string(c.UID)
			if c.Labels[OperationLabel] != rb.rep.Operation {
				r.Status, r.Message = StatusBlocked, fmt.Sprintf("claim %s was not created by this run: volume %s left as it is", dst, vol.Name)
				return nil
			}
		} else if ref != nil {
			uid = string(ref.UID)
		}
		if err := v.release(ctx, dst.Namespace, dst.Name, uid, vol.Name); err != nil {
			return err
		}
		if err := v.pointTo(ctx, vol.Name, src.Namespace, src.Name); err != nil {
			return err
		}
		if srcClaim, err = v.claim(ctx, src.Namespace, src.Name); err != nil {
			return err
		}
	}
	if srcClaim == nil {
		var backed *unstructured.Unstructured
		for i := range rb.saved {
			if savedObject(&rb.saved[i]).key() == src.key() {
				backed = &rb.saved[i]
			}
		}
		if backed == nil {
			return fmt.Errorf("claim %s/%s is not in the backup", src.Namespace, src.Name)
		}
		ri, err := rb.cl.resource(src)
		if err != nil {
			return err
		}
		m := restorable(backed)
		// The controllers' bookkeeping of the old binding would make the
		// new claim look bound already; the binder sets it again.
		ann := m.GetAnnotations()
		for k := range ann {
			if strings.HasPrefix(k, "pv.kubernetes.io/") || strings.HasPrefix(k, "volume.kubernetes.io/") {
				delete(ann, k)
			}
		}
		m.SetAnnotations(ann)
		m.SetFinalizers(nil)
		if _, err := ri.Create(ctx, m, metav1.CreateOptions{FieldManager: fieldManager}); err != nil {
			return fmt.Errorf("recreating claim %s/%s: %w", src.Namespace, src.Name, err)
		}
	}
	if err := v.waitBound(ctx, vol.Name, src.Namespace, src.Name); err != nil {
		return err
	}
	if policy != corev1.PersistentVolumeReclaimRetain {
		if err := v.setPolicy(ctx, vol.Name, policy); err != nil {
			return err
		}
	}
	r.Status, r.Message = StatusRestored, fmt.Sprintf("volume %s bound to claim %s/%s again; reclaim policy %s", vol.Name, src.Namespace, src.Name, policy)
	return rb.journal(RecordRestoreDone, r, nil)
}

// fromBackup finds the backed-up copy of a namespace: same name and UID.
func fromBackup(saved []unstructured.Unstructured, o Object) (*corev1.Namespace, error) {
	for i := range saved {
		u := &saved[i]
		if u.GetAPIVersion() == o.APIVersion && u.GetKind() == o.Kind && u.GetNamespace() == o.Namespace && u.GetName() == o.Name && string(u.GetUID()) == o.UID {
			if o.Kind != "Namespace" || o.APIVersion != "v1" {
				return nil, fmt.Errorf("%s: not a namespace", o)
			}
			var ns corev1.Namespace
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ns); err != nil {
				return nil, fmt.Errorf("%s in the backup: %w", o, err)
			}
			return &ns, nil
		}
	}
	return nil, fmt.Errorf("%s (uid %s) is not in the backup", o, o.UID)
}

// restoreNamespace recreates one namespace from its backup when it is gone.
// earlier tells whether a namespace under another UID is the one an
// earlier attempt of the rollback recreated; intends notes that this one
// journalled its intent.
func restoreNamespace(ctx context.Context, cl *cluster, o RollbackOptions, j *journal, r *StepResult, src *corev1.Namespace,
	earlier func(*corev1.Namespace) bool, intends func()) error {
	obj := r.Object
	ns, err := cl.namespace(ctx, obj.Name)
	if err != nil {
		return err
	}
	switch {
	case ns != nil && string(ns.UID) != obj.UID && ns.DeletionTimestamp == nil && earlier(ns):
		msg := fmt.Sprintf("recreated by an earlier attempt of this rollback (uid %s)", ns.UID)
		if j == nil {
			r.Status, r.Message = StatusDryRun, msg
			return nil
		}
		r.Status, r.Message = StatusRestored, msg
		return j.add(Record{Type: RecordRestoreDone, Step: r.Index, Change: ChangeRestore, Object: &obj,
			After: &After{UID: string(ns.UID), ResourceVersion: ns.ResourceVersion}})
	case ns != nil && string(ns.UID) != obj.UID:
		r.Status, r.Message = StatusBlocked, fmt.Sprintf("exists again with another uid (%s), created since: left as it is", ns.UID)
		return nil
	case ns != nil && ns.DeletionTimestamp == nil:
		r.Status, r.Message = StatusUnchanged, "was not deleted: nothing to restore"
		return nil
	case ns != nil && j == nil:
		r.Status, r.Message = StatusDryRun, "still Terminating: the rollback will wait for it to go, then recreate it"
		return nil
	}
	if j != nil {
		if err := j.add(Record{Type: RecordRestoreIntent, Step: r.Index, Change: ChangeRestore, Object: &obj}); err != nil {
			return err
		}
		intends()
	}
	if ns != nil {
		if err := cl.waitGone(ctx, obj.Name, obj.UID, o.Wait); err != nil {
			r.Status, r.Message = StatusFailed, err.Error()
			return fmt.Errorf("rollback, step %d: %w", r.Index, err)
		}
	}
	// What the server sets (UID, resourceVersion, creation time, status)
	// is left for it to set again; labels, annotations and finalizers are
	// what the namespace had.
	restored := &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: src.Name, Labels: src.Labels, Annotations: src.Annotations, Finalizers: src.Finalizers},
		Spec:       src.Spec,
	}
	opts := metav1.CreateOptions{FieldManager: "purser"}
	if j == nil {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	created, err := cl.kube.CoreV1().Namespaces().Create(ctx, restored, opts)
	if err != nil {
		r.Status, r.Message = StatusFailed, err.Error()
		return fmt.Errorf("rollback, step %d: recreating %s: %w", r.Index, obj, err)
	}
	if j == nil {
		r.Status, r.Message = StatusDryRun, "gone; the server accepts its recreation"
		return nil
	}
	o.Log.Info("restored", "object", obj.String(), "uid", created.UID)
	r.Status, r.Message = StatusRestored, fmt.Sprintf("recreated (uid %s)", created.UID)
	return j.add(Record{Type: RecordRestoreDone, Step: r.Index, Change: ChangeRestore, Object: &obj,
		After: &After{UID: string(created.UID), ResourceVersion: created.ResourceVersion}})
}
