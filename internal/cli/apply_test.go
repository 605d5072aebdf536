package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/apply"
	"github.com/purserhq/purser/internal/plan"
)

func runRoot(t *testing.T, in string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(in), Out: &out, ErrOut: &errOut})
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// TestApplyRefusals: what apply and rollback refuse before they read a
// plan or a cluster.
func TestApplyRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.yaml")
	if _, stderr, err := runRoot(t, "", "plan", "--demo", "--strategy", "empty", "--plan-file", planFile); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"the demo", []string{"apply", planFile, "--demo"}, "--demo: purser apply changes a live cluster"},
		{"files", []string{"apply", planFile, "--from", "snap.yaml"}, "--from snap.yaml: purser apply changes a live cluster, not files"},
		{"rollback of the demo", []string{"rollback", "journal.jsonl", "--demo"}, "--demo: purser rollback changes a live cluster"},
		{"a confirmation without approval", []string{"apply", planFile, "--confirm-namespace", "x"}, "give --approve too"},
		{"resume into another directory", []string{"apply", planFile, "--resume", "j.jsonl", "--backup-dir", "d"}, "exclusive"},
		{"no wait", []string{"apply", planFile, "--wait", "0s"}, "--wait 0s"},
		{"no parallel deletion", []string{"apply", planFile, "--parallel", "0"}, "--parallel 0: give 1 or more"},
		{"-n", []string{"apply", planFile, "-n", "shop"}, "does not narrow to a namespace"},
		{"a plan that does not exist", []string{"apply", filepath.Join(dir, "missing.yaml")}, "reading plan"},
		{"a journal that does not exist", []string{"rollback", filepath.Join(dir, "missing.jsonl"), "--kubeconfig", filepath.Join(dir, "kubeconfig")}, "reading journal"},
		{"no kubeconfig", []string{"apply", planFile, "--kubeconfig", filepath.Join(dir, "kubeconfig")}, "--kubeconfig " + filepath.Join(dir, "kubeconfig")},
		{"no kubeconfig, no demo suggested", []string{"apply", planFile, "--kubeconfig", filepath.Join(dir, "kubeconfig")}, "this command changes a live cluster: point --kubeconfig or KUBECONFIG at it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runRoot(t, "", tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestConfirmAtPrompt(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want string // "" confirmed
	}{
		{"alpha\nbeta\n", ""},
		{"  alpha \nbeta", ""},
		{"alpha\nbeat\n", `namespace beta not confirmed (typed "beat")`},
		{"yes\n", `namespace alpha not confirmed (typed "yes")`},
		{"", `namespace alpha not confirmed (typed "")`},
	}
	for _, tc := range cases {
		var errOut bytes.Buffer
		got, err := confirmAtPrompt(genericiooptions.IOStreams{In: strings.NewReader(tc.in), ErrOut: &errOut}, []string{"alpha", "beta"})
		switch {
		case tc.want == "" && (err != nil || len(got) != 2):
			t.Errorf("%q: %v %v", tc.in, got, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: got %v, want %q", tc.in, err, tc.want)
		}
		if !strings.Contains(errOut.String(), "Delete namespace alpha? Type its name: ") {
			t.Errorf("the prompt: %q", errOut.String())
		}
	}
}

