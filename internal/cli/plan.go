package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/atomicfile"
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
	cmd.Flags().StringVar(&o.Strategy, "strategy", plan.StrategyProduct, "grouping strategy: "+strings.Join(plan.Strategies(), ", "))
	cmd.Flags().StringVar(&o.PlanFile, "plan-file", "", "write the plan (YAML, with its content hash) to this file")
	cmd.Flags().StringVar(&o.Review, "review", "", "write the Markdown review document to this file")
	cmd.Flags().StringVar(&o.Out, "out", "", "write the target manifests as a kustomize tree into this directory")
	cmd.Flags().StringVar(&o.Format, "format", "summary", "stdout: summary, markdown, yaml or json")
	return cmd
}

// Validate checks the flags.
func (o *PlanOptions) Validate() error {
	switch o.Format {
	case "summary", "markdown", "yaml", "json":
	default:
		return fmt.Errorf("--format %q: expected summary, markdown, yaml or json", o.Format)
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
		if err := p.WriteTree(o.Out); err != nil {
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

func (o *PlanOptions) print(p *plan.Plan) error {
	switch o.Format {
	case "markdown":
		return report.PlanMarkdown(o.streams.Out, p)
	case "yaml":
		return p.WriteYAML(o.streams.Out)
	case "json":
		return report.WriteJSON(o.streams.Out, p)
	}
	return report.PlanSummary(o.streams.Out, p)
}
