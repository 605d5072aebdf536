package engine

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/snapshot"
)

// Annotations Purser reads and writes. The state of a sleeping workload
// lives on the object itself, written in the same update as the scale
// change: the annotations are the backup of what a run changed.
const (
	AnnoExclude      = "purser.dev/downscale-exclude"
	AnnoExcludeUntil = "purser.dev/downscale-exclude-until"
	AnnoSchedule     = "purser.dev/downscale-schedule"
	AnnoAwakeUntil   = "purser.dev/downscale-awake-until"

	AnnoOriginalReplicas    = "purser.dev/downscale-original-replicas"
	AnnoOriginalMinReplicas = "purser.dev/downscale-original-min-replicas"
	AnnoOriginalSuspend     = "purser.dev/downscale-original-suspend"
	AnnoOriginalAutomated   = "purser.dev/downscale-original-automated"
	AnnoSince               = "purser.dev/downscale-since"
	AnnoReason              = "purser.dev/downscale-reason"
	// AnnoBy says who put a workload to sleep: "schedule", or "request"
	// (a budget, a user): a scheduled run wakes only what a schedule slept.
	AnnoBy = "purser.dev/downscale-by"
)

// Who put a workload to sleep.
const (
	BySchedule = "schedule"
	ByRequest  = "request"
)

// Action is what a run does to a workload.
type Action string

// Actions.
const (
	Sleep Action = "sleep"
	Wake  Action = "wake"
	Keep  Action = "keep"
	// Error is a workload whose annotations could not be read: it is
	// left as it is and the run fails once the others are done.
	Error Action = "error"
)

// Via says which field a sleep changes.
const (
	ViaReplicas   = "replicas"
	ViaMinReplica = "hpa-min-replicas"
	ViaSuspend    = "suspend"
)

// Ref names an object.
type Ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// GitOpsObject is an Argo CD Application, a Flux Kustomization or a Flux
// HelmRelease, as the executor reads it (the snapshot keeps custom
// resources as references only).
type GitOpsObject struct {
	Ref
	// SelfHeal is an Application's syncPolicy.automated.selfHeal; Flux
	// objects always put drift back, unless suspended.
	SelfHeal  bool `json:"selfHeal"`
	Suspended bool `json:"suspended"`
	// Paused says Purser paused it (its original is recorded on it).
	Paused bool `json:"paused"`
}

// fights tells whether the controller would undo a scale-down.
func (g GitOpsObject) fights() bool {
	if g.Kind == "Application" {
		return g.SelfHeal || g.Paused
	}
	return !g.Suspended || g.Paused
}

// Force replaces the schedules: a budget or a user asks for the
// namespaces to sleep or wake now.
type Force struct {
	Sleep      bool
	Namespaces []string
	Reason     string
}

// Input is what a decision depends on.
type Input struct {
	Index    *snapshot.Index
	Config   Config
	Rules    classify.Rules
	Holidays *Calendar
	// GitOps are the GitOps objects of the cluster; GitOpsKnown says
	// they could be read (false offline, or when listing was refused).
	GitOps      []GitOpsObject
	GitOpsKnown bool
	Now         time.Time
	Force       *Force
	// Namespaces, when set, narrow the decisions to these namespaces.
	Namespaces []string
}

// Decision is what a run does to one workload, and why.
type Decision struct {
	Workload Ref    `json:"workload"`
	Action   Action `json:"action"`
	Reason   string `json:"reason"`
	// Schedule is the schedule that applies, and From where it comes
	// (an annotation, a config rule).
	Schedule     string `json:"schedule,omitempty"`
	ScheduleFrom string `json:"scheduleFrom,omitempty"`
	Via          string `json:"via,omitempty"`
	// HPA is the autoscaler of the workload, if any.
	HPA string `json:"hpa,omitempty"`
	// Current is the replicas (or minReplicas, or 1/0 for a CronJob's
	// suspend) now; Target after the action.
	Current int32 `json:"current"`
	Target  int32 `json:"target"`
	// Original is what a wake restores.
	Original int32 `json:"original,omitempty"`
	// ManualChange says a wake found the value changed during the night:
	// the change is kept and only Purser's annotations are removed.
	ManualChange bool       `json:"manualChange,omitempty"`
	Since        *time.Time `json:"since,omitempty"`
	Until        *time.Time `json:"until,omitempty"`
	By           string     `json:"by,omitempty"`
	GitOps       *Ref       `json:"gitops,omitempty"`
	// DependsOn are the StatefulSets this workload's configuration
	// names: they are woken first.
	DependsOn []Ref `json:"dependsOn,omitempty"`
	// Pods is how many pods the workload runs now (0 for a CronJob).
	Pods int `json:"pods"`
}

