package cli

import (
	"bytes"
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
	Strategy string
	PlanFile string // plan YAML to write
	Review   string // Markdown review document to write
	Out      string // kustomize tree directory
	Format   string // what stdout shows
	streams  genericiooptions.IOStreams
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

A plan with a conflict no rule resolves writes nothing and exits 1.`,
		Example: `  purser plan --demo --strategy product
  purser plan --demo --strategy environment --format markdown
  purser plan --strategy product --config purser.yaml --plan-file plan.yaml --review plan.md --out consolidation/`,
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
	o.Env.AddFlags(cmd.Flags())
	cmd.AddCommand(newPlanShowCmd(streams))
	cmd.Flags().StringVar(&o.Strategy, "strategy", plan.StrategyProduct, "grouping strategy: "+strings.Join(plan.Strategies(), ", "))
	cmd.Flags().StringVar(&o.PlanFile, "plan-file", "", "write the plan (YAML, with its content hash) to this file")
	cmd.Flags().StringVar(&o.Review, "review", "", "write the Markdown review document to this file")
	cmd.Flags().StringVar(&o.Out, "out", "", "write the target manifests as a kustomize tree into this directory")
	cmd.Flags().StringVar(&o.Format, "format", "summary", "stdout: summary, markdown, yaml or json")
	return cmd
}

// Validate checks the flags.
func (o *PlanOptions) Validate() error {
	if err := validPlanFormat(o.Format); err != nil {
		return err
	}
	known := false
	for _, s := range plan.Strategies() {
		known = known || s == o.Strategy
	}
	if !known {
		return fmt.Errorf("--strategy %q: expected one of %s", o.Strategy, strings.Join(plan.Strategies(), ", "))
	}
	return o.Env.Validate()
}

// Run builds the plan, prints it and writes the requested files.
func (o *PlanOptions) Run(ctx context.Context, env *action.Env) error {
	p, err := action.Plan{Strategy: o.Strategy}.Run(ctx, env)
	if err != nil {
		return err
	}
	if err := o.print(p); err != nil {
		return err
	}
	if blocking := p.Blocking(); len(blocking) > 0 {
		for _, c := range blocking {
			fmt.Fprintf(o.streams.ErrOut, "conflict: [%s] %s (%s)\n", c.Kind, c.Message, strings.Join(c.Objects, ", "))
		}
		return &ExitError{Code: 1, Err: fmt.Errorf("plan blocked by %d unresolved conflicts: nothing written", len(blocking))}
	}
	// The tree first: the plan file and the review are written only
	// once the tree is in place, so a failure leaves neither.
	if o.Out != "" {
		files, err := p.Tree()
		if err != nil {
			return err
		}
		if err := outdir.WriteTree(o.Out, files); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "kustomize tree written to %s (kubectl kustomize %s)\n", o.Out, o.Out)
	}
	if o.PlanFile != "" {
		if err := atomicfile.Write(o.PlanFile, p.WriteYAML); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "plan written to %s (%s)\n", o.PlanFile, p.Metadata.ContentHash)
	}
	if o.Review != "" {
		if err := atomicfile.Write(o.Review, func(w io.Writer) error { return report.PlanMarkdown(w, p) }); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "review written to %s\n", o.Review)
	}
	return nil
}

func (o *PlanOptions) print(p *plan.Plan) error { return printPlan(o.streams.Out, o.Format, p) }

func printPlan(w io.Writer, format string, p *plan.Plan) error {
	switch format {
	case "markdown":
		return report.PlanMarkdown(w, p)
	case "yaml":
		return p.WriteYAML(w)
	case "json":
		return report.WriteJSON(w, p)
	}
	return report.PlanSummary(w, p)
}

func validPlanFormat(format string) error {
	switch format {
	case "summary", "markdown", "yaml", "json":
		return nil
	}
	return fmt.Errorf("--format %q: expected summary, markdown, yaml or json", format)
}

// PlanShowOptions are the options of `purser plan show`.
type PlanShowOptions struct {
	Path    string
	Format  string
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
  purser plan show plan.yaml --format markdown > review.md`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Path = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "summary", "stdout: summary, markdown, yaml or json")
	return cmd
}

// Validate checks the flags.
func (o *PlanShowOptions) Validate() error { return validPlanFormat(o.Format) }

// Run reads and verifies the plan, then prints it.
func (o *PlanShowOptions) Run() error {
	f, err := os.Open(o.Path)
	if err != nil {
		return fmt.Errorf("reading plan: %w", err)
	}
	defer f.Close()
	p, err := plan.Read(f)
	if err != nil {
		return err
	}
	// Render whole before writing: a failure prints nothing.
	var out bytes.Buffer
	w := io.Writer(&out)
	if o.Format == "summary" || o.Format == "markdown" {
		w = output.TerminalWriter{W: &out}
	}
	if err := printPlan(w, o.Format, p); err != nil {
		return err
	}
	_, err = o.streams.Out.Write(out.Bytes())
	return err
}
