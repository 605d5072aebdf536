package server

import (
	"context"
	"errors"
	"strings"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/budget"
	"github.com/purserhq/purser/internal/budget/enforce"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/store"
)

// budgetAlert tells the budgets' alerts apart from the watch rules':
// alert.Evaluate would resolve every open alert no rule of its own
// produced, so it must not see them.
func budgetAlert(a alert.State) bool { return strings.HasPrefix(a.Rule, budget.RulePrefix) }

// budgetAlerts evaluates the config's budgets after a priced scan and
// records their alert transitions, each threshold firing once per period
// and notified like the watch rules' alerts. The budgets' actions are not
// taken here: they are `purser budget enforce --approve`'s, run by whom
// the action log then names.
func (s *Server) budgetAlerts(ctx context.Context, env *action.Env, c *action.CostResult, cluster string, notifiers []string) ([]alert.Transition, error) {
	if len(env.Config.Budgets.Items) == 0 {
		return nil, nil
	}
	currency := c.Result.Currency
	if err := env.Config.CheckBudgetCurrency(currency); err != nil {
		return nil, err
	}
	runRate := map[string]map[string]money.Amount{}
	for _, g := range c.Breakdown.Groupings {
		runRate[g.By] = map[string]money.Amount{}
		for _, r := range g.Rows {
			runRate[g.By][r.Key] = r.Total
		}
	}
	nss, usage := enforce.FromSnapshot(env.Snapshot, env.Config.Classify)
	r, err := enforce.Evaluate(ctx, s.opts.Store, cluster, enforce.Inputs{Config: env.Config.Budgets, Usage: usage,
		Engine: budget.Input{Now: s.clock.Now(), Currency: currency, Namespaces: nss, RunRate: runRate}})
	if err != nil {
		return nil, err
	}
	switch err := s.opts.Store.ApplyAlerts(ctx, cluster, r.Transitions, notifiers, s.clock.Now()); {
	case errors.Is(err, store.ErrConflict):
		s.log.Warn("budget alert states changed under this evaluation; the next scan starts from the stored ones", "error", err)
		return nil, nil
	case err != nil:
		return nil, err
	}
	return r.Transitions, nil
}
