package apply

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/plan"
)

func demoPlan(t *testing.T, strategy string) *plan.Plan {
	t.Helper()
	env, err := action.Demo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p, err := action.Plan{Strategy: strategy}.Run(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSteps(t *testing.T) {
	t.Parallel()
	empty := demoPlan(t, plan.StrategyEmpty)
	steps, err := Steps(empty)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 18 {
		t.Fatalf("%d steps, want the 18 empty namespaces", len(steps))
	}
	for i, s := range steps {
		d := empty.Spec.Deletions[i]
		if s.Index != i+1 || s.Change != ChangeDelete || s.Object.Kind != "Namespace" || s.Object.Name != d.Namespace ||
			s.Object.UID == "" || s.Object.ResourceVersion == "" || !strings.Contains(s.What, d.Reason) {
			t.Errorf("step %d: %+v for deletion %+v", i+1, s, d)
		}
	}

	cases := []struct {
		name string
		edit func(p *plan.Plan) *plan.Plan
		want string
	}{
		{"a precondition without uid", func(p *plan.Plan) *plan.Plan {
			p.Spec.Preconditions[3].UID = ""
			return p
		}, "has no uid or resourceVersion"},
		{"a deletion without precondition", func(p *plan.Plan) *plan.Plan {
			p.Spec.Preconditions = p.Spec.Preconditions[1:]
			return p
		}, "has no delete precondition"},
		{"a precondition without deletion", func(p *plan.Plan) *plan.Plan {
			p.Spec.Deletions = p.Spec.Deletions[1:]
			return p
		}, "acted on by no target move or deletion"},
		{"a precondition of another kind", func(p *plan.Plan) *plan.Plan {
			p.Spec.Preconditions[0].Kind = "ConfigMap"
			return p
		}, "has no delete precondition"},
		{"a precondition twice", func(p *plan.Plan) *plan.Plan {
			p.Spec.Preconditions = append(p.Spec.Preconditions, p.Spec.Preconditions[0])
			return p
		}, "twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := *empty
			p.Spec.Preconditions = slices.Clone(empty.Spec.Preconditions)
			p.Spec.Deletions = slices.Clone(empty.Spec.Deletions)
			_, err := Steps(tc.edit(&p))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestStepsOfMoves checks the order of the product plan's steps: phase by
// phase as the issue orders them, every move once, every target verified
// before any of its sources is scaled down or deleted.
func TestStepsOfMoves(t *testing.T) {
	t.Parallel()
	p := demoPlan(t, plan.StrategyProduct)
	steps, err := Steps(p)
	if err != nil {
		t.Fatal(err)
	}
	moves, sources, created := 0, 0, 0
	for _, tg := range p.Spec.Targets {
		moves += len(tg.Moves)
		for _, s := range tg.Sources {
			if s != tg.Name {
				sources++
			}
		}
		if !tg.Exists && len(tg.Moves) > 0 {
			created++
		}
	}
	count := map[Change]int{}
	last := phaseNamespaces
	verified := map[string]int{}
	for i, s := range steps {
		if s.Index != i+1 {
			t.Fatalf("step %d has index %d", i+1, s.Index)
		}
		count[s.Change]++
		ph := stepPhase(s)
		if ph < last {
			t.Errorf("step %d (%s %s) in phase %d after phase %d", s.Index, s.Change, s.Object, ph, last)
		}
		last = ph
		switch s.Change {
		case ChangeVerify:
			verified[s.Object.Name] = s.Index
		case ChangeCreate, ChangeRebind:
			if s.manifest == nil || s.manifest.GetName() != s.Object.Name || s.manifest.GetNamespace() != s.Object.Namespace {
				t.Errorf("step %d: %s without its manifest", s.Index, s.Object)
			}
		case ChangeDelete, ChangeScaleDown:
			if s.Object.UID == "" {
				t.Errorf("step %d: %s %s without a uid", s.Index, s.Change, s.Object)
			}
		}
	}
	if count[ChangeCopySecret] != 1 || count[ChangeRebind] != 13 || count[ChangeVerify] != 7 {
		t.Errorf("steps by change %v: want 1 copy-secret, 13 rebind, 7 verify", count)
	}
	if got := count[ChangeCreate]; got != moves-14+created {
		t.Errorf("%d creates, want %d manifest moves and %d target namespaces", got, moves-14, created)
	}
	if got, want := count[ChangeDelete], moves-13+len(p.Spec.Deletions)+sources; got != want {
		t.Errorf("%d deletions, want %d: every moved object but the claims, and %d namespaces", got, want, len(p.Spec.Deletions)+sources)
	}
	for _, s := range steps {
		if s.Change == ChangeRebind && (s.Volume == nil || s.Volume.Kind != "PersistentVolume" || s.From == nil || s.From.Kind != "PersistentVolumeClaim") {
			t.Errorf("step %d: a rebind without its volume or claim: %+v", s.Index, s)
		}
		if s.Change == ChangeDelete && s.Object.Kind != "Namespace" {
			for tg, v := range verified {
				if v > s.Index {
					t.Errorf("step %d deletes %s before target %s is verified (step %d)", s.Index, s.Object, tg, v)
				}
			}
		}
	}
}

// TestStepsOfStrategies: every strategy's demo plan becomes steps, the
// environment strategy's too, each move once.
func TestStepsOfStrategies(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{plan.StrategyEnvironment, plan.StrategyProduct} {
		p := demoPlan(t, strategy)
		steps, err := Steps(p)
		if err != nil {
			t.Fatalf("%s: %v", strategy, err)
		}
		moves := 0
		for _, tg := range p.Spec.Targets {
			moves += len(tg.Moves)
		}
		writes := 0
		for _, s := range steps {
			if (s.Change == ChangeCreate && s.Object.Kind != "Namespace") || s.Change == ChangeCopySecret || s.Change == ChangeRebind {
				writes++
			}
		}
		if moves == 0 || writes != moves {
			t.Errorf("%s: %d moves, %d steps that write a moved object", strategy, moves, writes)
		}
	}
}

// stepPhase is the phase a step belongs to.
func stepPhase(s Step) phase {
	switch s.Change {
	case ChangeCopySecret:
		return phaseConfig
	case ChangeRebind:
		return phaseVolumes
	case ChangeVerify:
		return phaseVerify
	case ChangeScaleDown:
		return phaseScaleDown
	case ChangeDelete:
		if s.Object.Kind == "Namespace" {
			return phaseDeleteNamespaces
		}
		return phaseDeleteSources
	}
	return kindPhase(s.Object.Kind)
}

func TestCheckConfirmed(t *testing.T) {
	t.Parallel()
	results := []StepResult{
		{Step: Step{Index: 1, Change: ChangeDelete, Object: Object{APIVersion: "v1", Kind: "Namespace", Name: "a"}}, Status: StatusDoneBefore},
		{Step: Step{Index: 2, Change: ChangeDelete, Object: Object{APIVersion: "v1", Kind: "Namespace", Name: "b"}}, Status: StatusPending},
		{Step: Step{Index: 3, Change: ChangeDelete, Object: Object{APIVersion: "v1", Kind: "Namespace", Name: "c"}}, Status: StatusPending},
	}
	cases := []struct {
		confirmed []string
		want      string
	}{
		{[]string{"b", "c"}, ""},
		{[]string{"a", "b", "c"}, ""},
		{[]string{"c"}, "1 not confirmed: b"},
		{nil, "2 not confirmed: b, c"},
		{[]string{"b", "c", "kube-system"}, "--confirm-namespace kube-system: the plan does not delete this namespace"},
	}
	for _, tc := range cases {
		err := checkConfirmed(results, tc.confirmed)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.confirmed, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: got %v, want %q", tc.confirmed, err, tc.want)
		}
	}
}

func TestOperationID(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 3, 4, 5, 0, time.FixedZone("x", 3600))
	if got := OperationID("sha256:0123456789abcdef", at); got != "01234567-20261201T020405Z" {
		t.Errorf("OperationID = %s", got)
	}
	if got := DefaultDir("01234567-20261201T020405Z"); got != "purser-apply-01234567-20261201T020405Z" {
		t.Errorf("DefaultDir = %s", got)
	}
}

func TestNotEmpty(t *testing.T) {
	t.Parallel()
	cases := []struct {
		found, unknown []string
		want           string
	}{
		{nil, nil, ""},
		{[]string{"ConfigMap x"}, nil, "not empty: holds ConfigMap x (created since the plan was built)"},
		{[]string{"A 1", "A 2", "A 3", "A 4", "A 5", "A 6", "A 7"}, []string{"widgets"}, "holds A 1, A 2, A 3, A 4, A 5 and 2 more"},
		{nil, []string{"widgets.example.com (forbidden)"}, "cannot be shown empty: widgets.example.com (forbidden) could not be listed"},
	}
	for _, tc := range cases {
		got := notEmpty(tc.found, tc.unknown)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("notEmpty(%v, %v) = %q, want %q", tc.found, tc.unknown, got, tc.want)
		}
	}
}

func TestJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	j, err := createJournal(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	obj := Object{APIVersion: "v1", Kind: "Namespace", Name: "a", UID: "u", ResourceVersion: "1"}
	for _, r := range []Record{
		{Type: RecordBegin, Version: journalVersion, Operation: "op", Plan: "sha256:x", Backup: BackupFile, Steps: 2},
		{Type: RecordIntent, Step: 1, Change: ChangeDelete, Object: &obj},
		{Type: RecordDone, Step: 1, Change: ChangeDelete, Object: &obj, After: &After{Gone: true}},
		{Type: RecordIntent, Step: 2, Change: ChangeDelete, Object: &obj},
	} {
		if err := j.add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, JournalFile)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode: %v %v", fi.Mode(), err)
	}
	if _, err := createJournal(dir, now); err == nil {
		t.Error("a second journal replaced the first")
	}
	// A crash in the middle of a record leaves a line without its end.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"type":"done","step":2,`)
	f.Close()
	got, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Torn || len(got.Records) != 3 || got.Begin.Operation != "op" {
		t.Fatalf("read back: torn %v, %d records, begin %+v", got.Torn, len(got.Records), got.Begin)
	}
	st := got.states()
	if !st[1].done || !st[1].after.Gone || !st[2].intent || st[2].done {
		t.Errorf("states: 1 %+v, 2 %+v", st[1], st[2])
	}

	bad := []struct{ name, text, want string }{
		{"not a journal", `{"type":"intent"}` + "\n", "not a purser journal"},
		{"an unknown field", `{"type":"begin","version":"purser.dev/v1alpha1"}` + "\n" + `{"type":"done","surprise":1}` + "\n", ":2: json: unknown field"},
		{"broken JSON", `{"type":"begin","version":"purser.dev/v1alpha1"}` + "\n" + "{\n", ":2:"},
		{"empty", "", "empty, not a purser journal"},
	}
	for _, tc := range bad {
		p := filepath.Join(t.TempDir(), JournalFile)
		if err := os.WriteFile(p, []byte(tc.text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadJournal(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: "a", UID: "u-1", ResourceVersion: "7", Labels: map[string]string{"team": "x"},
			Annotations: map[string]string{"note": "kept"}, ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	u, err := toUnstructured(ns)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeBackup(dir, []*unstructured.Unstructured{u}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, BackupFile)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode: %v %v", fi, err)
	}
	got, err := ReadBackup(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].GetUID() != "u-1" || got[0].GetResourceVersion() != "7" || got[0].GetLabels()["team"] != "x" ||
		got[0].GetAnnotations()["note"] != "kept" || got[0].GetManagedFields() != nil {
		t.Errorf("read back %+v", got)
	}
	restored, err := fromBackup(got, Object{APIVersion: "v1", Kind: "Namespace", Name: "a", UID: "u-1"})
	if err != nil || restored.Labels["team"] != "x" {
		t.Errorf("fromBackup: %v %v", restored, err)
	}
	if _, err := fromBackup(got, Object{APIVersion: "v1", Kind: "Namespace", Name: "a", UID: "u-2"}); err == nil {
		t.Error("another UID found in the backup")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the backup left %d files", len(entries))
	}
}

func TestPrepareDir(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	fresh := filepath.Join(base, "fresh")
	if err := prepareDir(fresh); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}
	if err := prepareDir(fresh); err != nil {
		t.Errorf("an empty directory: %v", err)
	}
	os.WriteFile(filepath.Join(fresh, "x"), nil, 0o600)
	if err := prepareDir(fresh); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a directory with a file: %v", err)
	}
	if err := prepareDir(filepath.Join(fresh, "x")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v", err)
	}
	if err := prepareDir(filepath.Join(base, "missing", "dir")); err == nil {
		t.Error("a directory whose parent is missing was created")
	}
}

func TestStuckError(t *testing.T) {
	t.Parallel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a", Finalizers: []string{"example.com/hold"}},
		Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating, Conditions: []corev1.NamespaceCondition{
			{Type: corev1.NamespaceContentRemaining, Status: corev1.ConditionTrue, Message: "Some resources are remaining: widgets.example.com has 1 resource instances"},
			{Type: corev1.NamespaceDeletionDiscoveryFailure, Status: corev1.ConditionFalse, Message: "All resources successfully discovered"},
		}}}
	got := stuckError("a", 2*time.Second, ns).Error()
	want := "namespace a is still Terminating after 2s (finalizers kubernetes, example.com/hold: purser never strips them); " +
		"NamespaceContentRemaining: Some resources are remaining: widgets.example.com has 1 resource instances"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := stuckError("b", time.Second, nil).Error(); got != "namespace b: still there after 1s" {
		t.Errorf("without the namespace: %s", got)
	}
}
