// Package phase measures a cluster against a staged strategy: phases in
// order, each with KPI targets (monthly cost, namespace count, open error
// findings, traffic growth) and the triggers that open the next one. It
// is pure: measured values come in (Measurements), a Status comes out;
// the store, the snapshot and Prometheus are read at the edges.
package phase

import (
	"fmt"
	"strings"
	"time"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/yamldoc"
)

// Config is the phases section of purser.yaml.
//
//	phases:
//	  baseline: {month: "2025-09", monthlyCost: "1289.30 USD", namespaces: 69, openErrors: 8}
//	  traffic: {query: 'sum(rate(nginx_ingress_controller_requests[1d]))'}
//	  sequence:
//	  - name: Phase 1 - Survival
//	    targets:
//	      monthlyCost: {reductionPercent: 40}
//	      namespaces: {max: 27}
//	    enterNext:
//	    - costTargetMet: {months: 1}
//	    - attested: {condition: cash flow positive two months running, met: false}
type Config struct {
	Baseline Baseline `yaml:"baseline"`
	// ExcludeSystemNamespaces leaves default and kube-* out of the
	// namespace count. The strategy counts them (its 69 holds the 4
	// namespaces Kubernetes creates), so the default keeps them.
	ExcludeSystemNamespaces bool    `yaml:"excludeSystemNamespaces"`
	Traffic                 Traffic `yaml:"traffic"`
	// Sequence are the phases in the order a cluster goes through them.
	Sequence []Phase `yaml:"sequence"`
}

// Baseline is where the strategy starts from: the figures its reductions
// are taken from.
type Baseline struct {
	// Month names the baseline month ("2025-09"). With no MonthlyCost,
	// the baseline cost is measured from that month's stored daily costs.
	Month string `yaml:"month"`
	// MonthlyCost is "1289.30 USD": an amount and its currency.
	MonthlyCost string `yaml:"monthlyCost"`
	Namespaces  *int   `yaml:"namespaces"`
	OpenErrors  *int   `yaml:"openErrors"`
}

// Traffic says how traffic is measured: one PromQL expression giving one
// number (requests per second, say), read now and a window ago.
type Traffic struct {
	// Prometheus is the server's URL; --prometheus overrides it.
	Prometheus string `yaml:"prometheus"`
	Query      string `yaml:"query"`
}

// Phase is one stage of the strategy.
type Phase struct {
	Name string `yaml:"name"`
	// Duration is the strategy's time box ("0-3 months"), for display.
	Duration string  `yaml:"duration"`
	Targets  Targets `yaml:"targets"`
	// EnterNext are the conditions to enter the phase after this one,
	// all required.
	EnterNext []Trigger `yaml:"enterNext"`
}

// Targets are a phase's KPIs; a nil target is not part of the phase.
type Targets struct {
	MonthlyCost   *CostTarget  `yaml:"monthlyCost"`
	Namespaces    *CountTarget `yaml:"namespaces"`
	OpenErrors    *CountTarget `yaml:"openErrors"`
	TrafficGrowth *Growth      `yaml:"trafficGrowth"`
}

// CostTarget is a ceiling on the monthly cost: an amount ("773.58 USD")
// or a reduction from the baseline's monthly cost, in percent.
type CostTarget struct {
	Amount           string `yaml:"amount"`
	ReductionPercent *int   `yaml:"reductionPercent"`
}

// CountTarget is a ceiling on a count: Max, or a reduction from the
// baseline's count in percent (rounded down to a whole count).
type CountTarget struct {
	Max              *int `yaml:"max"`
	ReductionPercent *int `yaml:"reductionPercent"`
}

// Growth is traffic grown by at least Percent over the window Over
// ("90d", "12w", "720h").
type Growth struct {
	Percent int    `yaml:"percent"`
	Over    string `yaml:"over"`
}

// Trigger is one condition to enter the next phase. Exactly one field is
// set.
type Trigger struct {
	// CostTargetMet: this phase's cost target met in each of the last
	// Months full calendar months (from the stored daily costs).
	CostTargetMet *Months `yaml:"costTargetMet"`
	// IncidentFree: no error finding open at any time in the last Days
	// days (0: none open now).
	IncidentFree *Days `yaml:"incidentFree"`
	// TrafficGrowth: traffic grown by Percent over the window.
	TrafficGrowth *Growth `yaml:"trafficGrowth"`
	// Attested: what no cluster can show (cash flow, a team, a budget),
	// stated in the config by whoever knows.
	Attested *Attested `yaml:"attested"`
}