// GitOpsDecision pauses or resumes a GitOps object's sync.
type GitOpsDecision struct {
	Object GitOpsObject `json:"object"`
	Action string       `json:"action"` // "pause" or "resume"
	Reason string       `json:"reason"`
}

// Plan is a run's decisions: GitOps pauses first, then sleeps, then wakes
// (StatefulSets first), then GitOps resumes.
type Plan struct {
	Now       time.Time        `json:"now"`
	Decisions []Decision       `json:"decisions"`
	GitOps    []GitOpsDecision `json:"gitops,omitempty"`
	// paused are the GitOps objects Purser had paused before the run.
	paused []Ref
}

// Errors are the decisions that could not be made.
func (p *Plan) Errors() []Decision {
	var out []Decision
	for _, d := range p.Decisions {
		if d.Action == Error {
			out = append(out, d)
		}
	}
	return out
}

// Changes counts the decisions that change something.
func (p *Plan) Changes() int {
	n := len(p.GitOps)
	for _, d := range p.Decisions {
		if d.Action == Sleep || d.Action == Wake {
			n++
		}
	}
	return n
}

// workload is the part of a Deployment, StatefulSet or CronJob a decision
// reads.
type workload struct {
	ref      Ref
	meta     *metav1.ObjectMeta
	replicas int32 // -1 for a CronJob
	suspend  bool
	spec     *corev1.PodSpec
	service  string // a StatefulSet's governing Service
}

// Decide makes the decision for every Deployment, StatefulSet and
// CronJob of the snapshot (of Force's namespaces when forced).
func Decide(in Input) *Plan {
	p := &Plan{Now: in.Now}
	s := in.Index.S
	var ws []workload
	for i := range s.Deployments {
		d := &s.Deployments[i]
		ws = append(ws, workload{ref: Ref{"Deployment", d.Namespace, d.Name}, meta: &d.ObjectMeta, replicas: replicasOf(d.Spec.Replicas), spec: &d.Spec.Template.Spec})
	}
	for i := range s.StatefulSets {
		st := &s.StatefulSets[i]
		ws = append(ws, workload{ref: Ref{"StatefulSet", st.Namespace, st.Name}, meta: &st.ObjectMeta, replicas: replicasOf(st.Spec.Replicas),
			spec: &st.Spec.Template.Spec, service: st.Spec.ServiceName})
	}
	for i := range s.CronJobs {
		c := &s.CronJobs[i]
		ws = append(ws, workload{ref: Ref{"CronJob", c.Namespace, c.Name}, meta: &c.ObjectMeta, replicas: -1,
			suspend: c.Spec.Suspend != nil && *c.Spec.Suspend, spec: &c.Spec.JobTemplate.Spec.Template.Spec})
	}
	d := decider{in: in, hpas: hpasByTarget(s.HPAs), ns: map[string]*corev1.Namespace{}, gitops: map[Ref]GitOpsObject{},
		pods: podsByOwner(in.Index)}
	for i := range s.Namespaces {
		d.ns[s.Namespaces[i].Name] = &s.Namespaces[i]
	}
	for _, g := range in.GitOps {
		d.gitops[g.Ref] = g
	}
	services := map[string][]Ref{} // namespace → StatefulSets by Service
	for _, w := range ws {
		if w.ref.Kind == "StatefulSet" && w.service != "" {
			services[w.ref.Namespace] = append(services[w.ref.Namespace], w.ref)
		}
	}
	svcName := map[Ref]string{}
	for _, w := range ws {
		if w.service != "" {
			svcName[w.ref] = w.service
		}
	}
	for _, w := range ws {
		if in.Force != nil && !slices.Contains(in.Force.Namespaces, w.ref.Namespace) ||
			len(in.Namespaces) > 0 && !slices.Contains(in.Namespaces, w.ref.Namespace) {
			continue
		}
		dec := d.decide(w)
		if w.ref.Kind != "StatefulSet" {
			for _, st := range services[w.ref.Namespace] {
				if names(w.spec, s.ConfigMaps, w.ref.Namespace, svcName[st]) {
					dec.DependsOn = append(dec.DependsOn, st)
				}
			}
		}
		p.Decisions = append(p.Decisions, dec)
	}
	slices.SortStableFunc(p.Decisions, func(a, b Decision) int { return order(a) - order(b) })
	p.GitOps = d.gitopsDecisions(p.Decisions)
	for _, g := range in.GitOps {
		if g.Paused {
			p.paused = append(p.paused, g.Ref)
		}
	}
	return p
}

