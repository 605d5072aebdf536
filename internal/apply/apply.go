package apply

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
)

// DefaultWait bounds the wait for one namespace to go once deleted.
const DefaultWait = 2 * time.Minute

// Options say what Apply carries out and how.
type Options struct {
	// Plan is the plan as plan.Read returned it (its content hash checked).
	Plan *plan.Plan
	// Approve is the content hash of the plan the person approving
	// reviewed. Empty, the run is a dry run: nothing is written, every
	// write is sent to the server as a dry run.
	Approve string
	// Confirmed are the namespaces whose deletion was confirmed by name.
	// An approved run deletes no other namespace.
	Confirmed []string
	// Dir receives the backup and the journal of an approved run: created
	// with mode 0700 when it does not exist, refused when it holds
	// anything. Empty: DefaultDir in the working directory. A resumed run
	// keeps the directory of its journal.
	Dir string
	// Resume is the journal of an earlier run of the same plan, which
	// this run continues.
	Resume string
	// IncludeSecretValues lets the run read the Secrets it copies, at the
	// step that copies each; without it a plan that copies Secrets is
	// refused before anything is written.
	IncludeSecretValues bool
	// AcceptReference and AcceptHelm accept what the plan could not
	// rewrite (Service addresses, binding subjects and namespace selectors
	// in objects that stay) and the moving of objects of Helm releases,
	// whose records stay behind; each blocks an approved run otherwise.
	AcceptReference, AcceptHelm bool
	// Parallel is how many namespace deletions run at once (1 when zero):
	// each takes the namespace controller some seconds.
	Parallel int
	// Wait bounds each wait: for a deleted namespace to go, a workload to
	// be available, a volume to be released or bound; DefaultWait when
	// zero.
	Wait  time.Duration
	Clock clock.PassiveClock
	Log   *slog.Logger
	// BeforeStep, when set, runs before each step of an approved run
	// writes anything, its intent not yet journalled; an error stops the
	// run there, as a crash between two steps would. Tests use it to
	// change the cluster in the middle of a run or to stop it.
	BeforeStep func(ctx context.Context, s Step) error
	// AtStage, when set, runs once a stage of a step of several writes (a
	// rebind) is journalled; an error stops the run there, as a crash in
	// the middle of the step would.
	AtStage func(ctx context.Context, s Step, stage string) error
}

func (o *Options) defaults() {
	defaults(&o.Wait, &o.Clock, &o.Log)
	o.Parallel = max(o.Parallel, 1)
}

// defaults fills the settings Apply and Rollback share when left zero.
func defaults(wait *time.Duration, clk *clock.PassiveClock, log **slog.Logger) {
	if *wait <= 0 {
		*wait = DefaultWait
	}
	if *clk == nil {
		*clk = clock.RealClock{}
	}
	if *log == nil {
		*log = slog.New(slog.DiscardHandler)
	}
}

// Status is what became of a step.
type Status string

// Step statuses.
const (
	// StatusPending: not reached.
	StatusPending Status = "pending"
	// StatusDryRun: the server accepted the step's writes as a dry run.
	StatusDryRun Status = "dry-run"
	// StatusDone: carried out by this run.
	StatusDone Status = "done"
	// StatusDoneBefore: carried out by the run a resumed journal records.
	StatusDoneBefore Status = "done-before"
	// StatusBlocked: the cluster is not as the plan expects; nothing was
	// changed.
	StatusBlocked Status = "blocked"
	// StatusFailed: the write was made or attempted and did not complete.
	StatusFailed Status = "failed"
	// StatusUnchanged: a rollback found nothing to restore.
	StatusUnchanged Status = "unchanged"
	// StatusRestored: a rollback restored the object.
	StatusRestored Status = "restored"
)

// StepResult is one step and what became of it.
type StepResult struct {
	Step
	Status  Status `json:"status"`
	Message string `json:"message,omitempty"`
}

// Report is what a run did or, dry, would do.
type Report struct {
	// Operation identifies the run; its journal records it.
	Operation string `json:"operation"`
	// Plan is the plan's content hash.
	Plan   string `json:"plan"`
	Source string `json:"source"`
	DryRun bool   `json:"dryRun"`
	// Dir holds the backup and the journal of an approved run.
	Dir      string       `json:"dir,omitempty"`
	Journal  string       `json:"journal,omitempty"`
	Steps    []StepResult `json:"steps"`
	Warnings []string     `json:"warnings,omitempty"`
}

