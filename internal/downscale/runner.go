// Package downscale puts workloads to sleep at night and wakes them in
// the morning. Its engine (package engine) decides; the Runner here
// carries the decisions out against the API server, one Update per
// object, with the original value recorded in an annotation in that same
// update, and records every action.
package downscale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/downscale/engine"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
)

// fieldManager names Purser in the objects' managed fields.
const fieldManager = "purser-downscale"

// ActionLog is where actions are recorded: *store.Store.
type ActionLog interface {
	LogAction(ctx context.Context, a store.Action) (int64, error)
}

// Options configure a Runner.
type Options struct {
	// Config is the downscale section; Rules the classify section (teams
	// and environments of the schedules); Holidays the calendar.
	Config   engine.Config
	Rules    classify.Rules
	Holidays *engine.Calendar
	Clock    clock.PassiveClock
	Log      *slog.Logger
	// Actions, when set, receives every action (the store's action log);
	// Actor and Cluster are recorded with them.
	Actions ActionLog
	Actor   string
	Cluster string
	// Namespaces, when set, narrow scheduled runs to these namespaces.
	Namespaces []string
	// WaitReady bounds how long a wake waits for a StatefulSet to be ready
	// before it wakes the workloads that use it; zero does not wait.
	WaitReady time.Duration
}

// Runner carries out downscale decisions on a cluster. Build it with
// NewRunner; the budget engine calls Sleep and Wake.
type Runner struct {
	kube kubernetes.Interface
	dyn  dynamic.Interface
	o    Options
}

// NewRunner returns a Runner acting through kube and dyn (dynamic, for
// Argo CD and Flux objects; nil skips them: workloads they manage are
// then skipped as unknown).
func NewRunner(kube kubernetes.Interface, dyn dynamic.Interface, o Options) *Runner {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Actor == "" {
		o.Actor = "purser"
	}
	return &Runner{kube: kube, dyn: dyn, o: o}
}

// Record is one action of a run.
type Record struct {
	At      time.Time  `json:"at"`
	Action  string     `json:"action"`
	Object  engine.Ref `json:"object"`
	Outcome string     `json:"outcome"`
	Reason  string     `json:"reason"`
	From    *int32     `json:"from,omitempty"`
	To      *int32     `json:"to,omitempty"`
	Error   string     `json:"error,omitempty"`
	Via     string     `json:"via,omitempty"`
}

// Outcomes of a record.
const (
	Done         = "done"
	Unchanged    = "unchanged"
	ManualChange = "manual-change-kept"
	Failed       = "failed"
	Refused      = "refused"
)

// Report is what a run did.
type Report struct {
	Records []Record `json:"records"`
}

// Gitops GroupVersionResources.
var (
	gvrApplication   = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	gvrKustomization = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	gvrHelmRelease   = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}
)

func gitopsGVR(kind string) schema.GroupVersionResource {
	switch kind {
	case "Application":
		return gvrApplication
	case "Kustomization":
		return gvrKustomization
	}
	return gvrHelmRelease
}

// GitOps reads the Argo CD Applications and Flux Kustomizations and
// HelmReleases of the cluster. known is false when one kind could not be
// listed for another reason than its API not being installed.
func (r *Runner) GitOps(ctx context.Context) (objs []engine.GitOpsObject, known bool, err error) {
	if r.dyn == nil {
		return nil, false, nil
	}
	known = true
	for _, kind := range []string{"Application", "Kustomization", "HelmRelease"} {
		list, err := r.dyn.Resource(gitopsGVR(kind)).List(ctx, metav1.ListOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue // not installed: nothing of that kind manages anything
		case apierrors.IsForbidden(err):
			r.o.Log.Warn("cannot list GitOps objects: the workloads they manage are skipped", "kind", kind, "error", err)
			known = false
			continue
		case err != nil:
			return nil, false, fmt.Errorf("listing %s: %w", gitopsGVR(kind).GroupResource(), err)
		}
		for _, u := range list.Items {
			g := engine.GitOpsObject{Ref: engine.Ref{Kind: kind, Namespace: u.GetNamespace(), Name: u.GetName()}}
			_, g.Paused = u.GetAnnotations()[pausedAnnotation(kind)]
			if kind == "Application" {
				g.SelfHeal, _, _ = unstructured.NestedBool(u.Object, "spec", "syncPolicy", "automated", "selfHeal")
			} else {
				g.Suspended, _, _ = unstructured.NestedBool(u.Object, "spec", "suspend")
			}
			objs = append(objs, g)
		}
	}
	return objs, known, nil
}