// order puts sleeps before wakes, StatefulSets last to sleep and first to
// wake, so that what uses a database stops before it and starts after it.
func order(d Decision) int {
	sts := d.Workload.Kind == "StatefulSet"
	switch {
	case d.Action == Sleep && !sts:
		return 0
	case d.Action == Sleep:
		return 1
	case d.Action == Wake && sts:
		return 2
	case d.Action == Wake:
		return 3
	}
	return 4
}

func replicasOf(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

type decider struct {
	in     Input
	hpas   map[Ref]*autoscalingv2.HorizontalPodAutoscaler
	ns     map[string]*corev1.Namespace
	gitops map[Ref]GitOpsObject
	pods   map[Ref]int
}

func hpasByTarget(hpas []autoscalingv2.HorizontalPodAutoscaler) map[Ref]*autoscalingv2.HorizontalPodAutoscaler {
	out := map[Ref]*autoscalingv2.HorizontalPodAutoscaler{}
	for i := range hpas {
		h := &hpas[i]
		out[Ref{h.Spec.ScaleTargetRef.Kind, h.Namespace, h.Spec.ScaleTargetRef.Name}] = h
	}
	return out
}

func podsByOwner(ix *snapshot.Index) map[Ref]int {
	out := map[Ref]int{}
	for i := range ix.S.Pods {
		p := &ix.S.Pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		top := ix.TopOwner("Pod", p)
		out[Ref{top.Kind, top.Namespace, top.Name}]++
	}
	return out
}

// annotation returns the workload's annotation, else its namespace's.
func (d *decider) annotation(w workload, key string) (string, string, bool) {
	if v, ok := w.meta.Annotations[key]; ok {
		return v, w.ref.String(), true
	}
	if ns := d.ns[w.ref.Namespace]; ns != nil {
		if v, ok := ns.Annotations[key]; ok {
			return v, "Namespace/" + ns.Name, true
		}
	}
	return "", "", false
}

func (d *decider) decide(w workload) Decision {
	now := d.in.Now
	dec := Decision{Workload: w.ref, Pods: d.pods[w.ref]}
	fail := func(format string, a ...any) Decision {
		dec.Action, dec.Reason = Error, fmt.Sprintf(format, a...)
		return dec
	}
	// State: is it asleep, by what field, since when.
	hpa := d.hpas[w.ref]
	if hpa != nil {
		dec.HPA = hpa.Name
	}
	state := w.meta.Annotations
	switch {
	case w.ref.Kind == "CronJob":
		dec.Via = ViaSuspend
		dec.Current = boolInt(w.suspend)
	case hpa != nil && (d.in.Config.DowntimeReplicas > 0 || hpa.Annotations[AnnoOriginalMinReplicas] != ""):
		dec.Via = ViaMinReplica
		dec.Current = replicasOf(hpa.Spec.MinReplicas)
		state = hpa.Annotations
	default:
		dec.Via = ViaReplicas
		dec.Current = w.replicas
	}
	origKey := map[string]string{ViaReplicas: AnnoOriginalReplicas, ViaMinReplica: AnnoOriginalMinReplicas, ViaSuspend: AnnoOriginalSuspend}[dec.Via]
	rawOrig, asleep := state[origKey]
	if asleep {
		if dec.Via == ViaSuspend {
			b, err := strconv.ParseBool(rawOrig)
			if err != nil {
				return fail("%s: annotation %s=%q: expected true or false", w.ref, origKey, rawOrig)
			}
			dec.Original = boolInt(b)
		} else {
			n, err := strconv.ParseInt(rawOrig, 10, 32)
			if err != nil || n < 0 {
				return fail("%s: annotation %s=%q: expected a replica count", w.ref, origKey, rawOrig)
			}
			dec.Original = int32(n)
		}
		dec.By = state[AnnoBy]
		if dec.By == "" {
			dec.By = BySchedule
		}
		if v := state[AnnoSince]; v != "" {
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				dec.Since = &t
			}
		}
	}
	downtime := d.in.Config.DowntimeReplicas
	if dec.Via == ViaSuspend {
		downtime = 1
	}
	// Every annotation is read before anything is decided: a malformed one
	// leaves the workload untouched whatever else it says.
	excluded := false
	if v, from, ok := d.annotation(w, AnnoExclude); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fail("%s: annotation %s=%q on %s: expected true or false", w.ref, AnnoExclude, v, from)
		}
		excluded = b
	}
	var excludedUntil, awakeUntil time.Time
	for _, a := range []struct {
		key string
		to  *time.Time
	}{{AnnoExcludeUntil, &excludedUntil}, {AnnoAwakeUntil, &awakeUntil}} {
		if v, from, ok := d.annotation(w, a.key); ok {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return fail("%s: annotation %s=%q on %s: expected an RFC 3339 time such as 2026-03-01T08:00:00Z", w.ref, a.key, v, from)
			}
			*a.to = t
		}
	}
	sched, err := d.schedule(w, &dec)
	if err != nil {
		return fail("%s", err)
	}
	wake := func(reason string) Decision {
		dec.Action, dec.Reason, dec.Target = Wake, reason, dec.Original
		if dec.Current != downtime {
			// Someone changed it during the night: theirs wins.
			dec.ManualChange, dec.Target = true, dec.Current
			dec.Reason += fmt.Sprintf("; changed by hand to %d during the night: kept, annotations removed", dec.Current)
		}
		return dec
	}
	keep := func(reason string) Decision {
		dec.Action, dec.Reason, dec.Target = Keep, reason, dec.Current
		return dec
	}
	switch {
	case excluded || now.Before(excludedUntil):
		why := "excluded by " + AnnoExclude
		if !excluded {
			why = "excluded until " + excludedUntil.UTC().Format(time.RFC3339)
		}
		if asleep {
			return wake(why)
		}
		return keep(why)
	case now.Before(awakeUntil):
		why := "awake on request until " + awakeUntil.UTC().Format(time.RFC3339)
		if asleep {
			return wake(why)
		}
		return keep(why)
	}
	var want bool
	var why string
	if f := d.in.Force; f != nil {
		want, why = f.Sleep, f.Reason
	} else {
		if sched == nil {
			if asleep && dec.By == BySchedule {
				return wake("no schedule applies any more")
			}
			return keep("no schedule")
		}
		if asleep && dec.By != BySchedule {
			return keep("asleep on request: " + state[AnnoReason])
		}
		var until time.Time
		want, until = sched.Asleep(now)
		if want {
			dec.Until = &until
			why = fmt.Sprintf("in the window of %s until %s", dec.Schedule, until.Format(time.RFC3339))
		} else {
			why = fmt.Sprintf("outside the window of %s", dec.Schedule)
			if next := sched.NextSleep(now); !next.IsZero() {
				dec.Until = &next
			}
		}
	}
	switch {
	case want && asleep:
		return keep("asleep: " + why)
	case !want && asleep:
		return wake(why)
	case !want:
		return keep("awake: " + why)
	}
	// To sleep: only if it changes something and nothing would undo it.
	if dec.Via == ViaSuspend && w.suspend {
		return keep("already suspended: nothing to restore")
	}
	if dec.Via != ViaSuspend && dec.Current <= downtime {
		return keep(fmt.Sprintf("already at %d, at or below the downtime value %d", dec.Current, downtime))
	}
	if g, reason := d.managedBy(w); reason != "" {
		if g == nil || d.in.Config.Mode() != GitOpsPause {
			if g != nil {
				dec.GitOps = &g.Ref
				reason += " (gitops: skip; set downscale.gitops: pause to pause its sync for the night)"
			}
			return keep("skipped: " + reason)
		}
		dec.GitOps = &g.Ref
	}
	dec.Action, dec.Reason, dec.Target = Sleep, why, downtime
	return dec
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// schedule is the schedule that applies to w: its own annotation, its
// namespace's, else the first config rule that matches; nil for none.
func (d *decider) schedule(w workload, dec *Decision) (*Schedule, error) {
	if v, from, ok := d.annotation(w, AnnoSchedule); ok {
		s, err := ParseSchedule(v)
		if err != nil {
			return nil, fmt.Errorf("%s: annotation %s on %s: %w", w.ref, AnnoSchedule, from, err)
		}
		s.Holidays = d.in.Holidays
		dec.Schedule, dec.ScheduleFrom = v, "annotation on "+from
		return s, nil
	}
	ns := d.ns[w.ref.Namespace]
	for i, r := range d.in.Config.Schedules {
		if !d.matches(r, ns, w) {
			continue
		}
		s, err := ParseSchedule(r.Schedule)
		if err != nil {
			// Validate refuses it; an unvalidated config still never sleeps.
			return nil, fmt.Errorf("downscale.schedules[%d]: %w", i, err)
		}
		s.Holidays = d.in.Holidays
		dec.Schedule, dec.ScheduleFrom = r.Schedule, "downscale.schedules["+r.Name+"]"
		return s, nil
	}
	return nil, nil
}

