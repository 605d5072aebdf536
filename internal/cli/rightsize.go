package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/rightsize"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/usage"
	"github.com/purserhq/purser/internal/yamldoc"
)

// RightsizeOptions are the options of `purser rightsize`.
type RightsizeOptions struct {
	Env        EnvFlags
	Output     *choice
	Report     string
	Prometheus string
	Window     string
	Step       string
	At         string
	Percentile string
	Headroom   int
	Budget     usage.Budget

	streams genericiooptions.IOStreams
}

func newRightsizeCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &RightsizeOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "rightsize",
		Short: "Container requests and limits from what the containers used, priced, with the nodes they free",
		Long: `Recommend each container's requests and limits from its use over a window:
CPU at a percentile (p95), memory at the window's peak plus headroom (15%), more
after OOM kills and restarts, floors of 10m and 32Mi. A workload scaled by an
HPA on CPU or memory utilisation gets the target that keeps its replica count at
the same load. Each change is priced by the cost engine, and the pools are
packed again with the new requests to say which nodes applying them frees.

Usage comes from Prometheus (--prometheus), computed by Prometheus under a query
budget: the estimate of series and samples is shown before anything heavy runs,
queries are grouped by namespace and split in time, and --max-queries or
--max-samples refuse (or, with --sample, measure a subset of namespaces). The
demo reads a recorded fortnight shipped with it.`,
		Example: `  purser rightsize --demo
  purser rightsize --demo -n monitoring -o markdown
  purser rightsize --prometheus http://localhost:9090 --window 14d --percentile 95
  purser rightsize --prometheus http://prometheus:9090 --max-queries 50 --sample -o json`,
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
	cmd.Annotations = map[string]string{namespaceAnnotation: "narrows"}
	o.Env.AddFlags(cmd)
	o.Output = outputFormat(cmd, rightsizeFormats()...)
	addReport(cmd, &o.Report, rightsizeFormats())
	fs := cmd.Flags()
	fs.StringVar(&o.Prometheus, "prometheus", "", "Prometheus URL to read container usage from (required on a live cluster or --from)")
	fs.StringVar(&o.Window, "window", "14d", "usage window (Prometheus duration: 7d, 14d, 4w)")
	fs.StringVar(&o.Step, "step", "5m", "resolution of the CPU percentile: one rate point per step")
	fs.StringVar(&o.At, "at", "", "end of the window (RFC 3339), default now: a report that can be run again")
	fs.StringVar(&o.Percentile, "percentile", "95", "CPU percentile of use the request covers (50 to 100, e.g. 95 or 99.5)")
	fs.IntVar(&o.Headroom, "headroom", rightsize.DefaultHeadroomPercent, "percent added to the memory peak")
	fs.IntVar(&o.Budget.MaxQueries, "max-queries", 0, "the most Prometheus queries the read may send; 0 for no limit")
	fs.Int64Var(&o.Budget.MaxSamples, "max-samples", 0, "the most samples (series × window / step, CPU and memory) the read may load; 0 for no limit")
	fs.Int64Var(&o.Budget.PerQuery, "max-samples-per-query", usage.DefaultPerQuerySamples, "the most samples one query may load: larger namespaces are split in time")
	fs.BoolVar(&o.Budget.Sample, "sample", false, "over budget, measure a deterministic subset of namespaces that fits instead of refusing")
	return cmd
}

func rightsizeFormats() []string {
	return []string{"table", "json", "yaml", "markdown", "html", "sarif"}
}

// Validate checks the flags; it changes nothing.
func (o *RightsizeOptions) Validate() error {
	if o.Report != "" {
		if _, err := reportFormat(o.Report, rightsizeFormats()); err != nil {
			return err
		}
	}
	if o.Env.Demo && o.Prometheus != "" {
		return fmt.Errorf("--prometheus measures a live cluster; the demo reads its recorded usage")
	}
	if !o.Env.Demo && o.Prometheus == "" {
		return fmt.Errorf("rightsize needs measured usage: give --prometheus URL (or try --demo, which ships a recorded fortnight)")
	}
	if _, err := o.percentile(); err != nil {
		return err
	}
	if o.Headroom < 0 || o.Headroom > 1000 {
		return fmt.Errorf("--headroom %d: expected a percent from 0 to 1000", o.Headroom)
	}
	window, err := duration("--window", o.Window)
	if err != nil {
		return err
	}
	step, err := duration("--step", o.Step)
	if err != nil {
		return err
	}
	if step > window {
		return fmt.Errorf("--step %s is longer than --window %s", o.Step, o.Window)
	}
	if _, err := o.at(); err != nil {
		return err
	}
	if o.Budget.MaxQueries < 0 || o.Budget.MaxSamples < 0 || o.Budget.PerQuery <= 0 {
		return fmt.Errorf("--max-queries and --max-samples are 0 (no limit) or more, --max-samples-per-query more than 0")
	}
	if err := checkOutputs(o.Env.inputs(), []pathFlag{{flag: "--report", path: o.Report}}); err != nil {
		return err
	}
	return o.Env.Validate()
}

