package apply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/apply"
	"github.com/purserhq/purser/internal/cli"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/scenario/clusterload"
	"github.com/purserhq/purser/internal/testcluster"
)

// cluster is the control plane every test of the package shares, loaded
// with BlueOcean once.
var cluster *testcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(testcluster.Main(m, func(c *testcluster.Cluster) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		var progress bytes.Buffer
		if err := clusterload.Load(ctx, c.Config, scenario.BlueOcean(), &progress); err != nil {
			return errors.Join(err, errors.New(progress.String()))
		}
		cluster = c
		return nil
	}))
}

// liveRun is what the steps of TestApplyEmptyPlanLive share.
type liveRun struct {
	c    *testcluster.Cluster
	kube kubernetes.Interface
	dir  string
	// config is BlueOcean's purser.yaml, written to a file for the CLI.
	config string
	// want are the 18 empty namespaces of the demo's own empty plan.
	want []string
	// secrets are the values of BlueOcean's Secrets: none may appear in
	// any output, journal or backup.
	secrets []string
	// unavailable are the workloads ("ns/name") not fully available and
	// noEndpoints the Services without ready endpoints before a run.
	unavailable, noEndpoints []string
}

// purser runs one command line against the shared cluster, as a user
// would, with stdin that is not a terminal.
func (l *liveRun) purser(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := cli.NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	// -v 2: the debug logs too must hold no Secret value.
	root.SetArgs(append([]string{"--kubeconfig", l.c.Kubeconfig, "-v", "2"}, args...))
	err := root.ExecuteContext(t.Context())
	l.noSecrets(t, out.String()+errOut.String())
	return out.String(), errOut.String(), err
}

func (l *liveRun) noSecrets(t *testing.T, text string) {
	t.Helper()
	for _, s := range l.secrets {
		if strings.Contains(text, s) {
			t.Errorf("a Secret's value %q appears in purser's output", s)
		}
	}
}

// plan builds the empty plan of the live cluster and returns its file and
// hash; its deletions must be the demo's.
func (l *liveRun) plan(t *testing.T) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.yaml")
	if _, stderr, err := l.purser(t, "plan", "--strategy", "empty", "--config", l.config, "--plan-file", path); err != nil {
		t.Fatalf("purser plan: %v\n%s", err, stderr)
	}
	p := readPlan(t, path)
	var got []string
	for _, d := range p.Spec.Deletions {
		got = append(got, d.Namespace)
	}
	slices.Sort(got)
	if !slices.Equal(got, l.want) {
		t.Fatalf("the live empty plan deletes %v, want the demo's %v", got, l.want)
	}
	return path, p.Metadata.ContentHash
}

// nsState is a namespace as a comparison of before and after sees it.
type nsState struct {
	UID, ResourceVersion string
	Labels, Annotations  map[string]string
	Terminating          bool
}

func (l *liveRun) namespaces(t *testing.T) map[string]nsState {
	t.Helper()
	list, err := l.kube.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]nsState{}
	for _, n := range list.Items {
		out[n.Name] = nsState{UID: string(n.UID), ResourceVersion: n.ResourceVersion, Labels: n.Labels, Annotations: n.Annotations,
			Terminating: n.DeletionTimestamp != nil}
	}
	return out
}

// unchanged fails when a namespace appeared, went or changed.
func unchanged(t *testing.T, before, after map[string]nsState) {
	t.Helper()
	for name, b := range before {
		a, ok := after[name]
		switch {
		case !ok:
			t.Errorf("namespace %s was deleted", name)
		case a.UID != b.UID || a.ResourceVersion != b.ResourceVersion || a.Terminating:
			t.Errorf("namespace %s changed: %+v, was %+v", name, a, b)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("namespace %s was created", name)
		}
	}
}

// deletedExactly fails unless the namespaces gone since before are want.
func deletedExactly(t *testing.T, before, after map[string]nsState, want []string) {
	t.Helper()
	var gone []string
	for name, b := range before {
		if a, ok := after[name]; !ok || a.UID != b.UID {
			gone = append(gone, name)
		}
	}
	slices.Sort(gone)
	if !slices.Equal(gone, want) {
		t.Errorf("deleted %v, want exactly %v", gone, want)
	}
}

