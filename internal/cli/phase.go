package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/clock"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/phase"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/store"
)

func newPhaseCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "phase",
		Short: "Where the cluster stands in the strategy's phases: KPI targets, triggers, what blocks the next phase",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPhaseStatusCmd(streams, kube, nil))
	return cmd
}

// PhaseStatusOptions are the options of `purser phase status`.
type PhaseStatusOptions struct {
	Env        EnvFlags
	Store      StoreFlags
	Prometheus string
	Output     *choice

	streams genericiooptions.IOStreams
	// clock dates the status when a store is read; env.Clock when nil.
	clock clock.PassiveClock
}

// newPhaseStatusCmd builds the command; clk, when not nil, dates a
// status read from a store (tests).
func newPhaseStatusCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags, clk clock.PassiveClock) *cobra.Command {
	o := &PhaseStatusOptions{Env: EnvFlags{Kube: kube}, streams: streams, clock: clk}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Measure the cluster against the phases of purser.yaml and show the strategy's KPI table",
		Long: `Measure the KPIs the phases section of purser.yaml names and check each phase's
targets and the triggers to enter the next one:

  monthly cost         the snapshot's run-rate (a 730-hour month), or with --store
                       this month's stored daily costs extrapolated to the whole month
  namespaces           the snapshot's namespaces; Kubernetes' own (default, kube-*)
                       count, as the strategy counts them, unless
                       phases.excludeSystemNamespaces says otherwise
  open error findings  a fresh audit of the snapshot, or with --store the error
                       findings the latest scan left open
  traffic growth       phases.traffic.query read from Prometheus (--prometheus or
                       phases.traffic.prometheus) now and a window ago

The cluster is in the last phase whose targets, and those of every phase
before it, are met; otherwise the first phase is in progress. Triggers that
need history (a cost target met for whole months, no error finding for N
days) read --store; without it they are "not measured", never assumed.
Conditions no cluster shows (cash flow, a team, a budget) are attested in
purser.yaml. docs/phases.md describes the section.`,
		Example: `  purser phase status --demo                      # BlueOcean against its strategy
  purser phase status --demo -o markdown
  purser phase status --store history.db --config purser.yaml
  purser phase status --from cluster.snap --config purser.yaml --prometheus http://localhost:9090 -o json`,
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
	o.Output = outputFormat(cmd, "table", "json", "yaml", "markdown")
	o.Store.addStoreFlag(cmd, "history database (a SQLite file or a postgres:// URL) to read this month's daily costs, the open error findings and their history from")
	cmd.Flags().StringVar(&o.Prometheus, "prometheus", "", "Prometheus URL to read phases.traffic.query from (default phases.traffic.prometheus)")
	return cmd
}

// Validate checks the flags; it changes nothing.
func (o *PhaseStatusOptions) Validate() error {
	if err := o.Store.validate(); err != nil {
		return err
	}
	if o.Env.Demo && o.Prometheus != "" {
		return fmt.Errorf("--prometheus measures a live cluster's traffic; it does not apply to --demo")
	}
	if o.Env.Demo && o.Store.Target != "" {
		return fmt.Errorf("--store holds a live cluster's history; it does not apply to --demo")
	}
	return o.Env.Validate()
}

// Run measures the KPIs, evaluates the phases and renders the status.
func (o *PhaseStatusOptions) Run(ctx context.Context, env *action.Env) error {
	cfg := &env.Config.Phases
	if !cfg.Enabled() {
		return fmt.Errorf("%s has no phases: add a phases section (docs/phases.md), or see the demo's with purser phase status --demo", env.Config.Path())
	}
	m, err := o.measure(ctx, env, cfg)
	if err != nil {
		return err
	}
	s, err := phase.Evaluate(cfg, m)
	if err != nil {
		return env.Config.Check("phases", err)
	}
	scope := env.Snapshot.Meta.Source
	return emit(ctx, o.streams, o.Output.value, "", []string{"table", "json", "yaml", "markdown"}, func(w io.Writer, format string, _ bool) error {
		switch format {
		case "json":
			return report.WriteJSON(w, phaseDoc(scope, env.Config.PhasesFile(), s))
		case "yaml":
			return report.WriteYAML(w, phaseDoc(scope, env.Config.PhasesFile(), s))
		case "markdown":
			return phase.WriteMarkdown(w, s, scope)
		}
		return phase.WriteTable(w, s, scope)
	})
}

