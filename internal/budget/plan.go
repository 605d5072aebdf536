package budget

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// Downscaler puts namespaces to sleep and wakes them: the night
// scale-down's runner, which keeps the replicas it changes so that Wake
// restores them exactly.
type Downscaler interface {
	Sleep(ctx context.Context, namespaces []string, reason string) error
	Wake(ctx context.Context, namespaces []string, reason string) error
}

// Applied is an action in effect: taken, and not lifted yet. The action
// log is its record.
type Applied struct {
	Budget     string   `json:"budget"`
	Threshold  string   `json:"threshold"`
	Period     string   `json:"period"`
	Action     string   `json:"action"`
	Operation  string   `json:"operation"`
	Namespaces []string `json:"namespaces"`
}

// Step is one thing enforcing the budgets would do.
type Step struct {
	Applied
	// Lift undoes the action: the budget recovered below its threshold,
	// or the period the action was taken in is over.
	Lift bool `json:"lift"`
	// WaitsApproval is set on a step a require-approval threshold holds
	// until `purser budget approve BUDGET` is recorded for the period.
	WaitsApproval bool `json:"waitsApproval"`
	// Why is the reason, for the log and the user.
	Why string `json:"why"`
	// Spend and Forecast are the budget's figures when the step was
	// planned; Source says where the spend came from.
	Spend    string `json:"spend"`
	Forecast string `json:"forecast"`
	Source   string `json:"source"`
}

// gated are the actions require-approval holds; a notification is never
// held.
func gated(action string) bool {
	return action == ActionScaleDownDev || action == ActionBlockNewResources
}

// Plan is what enforcing the statuses takes: the actions of crossed
// thresholds not yet in effect (notify once per threshold and period),
// and the lifting of actions in effect whose threshold is no longer
// crossed or whose period is over. approved holds "budget/period" for the
// budgets approved for their current period. Lifts come first, so that a
// freeze of last month is gone before this month's is made.
func Plan(sts []Status, inEffect []Applied, notified map[string]bool, approved map[string]bool) []Step {
	crossed := map[string]bool{}
	var lifts, takes []Step
	have := map[string]bool{}
	for _, a := range inEffect {
		have[a.Operation] = true
	}
	for _, st := range sts {
		needsApproval := false
		for _, t := range st.Thresholds {
			if t.Crossed && slices.Contains(t.Actions, ActionRequireApproval) {
				needsApproval = true
			}
		}
		waits := needsApproval && !approved[st.Budget+"/"+st.Period.Key]
		for _, t := range st.Thresholds {
			if !t.Crossed {
				continue
			}
			for _, a := range t.Actions {
				if a == ActionRequireApproval {
					continue
				}
				op := Operation(st.Budget, t.ID, st.Period.Key, a)
				crossed[op] = true
				if have[op] || (a == ActionNotify && notified[op]) {
					continue
				}
				ns := []string{}
				switch a {
				case ActionScaleDownDev:
					ns = slices.Clone(st.DevNamespaces)
				case ActionBlockNewResources:
					ns = slices.Clone(st.Namespaces)
				}
				takes = append(takes, Step{
					Applied:       Applied{Budget: st.Budget, Threshold: t.ID, Period: st.Period.Key, Action: a, Operation: op, Namespaces: ns},
					WaitsApproval: waits && gated(a),
					Why:           why(st, t),
					Spend:         st.Spend.Amount.String(), Forecast: st.Forecast.Amount.String(), Source: st.Spend.Source,
				})
			}
		}
	}
	current := map[string]Status{}
	for _, st := range sts {
		current[st.Budget] = st
	}
	for _, a := range inEffect {
		if crossed[a.Operation] || a.Action == ActionNotify {
			continue
		}
		st, ok := current[a.Budget]
		reason := fmt.Sprintf("budget %s is no longer in the configuration", a.Budget)
		switch {
		case ok && st.Period.Key != a.Period:
			reason = fmt.Sprintf("budget %s: period %s is over (now %s)", a.Budget, a.Period, st.Period.Key)
		case ok:
			reason = fmt.Sprintf("budget %s recovered below its %s threshold: spend %s, forecast %s", a.Budget, thresholdText(a.Threshold), st.Spend.Amount, st.Forecast.Amount)
		}
		s := Step{Applied: a, Lift: true, Why: reason}
		if ok {
			s.Spend, s.Forecast, s.Source = st.Spend.Amount.String(), st.Forecast.Amount.String(), st.Spend.Source
		}
		lifts = append(lifts, s)
	}
	order := func(a, b Step) int {
		return cmp.Or(cmp.Compare(a.Budget, b.Budget), cmp.Compare(a.Threshold, b.Threshold), cmp.Compare(a.Action, b.Action), cmp.Compare(a.Period, b.Period))
	}
	slices.SortFunc(lifts, order)
	slices.SortFunc(takes, order)
	return append(lifts, takes...)
}

func thresholdText(id string) string {
	if id == ForecastThreshold {
		return "forecast"
	}
	return id + "%"
}

func why(st Status, t ThresholdStatus) string {
	if t.ID == ForecastThreshold {
		return fmt.Sprintf("budget %s (%s) for %s: forecast %s (%s) is above %s", st.Budget, st.Scope, st.Period.Key, st.Forecast.Amount, st.Forecast.Method, st.Limit)
	}
	return fmt.Sprintf("budget %s (%s) for %s: spend %s (%s) reached its %s threshold, %s of %s", st.Budget, st.Scope, st.Period.Key, st.Spend.Amount, st.Spend.Source, t.At, t.Amount, st.Limit)
}
