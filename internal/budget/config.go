// Package budget evaluates spending budgets: per team, namespace,
// environment or namespace label selector, monthly or weekly, in a named
// currency. It computes the spend to date from the stored daily costs (or,
// without history, from a snapshot's run-rate, and says so), a forecast to
// the end of the period with its backtest error, the thresholds crossed,
// the alert transitions they cause and the actions to take or lift. It is
// an engine: a pure function of its inputs; the enforce package is its
// edge (store, cluster, downscaler).
package budget

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/yamldoc"
)

// Periods.
const (
	Monthly = "monthly"
	Weekly  = "weekly"
)

// Actions a threshold can take.
const (
	// ActionNotify tells the watch section's notifiers when the threshold
	// is crossed, and again when it no longer is.
	ActionNotify = "notify"
	// ActionRequireApproval holds the budget's other actions (scale-down,
	// freeze) until `purser budget approve NAME` is recorded for the
	// period.
	ActionRequireApproval = "require-approval"
	// ActionScaleDownDev puts the scope's dev namespaces to sleep through
	// the downscaler; they wake when the budget recovers.
	ActionScaleDownDev = "scale-down-dev"
	// ActionBlockNewResources freezes the pod and LoadBalancer counts of
	// each namespace of the scope with a ResourceQuota at current use.
	ActionBlockNewResources = "block-new-resources"
)

// ForecastThreshold is the threshold "the forecast to the end of the
// period is above the budget".
const ForecastThreshold = "forecast"

// Config is the budgets section of purser.yaml.
//
//	budgets:
//	  timeZone: Europe/Paris
//	  devEnvironments: [dev]
//	  items:
//	  - name: kvibes
//	    scope: {team: kvibes}
//	    period: monthly
//	    amount: "300"
//	    currency: EUR
//	    thresholds:
//	    - {at: 80%, actions: [notify]}
//	    - {at: 100%, actions: [notify, require-approval, scale-down-dev, block-new-resources]}
//	    - {at: forecast, actions: [notify]}
type Config struct {
	// TimeZone is where periods begin (midnight on the 1st, or on
	// Monday); UTC when empty.
	TimeZone string `yaml:"timeZone"`
	// DevEnvironments are the environments scale-down-dev puts to sleep;
	// [dev, development] when empty.
	DevEnvironments []string `yaml:"devEnvironments"`
	Items           []Budget `yaml:"items"`
}

// Budget is one budget.
type Budget struct {
	Name  string `yaml:"name"`
	Scope Scope  `yaml:"scope"`
	// Period is monthly (the default) or weekly (weeks begin on Monday).
	Period string `yaml:"period"`
	// Amount is the budget per period, in Currency (USD when empty),
	// which must be the price book's.
	Amount   string `yaml:"amount"`
	Currency string `yaml:"currency"`
	// Thresholds replace DefaultThresholds when given.
	Thresholds []Threshold `yaml:"thresholds"`
}

// Scope is what a budget pays for: exactly one of its fields.
type Scope struct {
	Team        string   `yaml:"team"`
	Environment string   `yaml:"environment"`
	Namespaces  []string `yaml:"namespaces"`
	// Selector is a namespace label selector (team=kvibes,tier!=core).
	Selector string `yaml:"selector"`
}

// Threshold is a share of the budget ("80%") or "forecast", and what to
// do when it is crossed.
type Threshold struct {
	At      string   `yaml:"at"`
	Actions []string `yaml:"actions"`
}

// DefaultThresholds are 50, 80 and 100% of the budget and "forecast will
// breach", each notified.
func DefaultThresholds() []Threshold {
	return []Threshold{
		{At: "50%", Actions: []string{ActionNotify}},
		{At: "80%", Actions: []string{ActionNotify}},
		{At: "100%", Actions: []string{ActionNotify}},
		{At: ForecastThreshold, Actions: []string{ActionNotify}},
	}
}

// EffectiveThresholds are the budget's thresholds, or the defaults.
func (b Budget) EffectiveThresholds() []Threshold {
	if len(b.Thresholds) == 0 {
		return DefaultThresholds()
	}
	return b.Thresholds
}

// ID names the threshold in alerts and the action log: "80" or
// "forecast".
func (t Threshold) ID() string { return strings.TrimSuffix(strings.TrimSpace(t.At), "%") }

// Percent is the share of the budget; 0 for the forecast threshold.
func (t Threshold) Percent() (int64, error) {
	if t.At == ForecastThreshold {
		return 0, nil
	}
	s, ok := strings.CutSuffix(strings.TrimSpace(t.At), "%")
	n, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil || n <= 0 || n > 1000 {
		return 0, fmt.Errorf("%q: expected a whole percentage of the budget such as 80%%, or %q", t.At, ForecastThreshold)
	}
	return n, nil
}