// phaseStatusDoc is the status as JSON and YAML carry it.
type phaseStatusDoc struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Source     string `json:"source"`
	Config     string `json:"config"`
	*phase.Status
}

func phaseDoc(source, config string, s *phase.Status) phaseStatusDoc {
	return phaseStatusDoc{APIVersion: "purser.dev/v1alpha1", Kind: "PhaseStatus", Source: source, Config: config, Status: s}
}

// measure reads every KPI the phases name: from the store when one is
// given, else from the snapshot (run-rate, fresh audit); traffic from
// Prometheus when a URL is known.
func (o *PhaseStatusOptions) measure(ctx context.Context, env *action.Env, cfg *phase.Config) (phase.Measurements, error) {
	m := phase.Measurements{Notes: map[string]string{}}
	// A snapshot read from a file is dated by its collection, so that
	// the demo's status does not change with the day it is shown; a
	// store's month is today's.
	m.Now = env.Snapshot.Meta.CollectedAt
	if o.Store.Target != "" || m.Now.IsZero() {
		clk := o.clock
		if clk == nil {
			clk = env.Clock
		}
		m.Now = clk.Now()
	}
	for i := range env.Snapshot.Namespaces {
		m.Namespaces = append(m.Namespaces, env.Snapshot.Namespaces[i].Name)
	}
	m.NamespacesSource = "namespaces of the snapshot " + env.Snapshot.Meta.Source
	if o.Store.Target != "" {
		if err := o.measureStore(ctx, env, cfg, &m); err != nil {
			return m, err
		}
	} else {
		m.Notes["cost history"] = "needs --store"
		m.Notes["error history"] = "needs --store"
		m.Notes["baseline cost"] = "baseline.month " + cfg.Baseline.Month + " needs --store, or give baseline.monthlyCost"
	}
	usesCost, usesErrors := cfg.Uses()
	if m.MonthlyCost == nil && usesCost {
		c, err := action.Cost{}.Run(ctx, env)
		switch {
		case ctx.Err() != nil:
			return m, ctx.Err()
		case err != nil:
			// A cluster that cannot be priced still has namespaces and
			// findings to measure: its cost targets say why they are
			// not measured.
			m.Notes["monthly cost"] = "the snapshot cannot be priced: " + err.Error()
		default:
			src := "run-rate of the snapshot, a 730-hour month, prices " + env.Prices.Origin
			if why := m.Notes["monthly cost"]; why != "" {
				src = why + "; " + src
			}
			m.MonthlyCost = &phase.CostMeasure{Amount: c.Result.Total, Source: src}
		}
	}
	if m.OpenErrors == nil && usesErrors {
		res, err := action.Audit{}.Run(ctx, env)
		if err != nil {
			return m, fmt.Errorf("auditing the snapshot for the open error findings: %w", err)
		}
		n := 0
		for _, f := range history.Findings(res.Findings, env.Index) {
			if f.Severity >= audit.Error {
				n++
			}
		}
		m.OpenErrors = &phase.Count{Count: n, Source: fmt.Sprintf("a fresh audit of the snapshot, %d checks; one per check and workload", len(res.Checks))}
	}
	return m, o.measureTraffic(ctx, cfg, &m)
}