func (d *decider) matches(r Rule, ns *corev1.Namespace, w workload) bool {
	if len(r.Namespaces) > 0 && !slices.ContainsFunc(r.Namespaces, func(p string) bool {
		ok, _ := path.Match(p, w.ref.Namespace)
		return ok
	}) {
		return false
	}
	if ns == nil && (len(r.Teams) > 0 || len(r.Environments) > 0) {
		return false
	}
	if len(r.Teams) > 0 && !slices.Contains(r.Teams, d.in.Rules.Team(ns)) {
		return false
	}
	if len(r.Environments) > 0 && !slices.Contains(r.Environments, d.in.Rules.Environment(ns)) {
		return false
	}
	if r.Selector != "" {
		sel, err := labels.Parse(r.Selector)
		if err != nil || !sel.Matches(labels.Set(w.meta.Labels)) {
			return false
		}
	}
	return true
}

// managedBy finds the GitOps controller that would undo a scale-down of
// w, and says why; "" when none would.
func (d *decider) managedBy(w workload) (*GitOpsObject, string) {
	l, a := w.meta.Labels, w.meta.Annotations
	var ref Ref
	var via string
	switch {
	case a["argocd.argoproj.io/tracking-id"] != "":
		app, _, _ := strings.Cut(a["argocd.argoproj.io/tracking-id"], ":")
		ref, via = Ref{Kind: "Application", Name: app}, "annotation argocd.argoproj.io/tracking-id"
	case l["kustomize.toolkit.fluxcd.io/name"] != "":
		ref = Ref{"Kustomization", l["kustomize.toolkit.fluxcd.io/namespace"], l["kustomize.toolkit.fluxcd.io/name"]}
		via = "label kustomize.toolkit.fluxcd.io/name"
	case l["helm.toolkit.fluxcd.io/name"] != "":
		ref = Ref{"HelmRelease", l["helm.toolkit.fluxcd.io/namespace"], l["helm.toolkit.fluxcd.io/name"]}
		via = "label helm.toolkit.fluxcd.io/name"
	case l["app.kubernetes.io/instance"] != "":
		// The label is Argo CD's default tracking, but Helm sets it too:
		// it means Argo CD only when such an Application exists.
		ref, via = Ref{Kind: "Application", Name: l["app.kubernetes.io/instance"]}, "label app.kubernetes.io/instance"
	default:
		return nil, ""
	}
	if ref.Kind != "Application" && ref.Namespace == "" {
		ref.Namespace = w.ref.Namespace
	}
	var found []GitOpsObject
	for r, g := range d.gitops {
		// An Application lives in Argo CD's namespace, not the workload's.
		if r.Kind == ref.Kind && r.Name == ref.Name && (ref.Kind == "Application" || r.Namespace == ref.Namespace) {
			found = append(found, g)
		}
	}
	switch {
	case len(found) == 0 && via == "label app.kubernetes.io/instance":
		return nil, ""
	case len(found) == 0 && !d.in.GitOpsKnown:
		return nil, fmt.Sprintf("managed by %s %s (%s), which could not be read: whether it puts replicas back is unknown", ref.Kind, ref.Name, via)
	case len(found) == 0:
		return nil, fmt.Sprintf("managed by %s %s (%s), which the cluster does not have: whether it puts replicas back is unknown", ref.Kind, ref.Name, via)
	case len(found) > 1:
		return nil, fmt.Sprintf("managed by %s %s (%s), of which the cluster has %d: which one is unknown", ref.Kind, ref.Name, via, len(found))
	}
	g := found[0]
	if !g.fights() {
		return nil, ""
	}
	what := "self-heal"
	if g.Kind != "Application" {
		what = "drift correction"
	}
	return &g, fmt.Sprintf("managed by %s with %s (%s): it would scale it back up", g.Ref, what, via)
}