// OperationID names a run: the first 8 hex digits of the plan's hash and
// the time it started, so that runs of one plan sort by time.
func OperationID(hash string, t time.Time) string {
	h := strings.TrimPrefix(hash, "sha256:")
	if len(h) > 8 {
		h = h[:8]
	}
	return h + "-" + t.UTC().Format("20060102T150405Z")
}

// DefaultDir is the directory of an operation's backup and journal when
// none is chosen.
func DefaultDir(operation string) string { return "purser-apply-" + operation }

// Apply verifies the plan against the live cluster of cfg and carries it
// out, or dry-runs it without an approval. It returns the report of what
// it did even when it stops with an error, so that the caller can show
// how far it went.
//
// Before any write it refuses, changing nothing: an approval that is not
// the plan's hash; a live cluster other than the plan's source; any object
// of the plan deleted, recreated (another UID) or changed (another
// resourceVersion) since the plan was built; a namespace to delete that is
// not empty, or whose emptiness is unknown, but for what moves out of it;
// an approved deletion not confirmed by name; a Secret to copy without
// IncludeSecretValues, a reference the plan could not rewrite without
// AcceptReference, a Helm release without AcceptHelm. An approved run then
// backs up every object it will change or delete, journals each step
// before and after it, and carries the steps out in order (see Steps).
func Apply(ctx context.Context, cfg *rest.Config, o Options) (*Report, error) {
	o.defaults()
	p := o.Plan
	hash := p.Metadata.ContentHash
	steps, err := Steps(p)
	if err != nil {
		return nil, err
	}
	rep := &Report{Plan: hash, Source: p.Metadata.Source, DryRun: o.Approve == ""}
	if o.Approve != "" && o.Approve != hash {
		return nil, fmt.Errorf("--approve %s is not the plan's content hash %s: nothing was changed; review this plan (purser plan show) and approve its own hash", o.Approve, hash)
	}
	states := map[int]*stepState{}
	if o.Resume != "" {
		prior, err := ReadJournal(o.Resume)
		if err != nil {
			return nil, err
		}
		if prior.Begin.Plan != hash {
			return nil, fmt.Errorf("journal %s records plan %s, not this plan %s: resume a run with the plan it carried out", o.Resume, prior.Begin.Plan, hash)
		}
		if prior.rolledBack() {
			return nil, fmt.Errorf("journal %s: the run was rolled back; build and apply a new plan instead of resuming it", o.Resume)
		}
		if prior.Torn {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("journal %s: its last line was cut short by the crash and is ignored", o.Resume))
		}
		states = prior.states()
		rep.Operation, rep.Dir, rep.Journal = prior.Begin.Operation, filepath.Dir(o.Resume), o.Resume
	} else {
		rep.Operation = OperationID(hash, o.Clock.Now())
	}
	for _, s := range steps {
		r := StepResult{Step: s, Status: StatusPending}
		if st := states[s.Index]; st != nil && st.done {
			r.Status, r.Message = StatusDoneBefore, "carried out by the run the journal records"
		}
		rep.Steps = append(rep.Steps, r)
	}
	blocking, accepted := blockers(p, steps, o)
	for _, a := range accepted {
		rep.Warnings = append(rep.Warnings, "accepted: "+a)
	}
	if o.Approve != "" {
		if len(blocking) > 0 {
			return rep, fmt.Errorf("the plan cannot be carried out as it stands: nothing was changed:\n  %s", strings.Join(blocking, "\n  "))
		}
		if err := checkConfirmed(rep.Steps, o.Confirmed); err != nil {
			return rep, err
		}
	} else {
		for _, b := range blocking {
			rep.Warnings = append(rep.Warnings, "blocks an approved run: "+b)
		}
	}

	cl, err := newCluster(cfg)
	if err != nil {
		return rep, err
	}
	o.Log.Info("verifying the plan against the cluster", "plan", hash, "host", cfg.Host)
	s, err := live.Collect(ctx, cfg, live.CollectOptions{Clock: o.Clock})
	if err != nil {
		return rep, err
	}
	if s.Meta.Source != p.Metadata.Source {
		// With several clusters in one kubeconfig, the context is what the
		// user picks: name the plan's, so the fix is one flag away.
		if c := p.Metadata.Context; c != "" {
			return rep, fmt.Errorf("the plan was built from context %s (%s), not from this cluster (%s): nothing was changed; run it with --context %s", c, p.Metadata.Source, s.Meta.Source, c)
		}
		return rep, fmt.Errorf("the plan was built from %s, not from this cluster (%s): nothing was changed", p.Metadata.Source, s.Meta.Source)
	}
	if v := p.Metadata.KubernetesVersion; v != "" && v != s.Meta.ServerVersion {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the plan was built on Kubernetes %s, the cluster now runs %s", v, s.Meta.ServerVersion))
	}
	if labelled := labelBlockers(steps, s); len(labelled) > 0 {
		var refused []string
		for _, b := range labelled {
			if o.AcceptReference {
				rep.Warnings = append(rep.Warnings, "accepted: reference: "+b)
			} else if o.Approve != "" {
				refused = append(refused, b)
			} else {
				rep.Warnings = append(rep.Warnings, "blocks an approved run: reference: "+b)
			}
		}
		if len(refused) > 0 {
			return rep, fmt.Errorf("the plan cannot be carried out as it stands: nothing was changed:\n  %s", strings.Join(refused, "\n  "))
		}
	}
	if problems := verify(rep.Steps, states, s, o.Resume != ""); len(problems) > 0 {
		return rep, fmt.Errorf("the cluster is not as the plan found it: nothing was changed; build the plan again:\n  %s", strings.Join(problems, "\n  "))
	}
	r := newRun(cl, o, rep)
	if o.Approve == "" {
		return rep, r.dryRun(ctx)
	}
	return rep, r.execute(ctx)
}