// measureStore reads the month's cost, the open error findings, their
// history and the full months' costs of the snapshot's cluster.
func (o *PhaseStatusOptions) measureStore(ctx context.Context, env *action.Env, cfg *phase.Config, m *phase.Measurements) error {
	st, err := o.Store.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	cluster := clusterName(env.Snapshot)
	now := m.Now.UTC()
	mtd, err := monthToDate(ctx, st, cluster, now, []string{"pool"})
	if err != nil {
		return err
	}
	if total, ok := storedTotal(mtd); ok {
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		days := first.AddDate(0, 1, -1).Day()
		monthly, err := total.MulRat(int64(days), int64(mtd.Days))
		if err != nil {
			return fmt.Errorf("extrapolating the month to date of %s: %w", cluster, err)
		}
		src := fmt.Sprintf("month to date in %s, %s to %s (%d of %d days recorded), extrapolated to the %d days of %s",
			st, mtd.From, mtd.Through, mtd.Recorded, mtd.Days, days, now.Format("January 2006"))
		if mtd.Estimate {
			src += "; ESTIMATE: missing days counted at the average of the recorded ones"
		}
		m.MonthlyCost = &phase.CostMeasure{Amount: monthly, Source: src}
	} else {
		m.Notes["monthly cost"] = fmt.Sprintf("%s holds no cost of %s in %s", st, cluster, now.Format("January 2006"))
	}
	if cfg.Baseline.Month != "" && cfg.Baseline.MonthlyCost == "" {
		mc, ok, err := monthCost(ctx, st, cluster, cfg.Baseline.Month)
		if err != nil {
			return err
		}
		if ok {
			m.BaselineCost = &phase.CostMeasure{Amount: mc.Amount, Source: "stored daily costs of " + mc.Month}
		} else {
			m.Notes["baseline cost"] = "the store holds no cost of " + cfg.Baseline.Month
		}
	}
	// Full months, newest first, as many as a trigger asks for.
	want := 0
	for _, p := range cfg.Sequence {
		for _, t := range p.EnterNext {
			if t.CostTargetMet != nil {
				want = max(want, t.CostTargetMet.Months)
			}
		}
	}
	m.CostMonths = []phase.MonthCost{}
	for i := 1; i <= want; i++ {
		month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -i, 0).Format("2006-01")
		mc, ok, err := monthCost(ctx, st, cluster, month)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		m.CostMonths = append(m.CostMonths, mc)
	}
	first, err := st.FirstScan(ctx, cluster)
	if err != nil {
		return err
	}
	if first.IsZero() {
		m.Notes["error history"] = fmt.Sprintf("%s holds no scan of %s", st, cluster)
		m.Notes["cost history"] = m.Notes["error history"]
		return nil
	}
	found, err := st.Findings(ctx, store.FindingFilter{Cluster: cluster, MinSeverity: audit.Error})
	if err != nil {
		return err
	}
	h := &phase.ErrorHistory{Since: first, Source: "error findings in " + st.String()}
	open := 0
	for _, f := range found {
		last := f.Resolved
		if f.Open() {
			last = now
			open++
		}
		if last.After(h.LastOpen) {
			h.LastOpen = last
		}
	}
	m.Errors = h
	latest, err := st.Latest(ctx, cluster)
	if err != nil {
		return err
	}
	m.OpenErrors = &phase.Count{Count: open, Source: fmt.Sprintf("open in %s after its latest scan of %s (scan %d, %s)",
		st, cluster, latest.ID, latest.Started.UTC().Format(time.RFC3339))}
	return nil
}

// storedTotal is the month to date's total over the pools (every
// grouping sums to the cluster's cost; pool is one of them), when any day
// is recorded.
func storedTotal(mtd *history.MonthToDate) (money.Amount, bool) {
	if mtd.Recorded == 0 {
		return money.Amount{}, false
	}
	i := slices.IndexFunc(mtd.Groupings, func(l history.MonthToDateList) bool { return l.By == "pool" })
	if i < 0 {
		return money.Amount{}, false
	}
	return mtd.Groupings[i].Total, true
}