// gitopsDecisions pause the objects of the workloads going to sleep, and
// resume those Purser paused once none of their workloads sleeps.
func (d *decider) gitopsDecisions(ds []Decision) []GitOpsDecision {
	var out []GitOpsDecision
	sleeping := map[Ref]bool{} // objects with a workload asleep after the run
	pausing := map[Ref]bool{}
	for _, dec := range ds {
		if dec.GitOps == nil {
			continue
		}
		switch dec.Action {
		case Sleep:
			sleeping[*dec.GitOps] = true
			g := d.gitops[*dec.GitOps]
			if !g.Paused && !pausing[g.Ref] {
				pausing[g.Ref] = true
				out = append(out, GitOpsDecision{Object: g, Action: "pause", Reason: "for the night of " + dec.Workload.String()})
			}
		case Error:
			// Unread annotations: it may be asleep, so its sync stays paused.
			sleeping[*dec.GitOps] = true
		}
	}
	// Workloads asleep under a paused object keep it paused.
	for _, dec := range ds {
		if dec.Action == Keep && strings.HasPrefix(dec.Reason, "asleep") || dec.Action == Error {
			if w := d.workloadGitOps(dec.Workload); w != nil {
				sleeping[*w] = true
			}
		}
	}
	for _, g := range d.in.GitOps {
		if g.Paused && !sleeping[g.Ref] {
			out = append(out, GitOpsDecision{Object: g, Action: "resume", Reason: "none of its workloads sleeps"})
		}
	}
	slices.SortStableFunc(out, func(a, b GitOpsDecision) int {
		if a.Action == b.Action {
			return strings.Compare(a.Object.String(), b.Object.String())
		}
		if a.Action == "pause" {
			return -1
		}
		return 1
	})
	return out
}

