package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/downscale"
	"github.com/purserhq/purser/internal/downscale/engine"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/store"
)

func downscaleFormats() []string { return []string{"table", "json", "yaml"} }

// DownscaleOptions are the options of `purser downscale run|status|wake`.
type DownscaleOptions struct {
	Env     EnvFlags
	Output  *choice
	Approve bool
	// At decides as if it were that time (dry runs and status only).
	At     string
	Store  StoreFlags
	For    time.Duration
	Reason string

	streams genericiooptions.IOStreams
}

// DownscaleResult is what run, status and wake print.
type DownscaleResult struct {
	Now     time.Time          `json:"now"`
	Scope   string             `json:"scope"`
	DryRun  bool               `json:"dryRun"`
	Plan    *engine.Plan       `json:"plan"`
	Savings *engine.Savings    `json:"savings,omitempty"`
	Records []downscale.Record `json:"records,omitempty"`
	// AwakeUntil is set by wake --for.
	AwakeUntil *time.Time `json:"awakeUntil,omitempty"`
}

func newDownscaleCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "downscale",
		Short: "Put workloads to sleep at night and wake them in the morning, with the savings in money",
		Long: `Scale Deployments and StatefulSets to zero (or downscale.downtimeReplicas) and
suspend CronJobs inside the windows the config's downscale section or the
purser.dev/downscale-schedule annotation gives, such as
"Mon-Fri 20:00-08:00 Europe/Paris", and restore them after. The replicas each
had are recorded in an annotation in the same update that scales them: a wake
restores them only if nobody changed the count during the night.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newDownscaleRunCmd(streams, kube), newDownscaleStatusCmd(streams, kube), newDownscaleWakeCmd(streams, kube))
	return cmd
}

func newDownscaleRunCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &DownscaleOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Sleep or wake what the schedules say now (a dry run unless --approve)",
		Example: `  purser downscale run --config purser.yaml                 # what would sleep or wake now
  purser downscale run --config purser.yaml --approve --store history.db
  purser downscale run --demo --at 2026-03-02T21:00:00+01:00  # the demo at 21:00`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(true); err != nil {
				return err
			}
			return o.run(cmd.Context(), "run")
		},
	}
	cmd.Annotations = map[string]string{namespaceAnnotation: "narrows"}
	o.Env.AddFlags(cmd)
	o.Output = outputFormat(cmd, downscaleFormats()...)
	cmd.Flags().BoolVar(&o.Approve, "approve", false, "carry the decisions out; without it nothing is changed")
	cmd.Flags().StringVar(&o.At, "at", "", "decide as if it were this time (RFC 3339); dry runs only")
	o.Store.addStoreFlag(cmd, "record every action in this history database's action log (a SQLite file, created if missing, or a postgres:// URL)")
	return cmd
}

func newDownscaleStatusCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &DownscaleOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "What sleeps, since when, until when, why, and what it saves",
		Example: `  purser downscale status --config purser.yaml
  purser downscale status -n dev -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(false); err != nil {
				return err
			}
			return o.run(cmd.Context(), "status")
		},
	}
	cmd.Annotations = map[string]string{namespaceAnnotation: "narrows"}
	o.Env.AddFlags(cmd)
	o.Output = outputFormat(cmd, downscaleFormats()...)
	cmd.Flags().StringVar(&o.At, "at", "", "report as if it were this time (RFC 3339)")
	return cmd
}

func newDownscaleWakeCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &DownscaleOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "wake NAMESPACE --for DURATION",
		Short: "Wake a sleeping namespace now, for a while: the next run after that puts it back to sleep",
		Example: `  purser downscale wake dev --for 2h             # what would wake
  purser downscale wake dev --for 2h --approve --reason "demo for the client"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := liveOnly("downscale wake", &o.Env); err != nil {
				return err
			}
			if o.For <= 0 {
				return fmt.Errorf("--for %s: give how long to stay awake, such as 2h", o.For)
			}
			if err := o.validate(true); err != nil {
				return err
			}
			return o.wake(cmd.Context(), args[0])
		},
	}
	o.Env.withConfig = true
	cmd.Flags().StringVar(&o.Env.ConfigPath, "config", "", "purser.yaml: the downscale section (downtime replicas, GitOps mode)")
	o.Output = outputFormat(cmd, downscaleFormats()...)
	cmd.Flags().DurationVar(&o.For, "for", 0, "how long the namespace stays awake (2h, 90m)")
	cmd.Flags().BoolVar(&o.Approve, "approve", false, "wake it; without it nothing is changed")
	cmd.Flags().StringVar(&o.Reason, "reason", "", "why, recorded on the workloads and in the action log")
	o.Store.addStoreFlag(cmd, "record every action in this history database's action log")
	addLiveOnly(cmd, &o.Env)
	return cmd
}

