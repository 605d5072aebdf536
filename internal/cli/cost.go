package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/report"
)

// CostOptions are the options of `purser cost`.
type CostOptions struct {
	Env        EnvFlags
	By         []string
	Output     *choice
	Report     string
	Prometheus string
	OpenCost   string
	Window     string
	// History is --store and --month-to-date (cost_history.go).
	History costHistory

	streams genericiooptions.IOStreams
}

func newCostCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &CostOptions{Env: EnvFlags{Kube: kube}, streams: streams}
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
  purser cost --demo -n monitoring                    # what one namespace costs
  purser cost --demo -o csv --report cost.html
  purser cost --by namespace --prometheus http://localhost:9090 --window 7d
  purser cost --from cluster.snap --price-book prices.yaml -o html > cost.html
  purser cost --by label=app.kubernetes.io/part-of --opencost http://localhost:9003`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			targets, err := o.Env.clusters(cmd.Context())
			if err != nil {
				return err
			}
			if len(targets) > 1 {
				if err := o.validateClusters(targets); err != nil {
					return err
				}
				return o.runClusters(cmd.Context(), targets)
			}
			env, err := o.Env.Complete(cmd.Context(), streams)
			if err != nil {
				return err
			}
			return o.Run(cmd.Context(), env)
		},
	}
	cmd.Annotations = map[string]string{namespaceAnnotation: "narrows"}
	o.Env.AddFlags(cmd)
	cmd.Flags().StringSliceVar(&o.By, "by", nil, "group by namespace, team, environment, product, pool, workload or label=KEY (repeatable; default pool, namespace and team)")
	_ = cmd.RegisterFlagCompletionFunc("by", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []string{"namespace", "team", "environment", "product", "pool", "workload", "label="}, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
	o.Output = outputFormat(cmd, costFormats()...)
	addReport(cmd, &o.Report, costFormats())
	cmd.Flags().StringVar(&o.Prometheus, "prometheus", "", "Prometheus URL: allocate by max(request, usage) over --window")
	cmd.Flags().StringVar(&o.OpenCost, "opencost", "", "OpenCost API URL: show its allocation beside Purser's")
	cmd.Flags().StringVar(&o.Window, "window", "24h", "usage window for --prometheus and --opencost (Prometheus duration: 1h, 24h, 7d)")
	o.History.addFlags(cmd)
	return cmd
}

// Validate checks the flags; it changes nothing.
func (o *CostOptions) Validate() error {
	if o.Report != "" {
		if _, err := reportFormat(o.Report, costFormats()); err != nil {
			return err
		}
	}
	if _, err := o.groupings(); err != nil {
		return err
	}
	if o.Env.Demo && (o.Prometheus != "" || o.OpenCost != "") {
		return fmt.Errorf("--prometheus and --opencost measure a live cluster; they do not apply to --demo")
	}
	if err := checkOutputs(o.Env.inputs(), []pathFlag{{flag: "--report", path: o.Report}}); err != nil {
		return err
	}
	if err := o.History.validate(o.Env.Namespace(), o.Output.value, o.Report, o.By); err != nil {
		return err
	}
	return o.Env.Validate()
}

func (o *CostOptions) groupings() ([]cost.GroupBy, error) {
	var out []cost.GroupBy
	for _, b := range o.By {
		g, err := cost.ParseGroupBy(b)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// Run prices the snapshot and renders the breakdown.
func (o *CostOptions) Run(ctx context.Context, env *action.Env) error {
	ns, err := o.Env.Scope(env)
	if err != nil {
		return err
	}
	groupings, _ := o.groupings()
	r, err := action.Cost{GroupBy: groupings, Prometheus: o.Prometheus, OpenCost: o.OpenCost, Window: o.Window, Namespace: ns}.Run(ctx, env)
	if err != nil {
		return err
	}
	if done, err := o.History.after(ctx, env, ns, r, o.streams, o.Output.value, o.By); done || err != nil {
		return err
	}
	if o.Output.value != "table" {
		// Tables print warnings with the figures; other formats carry them
		// in the document, and the terminal still hears of them.
		for _, w := range r.Result.Warnings {
			fmt.Fprintf(o.streams.ErrOut, "Warning: %s\n", output.TerminalText(w))
		}
	}
	return emit(ctx, o.streams, o.Output.value, o.Report, costFormats(), func(w io.Writer, format string, _ bool) error {
		return renderCost(w, format, r.Breakdown)
	})
}

func costFormats() []string { return []string{"table", "json", "yaml", "markdown", "html", "csv"} }

func renderCost(w io.Writer, format string, b cost.Breakdown) error {
	switch format {
	case "json":
		return report.WriteJSON(w, report.CostReportDoc(b))
	case "yaml":
		return report.WriteYAML(w, report.CostReportDoc(b))
	case "markdown":
		return report.CostMarkdown(w, b)
	case "html":
		return report.CostHTML(w, b)
	case "csv":
		return report.CostCSV(w, b)
	}
	return report.CostTable(w, b)
}