// Limit is the budget amount.
func (b Budget) Limit() (money.Amount, error) {
	cur := b.Currency
	if cur == "" {
		cur = "USD"
	}
	if !money.ValidCurrency(cur) {
		return money.Amount{}, fmt.Errorf("currency %q: expected a three-letter code such as EUR", b.Currency)
	}
	a, err := money.Parse(cur, b.Amount)
	if err != nil {
		return money.Amount{}, fmt.Errorf("amount %q: %w", b.Amount, err)
	}
	if a.Micros <= 0 {
		return money.Amount{}, fmt.Errorf("amount %q: expected more than zero", b.Amount)
	}
	return a, nil
}

// PeriodKind is monthly or weekly.
func (b Budget) PeriodKind() string {
	if b.Period == "" {
		return Monthly
	}
	return b.Period
}

// Location is the configured time zone.
func (c Config) Location() (*time.Location, error) {
	if c.TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", c.TimeZone, err)
	}
	return loc, nil
}

// DevEnvs are the environments scale-down-dev acts on.
func (c Config) DevEnvs() []string {
	if len(c.DevEnvironments) == 0 {
		return []string{"dev", "development"}
	}
	return c.DevEnvironments
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks the section; errors are yamldoc.FieldErrors.
func (c Config) Validate() error {
	if _, err := c.Location(); err != nil {
		return yamldoc.Fieldf("timeZone", "%v", err)
	}
	names := map[string]bool{}
	for i, b := range c.Items {
		p := fmt.Sprintf("items[%d]", i)
		if !nameRE.MatchString(b.Name) || len(b.Name) > 40 {
			return yamldoc.Fieldf(p+".name", "%q is not a budget name (lower-case letters, digits and dashes, at most 40)", b.Name)
		}
		if names[b.Name] {
			return yamldoc.Fieldf(p+".name", "budget %q is defined twice", b.Name)
		}
		names[b.Name] = true
		if err := b.Scope.validate(); err != nil {
			return yamldoc.Fieldf(p+".scope", "%v", err)
		}
		if k := b.PeriodKind(); k != Monthly && k != Weekly {
			return yamldoc.Fieldf(p+".period", "unknown period %q: expected %s or %s", b.Period, Monthly, Weekly)
		}
		if _, err := b.Limit(); err != nil {
			return yamldoc.Fieldf(p+".amount", "%v", err)
		}
		seen := map[string]bool{}
		for j, t := range b.Thresholds {
			tp := fmt.Sprintf("%s.thresholds[%d]", p, j)
			if _, err := t.Percent(); err != nil {
				return yamldoc.Fieldf(tp+".at", "%v", err)
			}
			if seen[t.ID()] {
				return yamldoc.Fieldf(tp+".at", "threshold %s is given twice", t.At)
			}
			seen[t.ID()] = true
			for k, a := range t.Actions {
				switch a {
				case ActionNotify, ActionRequireApproval, ActionScaleDownDev, ActionBlockNewResources:
				default:
					return yamldoc.Fieldf(fmt.Sprintf("%s.actions[%d]", tp, k), "unknown action %q: expected %s, %s, %s or %s",
						a, ActionNotify, ActionRequireApproval, ActionScaleDownDev, ActionBlockNewResources)
				}
			}
		}
	}
	return nil
}

func (s Scope) validate() error {
	n := 0
	for _, set := range []bool{s.Team != "", s.Environment != "", len(s.Namespaces) > 0, s.Selector != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("give exactly one of team, environment, namespaces or selector")
	}
	if s.Selector != "" {
		if _, err := labels.Parse(s.Selector); err != nil {
			return fmt.Errorf("selector %q: %w", s.Selector, err)
		}
	}
	if slices.Contains(s.Namespaces, "") {
		return fmt.Errorf("namespaces: an empty name")
	}
	return nil
}

// String says what the scope is, for reports.
func (s Scope) String() string {
	switch {
	case s.Team != "":
		return "team " + s.Team
	case s.Environment != "":
		return "environment " + s.Environment
	case len(s.Namespaces) > 0:
		return "namespaces " + strings.Join(s.Namespaces, ",")
	}
	return "namespaces labelled " + s.Selector
}

// CheckCurrency refuses a budget in another currency than the price
// book's: the figures could not be compared.
func (c Config) CheckCurrency(currency string) error {
	for i, b := range c.Items {
		l, err := b.Limit()
		if err != nil {
			return yamldoc.Fieldf(fmt.Sprintf("items[%d].amount", i), "%v", err)
		}
		if l.Currency != currency {
			return yamldoc.Fieldf(fmt.Sprintf("items[%d].currency", i), "budget %s is in %s, the price book is in %s: %v",
				b.Name, l.Currency, currency, money.ErrCurrencyMismatch)
		}
	}
	return nil
}