// checkConfirmed refuses an approved run unless every namespace it is
// still to delete was confirmed by name, and refuses a confirmation that
// names no namespace of the plan (a typo would otherwise pass unseen).
func checkConfirmed(results []StepResult, confirmed []string) error {
	inPlan := map[string]bool{}
	var missing []string
	for _, r := range results {
		if r.Change != ChangeDelete || r.Object.Kind != "Namespace" {
			continue
		}
		inPlan[r.Object.Name] = true
		if r.Status == StatusPending && !slices.Contains(confirmed, r.Object.Name) {
			missing = append(missing, r.Object.Name)
		}
	}
	for _, c := range confirmed {
		if !inPlan[c] {
			return fmt.Errorf("--confirm-namespace %s: the plan does not delete this namespace", c)
		}
	}
	if len(missing) > 0 {
		return &UnconfirmedError{Namespaces: missing}
	}
	return nil
}

// UnconfirmedError refuses an approved run that would delete namespaces
// nobody confirmed by name.
type UnconfirmedError struct{ Namespaces []string }

func (e *UnconfirmedError) Error() string {
	return fmt.Sprintf("deleting a namespace needs its name confirmed (--confirm-namespace NAME, once per namespace, or typed at the prompt on a terminal): %d not confirmed: %s; nothing was changed",
		len(e.Namespaces), strings.Join(e.Namespaces, ", "))
}

