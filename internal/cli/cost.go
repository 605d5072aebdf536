package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/usage"
)

// CostOptions are the options of `purser cost`.
type CostOptions struct {
	Source     SourceOptions
	Config     ConfigOptions
	By         []string
	Output     string
	Prices     PriceOptions
	Prometheus string
	OpenCost   string
	Window     string

	groupings []cost.GroupBy
	streams   genericiooptions.IOStreams
}

func newCostCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &CostOptions{Source: SourceOptions{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "cost",
		Short: "What the cluster costs a month, where the money goes, and the idle share",
		Long: `Price every node by its exact instance type, every volume by its storage class,
every LoadBalancer Service, and the line items purser.yaml declares (bandwidth,
snapshots, support). Split each node's cost among its pods by the larger of
request and usage, CPU and memory weighted, and show what no pod takes as idle.
Nothing is installed in the cluster: prices come from the embedded DigitalOcean
catalogue, a --price-book file, or the DigitalOcean API when a token is given.`,
		Example: `  purser cost --demo                                  # the BlueOcean audit: USD 1,289.30
  purser cost --demo --by team -o markdown
  purser cost --by namespace --prometheus http://localhost:9090 --window 7d
  purser cost --from cluster.snap --price-book prices.yaml -o html > cost.html
  purser cost --by label=app.kubernetes.io/part-of --opencost http://localhost:9003`,
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
	cmd.Flags().StringSliceVar(&o.By, "by", nil, "group by namespace, team, environment, product, pool, workload or label=KEY (repeatable; default pool, namespace and team)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "output format: table, json, yaml, markdown or html")
	o.Prices.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.Prometheus, "prometheus", "", "Prometheus URL: allocate by max(request, usage) over --window")
	cmd.Flags().StringVar(&o.OpenCost, "opencost", "", "OpenCost API URL: show its allocation beside Purser's")
	cmd.Flags().StringVar(&o.Window, "window", "24h", "usage window for --prometheus and --opencost (Prometheus duration: 1h, 24h, 7d)")
	return cmd
}

// Validate checks the flags.
func (o *CostOptions) Validate() error {
	switch o.Output {
	case "table", "json", "yaml", "markdown", "md", "html":
	default:
		return fmt.Errorf("-o %q: expected table, json, yaml, markdown or html", o.Output)
	}
	o.groupings = nil
	for _, b := range o.By {
		g, err := cost.ParseGroupBy(b)
		if err != nil {
			return err
		}
		o.groupings = append(o.groupings, g)
	}
	if len(o.groupings) == 0 {
		o.groupings = cost.DefaultGroupings()
	}
	if o.Source.Demo && (o.Prometheus != "" || o.OpenCost != "") {
		return fmt.Errorf("--prometheus and --opencost measure a live cluster; they do not apply to --demo")
	}
	return o.Source.Validate()
}

// Run prices the snapshot and renders the breakdown.
func (o *CostOptions) Run(ctx context.Context) error {
	f, err := o.Config.Load(o.Source.Demo)
	if err != nil {
		return err
	}
	cfg, rules, err := cost.LoadConfig(f)
	if err != nil {
		return err
	}
	book, err := o.Prices.Book(ctx, cfg, o.Config.Path, o.Source.Demo, o.streams.ErrOut)
	if err != nil {
		return err
	}
	s, err := o.Source.Load(ctx, o.streams)
	if err != nil {
		return err
	}
	in := cost.Input{Snapshot: s, Book: book, Config: cfg, Rules: rules}
	if o.Prometheus != "" {
		fmt.Fprintf(o.streams.ErrOut, "reading usage from %s over %s\n", o.Prometheus, o.Window)
		if in.Usage, err = usage.Prometheus(ctx, o.Prometheus, o.Window); err != nil {
			return err
		}
	}
	if o.OpenCost != "" {
		if in.Comparison, err = usage.OpenCost(ctx, nil, o.OpenCost, o.Window, book.Currency); err != nil {
			return err
		}
	}
	r, err := cost.Allocate(in)
	if err != nil {
		return err
	}
	b := r.Breakdown(o.groupings...)
	if o.Output != "table" {
		// Tables print warnings with the figures; other formats carry them
		// in the document, and the terminal still hears of them.
		for _, w := range r.Warnings {
			fmt.Fprintf(o.streams.ErrOut, "warning: %s\n", w)
		}
	}
	return render(o.streams.Out, o.Output, b)
}

func render(w io.Writer, format string, b cost.Breakdown) error {
	switch format {
	case "json":
		return report.WriteJSON(w, b)
	case "yaml":
		return report.WriteYAML(w, b)
	case "markdown", "md":
		return report.CostMarkdown(w, b)
	case "html":
		return report.CostHTML(w, b)
	}
	return report.CostTable(w, b)
}