// restored fails unless every namespace of want is back with the labels
// and annotations it had before (a new UID: it is a new object).
func restored(t *testing.T, before, after map[string]nsState, want []string) {
	t.Helper()
	for _, name := range want {
		a, ok := after[name]
		b := before[name]
		switch {
		case !ok:
			t.Errorf("namespace %s not restored", name)
		case !maps.Equal(a.Labels, b.Labels) || !maps.Equal(a.Annotations, b.Annotations):
			t.Errorf("namespace %s restored with labels %v annotations %v, had %v %v", name, a.Labels, a.Annotations, b.Labels, b.Annotations)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d namespaces after the rollback, %d before the run", len(after), len(before))
	}
}

func confirmAll(want []string) []string {
	var out []string
	for _, ns := range want {
		out = append(out, "--confirm-namespace", ns)
	}
	return out
}

// checkFiles checks the modes of an operation's directory and files, and
// that no Secret's value is in them.
func (l *liveRun) checkFiles(t *testing.T, dir string) {
	t.Helper()
	for name, want := range map[string]os.FileMode{".": 0o700, apply.BackupFile: 0o600, apply.JournalFile: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", filepath.Join(dir, name), got, want)
		}
		if name != "." {
			data, _ := os.ReadFile(filepath.Join(dir, name))
			l.noSecrets(t, string(data))
		}
	}
}

// statuses counts the steps of a JSON or YAML report by status.
func statuses(t *testing.T, out string) map[apply.Status]int {
	t.Helper()
	var rep apply.Report
	if err := yaml.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	n := map[apply.Status]int{}
	for _, s := range rep.Steps {
		n[s.Status]++
	}
	return n
}

func journalTypes(t *testing.T, path string) map[string]int {
	t.Helper()
	j, err := apply.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range j.Records {
		out[r.Type]++
	}
	return out
}

// TestApplyEmptyPlanLive carries BlueOcean's empty plan out on the live
// cluster through the command line: dry run, refusals, a namespace that
// fills up in the middle of a run, resume, rollback, a cancelled run, and a
// killed process. The steps share the 18 empty namespaces, so they run in
// order.
func TestApplyEmptyPlanLive(t *testing.T) {
	c := testcluster.Require(t, cluster)
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	l := &liveRun{c: c, kube: kube, dir: t.TempDir()}
	l.config = filepath.Join(l.dir, "purser.yaml")
	if err := os.WriteFile(l.config, scenario.DemoConfigYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	demo, err := action.Demo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	dp, err := action.Plan{Strategy: plan.StrategyEmpty}.Run(t.Context(), demo)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dp.Spec.Deletions {
		l.want = append(l.want, d.Namespace)
	}
	slices.Sort(l.want)
	if len(l.want) != 18 {
		t.Fatalf("the demo's empty plan deletes %d namespaces, want 18", len(l.want))
	}
	for _, o := range scenario.BlueOcean().Objects {
		if s, ok := o.Object.(*corev1.Secret); ok {
			for _, v := range s.Data {
				l.secrets = append(l.secrets, string(v))
			}
		}
	}
	if len(l.secrets) == 0 {
		t.Fatal("BlueOcean has no Secret values to look for")
	}

	t.Run("dry run changes nothing", l.dryRun)
	t.Run("refusals", l.refusals)
	t.Run("filled in the middle, resumed, rolled back", l.filledThenResumed)
	t.Run("cancelled, resumed, rolled back", l.cancelledThenResumed)
	t.Run("interrupted, resumed, killed, resumed, rolled back", l.interruptedThenKilled)
}

func (l *liveRun) dryRun(t *testing.T) {
	path, hash := l.plan(t)
	before := l.namespaces(t)
	start := time.Now()
	out, stderr, err := l.purser(t, "apply", path, "-o", "json")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, stderr)
	}
	t.Logf("dry run of 18 steps: %s", time.Since(start).Round(time.Millisecond))
	var rep apply.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.DryRun || rep.Plan != hash || len(rep.Steps) != 18 {
		t.Fatalf("dry run report: dry %v plan %s, %d steps", rep.DryRun, rep.Plan, len(rep.Steps))
	}
	for _, s := range rep.Steps {
		if s.Status != apply.StatusDryRun {
			t.Errorf("step %d %s: %s %s", s.Index, s.Object, s.Status, s.Message)
		}
	}
	if !strings.Contains(stderr, "--approve "+hash) {
		t.Errorf("the dry run does not say how to approve it:\n%s", stderr)
	}
	unchanged(t, before, l.namespaces(t))
}

