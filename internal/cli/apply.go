package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/apply"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/shell"
)

// ApplyOptions are the options of `purser apply`.
type ApplyOptions struct {
	Env       EnvFlags
	Path      string
	Approve   string
	Confirm   []string
	BackupDir string
	Resume    string
	Wait      time.Duration
	// Secrets, References and Helm are --include-secret-values,
	// --accept-reference and --accept-helm.
	Secrets, References, Helm bool
	Parallel                  int
	// Pools are --resize-pools and how to reach the DigitalOcean API.
	Pools   poolFlags
	Output  *choice
	streams genericiooptions.IOStreams
	// terminal tells whether confirmations may be typed at a prompt.
	terminal func() bool
}

// applyFormats are what -o renders a run's report as.
func applyFormats() []string { return []string{"table", "json", "yaml"} }

func newApplyCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &ApplyOptions{Env: EnvFlags{Kube: kube}, streams: streams, terminal: func() bool { return isTerminal(streams.In) }}
	cmd := &cobra.Command{
		Use:   "apply PLAN.yaml",
		Short: "Carry out a reviewed plan on the live cluster: a dry run unless approved",
		Long: `Verify a plan file against the live cluster and carry it out: namespace
deletions (the empty strategy) and moves (product, environment, file).

Steps run in this order: target namespaces; ServiceAccounts, ConfigMaps and
Secrets; claims, by handing their volumes over (never copied); workloads;
Services; Ingresses; RBAC; NetworkPolicies; then each target is verified
(workloads available, Services with ready endpoints, Service addresses
resolving) and only then are the sources scaled down, deleted (UID
precondition) and their namespaces deleted. Objects are written by
server-side apply, field manager purser, never forced: a conflict stops the
run naming the object and the other manager. Every object created carries
the label purser.dev/operation=<operation>.

Copying a Secret needs --include-secret-values. References the plan could not
rewrite block until --accept-reference; objects of Helm releases block until
--accept-helm (the refusal says how to re-point each release).

Without --approve it is a dry run: it reads the cluster again, refuses when
anything the plan acts on changed since the plan was built (another UID or
resourceVersion, a namespace that is not empty any more, or whose emptiness
cannot be shown), sends every deletion to the server as a dry run and prints
the ordered steps. Nothing changes.

With --approve HASH, HASH being the plan's content hash (purser plan show
prints it), and each namespace confirmed by name with --confirm-namespace (or
typed at the prompt when stdin is a terminal), it first saves every object
it will change or delete into a backup (mode 0600) in --backup-dir, then journals each
step there before and after it, and deletes each namespace with its UID and
resourceVersion as preconditions, never stripping a finalizer, and waits for
it to go. A crashed or interrupted run continues with --resume JOURNAL;
purser rollback JOURNAL restores what it changed or deleted and removes what
it created.

Exit codes: 0 done (or the dry run passed), 1 refused or failed (the report
says which step and why), 130/143 interrupted: the journal says how far it went.`,
		Example: `  purser plan --strategy empty --plan-file plan.yaml
  purser plan show plan.yaml
  purser apply plan.yaml
  purser apply plan.yaml --approve sha256:… --confirm-namespace milvus-test --confirm-namespace old-demo
  purser apply plan.yaml --approve sha256:… --resume purser-apply-…/journal.jsonl
  purser rollback purser-apply-…/journal.jsonl`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Path = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Approve, "approve", "", "carry the plan out: its content hash (sha256:…), as purser plan show prints it")
	fs.StringArrayVar(&o.Confirm, "confirm-namespace", nil, "confirm the deletion of this namespace (repeat for each; required with --approve unless typed at the prompt)")
	fs.StringVar(&o.BackupDir, "backup-dir", "", "directory for the backup and the journal, created with mode 0700 (default ./purser-apply-<hash>-<time>)")
	fs.StringVar(&o.Resume, "resume", "", "continue the run this journal records (its backup is beside it)")
	fs.DurationVar(&o.Wait, "wait", apply.DefaultWait, "how long each wait lasts at most: a deleted namespace to go, a moved workload to be available, a volume to be released or bound")
	fs.BoolVar(&o.Secrets, "include-secret-values", false, "let the run read the Secrets it copies, at the step that copies each (values go to the target and the 0600 backup only)")
	fs.BoolVar(&o.References, "accept-reference", false, "carry the plan out although references it could not rewrite (Service addresses, binding subjects, namespace selectors in objects that stay) will point at the old namespaces")
	fs.BoolVar(&o.Helm, "accept-helm", false, "move objects of Helm releases, whose release records stay in the source namespaces (the report says how to re-point each release)")
	fs.IntVar(&o.Parallel, "parallel", 4, "how many namespace deletions run at once")
	o.Output = outputFormat(cmd, applyFormats()...)
	o.Pools.add(cmd, true)
	addLiveOnly(cmd, &o.Env)
	return cmd
}

