package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/atomicfile"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/report"
)

// PlanOptions are the options of `purser plan`.
type PlanOptions struct {
	Env      EnvFlags
	Strategy *choice
	PlanFile string // plan YAML to write
	Review   string // deprecated: --report FILE.md
	Report   string
	Out      string // kustomize tree directory
	Output   *choice
	streams  genericiooptions.IOStreams
}

// planFormats are what -o and --report render a plan as; the table is the
// summary.
func planFormats() []string { return []string{"table", "json", "yaml", "markdown", "csv"} }

// planOutput adds -o to a plan command, with the --format spelling of
// earlier versions kept as a hidden alias that says what to use.
func planOutput(cmd *cobra.Command) *choice {
	c := outputFormat(cmd, planFormats()...).alias("summary", "table")
	cmd.Flags().Var(c, "format", "deprecated: use -o/--output")
	deprecate(cmd, "format", "use -o/--output (summary is -o table)")
	return c
}

func newPlanCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &PlanOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Plan a namespace consolidation: moves, conflicts, real savings and ROI",
		Long: `Group namespaces into targets with a strategy and list, per target, every object
that moves, the name collisions and the references that break (DNS names of
Services, RoleBinding subjects, NetworkPolicy namespace selectors, cloud
identities, volumes, load balancers, quotas). Savings come from packing the
pods onto the node pools before and after the plan and pricing the nodes,
load balancers and volumes that go away; the per-namespace estimate is shown
beside them and never added.

Strategies:
  empty        delete the empty namespaces only
  product      one namespace per product and environment (plan.product)
  environment  production, staging, development, platform (plan.environment)
  file         the explicit mapping of plan.file

A plan consolidates namespaces across the cluster, so -n does not apply.
A plan with a conflict no rule resolves writes nothing and exits 1.`,
		Example: `  purser plan --demo --strategy product
  purser plan --demo --strategy environment -o markdown
  purser plan --strategy product --config purser.yaml --plan-file plan.yaml --report plan.md --out consolidation/
  purser plan show plan.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			env, err := o.Env.Complete(cmd.Context(), streams)
			if err != nil {
				return err
			}
			return o.Run(cmd.Context(), env)
		},
	}
	o.Env.AddFlags(cmd)
	cmd.AddCommand(newPlanShowCmd(streams))
	o.Strategy = newChoice(plan.StrategyProduct, plan.Strategies()...)
	addChoice(cmd, o.Strategy, "strategy", "", "grouping strategy")
	o.Output = planOutput(cmd)
	addReport(cmd, &o.Report, planFormats())
	cmd.Flags().StringVar(&o.PlanFile, "plan-file", "", "write the plan (YAML, with its content hash) to this file")
	cmd.Flags().StringVar(&o.Out, "out", "", "write the target manifests as a kustomize tree into this directory")
	cmd.Flags().StringVar(&o.Review, "review", "", "write the Markdown review document to this file")
	deprecate(cmd, "review", "use --report FILE.md")
	return cmd
}

// Validate checks the flags.
func (o *PlanOptions) Validate() error {
	if o.Report != "" {
		if _, err := reportFormat(o.Report, planFormats()); err != nil {
			return err
		}
	}
	outputs := []pathFlag{{flag: "--report", path: o.Report}, {flag: "--plan-file", path: o.PlanFile},
		{flag: "--review", path: o.Review}, {flag: "--out", path: o.Out, dir: true}}
	if err := checkOutputs(o.Env.inputs(), outputs); err != nil {
		return err
	}
	return o.Env.Validate()
}

// Run builds the plan, prints it and writes the requested files.
func (o *PlanOptions) Run(ctx context.Context, env *action.Env) error {
	p, err := action.Plan{Strategy: o.Strategy.value}.Run(ctx, env)
	if err != nil {
		return err
	}
	if blocking := p.Blocking(); len(blocking) > 0 {
		if err := printPlan(o.streams.Out, o.Output.value, p); err != nil {
			return err
		}
		for _, c := range blocking {
			fmt.Fprintf(o.streams.ErrOut, "conflict: [%s] %s (%s)\n", c.Kind, output.TerminalText(c.Message), output.TerminalText(strings.Join(c.Objects, ", ")))
		}
		return &ExitError{Code: 1, Err: fmt.Errorf("plan blocked by %d unresolved conflicts: nothing written", len(blocking))}
	}
	// The tree first: the plan file and the reports are written only
	// once the tree is in place, so a failure leaves none of them.
	if o.Out != "" {
		files, err := p.Tree()
		if err != nil {
			return err
		}
		if err := outdir.WriteTree(ctx, o.Out, files); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "kustomize tree written to %s (kubectl kustomize %s)\n", o.Out, o.Out)
	}
	if o.PlanFile != "" {
		// Private like a saved snapshot: the plan carries the ConfigMaps
		// and literal environment values of every object it moves.
		if err := atomicfile.Write(ctx, o.PlanFile, atomicfile.Private, p.WriteYAML); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "plan written to %s (%s)\n", o.PlanFile, p.Metadata.ContentHash)
	}
	if o.Review != "" {
		if err := atomicfile.Write(ctx, o.Review, atomicfile.Public, func(w io.Writer) error { return report.PlanMarkdown(w, p) }); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "review written to %s\n", o.Review)
	}
	return emit(ctx, o.streams, o.Output.value, o.Report, planFormats(), func(w io.Writer, format string, _ bool) error {
		return printPlan(w, format, p)
	})
}

func printPlan(w io.Writer, format string, p *plan.Plan) error {
	if p.Metadata.Strategy == plan.StrategyFix {
		return printFix(w, format, p)
	}
	switch format {
	case "markdown":
		return report.PlanMarkdown(w, p)
	case "yaml":
		return p.WriteYAML(w)
	case "json":
		return report.WriteJSON(w, p)
	case "csv":
		return report.PlanCSV(w, p)
	}
	return report.PlanSummary(w, p)
}

// PlanShowOptions are the options of `purser plan show`.
type PlanShowOptions struct {
	Path    string
	Output  *choice
	streams genericiooptions.IOStreams
}

func newPlanShowCmd(streams genericiooptions.IOStreams) *cobra.Command {
	o := &PlanShowOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "show PLAN.yaml",
		Short: "Read a plan file back, verify its content hash and print it",
		Long: `Read a plan file written by purser plan --plan-file, check that it is one
well-formed plan of the current format and that its content hash covers
exactly what it holds (a plan edited after it was built is refused), and
print its summary, its review or the plan itself. A plan file may come from
someone else: what it says is printed with terminal control characters made
visible.`,
		Example: `  purser plan --demo --plan-file plan.yaml
  purser plan show plan.yaml
  purser plan show plan.yaml -o markdown > review.md`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Path = args[0]
			return o.Run(cmd.Context())
		},
	}
	o.Output = planOutput(cmd)
	return cmd
}

// Run reads and verifies the plan, then prints it.
func (o *PlanShowOptions) Run(ctx context.Context) error {
	f, err := os.Open(o.Path)
	if err != nil {
		return fmt.Errorf("reading plan: %w", err)
	}
	defer f.Close()
	p, err := plan.Read(f)
	if err != nil {
		return err
	}
	return emit(ctx, o.streams, o.Output.value, "", planFormats(), func(w io.Writer, format string, _ bool) error {
		if format == "table" || format == "markdown" {
			w = output.TerminalWriter{W: w}
		}
		return printPlan(w, format, p)
	})
}