func (l *liveRun) refusals(t *testing.T) {
	path, hash := l.plan(t)
	before := l.namespaces(t)
	cases := []struct {
		name  string
		args  []string
		setup func(t *testing.T)
		want  []string
	}{
		{name: "another hash", args: []string{"--approve", "sha256:" + strings.Repeat("0", 64)},
			want: []string{"sha256:" + strings.Repeat("0", 64), hash}},
		{name: "not confirmed without a terminal", args: []string{"--approve", hash, "--confirm-namespace", l.want[0]},
			want: []string{"17 not confirmed", l.want[1], l.want[17]}},
		{name: "a confirmation of another namespace", args: append([]string{"--approve", hash, "--confirm-namespace", "kube-system"}, confirmAll(l.want)...),
			want: []string{"--confirm-namespace kube-system: the plan does not delete this namespace"}},
		{name: "the demo", args: []string{"--demo"}, want: []string{"--demo: purser apply changes a live cluster"}},
		{name: "a namespace that gained a ConfigMap", args: append([]string{"--approve", hash}, confirmAll(l.want)...),
			setup: func(t *testing.T) {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "arrived-late", Namespace: l.want[2]}}
				if _, err := l.kube.CoreV1().ConfigMaps(l.want[2]).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					_ = l.kube.CoreV1().ConfigMaps(l.want[2]).Delete(context.Background(), cm.Name, metav1.DeleteOptions{})
				})
			},
			want: []string{"Namespace " + l.want[2] + ": not empty any more, it holds 1 ConfigMap: not deleted", "nothing was changed"}},
		// Last: the label makes the plan stale for the steps after this one.
		{name: "a namespace changed since planning", args: append([]string{"--approve", hash}, confirmAll(l.want)...),
			setup: func(t *testing.T) {
				if out, err := l.c.Kubectl(t.Context(), "label", "namespace", l.want[5], "purser-test/stale=yes"); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				before = l.namespaces(t)
			},
			want: []string{"Namespace " + l.want[5] + ": changed since the plan was built", "nothing was changed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			dir := filepath.Join(t.TempDir(), "backup")
			_, stderr, err := l.purser(t, append([]string{"apply", path, "--backup-dir", dir}, tc.args...)...)
			if err == nil {
				t.Fatalf("not refused:\n%s", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal does not say %q:\n%v", w, err)
				}
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("a refused run wrote %s", dir)
			}
			unchanged(t, before, l.namespaces(t))
		})
	}
}