func (o *DownscaleOptions) validate(changes bool) error {
	if err := o.Env.Validate(); err != nil {
		return err
	}
	if o.At != "" {
		if _, err := time.Parse(time.RFC3339, o.At); err != nil {
			return fmt.Errorf("--at %q: expected an RFC 3339 time such as 2026-03-02T21:00:00+01:00", o.At)
		}
		if o.Approve {
			return errors.New("--at decides as if it were another time: a run carried out acts now, so --at and --approve are exclusive")
		}
	}
	if changes && o.Approve {
		if err := liveOnly("downscale", &o.Env); err != nil {
			return err
		}
	}
	return o.Store.validate()
}

func (o *DownscaleOptions) now(env *action.Env) time.Time {
	if t, err := time.Parse(time.RFC3339, o.At); err == nil {
		return t
	}
	return env.Clock.Now()
}

// runner builds the executor on the kubeconfig's cluster; close closes
// the store when --store is given.
func (o *DownscaleOptions) runner(ctx context.Context, env *action.Env, namespaces []string) (r *downscale.Runner, closeFn func(), err error) {
	cfg, _, err := o.Env.restConfig()
	if err != nil {
		return nil, nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	cal, err := env.Config.DownscaleHolidays()
	if err != nil {
		return nil, nil, err
	}
	opts := downscale.Options{Config: env.Config.Downscale, Rules: env.Config.Classify, Holidays: cal, Clock: env.Clock,
		Log: env.Log, Namespaces: namespaces, Actor: "purser downscale", WaitReady: 2 * time.Minute}
	opts.Cluster = o.Env.contextName()
	if env.Snapshot != nil {
		opts.Cluster = clusterName(env.Snapshot)
	}
	closeFn = func() {}
	if o.Store.Target != "" {
		st, err := o.Store.open(ctx)
		if err != nil {
			return nil, nil, err
		}
		opts.Actions, closeFn = st, func() { st.Close() }
	}
	return downscale.NewRunner(kube, dyn, opts), closeFn, nil
}

func (o *DownscaleOptions) run(ctx context.Context, verb string) error {
	env, err := o.Env.Complete(ctx, o.streams)
	if err != nil {
		return err
	}
	scope, err := o.Env.Scope(env)
	if err != nil {
		return err
	}
	cal, err := env.Config.DownscaleHolidays()
	if err != nil {
		return err
	}
	live := o.Env.From == "" && !o.Env.Demo
	var namespaces []string
	if scope != "" {
		namespaces = []string{scope}
	}
	in := engine.Input{Index: env.Index, Config: env.Config.Downscale, Rules: env.Config.Classify, Holidays: cal, Now: o.now(env), Namespaces: namespaces}
	var r *downscale.Runner
	if live {
		var closeFn func()
		if r, closeFn, err = o.runner(ctx, env, namespaces); err != nil {
			return err
		}
		defer closeFn()
		if in.GitOps, in.GitOpsKnown, err = r.GitOps(ctx); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(o.streams.ErrOut, "Warning: Argo CD and Flux objects are read from a live cluster only: workloads they may manage are skipped")
	}
	p := engine.Decide(in)
	res := &DownscaleResult{Now: in.Now, Scope: scopeName(scope), DryRun: !o.Approve, Plan: p}
	res.Savings = o.savings(ctx, env, p, cal)
	var runErr error
	if verb == "run" && o.Approve {
		var rep *downscale.Report
		rep, runErr = r.Execute(ctx, p, "")
		if rep != nil {
			res.Records = rep.Records
		}
	} else {
		// Unreadable annotations fail the command all the same: the
		// workload is left as it is, and someone should know.
		var errs []error
		for _, d := range p.Errors() {
			errs = append(errs, errors.New(d.Reason))
		}
		runErr = errors.Join(errs...)
	}
	if err := o.print(ctx, verb, res); err != nil {
		return err
	}
	if verb == "run" && !o.Approve && p.Changes() > 0 {
		fmt.Fprintf(o.streams.ErrOut, "dry run: %d change(s); run again with --approve to carry them out\n", p.Changes())
	}
	return runErr
}

func scopeName(ns string) string {
	if ns == "" {
		return "all namespaces"
	}
	return "namespace " + ns
}

// savings prices the plan; without a price book the figures are left
// out, with a warning.
func (o *DownscaleOptions) savings(ctx context.Context, env *action.Env, p *engine.Plan, cal *engine.Calendar) *engine.Savings {
	if env.Prices.Book == nil {
		fmt.Fprintf(o.streams.ErrOut, "Warning: no savings: %s\n", output.TerminalText(env.Prices.Origin))
		return nil
	}
	c, err := action.Cost{}.Run(ctx, env)
	if err == nil {
		var sv *engine.Savings
		if sv, err = engine.Estimate(env.Index, c.Result, p, cal, env.Prices.Book.HoursPerMonth, env.Config.Plan.Packing.Target); err == nil {
			return sv
		}
	}
	fmt.Fprintf(o.streams.ErrOut, "Warning: no savings: %s\n", output.TerminalText(err.Error()))
	return nil
}

func (o *DownscaleOptions) wake(ctx context.Context, ns string) error {
	cfg, err := action.LoadConfig(o.Env.ConfigPath, false)
	if err != nil {
		return err
	}
	// A wake reads only the namespace it wakes: no snapshot, no prices.
	env := &action.Env{Config: cfg, Clock: clock.RealClock{}, Log: loggerFrom(ctx)}
	r, closeFn, err := o.runner(ctx, env, []string{ns})
	if err != nil {
		return err
	}
	defer closeFn()
	reason := o.Reason
	if reason == "" {
		reason = "woken for " + o.For.String() + " by purser downscale wake"
	}
	if !o.Approve {
		p, err := r.Decide(ctx, nil, &engine.Force{Namespaces: []string{ns}, Reason: reason})
		if err != nil {
			return err
		}
		until := env.Clock.Now().Add(o.For).UTC()
		if err := o.print(ctx, "wake", &DownscaleResult{Now: env.Clock.Now(), Scope: scopeName(ns), DryRun: true, Plan: p, AwakeUntil: &until}); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "dry run: %d change(s); run again with --approve to wake %s until %s\n", p.Changes(), output.TerminalText(ns), until.Format(time.RFC3339))
		return nil
	}
	until, p, rep, err := r.WakeFor(ctx, ns, o.For, reason)
	if p != nil {
		res := &DownscaleResult{Now: env.Clock.Now(), Scope: scopeName(ns), Plan: p, AwakeUntil: &until}
		if rep != nil {
			res.Records = rep.Records
		}
		if perr := o.print(ctx, "wake", res); perr != nil {
			return perr
		}
	}
	return err
}