func pausedAnnotation(kind string) string {
	if kind == "Application" {
		return engine.AnnoOriginalAutomated
	}
	return engine.AnnoOriginalSuspend
}

// observe reads what a decision needs, one cluster-wide list per kind.
func (r *Runner) observe(ctx context.Context) (*snapshot.Index, error) {
	s := &snapshot.Snapshot{}
	var errs []error
	lists := []func() error{
		func() error {
			l, err := r.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			if err == nil {
				s.Namespaces = l.Items
			}
			return err
		},
		func() error {
			l, err := r.kube.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
			if err == nil {
				s.Deployments = l.Items
			}
			return err
		},
		func() error {
			l, err := r.kube.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{})
			if err == nil {
				s.StatefulSets = l.Items
			}
			return err
		},
		func() error {
			l, err := r.kube.BatchV1().CronJobs("").List(ctx, metav1.ListOptions{})
			if err == nil {
				s.CronJobs = l.Items
			}
			return err
		},
		func() error {
			l, err := r.kube.AutoscalingV2().HorizontalPodAutoscalers("").List(ctx, metav1.ListOptions{})
			if err == nil {
				s.HPAs = l.Items
			}
			return err
		},
		func() error {
			l, err := r.kube.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{})
			if err == nil {
				s.ConfigMaps = l.Items
			}
			return err
		},
	}
	for _, f := range lists {
		if err := f(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("reading workloads: %w", err)
	}
	return snapshot.NewIndex(s), nil
}

// Decide reads the cluster and decides (with force, as asked rather than
// by schedule).
func (r *Runner) Decide(ctx context.Context, ix *snapshot.Index, force *engine.Force) (*engine.Plan, error) {
	if ix == nil {
		var err error
		if ix, err = r.observe(ctx); err != nil {
			return nil, err
		}
	}
	g, known, err := r.GitOps(ctx)
	if err != nil {
		return nil, err
	}
	return engine.Decide(engine.Input{Index: ix, Config: r.o.Config, Rules: r.o.Rules, Holidays: r.o.Holidays,
		GitOps: g, GitOpsKnown: known, Now: r.o.Clock.Now(), Force: force, Namespaces: r.o.Namespaces}), nil
}

// Run decides by the schedules and carries the decisions out.
func (r *Runner) Run(ctx context.Context) (*engine.Plan, *Report, error) {
	p, err := r.Decide(ctx, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	rep, err := r.Execute(ctx, p, "")
	return p, rep, err
}

// Sleep scales every workload of the namespaces to its downtime value,
// recording the originals; workloads already asleep, excluded or
// managed by a GitOps controller the config does not pause are left as
// they are. A scheduled run does not wake what Sleep put to sleep: Wake
// does. Idempotent.
func (r *Runner) Sleep(ctx context.Context, namespaces []string, reason string) error {
	return r.forced(ctx, namespaces, reason, true)
}

// Wake restores the workloads of the namespaces, with the rules of the
// scheduled wake: a value changed by hand during the sleep is kept.
func (r *Runner) Wake(ctx context.Context, namespaces []string, reason string) error {
	return r.forced(ctx, namespaces, reason, false)
}

func (r *Runner) forced(ctx context.Context, namespaces []string, reason string, sleep bool) error {
	if reason == "" {
		return errors.New("a downscale on request needs a reason")
	}
	p, err := r.Decide(ctx, nil, &engine.Force{Sleep: sleep, Namespaces: namespaces, Reason: reason})
	if err != nil {
		return err
	}
	_, err = r.Execute(ctx, p, engine.ByRequest)
	return err
}

// WakeFor wakes a namespace now and marks it awake until now+d: the
// first scheduled run after that puts it back to sleep.
func (r *Runner) WakeFor(ctx context.Context, namespace string, d time.Duration, reason string) (time.Time, *engine.Plan, *Report, error) {
	until := r.o.Clock.Now().Add(d).UTC().Truncate(time.Second)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{engine.AnnoAwakeUntil: until.Format(time.RFC3339)}}})
	if err != nil {
		return until, nil, nil, err
	}
	if _, err := r.kube.CoreV1().Namespaces().Patch(ctx, namespace, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager}); err != nil {
		return until, nil, nil, fmt.Errorf("marking namespace %s awake until %s: %w", namespace, until.Format(time.RFC3339), err)
	}
	p, err := r.Decide(ctx, nil, &engine.Force{Sleep: false, Namespaces: []string{namespace}, Reason: reason})
	if err != nil {
		return until, nil, nil, err
	}
	rep, err := r.Execute(ctx, p, engine.ByRequest)
	return until, p, rep, err
}