// monthCost is a past calendar month's cost from the stored daily costs
// (missing days at the average of the recorded ones); ok is false when no
// day of it is recorded.
func monthCost(ctx context.Context, st *store.Store, cluster, month string) (phase.MonthCost, bool, error) {
	first, err := time.Parse("2006-01", month)
	if err != nil {
		return phase.MonthCost{}, false, fmt.Errorf("month %q: %w", month, err)
	}
	last := first.AddDate(0, 1, -1)
	mtd, err := monthToDate(ctx, st, cluster, last, []string{"pool"})
	if err != nil {
		return phase.MonthCost{}, false, err
	}
	total, ok := storedTotal(mtd)
	if !ok {
		return phase.MonthCost{}, false, nil
	}
	return phase.MonthCost{Month: month, Amount: total, Estimate: mtd.Estimate}, true, nil
}

// measureTraffic reads the traffic query now and a window ago for each
// window the phases name.
func (o *PhaseStatusOptions) measureTraffic(ctx context.Context, cfg *phase.Config, m *phase.Measurements) error {
	windows := cfg.Windows()
	if len(windows) == 0 {
		return nil
	}
	url := o.Prometheus
	if url == "" {
		url = cfg.Traffic.Prometheus
	}
	if url == "" {
		m.Notes["traffic"] = "no Prometheus: give --prometheus or phases.traffic.prometheus"
		return nil
	}
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return fmt.Errorf("prometheus %s: %w", url, err)
	}
	q := promv1.NewAPI(client)
	read := func(at time.Time) (float64, error) {
		// Warnings and infos (partial data) do not change the value.
		val, _, _, err := q.Query(ctx, cfg.Traffic.Query, at)
		if err != nil {
			return 0, fmt.Errorf("prometheus %s: phases.traffic.query %s at %s: %w", url, cfg.Traffic.Query, at.UTC().Format(time.RFC3339), err)
		}
		return oneValue(val, url, cfg.Traffic.Query, at)
	}
	now, err := read(m.Now)
	if err != nil {
		return err
	}
	m.Traffic = map[string]phase.GrowthMeasure{}
	for _, w := range windows {
		d, _ := phase.ParseWindow(w)
		then, err := read(m.Now.Add(-d))
		if err != nil {
			return err
		}
		if then <= 0 {
			m.Notes["traffic"] = fmt.Sprintf("the traffic query gives %g %s ago: no growth can be computed from it", then, w)
			continue
		}
		bp := math.Round((now/then - 1) * 10000)
		if math.IsNaN(bp) || math.IsInf(bp, 0) || math.Abs(bp) > math.MaxInt32 {
			m.Notes["traffic"] = fmt.Sprintf("the traffic query gives %g now and %g %s ago: out of range", now, then, w)
			continue
		}
		m.Traffic[w] = phase.GrowthMeasure{BasisPoints: int64(bp), Then: then, Now: now,
			Source: fmt.Sprintf("%s: %s, %g %s ago and %g now", url, cfg.Traffic.Query, then, w, now)}
	}
	return nil
}

// oneValue is the single number a traffic query must give: a scalar, or
// a vector of one sample.
func oneValue(val model.Value, url, query string, at time.Time) (float64, error) {
	var v float64
	switch r := val.(type) {
	case *model.Scalar:
		v = float64(r.Value)
	case model.Vector:
		if len(r) != 1 {
			return 0, fmt.Errorf("prometheus %s: phases.traffic.query %s at %s: got %d series, expected one number (aggregate with sum)", url, query, at.UTC().Format(time.RFC3339), len(r))
		}
		v = float64(r[0].Value)
	default:
		got := "no result"
		if val != nil {
			got = val.Type().String()
		}
		return 0, fmt.Errorf("prometheus %s: phases.traffic.query %s: got %s, expected a scalar or one sample", url, query, got)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("prometheus %s: phases.traffic.query %s at %s: got %g", url, query, at.UTC().Format(time.RFC3339), v)
	}
	return v, nil
}
