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
	"time"

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
	// Wait bounds the wait for each deleted namespace to go; DefaultWait
	// when zero.
	Wait  time.Duration
	Clock clock.PassiveClock
	Log   *slog.Logger
	// BeforeStep, when set, runs before each step of an approved run
	// writes anything, its intent not yet journalled; an error stops the
	// run there, as a crash between two steps would. Tests use it to
	// change the cluster in the middle of a run or to stop it.
	BeforeStep func(ctx context.Context, s Step) error
}

func (o *Options) defaults() { defaults(&o.Wait, &o.Clock, &o.Log) }

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
// not empty, or whose emptiness is unknown; an approved deletion not
// confirmed by name. An approved run then backs up every object it will
// change, journals each step before and after it, and deletes each
// namespace with UID and resourceVersion preconditions after checking once
// more that it is empty.
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
	if o.Approve != "" {
		if err := checkConfirmed(rep.Steps, o.Confirmed); err != nil {
			return rep, err
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
		return rep, fmt.Errorf("the plan was built from %s, not from this cluster (%s): nothing was changed", p.Metadata.Source, s.Meta.Source)
	}
	if v := p.Metadata.KubernetesVersion; v != "" && v != s.Meta.ServerVersion {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the plan was built on Kubernetes %s, the cluster now runs %s", v, s.Meta.ServerVersion))
	}
	if problems := verify(rep.Steps, states, s); len(problems) > 0 {
		return rep, fmt.Errorf("the cluster is not as the plan found it: nothing was changed; build the plan again:\n  %s", strings.Join(problems, "\n  "))
	}
	if o.Approve == "" {
		return rep, dryRun(ctx, cl, rep)
	}
	return rep, execute(ctx, cl, o, rep)
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

// verify compares every step not yet done with the fresh snapshot s:
// the object must be the one the plan recorded (same UID), unchanged
// (same resourceVersion), and a namespace to delete must still be empty.
// A step the journal says was started is judged by what it may have done:
// a namespace already gone, or Terminating, is fine.
func verify(results []StepResult, states map[int]*stepState, s *snapshot.Snapshot) []string {
	ix := snapshot.NewIndex(s)
	byName := map[string]*corev1.Namespace{}
	for i := range s.Namespaces {
		byName[s.Namespaces[i].Name] = &s.Namespaces[i]
	}
	var problems []string
	for _, r := range results {
		if r.Status != StatusPending {
			continue
		}
		o := r.Object
		ns := byName[o.Name]
		if st := states[r.Index]; st != nil && st.intent {
			if ns == nil || string(ns.UID) != o.UID || ns.DeletionTimestamp != nil {
				continue
			}
		}
		switch {
		case ns == nil:
			problems = append(problems, fmt.Sprintf("%s: deleted since the plan was built", o))
			continue
		case string(ns.UID) != o.UID:
			problems = append(problems, fmt.Sprintf("%s: deleted and created again since the plan was built (uid %s, the plan's %s)", o, ns.UID, o.UID))
			continue
		case ns.ResourceVersion != o.ResourceVersion:
			problems = append(problems, fmt.Sprintf("%s: changed since the plan was built (resourceVersion %s, the plan's %s)", o, ns.ResourceVersion, o.ResourceVersion))
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
	}
	return problems
}

// dryRun sends each step's write to the server as a dry run. The
// namespaces were just shown empty by the snapshot, under the same rule
// as the check an approved run makes before each deletion; repeating that
// check here, one discovery and one LIST per kind for each namespace, would
// cost the client's rate limit several seconds and tell nothing more.
func dryRun(ctx context.Context, cl *cluster, rep *Report) error {
	var failed []string
	for i := range rep.Steps {
		r := &rep.Steps[i]
		if r.Status != StatusPending {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		ns, err := cl.namespace(ctx, r.Object.Name)
		if err != nil {
			return err
		}
		if ns == nil || string(ns.UID) != r.Object.UID || ns.DeletionTimestamp != nil {
			r.Status, r.Message = StatusDoneBefore, "already gone or going: the run the journal records deleted it"
			continue
		}
		if err := cl.deleteNamespace(ctx, r.Object, true); err != nil {
			r.Status, r.Message = StatusFailed, err.Error()
			failed = append(failed, r.Object.String())
			continue
		}
		r.Status, r.Message = StatusDryRun, "empty; the server accepts the deletion"
	}
	if len(failed) > 0 {
		return fmt.Errorf("dry run: %d steps would not run (%s)", len(failed), strings.Join(failed, ", "))
	}
	return nil
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
// first, then each step.
func execute(ctx context.Context, cl *cluster, o Options, rep *Report) (err error) {
	var j *journal
	now := o.Clock.Now
	if o.Resume != "" {
		if _, err := os.Stat(filepath.Join(rep.Dir, BackupFile)); err != nil {
			return fmt.Errorf("resuming %s: its backup: %w", o.Resume, err)
		}
		if j, err = appendJournal(o.Resume, now); err != nil {
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
		if err := backup(ctx, cl, rep); err != nil {
			return err
		}
		if j, err = createJournal(rep.Dir, now); err != nil {
			return err
		}
		rep.Journal = j.path
		if err := j.add(Record{Type: RecordBegin, Version: journalVersion, Operation: rep.Operation, Plan: rep.Plan, Source: rep.Source,
			Backup: BackupFile, Steps: len(rep.Steps)}); err != nil {
			j.close()
			return err
		}
	}
	defer func() {
		if cerr := j.close(); err == nil {
			err = cerr
		}
	}()
	for i := range rep.Steps {
		r := &rep.Steps[i]
		if r.Status != StatusPending {
			continue
		}
		if o.BeforeStep != nil {
			if err := o.BeforeStep(ctx, r.Step); err != nil {
				return fmt.Errorf("before step %d (%s): %w", r.Index, r.Object, err)
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		obj := r.Object
		if err := j.add(Record{Type: RecordIntent, Step: r.Index, Change: r.Change, Object: &obj}); err != nil {
			return err
		}
		o.Log.Info("step", "index", r.Index, "change", r.Change, "object", obj.String())
		if err := deleteStep(ctx, cl, o, j, r); err != nil {
			return err
		}
	}
	return j.add(Record{Type: RecordEnd})
}

// deleteStep deletes one namespace and waits until it is gone.
func deleteStep(ctx context.Context, cl *cluster, o Options, j *journal, r *StepResult) error {
	obj := r.Object
	ns, err := cl.namespace(ctx, obj.Name)
	if err != nil {
		return err
	}
	block := func(reason string) error {
		r.Status, r.Message = StatusBlocked, reason
		if err := j.add(Record{Type: RecordBlocked, Step: r.Index, Change: r.Change, Object: &obj, Reason: reason}); err != nil {
			return err
		}
		return fmt.Errorf("step %d: %s: %s; not deleted; the steps before it are done (journal %s): resume with --resume once this is resolved, or roll back",
			r.Index, obj, reason, j.path)
	}
	switch {
	case ns == nil || string(ns.UID) != obj.UID:
		r.Message = "already gone"
	case ns.DeletionTimestamp != nil:
		r.Message = "already Terminating; waited for it to go"
	default:
		found, unknown, err := cl.namespaceHolds(ctx, obj.Name)
		if err != nil {
			return err
		}
		if reason := notEmpty(found, unknown); reason != "" {
			return block(reason)
		}
		err = cl.deleteNamespace(ctx, obj, false)
		if apierrors.IsConflict(err) {
			return block("changed since the plan was built (the server refused the UID and resourceVersion preconditions)")
		}
		if err != nil {
			r.Status, r.Message = StatusFailed, err.Error()
			return err
		}
	}
	if err := cl.waitGone(ctx, obj.Name, obj.UID, o.Wait); err != nil {
		if ctx.Err() != nil {
			return err
		}
		r.Status, r.Message = StatusFailed, err.Error()
		return fmt.Errorf("step %d: %w (journal %s: resume with --resume once it is gone)", r.Index, err, j.path)
	}
	if r.Message == "" {
		r.Message = "deleted"
	}
	r.Status = StatusDone
	return j.add(Record{Type: RecordDone, Step: r.Index, Change: r.Change, Object: &obj, After: &After{Gone: true}})
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

// backup reads every object the run will change, checks that it is still
// the one the plan recorded, and saves it before the first write.
func backup(ctx context.Context, cl *cluster, rep *Report) error {
	var objs []*unstructured.Unstructured
	for _, r := range rep.Steps {
		if r.Status != StatusPending {
			continue
		}
		ns, err := cl.namespace(ctx, r.Object.Name)
		if err != nil {
			return err
		}
		if ns == nil || string(ns.UID) != r.Object.UID || ns.ResourceVersion != r.Object.ResourceVersion {
			return fmt.Errorf("%s changed while the plan was being verified: nothing was changed; build the plan again", r.Object)
		}
		ns.APIVersion, ns.Kind = "v1", "Namespace"
		u, err := toUnstructured(ns)
		if err != nil {
			return fmt.Errorf("backing up %s: %w", r.Object, err)
		}
		objs = append(objs, u)
	}
	return writeBackup(rep.Dir, objs)
}