// Execute carries out a plan: GitOps pauses, sleeps, wakes (StatefulSets
// first), GitOps resumes. Each object is read again and changed in one
// Update carrying the resourceVersion read, so a change made since is
// never overwritten; a decision the fresh object no longer supports is
// not carried out. Decisions that could not be made are reported in the
// error, after the others are done. by is who the sleeps are recorded as
// done by ("" for the schedule).
func (r *Runner) Execute(ctx context.Context, p *engine.Plan, by string) (*Report, error) {
	if by == "" {
		by = engine.BySchedule
	}
	rep := &Report{}
	var errs []error
	add := func(rec Record, err error) {
		rec.At = r.o.Clock.Now().UTC()
		if err != nil {
			rec.Outcome, rec.Error = Failed, err.Error()
			errs = append(errs, fmt.Errorf("%s %s: %w", rec.Action, rec.Object, err))
		}
		rep.Records = append(rep.Records, rec)
		r.log(ctx, rec)
	}
	paused := map[engine.Ref]bool{}
	for _, g := range p.GitOps {
		if g.Action != "pause" {
			continue
		}
		rec, err := r.gitops(ctx, g)
		add(rec, err)
		paused[g.Object.Ref] = err == nil
	}
	woken := map[engine.Ref]bool{}
	for _, d := range p.Decisions {
		switch d.Action {
		case engine.Error:
			add(Record{Action: string(engine.Error), Object: d.Workload, Outcome: Refused, Reason: d.Reason}, nil)
			errs = append(errs, errors.New(d.Reason))
			continue
		case engine.Keep:
			continue
		}
		if d.Action == engine.Sleep && d.GitOps != nil && !paused[*d.GitOps] && !p.GitOpsPaused(*d.GitOps) {
			// Its controller could not be paused: sleeping would start a fight.
			add(Record{Action: string(d.Action), Object: d.Workload, Outcome: Refused, Reason: "its GitOps sync could not be paused"}, nil)
			continue
		}
		if d.Action == engine.Wake {
			r.waitFor(ctx, d.DependsOn, woken)
		}
		rec, err := r.apply(ctx, d, by)
		add(rec, err)
		if d.Action == engine.Wake && err == nil {
			woken[d.Workload] = true
		}
	}
	for _, g := range p.GitOps {
		if g.Action == "resume" {
			add(r.gitops(ctx, g))
		}
	}
	return rep, errors.Join(errs...)
}

// log writes a record to the action log and the logger.
func (r *Runner) log(ctx context.Context, rec Record) {
	r.o.Log.Info("downscale", "action", rec.Action, "object", rec.Object.String(), "outcome", rec.Outcome, "reason", rec.Reason)
	if r.o.Actions == nil {
		return
	}
	details, err := json.Marshal(rec)
	if err == nil {
		_, err = r.o.Actions.LogAction(ctx, store.Action{Cluster: r.o.Cluster, At: rec.At, Actor: r.o.Actor, Kind: "downscale-" + rec.Action,
			Object: rec.Object.String(), Outcome: rec.Outcome, Details: details})
	}
	if err != nil {
		r.o.Log.Warn("could not record a downscale action", "object", rec.Object.String(), "error", err)
	}
}

