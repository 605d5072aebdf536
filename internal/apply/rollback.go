package apply

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
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

// ChangeRestore recreates an object from the backup, in a rollback.
const ChangeRestore Change = "restore"

// RollbackOptions say which run to roll back.
type RollbackOptions struct {
	// Journal is the journal of the run; its backup is beside it.
	Journal string
	// Approve is the content hash of the plan the run carried out, as its
	// journal records it. Empty, the rollback is a dry run.
	Approve string
	// Wait bounds the wait for a namespace still Terminating to go before
	// it is recreated; DefaultWait when zero.
	Wait  time.Duration
	Clock clock.PassiveClock
	Log   *slog.Logger
}

// Rollback restores what the run of a journal changed, from its backup,
// last step first: every namespace a step started to delete is recreated
// with its labels, annotations, finalizers and spec when it is gone. A namespace that
// is still there is left alone; one that was created again by someone else
// since (another UID) is reported, never touched. Without an approval it
// is a dry run: each creation is sent to the server as a dry run.
//
// The steps of this version create nothing, so there is nothing of
// Purser's own to remove.
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
	started := map[int]Object{}
	for _, r := range jr.Records {
		if r.Type == RecordIntent && r.Object != nil {
			started[r.Step] = *r.Object
		}
	}
	states := jr.states()
	idx := make([]int, 0, len(started))
	for i := range started {
		idx = append(idx, i)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(idx)))
	for _, i := range idx {
		obj := started[i]
		res := StepResult{Step: Step{Index: i, Change: ChangeRestore, Object: obj,
			What: fmt.Sprintf("recreate %s from the backup, with its labels and annotations", obj)}, Status: StatusPending}
		if states[i].restored {
			res.Status, res.Message = StatusRestored, "restored by an earlier rollback"
		}
		rep.Steps = append(rep.Steps, res)
	}
	cl, err := newCluster(cfg)
	if err != nil {
		return rep, err
	}
	if host := "live:" + cfg.Host; jr.Begin.Source != host {
		return rep, fmt.Errorf("journal %s records a run on %s, not on this cluster (%s): nothing was changed", o.Journal, jr.Begin.Source, host)
	}
	var j *journal
	if o.Approve != "" {
		if j, err = appendJournal(o.Journal, o.Clock.Now); err != nil {
			return rep, err
		}
		defer j.close()
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
		src, err := fromBackup(saved, r.Object)
		if err != nil {
			return rep, fmt.Errorf("journal %s, step %d: %w", o.Journal, r.Index, err)
		}
		if err := restoreNamespace(ctx, cl, o, j, r, src); err != nil {
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

// fromBackup finds the backed-up copy of o: same kind, name and UID.
func fromBackup(saved []unstructured.Unstructured, o Object) (*corev1.Namespace, error) {
	for i := range saved {
		u := &saved[i]
		if u.GetAPIVersion() == o.APIVersion && u.GetKind() == o.Kind && u.GetNamespace() == o.Namespace && u.GetName() == o.Name && string(u.GetUID()) == o.UID {
			if o.Kind != "Namespace" || o.APIVersion != "v1" {
				return nil, fmt.Errorf("%s: cannot restore a %s", o, o.Kind)
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
func restoreNamespace(ctx context.Context, cl *cluster, o RollbackOptions, j *journal, r *StepResult, src *corev1.Namespace) error {
	obj := r.Object
	ns, err := cl.namespace(ctx, obj.Name)
	if err != nil {
		return err
	}
	switch {
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
