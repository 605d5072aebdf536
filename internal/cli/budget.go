package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/alert/notify"
	"github.com/purserhq/purser/internal/budget"
	"github.com/purserhq/purser/internal/budget/enforce"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/store"
)

// BudgetOptions are the flags the budget commands share.
type BudgetOptions struct {
	Env    EnvFlags
	Store  StoreFlags
	Output *choice
	// Now, hidden, evaluates at another time than the clock's (tests,
	// what-if): RFC 3339.
	Now     string
	AsUser  string
	Approve bool

	streams genericiooptions.IOStreams
}

func budgetFormats() []string { return []string{"table", "json", "yaml", "markdown"} }

func newBudgetCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "budget",
		Short: "Spending budgets: spend to date, forecast, thresholds and their actions",
		Long: `Budgets are set in purser.yaml (budgets:) per team, namespaces, environment or
namespace label selector, monthly or weekly, in the price book's currency. The
spend to date comes from the daily costs --store holds (purser cost --store or
purser serve record them); without any, from the snapshot's run-rate, labelled
as such. See docs/budgets.md.`,
	}
	cmd.AddCommand(newBudgetStatusCmd(streams, kube), newBudgetEnforceCmd(streams, kube), newBudgetApproveCmd(streams, kube))
	return cmd
}

func (o *BudgetOptions) addFlags(cmd *cobra.Command, withOutput bool) {
	o.Env.AddFlags(cmd)
	o.Store.addStoreFlag(cmd, "the history database holding the daily costs, alerts and action log (a SQLite file or a postgres:// URL); required")
	cmd.Flags().StringVar(&o.Now, "now", "", "evaluate at this time (RFC 3339) instead of now")
	_ = cmd.Flags().MarkHidden("now")
	if withOutput {
		o.Output = outputFormat(cmd, budgetFormats()...)
	}
}

func (o *BudgetOptions) validate() error {
	if err := o.Env.Validate(); err != nil {
		return err
	}
	if o.Store.Target == "" {
		return errors.New("--store: budgets read the stored daily costs, alerts and action log; give the history database (a SQLite file or a postgres:// URL)")
	}
	if o.Now != "" {
		if _, err := time.Parse(time.RFC3339, o.Now); err != nil {
			return fmt.Errorf("--now %q: expected an RFC 3339 time such as 2026-03-10T12:00:00Z", o.Now)
		}
	}
	return nil
}

// fixedClock is the clock --now sets.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                  { return c.t }
func (c fixedClock) Since(t time.Time) time.Duration { return c.t.Sub(t) }

// complete builds the Env and opens the store.
func (o *BudgetOptions) complete(ctx context.Context) (*action.Env, *store.Store, error) {
	env, err := o.Env.Complete(ctx, o.streams)
	if err != nil {
		return nil, nil, err
	}
	if o.Now != "" {
		t, _ := time.Parse(time.RFC3339, o.Now)
		env.Clock = fixedClock{t}
	}
	if len(env.Config.Budgets.Items) == 0 {
		return nil, nil, fmt.Errorf("%s has no budgets: add a budgets section (see docs/budgets.md)", env.Config.Path())
	}
	st, err := o.Store.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	return env, st, nil
}