// verify compares every step not yet done with the fresh snapshot s: each
// object the plan acts on must be the one it recorded (same UID) and, on a
// fresh run, unchanged (same resourceVersion; a resumed run changed some
// of them itself); a namespace to delete must still be empty, but for the
// objects that move out of it, which its own step checks once they are
// gone. A step the journal says was started is judged by its own step,
// which finds where it stands.
func verify(results []StepResult, states map[int]*stepState, s *snapshot.Snapshot, resumed bool) []string {
	ix := snapshot.NewIndex(s)
	var steps []Step
	for _, r := range results {
		steps = append(steps, r.Step)
	}
	sources := sourceNamespaces(steps)
	var problems []string
	check := func(o Object, checkRV bool) bool {
		live := ix.Object(snapshot.Ref{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name})
		switch {
		case live == nil:
			problems = append(problems, fmt.Sprintf("%s: deleted since the plan was built", o))
		case string(live.GetUID()) != o.UID:
			problems = append(problems, fmt.Sprintf("%s: deleted and created again since the plan was built (uid %s, the plan's %s)", o, live.GetUID(), o.UID))
		case checkRV && live.GetResourceVersion() != o.ResourceVersion:
			problems = append(problems, fmt.Sprintf("%s: changed since the plan was built (resourceVersion %s, the plan's %s)", o, live.GetResourceVersion(), o.ResourceVersion))
		case live.GetDeletionTimestamp() != nil:
			problems = append(problems, fmt.Sprintf("%s: being deleted", o))
		default:
			return true
		}
		return false
	}
	for _, r := range results {
		if r.Status != StatusPending {
			continue
		}
		if st := states[r.Index]; st != nil && st.intent {
			continue
		}
		o := r.Object
		switch {
		case r.Change == ChangeDelete && o.Kind == "Namespace":
			if !check(o, true) || sources[o.Name] {
				continue
			}
			c := ix.NamespaceContents(o.Name)
			switch c.State() {
			case snapshot.NotEmpty:
				var held []string
				for _, k := range c.Kinds() {
					held = append(held, fmt.Sprintf("%d %s", c.Objects[k], k))
				}
				problems = append(problems, fmt.Sprintf("%s: not empty any more, it holds %s: not deleted", o, strings.Join(held, ", ")))
			case snapshot.Unknown:
				problems = append(problems, fmt.Sprintf("%s: cannot be shown empty, these kinds could not be listed: %s: not deleted", o, strings.Join(c.Unlisted, ", ")))
			}
		case r.Change == ChangeDelete || r.Change == ChangeScaleDown || r.Change == ChangePatch:
			check(o, !resumed)
		case r.Change == ChangeCopySecret || r.Change == ChangeRebind:
			check(*r.From, !resumed)
			if r.Volume != nil {
				check(*r.Volume, !resumed)
			}
		}
	}
	return problems
}

// run is one approved or dry run under way.
type run struct {
	cl  *cluster
	o   Options
	rep *Report
	j   *journal
	// saved is the backup: what the objects were before the run.
	saved []unstructured.Unstructured
	// movedTo maps a source object's key to its target's.
	movedTo map[string]string
	// deleted are the namespaces the plan deletes.
	deleted map[string]bool
}

func newRun(cl *cluster, o Options, rep *Report) *run {
	r := &run{cl: cl, o: o, rep: rep, movedTo: map[string]string{}, deleted: map[string]bool{}}
	for _, t := range o.Plan.Spec.Targets {
		for _, mv := range t.Moves {
			name := mv.Name
			if mv.NewName != "" {
				name = mv.NewName
			}
			r.movedTo[Object{Kind: mv.Kind, Namespace: mv.From, Name: mv.Name}.key()] = Object{Kind: mv.Kind, Namespace: t.Name, Name: name}.key()
		}
	}
	for _, d := range o.Plan.Spec.Deletions {
		r.deleted[d.Namespace] = true
	}
	return r
}

// blocked records that a step found the cluster other than the plan
// expects, and stops the run there.
func (r *run) blocked(s *StepResult, reason string) error {
	s.Status, s.Message = StatusBlocked, reason
	obj := s.Object
	if err := r.j.add(Record{Type: RecordBlocked, Step: s.Index, Change: s.Change, Object: &obj, Reason: reason}); err != nil {
		return err
	}
	return fmt.Errorf("step %d: %s: %s; not done; the steps before it are done (journal %s): resume with --resume once this is resolved, or roll back",
		s.Index, obj, reason, r.j.path)
}