// filledThenResumed: a ConfigMap appears in the third namespace just before
// its step; the run deletes the first two, stops there and says why. Once
// the ConfigMap is gone, --resume deletes the rest; rollback recreates all
// 18 as they were.
func (l *liveRun) filledThenResumed(t *testing.T) {
	ctx := t.Context()
	path, hash := l.plan(t)
	before := l.namespaces(t)
	p := readPlan(t, path)
	dir := filepath.Join(t.TempDir(), "op")
	var third string
	rep, err := apply.Apply(ctx, l.c.Config, apply.Options{Plan: p, Approve: hash, Confirmed: l.want, Dir: dir,
		BeforeStep: func(ctx context.Context, s apply.Step) error {
			if s.Index != 3 {
				return nil
			}
			third = s.Object.Name
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "arrived-during-the-run", Namespace: third}}
			_, err := l.kube.CoreV1().ConfigMaps(third).Create(ctx, cm, metav1.CreateOptions{})
			return err
		}})
	if err == nil || !strings.Contains(err.Error(), "step 3: Namespace "+third+": not empty: holds ConfigMap arrived-during-the-run") {
		t.Fatalf("a namespace filled during the run: %v", err)
	}
	if got := []apply.Status{rep.Steps[0].Status, rep.Steps[1].Status, rep.Steps[2].Status, rep.Steps[3].Status}; !slices.Equal(got,
		[]apply.Status{apply.StatusDone, apply.StatusDone, apply.StatusBlocked, apply.StatusPending}) {
		t.Errorf("statuses %v", got)
	}
	mid := l.namespaces(t)
	deletedExactly(t, before, mid, []string{rep.Steps[0].Object.Name, rep.Steps[1].Object.Name})
	if _, ok := mid[third]; !ok {
		t.Errorf("namespace %s, which gained a ConfigMap, was deleted", third)
	}
	journal := filepath.Join(dir, apply.JournalFile)
	if n := journalTypes(t, journal); n[apply.RecordBlocked] != 1 || n[apply.RecordDone] != 2 {
		t.Errorf("journal records %v", n)
	}
	l.checkFiles(t, dir)

	if err := l.kube.CoreV1().ConfigMaps(third).Delete(ctx, "arrived-during-the-run", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := l.purser(t, "apply", path, "--resume", journal, "-o", "json")
	if err != nil {
		t.Fatalf("dry run of the resumption: %v\n%s", err, stderr)
	}
	if n := statuses(t, out); n[apply.StatusDoneBefore] != 2 || n[apply.StatusDryRun] != 16 {
		t.Errorf("the dry run of the resumption: %v", n)
	}
	_, _, err = l.purser(t, "apply", path, "--approve", hash, "--resume", journal)
	if err == nil || !strings.Contains(err.Error(), "16 not confirmed") {
		t.Errorf("a resumed run asks for the confirmation of the 16 namespaces left: %v", err)
	}
	start := time.Now()
	out, stderr, err = l.purser(t, append([]string{"apply", path, "--approve", hash, "--resume", journal, "-o", "json"}, confirmAll(l.want)...)...)
	if err != nil {
		t.Fatalf("resume: %v\n%s%s", err, out, stderr)
	}
	t.Logf("resumed run, 16 namespaces deleted: %s", time.Since(start).Round(time.Millisecond))
	if n := statuses(t, out); n[apply.StatusDoneBefore] != 2 || n[apply.StatusDone] != 16 {
		t.Errorf("the resumed run's steps: %v", n)
	}
	deletedExactly(t, before, l.namespaces(t), l.want)
	if n := journalTypes(t, journal); n[apply.RecordDone] != 18 || n[apply.RecordEnd] != 1 {
		t.Errorf("journal records %v", n)
	}
	l.rollback(t, journal, hash, before)
}

// rollback dry-runs, then carries out the rollback of a run through the
// command line, and checks that every namespace is back as it was.
func (l *liveRun) rollback(t *testing.T, journal, hash string, before map[string]nsState) {
	t.Helper()
	gone := l.namespaces(t)
	out, stderr, err := l.purser(t, "rollback", journal, "-o", "json")
	if err != nil {
		t.Fatalf("rollback dry run: %v\n%s", err, stderr)
	}
	if n := statuses(t, out); n[apply.StatusDryRun] != 18 {
		t.Errorf("rollback dry run: %v, want 18 dry-run", n)
	}
	unchanged(t, gone, l.namespaces(t))
	if _, _, err := l.purser(t, "rollback", journal, "--approve", "sha256:"+strings.Repeat("1", 64)); err == nil {
		t.Error("a rollback approved with another hash was carried out")
	}
	start := time.Now()
	out, stderr, err = l.purser(t, "rollback", journal, "--approve", hash)
	t.Logf("rollback, 18 namespaces recreated: %s", time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("rollback: %v\n%s%s", err, out, stderr)
	}
	after := l.namespaces(t)
	restored(t, before, after, l.want)
	// Run again, it finds everything restored and changes nothing.
	if out, _, err := l.purser(t, "rollback", journal, "--approve", hash, "-o", "yaml"); err != nil || !strings.Contains(out, "restored by an earlier rollback") {
		t.Errorf("a second rollback: %v\n%s", err, out)
	} else if n := statuses(t, out); n[apply.StatusRestored] != 18 {
		t.Errorf("a second rollback: %v, want 18 restored before", n)
	}
	unchanged(t, after, l.namespaces(t))
	l.checkFiles(t, filepath.Dir(journal))
}