// addLiveOnly adds --from and --demo to a command that changes the live
// cluster, only so that they are refused with a reason rather than as
// unknown flags.
func addLiveOnly(cmd *cobra.Command, f *EnvFlags) {
	f.liveOnly = true
	cmd.Flags().StringVar(&f.From, "from", "", "not for this command: it acts on the live cluster")
	cmd.Flags().BoolVar(&f.Demo, "demo", false, "not for this command: it acts on the live cluster")
	_ = cmd.Flags().MarkHidden("from")
	_ = cmd.Flags().MarkHidden("demo")
}

func liveOnly(name string, f *EnvFlags) error {
	switch {
	case f.Demo:
		return fmt.Errorf("--demo: purser %s changes a live cluster, and the demo is a snapshot; review a demo plan with purser plan show", name)
	case f.From != "":
		return fmt.Errorf("--from %s: purser %s changes a live cluster, not files; it reads the cluster of the kubeconfig", f.From, name)
	}
	return nil
}

// Validate checks the flags.
func (o *ApplyOptions) Validate() error {
	if err := liveOnly("apply", &o.Env); err != nil {
		return err
	}
	if len(o.Confirm) > 0 && o.Approve == "" {
		return fmt.Errorf("--confirm-namespace confirms an approved deletion: give --approve too")
	}
	if o.Resume != "" && o.BackupDir != "" {
		return fmt.Errorf("--resume and --backup-dir are exclusive: a resumed run keeps the directory of its journal")
	}
	if o.Wait <= 0 {
		return fmt.Errorf("--wait %s: give a positive duration", o.Wait)
	}
	if o.Parallel < 1 {
		return fmt.Errorf("--parallel %d: give 1 or more", o.Parallel)
	}
	return o.Pools.validate()
}

// Run reads the plan, verifies it against the cluster and carries it out
// or dry-runs it, then prints the report.
func (o *ApplyOptions) Run(ctx context.Context) error {
	f, err := os.Open(o.Path)
	if err != nil {
		return fmt.Errorf("reading plan: %w", err)
	}
	p, err := plan.Read(f)
	f.Close()
	if err != nil {
		return err
	}
	cfg, _, err := o.Env.restConfig()
	if err != nil {
		return err
	}
	opts := apply.Options{Plan: p, Approve: o.Approve, Confirmed: o.Confirm, Dir: o.BackupDir, Resume: o.Resume,
		Wait: o.Wait, Log: loggerFrom(ctx), IncludeSecretValues: o.Secrets, AcceptReference: o.References, AcceptHelm: o.Helm, Parallel: o.Parallel}
	rep, err := apply.Apply(ctx, cfg, opts)
	var unconfirmed *apply.UnconfirmedError
	if errors.As(err, &unconfirmed) && o.terminal() {
		more, perr := confirmAtPrompt(o.streams, unconfirmed.Namespaces)
		if perr != nil {
			return perr
		}
		opts.Confirmed = append(opts.Confirmed, more...)
		rep, err = apply.Apply(ctx, cfg, opts)
	}
	if err == nil && rep != nil {
		err = o.Pools.resizePools(ctx, o.streams, p, rep)
	}
	return o.finish(rep, err)
}