func TestRunReportTable(t *testing.T) {
	t.Parallel()
	rep := &apply.Report{Operation: "01234567-20261201T000000Z", Plan: "sha256:0123", Source: "live:https://127.0.0.1:6443", DryRun: true,
		Steps: []apply.StepResult{{Step: apply.Step{Index: 1, Change: apply.ChangeDelete,
			Object: apply.Object{APIVersion: "v1", Kind: "Namespace", Name: "evil\x1b[31m"}}, Status: apply.StatusDryRun, Message: "empty"}}}
	var out bytes.Buffer
	if err := printRunReport(genericiooptions.IOStreams{Out: &out}, "table", rep); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"Plan sha256:0123 on live:https://127.0.0.1:6443, operation 01234567-20261201T000000Z (dry run)",
		"STEP  CHANGE  OBJECT", "1     delete  Namespace evil"} {
		if !strings.Contains(got, want) {
			t.Errorf("the table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "\x1b") {
		t.Errorf("a name's escape sequence reached the terminal: %q", got)
	}
}

// TestApplyPromptsOnTerminal: on a terminal, the namespaces not confirmed
// with flags are asked for one by one; a mistyped name stops the run before
// it reads the cluster, and all names typed let it go on (to a server that
// is not there, here).
func TestApplyPromptsOnTerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.yaml")
	if _, stderr, err := runRoot(t, "", "plan", "--demo", "--strategy", "empty", "--plan-file", planFile); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	pf, err := os.Open(planFile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Read(pf)
	pf.Close()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range p.Spec.Deletions {
		names = append(names, d.Namespace)
	}
	cases := []struct {
		name      string
		flags     []string
		typed     string
		prompts   int
		wantError string
	}{
		{"a mistyped name", nil, names[0] + "\nnot-" + names[1] + "\n", 2, `namespace ` + names[1] + ` not confirmed (typed "not-` + names[1] + `")`},
		{"all typed", nil, strings.Join(names, "\n") + "\n", 18, "127.0.0.1:1"},
		{"the rest typed", names[:16], strings.Join(names[16:], "\n") + "\n", 2, "127.0.0.1:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kube := genericclioptions.NewConfigFlags(true)
			*kube.KubeConfig = kubeconfig
			var out, errOut bytes.Buffer
			o := &ApplyOptions{Env: EnvFlags{Kube: kube}, Path: planFile, Approve: p.Metadata.ContentHash, Confirm: tc.flags,
				Wait: time.Second, Output: newChoice("table", applyFormats()...),
				streams:  genericiooptions.IOStreams{In: strings.NewReader(tc.typed), Out: &out, ErrOut: &errOut},
				terminal: func() bool { return true }}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			err := o.Run(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.wantError) {
				t.Errorf("got %v, want an error saying %q", err, tc.wantError)
			}
			if n := strings.Count(errOut.String(), "? Type its name: "); n != tc.prompts {
				t.Errorf("%d prompts, want %d:\n%s", n, tc.prompts, errOut.String())
			}
		})
	}
}

// TestApplyFinish: what apply says on stderr after a run, by how it ended.
func TestApplyFinish(t *testing.T) {
	t.Parallel()
	rep := func(dry bool, journal string) *apply.Report {
		return &apply.Report{Operation: "op", Plan: "sha256:0123", Source: "live:x", DryRun: dry, Dir: "d ir", Journal: journal}
	}
	cases := []struct {
		name string
		rep  *apply.Report
		err  error
		want []string
		not  []string
	}{
		{"a dry run that passed", rep(true, ""), nil, []string{"dry run: nothing was changed; carry it out with --approve sha256:0123"}, []string{"rollback"}},
		{"a refused dry run", rep(true, ""), errors.New("stale"), nil, []string{"carry it out", "rollback"}},
		{"a run carried out", rep(false, "d ir/journal.jsonl"), nil,
			[]string{"backup and journal in d ir; undo with: purser rollback 'd ir/journal.jsonl' --approve sha256:0123"}, []string{"Continue"}},
		{"a run that stopped", rep(false, "d ir/journal.jsonl"), errors.New("step 3: blocked"),
			[]string{"purser apply 'my plan.yaml' --approve sha256:0123 --resume 'd ir/journal.jsonl' --confirm-namespace …",
				"purser rollback 'd ir/journal.jsonl' --approve sha256:0123"}, nil},
		{"a run of moves that stopped", rep(false, "d ir/journal.jsonl"), errors.New("step 90: blocked"),
			[]string{"--resume 'd ir/journal.jsonl' --include-secret-values --accept-reference --accept-helm --confirm-namespace …"}, nil},
		{"a run refused before its journal", rep(false, ""), errors.New("not confirmed"), nil, []string{"rollback", "Continue"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			o := &ApplyOptions{Path: "my plan.yaml", Output: newChoice("table", applyFormats()...), streams: genericiooptions.IOStreams{Out: &out, ErrOut: &errOut}}
			// The run of moves was given every acceptance.
			moves := tc.name == "a run of moves that stopped"
			o.Secrets, o.References, o.Helm = moves, moves, moves
			if err := o.finish(tc.rep, tc.err); err != tc.err {
				t.Errorf("finish returned %v, want %v", err, tc.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(errOut.String(), n) {
					t.Errorf("stderr says %q:\n%s", n, errOut.String())
				}
			}
			if !strings.Contains(out.String(), "Plan sha256:0123 on live:x") {
				t.Errorf("no report on stdout:\n%s", out.String())
			}
		})
	}
}
