package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/store"
)

// costHistory is what --store and --month-to-date add to `purser cost`.
type costHistory struct {
	Store       StoreFlags
	MonthToDate bool
}

func (h *costHistory) addFlags(cmd *cobra.Command) {
	h.Store.addFlags(cmd, "record today's cost by pool, namespace, team and environment in a history database (a SQLite file, created if missing, or a postgres:// URL)")
	cmd.Flags().BoolVar(&h.MonthToDate, "month-to-date", false, "with --store, show this month's cost so far from the stored daily costs (an estimate, saying so, when days are missing)")
}

func (h *costHistory) validate(namespace, format, report string, by []string) error {
	if err := h.Store.validate(); err != nil {
		return err
	}
	if !h.MonthToDate {
		return nil
	}
	switch {
	case h.Store.Target == "":
		return fmt.Errorf("--month-to-date reads the stored daily costs: give the database with --store")
	case namespace != "":
		return fmt.Errorf("-n: --month-to-date shows the cluster's stored costs, by namespace among others; it does not narrow them")
	case report != "":
		return fmt.Errorf("--report: --month-to-date prints to stdout only")
	case format != "table" && format != "json" && format != "yaml":
		return fmt.Errorf("-o %s: --month-to-date prints table, json or yaml", format)
	}
	for _, b := range by {
		if !slices.ContainsFunc(history.CostGroupings(), func(g cost.GroupBy) bool { return g.String() == b }) {
			return fmt.Errorf("--by %s: the stored daily costs are by pool, namespace, team and environment", b)
		}
	}
	return nil
}

// after records the cost r of env and, with --month-to-date, renders the
// month so far; done says the command has nothing left to print.
func (h *costHistory) after(ctx context.Context, env *action.Env, scope string, r *action.CostResult, streams genericiooptions.IOStreams, format string, by []string) (bool, error) {
	if h.Store.Target == "" {
		return false, nil
	}
	st, err := h.Store.open(ctx)
	if err != nil {
		return false, err
	}
	defer st.Close()
	cluster := clusterName(env.Snapshot)
	if scope == "" {
		// No check ran, so this scan resolves no finding: it only dates
		// the cost.
		scan := history.Scan{Source: env.Snapshot.Meta.Source, Context: env.Snapshot.Meta.Context, CollectedAt: env.Snapshot.Meta.CollectedAt,
			Checks: map[string]string{}, Currency: r.Result.Currency, Cost: history.Costs(r.Result.Breakdown(history.CostGroupings()...))}
		rec, err := h.Store.record(ctx, st, env, "", scan, nil)
		if err != nil {
			return false, err
		}
		fmt.Fprintf(streams.ErrOut, "recorded the cost of %s for %s as scan %d in %s\n", output.TerminalText(cluster), env.Clock.Now().UTC().Format(time.DateOnly), rec.ID, output.TerminalText(st.String()))
	} else {
		fmt.Fprintf(streams.ErrOut, "Warning: -n %s: a namespace's cost is not recorded in --store, only the whole cluster's\n", output.TerminalText(scope))
	}
	if !h.MonthToDate {
		return false, nil
	}
	m, err := monthToDate(ctx, st, cluster, env.Clock.Now(), by)
	if err != nil {
		return false, err
	}
	if m.Estimate {
		fmt.Fprintf(streams.ErrOut, "Warning: %s\n", m.Label())
	}
	return true, emit(ctx, streams, format, "", []string{"table", "json", "yaml"}, func(w io.Writer, format string, _ bool) error {
		switch format {
		case "json":
			return report.WriteJSON(w, m)
		case "yaml":
			return report.WriteYAML(w, m)
		}
		return history.MonthToDateTable(w, m)
	})
}

// monthToDate is the cost of now's month so far in st, by the groupings
// by names (all that are stored when empty).
func monthToDate(ctx context.Context, st *store.Store, cluster string, now time.Time, by []string) (*history.MonthToDate, error) {
	now = now.UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	days, err := st.DailyCosts(ctx, cluster, first.Format(time.DateOnly), now.Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	m, err := history.ComputeMonthToDate(days, now)
	if err != nil {
		return nil, err
	}
	if len(by) > 0 {
		m.Groupings = slices.DeleteFunc(m.Groupings, func(l history.MonthToDateList) bool { return !slices.Contains(by, l.By) })
	}
	return m, nil
}