// evaluate evaluates the config's budgets on env and the store.
func (o *BudgetOptions) evaluate(ctx context.Context, env *action.Env, st *store.Store) (*enforce.Report, map[string]enforce.Usage, error) {
	if env.Prices.Book == nil {
		return nil, nil, fmt.Errorf("budgets need a price book: %s", env.Prices.Origin)
	}
	currency := env.Prices.Book.Currency
	if err := env.Config.CheckBudgetCurrency(currency); err != nil {
		return nil, nil, err
	}
	c, err := action.Cost{GroupBy: []cost.GroupBy{{Kind: "namespace"}, {Kind: "team"}, {Kind: "environment"}}}.Run(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	runRate := map[string]map[string]money.Amount{}
	for _, g := range c.Breakdown.Groupings {
		runRate[g.By] = map[string]money.Amount{}
		for _, r := range g.Rows {
			runRate[g.By][r.Key] = r.Total
		}
	}
	nss, usage := enforce.FromSnapshot(env.Snapshot, env.Config.Classify)
	in := enforce.Inputs{Config: env.Config.Budgets, Usage: usage,
		Engine: budget.Input{Now: env.Clock.Now(), Currency: currency, Namespaces: nss, RunRate: runRate}}
	r, err := enforce.Evaluate(ctx, st, clusterName(env.Snapshot), in)
	if err != nil {
		return nil, nil, env.Config.Check("budgets", err)
	}
	for _, v := range r.Budgets {
		if v.Spend.Source == budget.SourceRunRate {
			fmt.Fprintf(o.streams.ErrOut, "Warning: budget %s: %s\n", output.TerminalText(v.Budget), output.TerminalText(v.Spend.Label))
		}
	}
	return r, usage, nil
}

func (o *BudgetOptions) render(ctx context.Context, r *enforce.Report, table func(io.Writer, *enforce.Report) error) error {
	return emit(ctx, o.streams, o.Output.value, "", budgetFormats(), func(w io.Writer, format string, _ bool) error {
		switch format {
		case "json":
			return report.WriteJSON(w, r)
		case "yaml":
			return report.WriteYAML(w, r)
		case "markdown":
			return enforce.StatusMarkdown(w, r)
		}
		return table(w, r)
	})
}

func newBudgetStatusCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &BudgetOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Each budget's spend to date, forecast with its backtest error, thresholds crossed and actions",
		Example: `  purser budget status --store history.db
  purser budget status --demo --config budgets.yaml --store history.db -o markdown`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			env, st, err := o.complete(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			r, _, err := o.evaluate(cmd.Context(), env, st)
			if err != nil {
				return err
			}
			return o.render(cmd.Context(), r, enforce.StatusTable)
		},
	}
	o.addFlags(cmd, true)
	return cmd
}

func newBudgetEnforceCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &BudgetOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "enforce",
		Short: "Fire the budgets' thresholds and take or lift their actions (a dry run unless --approve)",
		Long: `Without --approve, print the alerts that would fire or resolve and the actions
that would be taken or lifted, and change nothing. With --approve, record the
alerts (each threshold fires once per period; the watch section's notifiers are
told), carry out the actions and write each to the action log with who, what,
when and why. Actions a require-approval threshold holds wait for
purser budget approve NAME.`,
		Example: `  purser budget enforce --store history.db
  purser budget enforce --store history.db --approve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.runEnforce(cmd.Context())
		},
	}
	o.addFlags(cmd, true)
	cmd.Flags().BoolVar(&o.Approve, "approve", false, "carry out the steps; without it, only print them")
	cmd.Flags().StringVar(&o.AsUser, "as-user", "", "who the action log records as acting (default: the kube user of the kubeconfig)")
	return cmd
}

func (o *BudgetOptions) runEnforce(ctx context.Context) error {
	env, st, err := o.complete(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	r, usage, err := o.evaluate(ctx, env, st)
	if err != nil {
		return err
	}
	if !o.Approve {
		fmt.Fprintln(o.streams.ErrOut, "Dry run: nothing was changed. Run again with --approve to record the alerts and carry out these steps.")
		return o.render(ctx, r, enforce.StepsTable)
	}
	actor, kube, err := o.actor(ctx)
	if err != nil {
		return err
	}
	var names []string
	for _, n := range env.Config.Watch.Notifiers {
		names = append(names, n.Name)
	}
	cluster := clusterName(env.Snapshot)
	e := &enforce.Enforcer{Store: st, Cluster: cluster, Kube: kube, Actor: actor, Notifiers: names, Usage: usage, Log: env.Log}
	if kube != nil {
		// scale-down-dev sleeps and wakes through the same runner as the
		// night schedules, so a budget's sleep survives a scheduled morning.
		rc, _, err := o.Env.restConfig()
		if err != nil {
			return err
		}
		d, err := newDownscaler(rc, env.Config, st, cluster, actor, env.Log)
		if err != nil {
			return err
		}
		e.Downscaler = d
	}
	failed := e.Enforce(ctx, r)
	if len(names) > 0 {
		deliver(ctx, o.streams, env, st, cluster)
	}
	if err := o.render(ctx, r, enforce.StepsTable); err != nil {
		return errors.Join(failed, err)
	}
	return failed
}

// deliver sends the queued notifications; what cannot be sent stays
// queued for the next run or for purser serve.
func deliver(ctx context.Context, streams genericiooptions.IOStreams, env *action.Env, st *store.Store, cluster string) {
	senders, err := notify.New(env.Config.Watch.Notifiers, notify.Options{})
	if err != nil {
		fmt.Fprintf(streams.ErrOut, "Warning: notifications stay queued: %s\n", output.TerminalText(err.Error()))
		return
	}
	res, err := notify.Deliver(ctx, st, cluster, senders, env.Config.Watch.ExternalURL, env.Clock, env.Log)
	if err != nil {
		fmt.Fprintf(streams.ErrOut, "Warning: notifications stay queued: %s\n", output.TerminalText(err.Error()))
		return
	}
	if res.Failed > 0 {
		fmt.Fprintf(streams.ErrOut, "Warning: %d notifications not delivered; they stay queued\n", res.Failed)
	}
}

// actor is who the action log records, and the client of the live
// cluster (nil when reading a file or the demo).
func (o *BudgetOptions) actor(ctx context.Context) (string, kubernetes.Interface, error) {
	if o.Env.Demo || o.Env.From != "" {
		if o.AsUser == "" {
			return "", nil, errors.New("--as-user: with --demo or --from there is no kube user to record in the action log; name who acts")
		}
		return o.AsUser, nil, nil
	}
	cfg, _, err := o.Env.restConfig()
	if err != nil {
		return "", nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", nil, err
	}
	if o.AsUser != "" {
		return o.AsUser, kube, nil
	}
	who, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", nil, fmt.Errorf("asking the API server who the kubeconfig's user is (give --as-user instead): %w", err)
	}
	return who.Status.UserInfo.Username, kube, nil
}

func newBudgetApproveCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &BudgetOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "approve BUDGET",
		Short: "Let the actions a require-approval threshold holds run, for the budget's current period",
		Example: `  purser budget approve kvibes --store history.db
  purser budget enforce --store history.db --approve`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.runApprove(cmd.Context(), args[0])
		},
	}
	o.addFlags(cmd, false)
	cmd.Flags().StringVar(&o.AsUser, "as-user", "", "who the action log records as approving (default: the kube user of the kubeconfig)")
	return cmd
}

func (o *BudgetOptions) runApprove(ctx context.Context, name string) error {
	env, st, err := o.complete(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var b *budget.Budget
	for i := range env.Config.Budgets.Items {
		if env.Config.Budgets.Items[i].Name == name {
			b = &env.Config.Budgets.Items[i]
		}
	}
	if b == nil {
		return fmt.Errorf("no budget %q in %s", output.TerminalText(name), env.Config.Path())
	}
	loc, err := env.Config.Budgets.Location()
	if err != nil {
		return err
	}
	p, err := budget.PeriodAt(b.PeriodKind(), loc, env.Clock.Now())
	if err != nil {
		return err
	}
	actor, _, err := o.actor(ctx)
	if err != nil {
		return err
	}
	id, err := enforce.Approve(ctx, st, clusterName(env.Snapshot), actor, name, p.Key, env.Clock.Now())
	if err != nil {
		return err
	}
	env.Log.Debug("budget approved", slog.String("budget", name), slog.String("period", p.Key))
	fmt.Fprintf(o.streams.Out, "budget %s approved for %s by %s (action log entry %d); its held actions run at the next purser budget enforce --approve\n",
		output.TerminalText(name), p.Key, output.TerminalText(actor), id)
	return nil
}