// workloadGitOps finds the GitOps object of a workload of the snapshot.
func (d *decider) workloadGitOps(r Ref) *Ref {
	s := d.in.Index.S
	var meta *metav1.ObjectMeta
	switch r.Kind {
	case "Deployment":
		if i := slices.IndexFunc(s.Deployments, func(x appsv1.Deployment) bool { return x.Namespace == r.Namespace && x.Name == r.Name }); i >= 0 {
			meta = &s.Deployments[i].ObjectMeta
		}
	case "StatefulSet":
		if i := slices.IndexFunc(s.StatefulSets, func(x appsv1.StatefulSet) bool { return x.Namespace == r.Namespace && x.Name == r.Name }); i >= 0 {
			meta = &s.StatefulSets[i].ObjectMeta
		}
	case "CronJob":
		if i := slices.IndexFunc(s.CronJobs, func(x batchv1.CronJob) bool { return x.Namespace == r.Namespace && x.Name == r.Name }); i >= 0 {
			meta = &s.CronJobs[i].ObjectMeta
		}
	}
	if meta == nil {
		return nil
	}
	g, _ := d.managedBy(workload{ref: r, meta: meta})
	if g == nil {
		return nil
	}
	return &g.Ref
}

// names tells whether a pod spec names a Service: in an environment
// value, an argument, or a ConfigMap it reads whole or by key, as a host
// name ("db", "db.ns", "db.ns.svc.cluster.local", "db:5432").
func names(spec *corev1.PodSpec, cms []corev1.ConfigMap, ns, svc string) bool {
	if svc == "" || spec == nil {
		return false
	}
	var texts []string
	var cmNames []string
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		texts = append(texts, c.Args...)
		texts = append(texts, c.Command...)
		for _, e := range c.Env {
			texts = append(texts, e.Value)
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				cmNames = append(cmNames, e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				cmNames = append(cmNames, e.ConfigMapRef.Name)
			}
		}
	}
	for i := range cms {
		if cms[i].Namespace == ns && slices.Contains(cmNames, cms[i].Name) {
			for _, v := range cms[i].Data {
				texts = append(texts, v)
			}
		}
	}
	for _, t := range texts {
		for _, tok := range strings.FieldsFunc(t, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.')
		}) {
			if tok == svc || strings.HasPrefix(tok, svc+".") {
				return true
			}
		}
	}
	return false
}

// GitOpsPaused tells whether Purser paused the object before this run.
func (p *Plan) GitOpsPaused(r Ref) bool {
	return slices.ContainsFunc(p.paused, func(x Ref) bool { return x == r })
}
