package budget

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/purserhq/purser/internal/alert"
)

// RulePrefix begins the rule of every budget alert: budget/NAME/THRESHOLD.
// The alert's subject is the period's key, so that a threshold's alert of
// March and that of April are two alerts: a new period re-arms it.
const RulePrefix = "budget/"

// AlertRule is the alert rule of a budget's threshold.
func AlertRule(budget, threshold string) string { return RulePrefix + budget + "/" + threshold }

func severity(threshold string) string {
	switch threshold {
	case "50":
		return "info"
	case ForecastThreshold:
		return "warning"
	}
	if len(threshold) >= 3 {
		return "critical"
	}
	return "warning"
}

// Transitions are the alert transitions of the statuses, through the
// alert state machine without a pending phase: a crossed threshold goes
// from inactive to firing once per period, and from firing to resolved
// when it is no longer crossed or its period is over. open are the
// cluster's pending and firing alerts; seen are the keys (State.Key) of
// every budget alert the store holds, resolved ones included, so that a
// threshold that fired and resolved in a period does not fire again in
// it.
func Transitions(cluster string, sts []Status, open []alert.State, seen map[string]bool, now time.Time) []alert.Transition {
	active := map[string]bool{}
	byKey := map[string]alert.State{}
	for _, s := range open {
		if strings.HasPrefix(s.Rule, RulePrefix) {
			byKey[s.Key()] = s
		}
	}
	var out []alert.Transition
	for _, st := range sts {
		for _, t := range st.Thresholds {
			if !t.Crossed {
				continue
			}
			rule := AlertRule(st.Budget, t.ID)
			key := alert.State{Rule: rule, Subject: st.Period.Key}.Key()
			active[key] = true
			if _, ok := byKey[key]; ok || seen[key] {
				continue
			}
			sev := severity(t.ID)
			summary := fmt.Sprintf("budget %s (%s): spend %s is %.2f%% of %s for %s", st.Budget, st.Scope, st.Spend.Amount, st.SpentPercent, st.Limit, st.Period.Key)
			if t.ID == ForecastThreshold {
				summary = fmt.Sprintf("budget %s (%s): forecast %s (%s, backtest %s) will breach %s for %s", st.Budget, st.Scope, st.Forecast.Amount, st.Forecast.Method, mapeText(st.Forecast.Backtest), st.Limit, st.Period.Key)
			} else {
				summary += fmt.Sprintf(", past its %s threshold", t.At)
			}
			if st.Spend.Source == SourceRunRate {
				summary += " (run-rate estimate, no stored history)"
			}
			out = append(out, alert.Transition{From: alert.Inactive, State: alert.State{
				Cluster: cluster, Rule: rule, Subject: st.Period.Key, Phase: alert.Firing, Severity: sev, Summary: summary,
				ActiveSince: now, FiredAt: now,
				Labels: map[string]string{"alertname": "PurserBudget", "cluster": cluster, "severity": sev,
					"budget": st.Budget, "threshold": t.ID, "period": st.Period.Key},
			}})
		}
	}
	for key, s := range byKey {
		if active[key] {
			continue
		}
		from := s.Phase
		if from == alert.Pending {
			s.Phase = alert.Inactive
		} else {
			s.Phase, s.ResolvedAt = alert.Resolved, now
		}
		out = append(out, alert.Transition{From: from, State: s})
	}
	slices.SortFunc(out, func(a, b alert.Transition) int { return cmp.Compare(a.State.Key(), b.State.Key()) })
	return out
}

func mapeText(b Backtest) string {
	if b.TooShort && strings.HasPrefix(b.Note, "no stored history") {
		return "none: no stored history"
	}
	if b.TooShort {
		return "none: history too short"
	}
	return fmt.Sprintf("MAPE %.1f%% over %d days", b.MAPE, len(b.Days))
}

// Operation is the identity of one action of one threshold in one
// period: the label value of what it creates (purser.dev/operation) and
// the link between its entry and its lifting in the action log.
func Operation(budget, threshold, period, action string) string {
	h := sha256.Sum256([]byte(budget + "\x00" + threshold + "\x00" + period + "\x00" + action))
	return "budget-" + hex.EncodeToString(h[:8])
}