// cancelledThenResumed stops a run between its fifth and sixth step, as an
// interrupt would, then resumes it to the end.
func (l *liveRun) cancelledThenResumed(t *testing.T) {
	path, hash := l.plan(t)
	before := l.namespaces(t)
	p := readPlan(t, path)
	dir := filepath.Join(t.TempDir(), "op")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := apply.Apply(ctx, l.c.Config, apply.Options{Plan: p, Approve: hash, Confirmed: l.want, Dir: dir,
		BeforeStep: func(_ context.Context, s apply.Step) error {
			if s.Index == 6 {
				cancel()
			}
			return nil
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled run: %v", err)
	}
	journal := filepath.Join(dir, apply.JournalFile)
	if n := journalTypes(t, journal); n[apply.RecordDone] != 5 || n[apply.RecordIntent] != 5 {
		t.Errorf("journal of the cancelled run: %v", n)
	}
	if _, stderr, err := l.purser(t, append([]string{"apply", path, "--approve", hash, "--resume", journal}, confirmAll(l.want)...)...); err != nil {
		t.Fatalf("resume: %v\n%s", err, stderr)
	}
	deletedExactly(t, before, l.namespaces(t), l.want)
	l.rollback(t, journal, hash, before)
}

// interruptedThenKilled runs the purser binary, interrupts it (SIGINT)
// once its journal records two deletions, resumes it with the binary and
// kills that (SIGKILL) two deletions later, wherever it is then, and
// resumes it to the end.
func (l *liveRun) interruptedThenKilled(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "purser")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/purserhq/purser/cmd/purser")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building purser: %v\n%s", err, out)
	}
	path, hash := l.plan(t)
	before := l.namespaces(t)
	dir := filepath.Join(t.TempDir(), "op")
	journal := filepath.Join(dir, apply.JournalFile)
	// run starts the binary and sends it sig once the journal records
	// done deletions.
	run := func(sig syscall.Signal, done int, args ...string) (int, string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, append(append([]string{"--kubeconfig", l.c.Kubeconfig, "apply", path, "--approve", hash}, args...), confirmAll(l.want)...)...)
		var output bytes.Buffer
		cmd.Stdout, cmd.Stderr = &output, &output
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			data, _ := os.ReadFile(journal)
			if bytes.Count(data, []byte(`"type":"done"`)) >= done {
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("the run recorded no %d deletions in 2 minutes:\n%s", done, output.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		l.noSecrets(t, output.String())
		j, err := apply.ReadJournal(journal)
		if err != nil {
			t.Fatal(err)
		}
		if last := j.Records[len(j.Records)-1]; last.Type == apply.RecordEnd {
			t.Fatalf("the run ended before %v reached it", sig)
		}
		t.Logf("%v after %d journal records (torn last line: %v)", sig, len(j.Records), j.Torn)
		return cmd.ProcessState.ExitCode(), output.String()
	}
	code, out := run(syscall.SIGINT, 2, "--backup-dir", dir)
	if code != 130 || !strings.Contains(out, "--resume "+journal) || !strings.Contains(out, "purser rollback "+journal) {
		t.Errorf("interrupted: exit code %d, want 130 and how to go on:\n%s", code, out)
	}
	run(syscall.SIGKILL, 4, "--resume", journal)
	if _, stderr, err := l.purser(t, append([]string{"apply", path, "--approve", hash, "--resume", journal}, confirmAll(l.want)...)...); err != nil {
		t.Fatalf("resume: %v\n%s", err, stderr)
	}
	deletedExactly(t, before, l.namespaces(t), l.want)
	if n := journalTypes(t, journal); n[apply.RecordDone] != 18 || n[apply.RecordEnd] != 1 {
		t.Errorf("journal %v", n)
	}
	l.rollback(t, journal, hash, before)
}

// readPlan reads and verifies the plan file at path.
func readPlan(t *testing.T, path string) *plan.Plan {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := plan.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
