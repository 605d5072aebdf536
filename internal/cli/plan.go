package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/atomicfile"
	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// PlanOptions are the options of `purser plan`.
type PlanOptions struct {
	Source   SourceOptions
	Config   ConfigOptions
	Strategy string
	PlanFile string // plan YAML to write
	Review   string // Markdown review document to write
	Out      string // kustomize tree directory
	Format   string // what stdout shows
	// PriceBook chooses the price book when Prices is nil.
	PriceBook PriceOptions
	// Prices price the nodes, load balancers and volumes; nil uses the
	// price book of --price-book, the config or the embedded catalogue.
	Prices  plan.Prices
	streams genericiooptions.IOStreams
}

func newPlanCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &PlanOptions{Source: SourceOptions{Kube: kube}, streams: streams}
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
			return o.Run(cmd.Context())
		},
	}
	o.Source.AddFlags(cmd.Flags())
	o.Config.AddFlags(cmd.Flags())
	o.PriceBook.AddFlags(cmd.Flags())
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
	return o.Source.Validate()
}

// Run builds the plan, prints it and writes the requested files.
func (o *PlanOptions) Run(ctx context.Context) error {
	f, err := o.Config.Load(o.Source.Demo)
	if err != nil {
		return err
	}
	s, err := o.Source.Load(ctx, o.streams)
	if err != nil {
		return err
	}
	prices := o.Prices
	if prices == nil {
		if prices, err = assetPrices(ctx, &o.PriceBook, f, o.Config.Path, o.Source.Demo, o.streams.ErrOut); err != nil {
			return err
		}
	}
	p, err := buildPlan(ctx, f, s, o.Strategy, prices)
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
	if o.Out != "" {
		if err := p.WriteTree(o.Out); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "kustomize tree written to %s (kubectl kustomize %s)\n", o.Out, o.Out)
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

// buildPlan reads the classify and plan sections of f and builds the plan;
// config errors the snapshot reveals are given the file and line.
func buildPlan(ctx context.Context, f *config.File, s *snapshot.Snapshot, strategy string, prices plan.Prices) (*plan.Plan, error) {
	var rules classify.Rules
	if err := f.Decode("classify", &rules); err != nil {
		return nil, err
	}
	if err := f.Check("classify", rules.Validate()); err != nil {
		return nil, err
	}
	cfg, err := plan.DecodeConfig(f)
	if err != nil {
		return nil, err
	}
	p, err := plan.Build(ctx, plan.Input{Snapshot: s, Classify: rules, Config: cfg, Strategy: strategy, Prices: prices})
	var fe *config.FieldError
	if errors.As(err, &fe) {
		return nil, f.Check("plan", fe)
	}
	return p, err
}

// PlanDemoSummary prints the short Phase 1 plan of the BlueOcean demo
// (strategy product): targets, moves, conflicts, savings and payback.
// prices nil uses the demo's price book.
func PlanDemoSummary(ctx context.Context, w io.Writer, prices plan.Prices) error {
	f, err := scenario.DemoConfig()
	if err != nil {
		return err
	}
	s, err := scenario.DemoSnapshot()
	if err != nil {
		return err
	}
	if prices == nil {
		if prices, err = assetPrices(ctx, &PriceOptions{}, f, "", true, io.Discard); err != nil {
			return err
		}
	}
	p, err := buildPlan(ctx, f, s, plan.StrategyProduct, prices)
	if err != nil {
		return fmt.Errorf("demo plan: %w", err)
	}
	return report.PlanSummary(w, p)
}

// assetPrices prices the plan's savings from the same book, with the same
// config overrides, as `purser cost`.
func assetPrices(ctx context.Context, po *PriceOptions, f *config.File, configPath string, demo bool, errOut io.Writer) (plan.Prices, error) {
	cfg, _, err := cost.LoadConfig(f)
	if err != nil {
		return nil, err
	}
	book, err := po.Book(ctx, cfg, configPath, demo, errOut)
	if err != nil {
		return nil, err
	}
	if book, err = cfg.Apply(book); err != nil {
		return nil, err
	}
	return pricing.Assets{Book: book}, nil
}