// Months is a number of months.
type Months struct {
	Months int `yaml:"months"`
}

// Days is a number of days.
type Days struct {
	Days int `yaml:"days"`
}

// Attested is a condition a person vouches for.
type Attested struct {
	Condition string `yaml:"condition"`
	Met       bool   `yaml:"met"`
}

// Enabled reports whether the section names any phase.
func (c *Config) Enabled() bool { return len(c.Sequence) > 0 }

// Validate checks the section; errors are yamldoc.FieldErrors relative
// to it, so that the config names the file and line.
func (c *Config) Validate() error {
	b := c.Baseline
	if b.Month != "" {
		if _, err := time.Parse("2006-01", b.Month); err != nil {
			return yamldoc.Fieldf("baseline.month", "%q: expected a month such as 2025-09", b.Month)
		}
	}
	if b.MonthlyCost != "" {
		if _, err := ParseAmount(b.MonthlyCost); err != nil {
			return yamldoc.Fieldf("baseline.monthlyCost", "%v", err)
		}
	}
	for _, f := range []struct {
		path string
		v    *int
	}{{"baseline.namespaces", b.Namespaces}, {"baseline.openErrors", b.OpenErrors}} {
		if f.v != nil && *f.v < 0 {
			return yamldoc.Fieldf(f.path, "%d: expected 0 or more", *f.v)
		}
	}
	if c.Traffic.Prometheus != "" && !strings.HasPrefix(c.Traffic.Prometheus, "http://") && !strings.HasPrefix(c.Traffic.Prometheus, "https://") {
		return yamldoc.Fieldf("traffic.prometheus", "%q: expected an http:// or https:// URL", c.Traffic.Prometheus)
	}
	names := map[string]bool{}
	for i, p := range c.Sequence {
		at := fmt.Sprintf("sequence[%d]", i)
		if strings.TrimSpace(p.Name) == "" {
			return yamldoc.Fieldf(at+".name", "missing name")
		}
		if names[p.Name] {
			return yamldoc.Fieldf(at+".name", "%q names two phases", p.Name)
		}
		names[p.Name] = true
		if err := c.validateTargets(at+".targets", p.Targets); err != nil {
			return err
		}
		if len(p.EnterNext) > 0 && i == len(c.Sequence)-1 {
			return yamldoc.Fieldf(at+".enterNext", "the last phase has no next phase to enter")
		}
		for j, t := range p.EnterNext {
			if err := c.validateTrigger(fmt.Sprintf("%s.enterNext[%d]", at, j), p, t); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Config) validateTargets(at string, t Targets) error {
	if t == (Targets{}) {
		return yamldoc.Fieldf(at, "no target: give monthlyCost, namespaces, openErrors or trafficGrowth")
	}
	if m := t.MonthlyCost; m != nil {
		switch {
		case (m.Amount == "") == (m.ReductionPercent == nil):
			return yamldoc.Fieldf(at+".monthlyCost", "give either amount or reductionPercent")
		case m.Amount != "":
			a, err := ParseAmount(m.Amount)
			if err != nil {
				return yamldoc.Fieldf(at+".monthlyCost.amount", "%v", err)
			}
			if base, err := ParseAmount(c.Baseline.MonthlyCost); err == nil && base.Currency != a.Currency {
				return yamldoc.Fieldf(at+".monthlyCost.amount", "%s: %v: the baseline is in %s", m.Amount, money.ErrCurrencyMismatch, base.Currency)
			}
		default:
			if err := percent(at+".monthlyCost.reductionPercent", *m.ReductionPercent); err != nil {
				return err
			}
			if c.Baseline.MonthlyCost == "" && c.Baseline.Month == "" {
				return yamldoc.Fieldf(at+".monthlyCost.reductionPercent", "a reduction needs baseline.monthlyCost, or baseline.month to measure it from the store")
			}
		}
	}
	for _, f := range []struct {
		name string
		t    *CountTarget
		base *int
	}{{"namespaces", t.Namespaces, c.Baseline.Namespaces}, {"openErrors", t.OpenErrors, c.Baseline.OpenErrors}} {
		if f.t == nil {
			continue
		}
		p := at + "." + f.name
		switch {
		case (f.t.Max == nil) == (f.t.ReductionPercent == nil):
			return yamldoc.Fieldf(p, "give either max or reductionPercent")
		case f.t.Max != nil && *f.t.Max < 0:
			return yamldoc.Fieldf(p+".max", "%d: expected 0 or more", *f.t.Max)
		case f.t.ReductionPercent != nil:
			if err := percent(p+".reductionPercent", *f.t.ReductionPercent); err != nil {
				return err
			}
			if f.base == nil {
				return yamldoc.Fieldf(p+".reductionPercent", "a reduction needs baseline.%s", f.name)
			}
		}
	}
	if g := t.TrafficGrowth; g != nil {
		if err := c.validateGrowth(at+".trafficGrowth", *g); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateTrigger(at string, p Phase, t Trigger) error {
	set := 0
	for _, ok := range []bool{t.CostTargetMet != nil, t.IncidentFree != nil, t.TrafficGrowth != nil, t.Attested != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return yamldoc.Fieldf(at, "give exactly one of costTargetMet, incidentFree, trafficGrowth or attested")
	}
	switch {
	case t.CostTargetMet != nil:
		if t.CostTargetMet.Months < 1 {
			return yamldoc.Fieldf(at+".costTargetMet.months", "%d: expected 1 or more", t.CostTargetMet.Months)
		}
		if p.Targets.MonthlyCost == nil {
			return yamldoc.Fieldf(at+".costTargetMet", "phase %q has no monthlyCost target to meet", p.Name)
		}
	case t.IncidentFree != nil:
		if t.IncidentFree.Days < 0 {
			return yamldoc.Fieldf(at+".incidentFree.days", "%d: expected 0 (none open now) or more", t.IncidentFree.Days)
		}
	case t.TrafficGrowth != nil:
		return c.validateGrowth(at+".trafficGrowth", *t.TrafficGrowth)
	case t.Attested != nil:
		if strings.TrimSpace(t.Attested.Condition) == "" {
			return yamldoc.Fieldf(at+".attested.condition", "missing: say what is attested")
		}
	}
	return nil
}

func (c *Config) validateGrowth(at string, g Growth) error {
	if g.Percent <= 0 {
		return yamldoc.Fieldf(at+".percent", "%d: expected a growth above 0", g.Percent)
	}
	if _, err := ParseWindow(g.Over); err != nil {
		return yamldoc.Fieldf(at+".over", "%v", err)
	}
	if c.Traffic.Query == "" {
		return yamldoc.Fieldf(at, "traffic growth needs traffic.query, the PromQL expression that measures traffic")
	}
	return nil
}

func percent(path string, p int) error {
	if p < 0 || p > 100 {
		return yamldoc.Fieldf(path, "%d: expected a percentage from 0 to 100", p)
	}
	return nil
}

// ParseAmount reads "1289.30 USD".
func ParseAmount(s string) (money.Amount, error) {
	num, cur, ok := strings.Cut(strings.TrimSpace(s), " ")
	cur = strings.TrimSpace(cur)
	if !ok || !money.ValidCurrency(cur) {
		return money.Amount{}, fmt.Errorf("expected an amount and a currency code such as \"1289.30 USD\", got %q", s)
	}
	return money.Parse(cur, num)
}

// ParseWindow reads a window in days (90d), weeks (12w) or Go's units
// (720h).
func ParseWindow(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q: expected a window such as 90d, 12w or 720h", s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			var v int
			if _, err := fmt.Sscanf(n, "%d", &v); err != nil || v <= 0 || fmt.Sprint(v) != n {
				return 0, bad
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

// Uses tells which KPIs the phases need measured: a cost (a cost target,
// which a cost trigger needs too), and the open error findings (an error
// ceiling, or an incident-free trigger), so that an edge reads only what
// counts.
func (c *Config) Uses() (cost, openErrors bool) {
	for _, p := range c.Sequence {
		cost = cost || p.Targets.MonthlyCost != nil
		openErrors = openErrors || p.Targets.OpenErrors != nil
		for _, t := range p.EnterNext {
			openErrors = openErrors || t.IncidentFree != nil
		}
	}
	return cost, openErrors
}