// finish prints the report, how far the run went, and its error.
func (o *ApplyOptions) finish(rep *apply.Report, err error) error {
	if rep == nil {
		return err
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(o.streams.ErrOut, "Warning: %s\n", output.TerminalText(w))
	}
	if perr := printRunReport(o.streams, o.Output.value, rep); perr != nil && err == nil {
		err = perr
	}
	journal := output.TerminalText(shell.Quote(rep.Journal))
	switch {
	case rep.DryRun && err == nil:
		fmt.Fprintf(o.streams.ErrOut, "dry run: nothing was changed; carry it out with --approve %s\n", rep.Plan)
	case rep.Journal != "" && err != nil && !rep.DryRun:
		// The run stopped with its journal written: say how to go on, or
		// back, while the person still has the command line in view.
		// The acceptances of the run are needed again: a resumed run checks
		// what blocks it as the first run did.
		var accepted string
		for _, f := range []struct {
			set  bool
			flag string
		}{{o.Secrets, "--include-secret-values"}, {o.References, "--accept-reference"}, {o.Helm, "--accept-helm"}} {
			if f.set {
				accepted += " " + f.flag
			}
		}
		fmt.Fprintf(o.streams.ErrOut, "the run stopped; the journal says how far it went. Continue with:\n  purser apply %s --approve %s --resume %s%s --confirm-namespace …\nor undo it with:\n  purser rollback %s --approve %s\n",
			output.TerminalText(shell.Quote(o.Path)), rep.Plan, journal, accepted, journal, rep.Plan)
	case rep.Journal != "":
		fmt.Fprintf(o.streams.ErrOut, "backup and journal in %s; undo with: purser rollback %s --approve %s\n",
			output.TerminalText(rep.Dir), journal, rep.Plan)
	}
	return err
}

// confirmAtPrompt asks for each namespace's name to be typed, as a person
// deleting it by hand would type it: a mistyped name confirms nothing and
// stops the run before it changes anything.
func confirmAtPrompt(streams genericiooptions.IOStreams, namespaces []string) ([]string, error) {
	in := bufio.NewReader(streams.In)
	fmt.Fprintf(streams.ErrOut, "This run deletes %d namespaces. Type each name to confirm its deletion.\n", len(namespaces))
	for _, ns := range namespaces {
		fmt.Fprintf(streams.ErrOut, "Delete namespace %s? Type its name: ", output.TerminalText(ns))
		line, err := in.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading the confirmation of namespace %s: %w", ns, err)
		}
		if strings.TrimSpace(line) != ns {
			return nil, fmt.Errorf("namespace %s not confirmed (typed %q): nothing was changed", output.TerminalText(ns), output.TerminalText(strings.TrimSpace(line)))
		}
	}
	return namespaces, nil
}

// isTerminal tells whether r is a terminal a person types into.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printRunReport writes the steps of an apply or a rollback.
func printRunReport(streams genericiooptions.IOStreams, format string, rep *apply.Report) error {
	// The report of an interrupted run is printed all the same, so not
	// under the run's context; it goes to stdout only, no file.
	return emit(context.Background(), streams, format, "", applyFormats(), func(w io.Writer, format string, _ bool) error {
		switch format {
		case "json":
			return report.WriteJSON(w, rep)
		case "yaml":
			return report.WriteYAML(w, rep)
		}
		mode := "carried out"
		if rep.DryRun {
			mode = "dry run"
		}
		fmt.Fprintf(w, "Plan %s on %s, operation %s (%s)\n", rep.Plan, rep.Source, rep.Operation, mode)
		if rep.Journal != "" {
			fmt.Fprintf(w, "Journal %s\n", filepath.ToSlash(rep.Journal))
		}
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "STEP\tCHANGE\tOBJECT\tSTATUS\tDETAIL")
		for _, s := range rep.Steps {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", s.Index, s.Change, output.CellText(s.Object.String()), s.Status, output.CellText(s.Message))
		}
		return tw.Flush()
	})
}