// waitFor waits, up to WaitReady, for the StatefulSets a workload uses
// that this run woke to be ready.
func (r *Runner) waitFor(ctx context.Context, deps []engine.Ref, woken map[engine.Ref]bool) {
	if r.o.WaitReady <= 0 {
		return
	}
	deadline := time.Now().Add(r.o.WaitReady)
	for _, dep := range deps {
		if !woken[dep] {
			continue
		}
		for time.Now().Before(deadline) {
			st, err := r.kube.AppsV1().StatefulSets(dep.Namespace).Get(ctx, dep.Name, metav1.GetOptions{})
			if err != nil || st.Spec.Replicas == nil || st.Status.ReadyReplicas >= *st.Spec.Replicas {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// apply carries out one sleep or wake on a fresh read of the object.
func (r *Runner) apply(ctx context.Context, d engine.Decision, by string) (Record, error) {
	rec := Record{Action: string(d.Action), Object: d.Workload, Reason: d.Reason, Via: d.Via}
	ref := d.Workload
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		switch {
		case d.Via == engine.ViaSuspend:
			c := r.kube.BatchV1().CronJobs(ref.Namespace)
			cj, err := c.Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if r.suspend(&cj.ObjectMeta, cj, d, by, &rec) {
				_, err = c.Update(ctx, cj, metav1.UpdateOptions{FieldManager: fieldManager})
			}
			return err
		case d.Via == engine.ViaMinReplica:
			c := r.kube.AutoscalingV2().HorizontalPodAutoscalers(ref.Namespace)
			h, err := c.Get(ctx, d.HPA, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if r.count(&h.ObjectMeta, &h.Spec.MinReplicas, engine.AnnoOriginalMinReplicas, d, by, &rec) {
				_, err = c.Update(ctx, h, metav1.UpdateOptions{FieldManager: fieldManager})
			}
			return err
		case ref.Kind == "Deployment":
			c := r.kube.AppsV1().Deployments(ref.Namespace)
			o, err := c.Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if r.count(&o.ObjectMeta, &o.Spec.Replicas, engine.AnnoOriginalReplicas, d, by, &rec) {
				_, err = c.Update(ctx, o, metav1.UpdateOptions{FieldManager: fieldManager})
			}
			return err
		case ref.Kind == "StatefulSet":
			c := r.kube.AppsV1().StatefulSets(ref.Namespace)
			o, err := c.Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if r.count(&o.ObjectMeta, &o.Spec.Replicas, engine.AnnoOriginalReplicas, d, by, &rec) {
				_, err = c.Update(ctx, o, metav1.UpdateOptions{FieldManager: fieldManager})
			}
			return err
		}
		return fmt.Errorf("cannot scale a %s", ref.Kind)
	})
	return rec, err
}

func (r *Runner) markAsleep(m *metav1.ObjectMeta, key, original, reason, by string) {
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[key] = original
	m.Annotations[engine.AnnoSince] = r.o.Clock.Now().UTC().Format(time.RFC3339)
	m.Annotations[engine.AnnoReason] = reason
	m.Annotations[engine.AnnoBy] = by
}

func unmark(m *metav1.ObjectMeta, key string) {
	for _, k := range []string{key, engine.AnnoSince, engine.AnnoReason, engine.AnnoBy} {
		delete(m.Annotations, k)
	}
}

// count applies a sleep or wake to a replica count (a workload's
// replicas, an HPA's minReplicas) and its annotations, and says whether
// the object changed.
func (r *Runner) count(m *metav1.ObjectMeta, field **int32, key string, d engine.Decision, by string, rec *Record) bool {
	cur := int32(1)
	if *field != nil {
		cur = **field
	}
	rec.From = ptr(cur)
	raw, asleep := m.Annotations[key]
	downtime := r.o.Config.DowntimeReplicas
	if d.Action == engine.Sleep {
		if asleep || cur <= downtime {
			rec.Outcome = Unchanged
			return false
		}
		r.markAsleep(m, key, strconv.Itoa(int(cur)), d.Reason, by)
		*field = ptr(downtime)
		rec.To, rec.Outcome = ptr(downtime), Done
		return true
	}
	if !asleep {
		rec.Outcome = Unchanged
		return false
	}
	orig, err := strconv.ParseInt(raw, 10, 32)
	unmark(m, key)
	if err != nil || cur != downtime {
		// Changed by hand during the night (or the record is unreadable):
		// the value now is someone's decision and stays.
		rec.To, rec.Outcome = ptr(cur), ManualChange
		return true
	}
	*field = ptr(int32(orig))
	rec.To, rec.Outcome = ptr(int32(orig)), Done
	return true
}

// suspend applies a sleep or wake to a CronJob.
func (r *Runner) suspend(m *metav1.ObjectMeta, cj *batchv1.CronJob, d engine.Decision, by string, rec *Record) bool {
	cur := cj.Spec.Suspend != nil && *cj.Spec.Suspend
	rec.From = ptr(boolInt(cur))
	raw, asleep := m.Annotations[engine.AnnoOriginalSuspend]
	if d.Action == engine.Sleep {
		if asleep || cur {
			rec.Outcome = Unchanged
			return false
		}
		r.markAsleep(m, engine.AnnoOriginalSuspend, "false", d.Reason, by)
		cj.Spec.Suspend = ptr(true)
		rec.To, rec.Outcome = ptr(int32(1)), Done
		return true
	}
	if !asleep {
		rec.Outcome = Unchanged
		return false
	}
	orig, err := strconv.ParseBool(raw)
	unmark(m, engine.AnnoOriginalSuspend)
	if err != nil || !cur {
		rec.To, rec.Outcome = ptr(boolInt(cur)), ManualChange
		return true
	}
	cj.Spec.Suspend = ptr(orig)
	rec.To, rec.Outcome = ptr(boolInt(orig)), Done
	return true
}

// gitops pauses or resumes a GitOps object, recording what it had in the
// same update.
func (r *Runner) gitops(ctx context.Context, g engine.GitOpsDecision) (Record, error) {
	rec := Record{Action: "gitops-" + g.Action, Object: g.Object.Ref, Reason: g.Reason}
	if r.dyn == nil {
		return rec, errors.New("no dynamic client")
	}
	key := pausedAnnotation(g.Object.Kind)
	c := r.dyn.Resource(gitopsGVR(g.Object.Kind)).Namespace(g.Object.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u, err := c.Get(ctx, g.Object.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		ann := u.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		_, paused := ann[key]
		switch {
		case g.Action == "pause" && paused, g.Action == "resume" && !paused:
			rec.Outcome = Unchanged
			return nil
		case g.Action == "pause" && g.Object.Kind == "Application":
			automated, found, err := unstructured.NestedFieldCopy(u.Object, "spec", "syncPolicy", "automated")
			if err != nil {
				return fmt.Errorf("reading spec.syncPolicy.automated: %w", err)
			}
			if !found {
				rec.Outcome = Unchanged // no automated sync: nothing fights
				return nil
			}
			b, err := json.Marshal(automated)
			if err != nil {
				return err
			}
			ann[key] = string(b)
			unstructured.RemoveNestedField(u.Object, "spec", "syncPolicy", "automated")
		case g.Action == "pause":
			was, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend")
			ann[key] = strconv.FormatBool(was)
			if err := unstructured.SetNestedField(u.Object, true, "spec", "suspend"); err != nil {
				return err
			}
		case g.Object.Kind == "Application":
			// Restored unless someone set a sync policy of their own since.
			if _, found, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "syncPolicy", "automated"); !found {
				var automated map[string]any
				if err := json.Unmarshal([]byte(ann[key]), &automated); err != nil {
					return fmt.Errorf("annotation %s: %w", key, err)
				}
				if err := unstructured.SetNestedField(u.Object, automated, "spec", "syncPolicy", "automated"); err != nil {
					return err
				}
			}
			delete(ann, key)
		default:
			was, err := strconv.ParseBool(ann[key])
			if err != nil {
				return fmt.Errorf("annotation %s=%q: %w", key, ann[key], err)
			}
			if now, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend"); now {
				if err := unstructured.SetNestedField(u.Object, was, "spec", "suspend"); err != nil {
					return err
				}
			}
			delete(ann, key)
		}
		u.SetAnnotations(ann)
		_, err = c.Update(ctx, u, metav1.UpdateOptions{FieldManager: fieldManager})
		if err == nil {
			rec.Outcome = Done
		}
		return err
	})
	return rec, err
}

func ptr[T any](v T) *T { return &v }

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