// percentile reads --percentile: "95", "p95", "99.5", as a quantile.
func (o *RightsizeOptions) percentile() (float64, error) {
	s := strings.TrimPrefix(strings.ToLower(o.Percentile), "p")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 50 || v > 100 {
		return 0, fmt.Errorf("--percentile %q: expected a percentile from 50 to 100, such as 95 or 99.5", o.Percentile)
	}
	return v / 100, nil
}

func (o *RightsizeOptions) at() (time.Time, error) {
	if o.At == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, o.At)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q: expected an RFC 3339 time such as 2026-03-01T10:00:00Z", o.At)
	}
	return t, nil
}

func duration(flag, s string) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: expected a Prometheus duration such as 5m, 24h, 14d", flag, s)
	}
	return time.Duration(d), nil
}

// Run reads usage, recommends, and renders.
func (o *RightsizeOptions) Run(ctx context.Context, env *action.Env) error {
	ns, err := o.Env.Scope(env)
	if err != nil {
		return err
	}
	q, _ := o.percentile()
	window, _ := duration("--window", o.Window)
	u, err := o.usage(ctx, env, ns, q, window)
	if err != nil {
		return err
	}
	book := env.Prices.Book
	if book == nil {
		return fmt.Errorf("no price book: %s", env.Prices.Origin)
	}
	in := cost.Input{Book: book, Config: env.Config.Cost, Rules: env.Config.Classify,
		TargetUtilization: env.Config.Plan.Packing.Target, PackingPools: env.Config.Plan.Packing.PoolNames()}
	r, err := rightsize.Run(ctx, rightsize.Input{Index: env.Index, Usage: u, Cost: in,
		Options: rightsize.Options{Percentile: q, HeadroomPercent: o.Headroom, Namespace: ns}})
	var fe *yamldoc.FieldError
	if errors.As(err, &fe) {
		return env.Config.Check("plan", fe)
	}
	if err != nil {
		return err
	}
	if u.Queries > 0 {
		fmt.Fprintf(o.streams.ErrOut, "Prometheus: %d queries made\n", u.Queries)
	}
	return emit(ctx, o.streams, o.Output.value, o.Report, rightsizeFormats(), func(w io.Writer, format string, _ bool) error {
		return renderRightsize(w, format, r)
	})
}

// usage reads the recorded demo history, or Prometheus under the budget,
// printing the estimate to stderr before the heavy queries run.
func (o *RightsizeOptions) usage(ctx context.Context, env *action.Env, ns string, q float64, window time.Duration) (*rightsize.Usage, error) {
	if o.Env.Demo {
		h, err := scenario.DemoUsage()
		if err != nil {
			return nil, err
		}
		return h.Usage(q, window)
	}
	step, _ := duration("--step", o.Step)
	at, _ := o.at()
	if at.IsZero() {
		at = env.Clock.Now()
	}
	var namespaces []string
	if ns != "" {
		namespaces = []string{ns}
	}
	u, err := usage.Containers(ctx, o.Prometheus, usage.ContainerOptions{Window: window, Step: step, Percentile: q, At: at,
		Namespaces: namespaces, Budget: o.Budget, Estimated: func(e rightsize.Estimate) {
			fmt.Fprintf(o.streams.ErrOut, "Prometheus: %d container series in %d namespaces, about %d samples over %s at %s steps, %d queries in %d chunks\n",
				e.Series, len(e.ByNamespace), e.Samples, o.Window, o.Step, e.Queries, e.Chunks)
		}})
	var be *usage.BudgetError
	if errors.As(err, &be) {
		return nil, errors.New(output.TerminalText(be.Error()))
	}
	if err != nil {
		return nil, err
	}
	if len(u.Sampled) > 0 {
		fmt.Fprintf(o.streams.ErrOut, "Warning: over budget, measured %d of %d namespaces: %s\n", len(u.Sampled), u.Estimate.Found,
			output.TerminalText(strings.Join(u.Sampled, ", ")))
	}
	return u, nil
}