// dryRun sends each step's write to the server as a dry run. The
// namespaces were just shown empty by the snapshot, under the same rule
// as the check an approved run makes before each deletion; repeating that
// check here, one discovery and one LIST per kind for each namespace, would
// cost the client's rate limit several seconds and tell nothing more.
func (r *run) dryRun(ctx context.Context) error {
	var failed []string
	creates := map[string]int{}
	for i := range r.rep.Steps {
		s := &r.rep.Steps[i]
		if s.Status != StatusPending {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		msg, err := r.dryStep(ctx, s, creates)
		if err != nil {
			s.Status, s.Message = StatusFailed, err.Error()
			failed = append(failed, s.Object.String())
			continue
		}
		if s.Status == StatusPending {
			s.Status, s.Message = StatusDryRun, msg
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("dry run: %d steps would not run (%s)", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// dryStep dry-runs one step. Objects of a namespace the run creates cannot
// be sent before it exists: the server checks them when they are written.
func (r *run) dryStep(ctx context.Context, s *StepResult, creates map[string]int) (string, error) {
	cl := r.cl
	switch s.Change {
	case ChangeCreate, ChangeCopySecret, ChangeRebind:
		if s.Object.Kind == "Namespace" {
			creates[s.Object.Name] = s.Index
		}
		live, err := cl.get(ctx, s.Object)
		if err != nil {
			return "", err
		}
		if live != nil && !ours(live, r.rep.Operation) {
			return "", fmt.Errorf("%s already exists in the target and was not created by this run", s.Object)
		}
		var extra string
		switch s.Change {
		case ChangeCopySecret:
			extra = "; the values are read when the step runs"
			if !r.o.IncludeSecretValues {
				extra += " (needs --include-secret-values)"
			}
			return "the Secret is copied with its type, labels and annotations" + extra, nil
		case ChangeRebind:
			if _, err := cl.patch(ctx, *s.Volume, map[string]any{"spec": map[string]any{"persistentVolumeReclaimPolicy": corev1.PersistentVolumeReclaimRetain}}, false, true); err != nil {
				return "", err
			}
			extra = "; the server accepts Retain on the volume"
		}
		if n, ok := creates[s.Object.Namespace]; ok {
			return fmt.Sprintf("namespace %s is created by step %d: the server checks this object when the run writes it%s", s.Object.Namespace, n, extra), nil
		}
		m := s.manifest
		if s.Change == ChangeCreate || s.Change == ChangeRebind {
			if _, err := cl.apply(ctx, s.Object, labelled(m, r.rep.Operation), true); err != nil {
				return "", err
			}
		}
		return "the server accepts the server-side apply" + extra, nil
	case ChangeVerify:
		return "checked during the run, before anything of the sources goes", nil
	case ChangePatch:
		if _, err := cl.sendPatch(ctx, s.Step, s.Object.ResourceVersion, true); err != nil {
			return "", err
		}
		return "the server accepts the patch (resourceVersion precondition)", nil
	case ChangeScaleDown:
		if _, err := cl.patch(ctx, s.Object, map[string]any{"spec": map[string]any{"replicas": 0}}, false, true, "scale"); err != nil {
			return "", err
		}
		return "the server accepts the scaling to 0", nil
	}
	if s.Object.Kind != "Namespace" {
		if err := cl.remove(ctx, s.Object, s.Object.UID, true); err != nil {
			return "", err
		}
		return "the server accepts the deletion (uid precondition)", nil
	}
	ns, err := cl.namespace(ctx, s.Object.Name)
	if err != nil {
		return "", err
	}
	if ns == nil || string(ns.UID) != s.Object.UID || ns.DeletionTimestamp != nil {
		s.Status = StatusDoneBefore
		return "already gone or going: the run the journal records deleted it", nil
	}
	if err := cl.deleteNamespace(ctx, s.Object, true); err != nil {
		return "", err
	}
	if r.hasMovesFrom(s.Object.Name) {
		return "emptied by the steps before it; the server accepts the deletion", nil
	}
	return "empty; the server accepts the deletion", nil
}

func (r *run) hasMovesFrom(ns string) bool {
	for k := range r.movedTo {
		if strings.Split(k, "/")[1] == ns {
			return true
		}
	}
	return false
}

// notEmpty says why a namespace cannot be deleted, or "" when it is empty.
func notEmpty(found, unknown []string) string {
	const most = 5
	switch {
	case len(found) > 0:
		shown := found[:min(len(found), most)]
		msg := fmt.Sprintf("not empty: holds %s", strings.Join(shown, ", "))
		if len(found) > most {
			msg += fmt.Sprintf(" and %d more", len(found)-most)
		}
		return msg + " (created since the plan was built)"
	case len(unknown) > 0:
		return fmt.Sprintf("cannot be shown empty: %s could not be listed", strings.Join(unknown, ", "))
	}
	return ""
}

// execute carries out an approved run: directory, backup and journal
// first, then each step; consecutive namespace deletions run o.Parallel
// at a time.
func (r *run) execute(ctx context.Context) (err error) {
	rep, o := r.rep, r.o
	now := o.Clock.Now
	if o.Resume != "" {
		if r.saved, err = ReadBackup(filepath.Join(rep.Dir, BackupFile)); err != nil {
			return fmt.Errorf("resuming %s: its backup: %w", o.Resume, err)
		}
		if r.j, err = appendJournal(o.Resume, now); err != nil {
			return err
		}
	} else {
		rep.Dir = o.Dir
		if rep.Dir == "" {
			rep.Dir = DefaultDir(rep.Operation)
		}
		if err := prepareDir(rep.Dir); err != nil {
			return err
		}
		if r.saved, err = backup(ctx, r.cl, rep); err != nil {
			return err
		}
		if r.j, err = createJournal(rep.Dir, now); err != nil {
			return err
		}
		rep.Journal = r.j.path
		if err := r.j.add(Record{Type: RecordBegin, Version: journalVersion, Operation: rep.Operation, Plan: rep.Plan, Source: rep.Source,
			Backup: BackupFile, Steps: len(rep.Steps)}); err != nil {
			r.j.close()
			return err
		}
	}
	defer func() {
		if cerr := r.j.close(); err == nil {
			err = cerr
		}
	}()
	for i := 0; i < len(rep.Steps); i++ {
		s := &rep.Steps[i]
		if s.Status != StatusPending {
			continue
		}
		if s.Change == ChangeDelete && s.Object.Kind == "Namespace" && o.Parallel > 1 {
			end := i
			for end < len(rep.Steps) && rep.Steps[end].Change == ChangeDelete && rep.Steps[end].Object.Kind == "Namespace" {
				end++
			}
			if err := r.parallel(ctx, rep.Steps[i:end]); err != nil {
				return err
			}
			i = end - 1
			continue
		}
		if err := r.step(ctx, s); err != nil {
			return err
		}
	}
	return r.j.add(Record{Type: RecordEnd})
}

// parallel runs namespace deletions o.Parallel at a time. A deletion that
// blocks or fails lets those under way finish and starts no other.
func (r *run) parallel(ctx context.Context, steps []StepResult) error {
	var (
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, r.o.Parallel)
	var wg sync.WaitGroup
	for i := range steps {
		s := &steps[i]
		if s.Status != StatusPending {
			continue
		}
		sem <- struct{}{}
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := r.step(ctx, s); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// step journals the intent of one step, carries it out, and journals it
// done.
func (r *run) step(ctx context.Context, s *StepResult) error {
	if r.o.BeforeStep != nil {
		if err := r.o.BeforeStep(ctx, s.Step); err != nil {
			return fmt.Errorf("before step %d (%s): %w", s.Index, s.Object, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	obj := s.Object
	if err := r.j.add(Record{Type: RecordIntent, Step: s.Index, Change: s.Change, Object: &obj, From: s.From, Volume: s.Volume}); err != nil {
		return err
	}
	r.o.Log.Info("step", "index", s.Index, "change", s.Change, "object", obj.String())
	what := fmt.Sprintf("%d (%s %s)", s.Index, s.Change, obj)
	if s.Change == ChangeDelete && obj.Kind == "Namespace" {
		return retryTransient(ctx, r.o.Log, what, sleepCtx, func() error { return r.deleteNamespaceStep(ctx, s) })
	}
	var (
		msg   string
		after *After
	)
	err := retryTransient(ctx, r.o.Log, what, sleepCtx, func() (err error) {
		switch s.Change {
		case ChangeCreate:
			msg, after, err = r.createStep(ctx, s, s.manifest)
		case ChangeCopySecret:
			msg, after, err = r.copySecretStep(ctx, s)
		case ChangeRebind:
			msg, after, err = r.rebindStep(ctx, s)
		case ChangeVerify:
			msg, after, err = r.verifyStep(ctx, s)
		case ChangeScaleDown:
			msg, after, err = r.scaleDownStep(ctx, s)
		case ChangePatch:
			msg, after, err = r.patchStep(ctx, s)
		case ChangeDelete:
			msg, after, err = r.deleteObjectStep(ctx, s)
		default:
			err = fmt.Errorf("step %d: unknown change %q", s.Index, s.Change)
		}
		return err
	})
	if err != nil {
		if s.Status != StatusBlocked {
			s.Status, s.Message = StatusFailed, err.Error()
			if ctx.Err() == nil {
				err = fmt.Errorf("step %d: %w (journal %s: resume with --resume once this is resolved, or roll back)", s.Index, err, r.j.path)
			}
		}
		return err
	}
	s.Status, s.Message = StatusDone, msg
	return r.j.add(Record{Type: RecordDone, Step: s.Index, Change: s.Change, Object: &obj, After: after})
}

// deleteNamespaceStep deletes one namespace and waits until it is gone.
func (r *run) deleteNamespaceStep(ctx context.Context, s *StepResult) error {
	cl, obj := r.cl, s.Object
	ns, err := cl.namespace(ctx, obj.Name)
	if err != nil {
		return err
	}
	switch {
	case ns == nil || string(ns.UID) != obj.UID:
		s.Message = "already gone"
	case ns.DeletionTimestamp != nil:
		s.Message = "already Terminating; waited for it to go"
	default:
		found, unknown, err := cl.namespaceHolds(ctx, obj.Name)
		if err != nil {
			return err
		}
		if reason := notEmpty(found, unknown); reason != "" {
			return r.blocked(s, reason)
		}
		err = cl.deleteNamespace(ctx, obj, false)
		if apierrors.IsConflict(err) {
			return r.blocked(s, "changed since the plan was built (the server refused the UID and resourceVersion preconditions)")
		}
		if err != nil {
			s.Status, s.Message = StatusFailed, err.Error()
			return err
		}
	}
	if err := cl.waitGone(ctx, obj.Name, obj.UID, r.o.Wait); err != nil {
		if ctx.Err() != nil {
			return err
		}
		s.Status, s.Message = StatusFailed, err.Error()
		return fmt.Errorf("step %d: %w (journal %s: resume with --resume once it is gone)", s.Index, err, r.j.path)
	}
	if s.Message == "" {
		s.Message = "deleted"
	}
	s.Status = StatusDone
	return r.j.add(Record{Type: RecordDone, Step: s.Index, Change: s.Change, Object: &obj, After: &After{Gone: true}})
}

// prepareDir makes the operation's directory: created with mode 0700, or
// an existing empty directory. Anything else is refused, so that a backup
// never mixes with other files nor replaces them.
func prepareDir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		if err != nil {
			return fmt.Errorf("creating backup directory %s: %w", dir, err)
		}
		return nil
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("backup directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("backup directory %s exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("backup directory %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("backup directory %s is not empty: choose a new one (a run's backup and journal are never mixed with other files)", dir)
	}
	return nil
}

// backup reads every object the run will change or delete (the sources of
// moves, the volumes handed over, the namespaces deleted), checks that it
// is still the one the plan recorded, and saves it before the first
// write. A Secret is saved with its values: the run was given
// --include-secret-values, or it would have stopped before this.
func backup(ctx context.Context, cl *cluster, rep *Report) ([]unstructured.Unstructured, error) {
	var objs []Object
	seen := map[string]bool{}
	keep := func(o Object) {
		if !seen[o.key()] {
			seen[o.key()] = true
			objs = append(objs, o)
		}
	}
	for _, r := range rep.Steps {
		if r.Status != StatusPending {
			continue
		}
		switch r.Change {
		case ChangeDelete, ChangeScaleDown, ChangePatch:
			keep(r.Object)
		case ChangeCopySecret, ChangeRebind:
			keep(*r.From)
			if r.Volume != nil {
				keep(*r.Volume)
			}
		}
	}
	saved := make([]*unstructured.Unstructured, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, o := range objs {
		g.Go(func() error {
			u, err := cl.get(gctx, o)
			if err != nil {
				return err
			}
			if u == nil || string(u.GetUID()) != o.UID || u.GetResourceVersion() != o.ResourceVersion {
				return fmt.Errorf("%s changed while the plan was being verified: nothing was changed; build the plan again", o)
			}
			saved[i] = u
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := writeBackup(rep.Dir, saved); err != nil {
		return nil, err
	}
	out := make([]unstructured.Unstructured, len(saved))
	for i, u := range saved {
		out[i] = *u
	}
	return out, nil
}