func (o *DownscaleOptions) print(ctx context.Context, verb string, res *DownscaleResult) error {
	return emit(ctx, o.streams, o.Output.value, "", downscaleFormats(), func(w io.Writer, format string, _ bool) error {
		switch format {
		case "json":
			return report.WriteJSON(w, res)
		case "yaml":
			return report.WriteYAML(w, res)
		}
		return writeDownscaleTable(w, verb, res)
	})
}

func writeDownscaleTable(w io.Writer, verb string, res *DownscaleResult) error {
	mode := "carried out"
	if res.DryRun {
		mode = "dry run"
	}
	if verb == "status" {
		mode = "status"
	}
	fmt.Fprintf(w, "Downscale %s, %s, at %s (%s)\n", verb, res.Scope, res.Now.Format(time.RFC3339), mode)
	if res.AwakeUntil != nil {
		fmt.Fprintf(w, "Awake until %s\n", res.AwakeUntil.Format(time.RFC3339))
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKLOAD\tACTION\tVALUE\tSINCE\tUNTIL\tWHY")
	for _, d := range res.Plan.Decisions {
		if verb == "status" && d.Action == engine.Keep && d.Reason == "no schedule" {
			continue
		}
		value := fmt.Sprint(d.Current)
		if d.Action == engine.Sleep || d.Action == engine.Wake {
			value = fmt.Sprintf("%d→%d", d.Current, d.Target)
		}
		if d.Via == engine.ViaSuspend {
			value = map[int32]string{0: "running", 1: "suspended"}[d.Current]
			if d.Action == engine.Sleep || d.Action == engine.Wake {
				value += "→" + map[int32]string{0: "running", 1: "suspended"}[d.Target]
			}
		} else if d.Via == engine.ViaMinReplica {
			value += " (HPA " + d.HPA + " min)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", output.CellText(d.Workload.String()), d.Action, value, when(d.Since), when(d.Until), output.CellText(d.Reason))
	}
	for _, g := range res.Plan.GitOps {
		fmt.Fprintf(tw, "%s\tgitops-%s\t\t\t\t%s\n", output.CellText(g.Object.String()), g.Action, output.CellText(g.Reason))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(res.Records) > 0 {
		fmt.Fprintln(w, "\nActions")
		tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "OBJECT\tACTION\tOUTCOME\tDETAIL")
		for _, r := range res.Records {
			detail := r.Reason
			if r.Error != "" {
				detail = r.Error
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", output.CellText(r.Object.String()), r.Action, r.Outcome, output.CellText(detail))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if sv := res.Savings; sv != nil && len(sv.Workloads) > 0 {
		fmt.Fprintf(w, "\nSavings (%d workloads, pods priced from their requests; a month is %d hours)\n", len(sv.Workloads), sv.HoursPerMonth)
		fmt.Fprintf(w, "  this window: %s\n  a month of the schedules: %s\n", sv.Window, sv.Month)
		for _, p := range sv.Pools {
			if p.Asleep < p.Awake {
				fmt.Fprintf(w, "  node pool %s: %d nodes would do while they sleep (%d with them awake, %d today)\n", output.TerminalText(p.Pool), p.Asleep, p.Awake, p.Today)
			}
		}
	}
	return nil
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// newDownscaler is the Runner purser serve runs every minute when the
// config has downscale schedules, and the one budget actions put dev
// namespaces to sleep with; its actions go to the store, as actor.
func newDownscaler(rc *rest.Config, cfg *config.Config, st *store.Store, cluster, actor string, log *slog.Logger) (*downscale.Runner, error) {
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	cal, err := cfg.DownscaleHolidays()
	if err != nil {
		return nil, err
	}
	opts := downscale.Options{Config: cfg.Downscale, Rules: cfg.Classify, Holidays: cal, Log: log,
		Actor: actor, Cluster: cluster, WaitReady: 2 * time.Minute}
	if st != nil {
		opts.Actions = st
	}
	return downscale.NewRunner(kube, dyn, opts), nil
}
