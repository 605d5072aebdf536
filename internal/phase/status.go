package phase

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/purserhq/purser/internal/money"
)

// States of a target or trigger.
const (
	Met         = "met"
	NotMet      = "not met"
	NotMeasured = "not measured"
)

// Measurements are what the edges measured. A nil field was not
// measured; Notes say why, by KPI.
type Measurements struct {
	// Now dates the status; windows (incident-free days, full months)
	// end at it.
	Now         time.Time
	MonthlyCost *CostMeasure `json:"monthlyCost,omitempty"`
	// BaselineCost is the baseline month's cost, measured when the
	// config names the month without a figure.
	BaselineCost *CostMeasure `json:"baselineCost,omitempty"`
	// Namespaces are the names of the cluster's namespaces.
	Namespaces       []string `json:"-"`
	NamespacesSource string   `json:"-"`
	OpenErrors       *Count   `json:"openErrors,omitempty"`
	// Traffic is the growth measured for each window the config names,
	// by its spelling ("90d").
	Traffic map[string]GrowthMeasure `json:"traffic,omitempty"`
	// CostMonths are the stored costs of full calendar months before
	// Now's month, newest first.
	CostMonths []MonthCost `json:"costMonths,omitempty"`
	// Errors is the history of error findings, from the store.
	Errors *ErrorHistory `json:"errorHistory,omitempty"`
	// Notes say why a KPI was not measured: "monthly cost", "traffic",
	// "error history".
	Notes map[string]string `json:"-"`
}

// CostMeasure is a monthly cost and how it was measured.
type CostMeasure struct {
	Amount money.Amount `json:"amount"`
	Source string       `json:"source"`
}

// Count is a count and how it was measured.
type Count struct {
	Count  int    `json:"count"`
	Source string `json:"source"`
}

// GrowthMeasure is traffic growth over a window, in basis points
// (5000 is +50%), with the two readings it comes from.
type GrowthMeasure struct {
	BasisPoints int64   `json:"basisPoints"`
	Then        float64 `json:"then"`
	Now         float64 `json:"now"`
	Source      string  `json:"source"`
}

// MonthCost is one calendar month's cost from the store; Estimate says
// days were missing and counted at the month's average.
type MonthCost struct {
	Month    string       `json:"month"`
	Amount   money.Amount `json:"amount"`
	Estimate bool         `json:"estimate"`
}

// ErrorHistory is what the store knows of error findings.
type ErrorHistory struct {
	// Since is the first recorded scan: nothing before it is known.
	Since time.Time `json:"since"`
	// LastOpen is the last time an error finding was open (Now while
	// one is); zero when none ever was.
	LastOpen time.Time `json:"lastOpen,omitzero"`
	Source   string    `json:"source"`
}

// SystemNamespaces are the namespaces Kubernetes creates.
func SystemNamespaces() []string {
	return []string{"default", "kube-node-lease", "kube-public", "kube-system"}
}

// Status is where the cluster stands in the strategy.
type Status struct {
	AsOf time.Time `json:"asOf"`
	// Current is the last phase whose targets, and those of every
	// phase before it, are met; empty when none is.
	Current string `json:"current,omitempty"`
	Summary string `json:"summary"`
	// Next is the phase the cluster works towards; empty once the last
	// is reached. Blockers are what stands between it and Next.
	Next     string       `json:"next,omitempty"`
	Blockers []string     `json:"blockers"`
	Measured []Measured   `json:"measured"`
	Phases   []PhaseState `json:"phases"`
	Table    Table        `json:"table"`
}

// Measured is one KPI's measured value as shown, and its source.
type Measured struct {
	KPI   string `json:"kpi"`
	Value string `json:"value"`
	// Amount, Count or BasisPoints is the value for programs; none is
	// set when the KPI was not measured.
	Amount      *money.Amount `json:"amount,omitempty"`
	Count       *int          `json:"count,omitempty"`
	BasisPoints *int64        `json:"basisPoints,omitempty"`
	Source      string        `json:"source"`
}

// PhaseState is one phase's targets and its triggers, each checked.
type PhaseState struct {
	Name       string  `json:"name"`
	Duration   string  `json:"duration,omitempty"`
	TargetsMet bool    `json:"targetsMet"`
	Targets    []Check `json:"targets"`
	// EnterNext are the triggers to enter the phase after this one.
	EnterNext []Check `json:"enterNext,omitempty"`
}

// Check is a target or a trigger against what was measured.
type Check struct {
	What     string `json:"what"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	State    string `json:"state"`
	// Detail says why a check is not met or not measured.
	Detail string `json:"detail,omitempty"`
}

// Table is the strategy's KPI table: one row per KPI, a column for the
// baseline, one per phase and one for the measured values.
type Table struct {
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// KPI names.
const (
	kpiCost       = "monthly cost"
	kpiNamespaces = "namespaces"
	kpiErrors     = "open error findings"
	kpiTraffic    = "traffic growth"
)

// evaluator carries the resolved baseline through one evaluation.
type evaluator struct {
	c        *Config
	m        Measurements
	baseCost *money.Amount
	nsCount  *int
}

// Evaluate checks every phase of c against m.
func Evaluate(c *Config, m Measurements) (*Status, error) {
	if !c.Enabled() {
		return nil, fmt.Errorf("phases: no phase in purser.yaml's phases.sequence")
	}
	e := &evaluator{c: c, m: m}
	if err := e.baseline(); err != nil {
		return nil, err
	}
	if m.Namespaces != nil {
		n := e.countNamespaces()
		e.nsCount = &n
	}
	s := &Status{AsOf: m.Now.UTC(), Blockers: []string{}}
	reached := -1
	for i, p := range c.Sequence {
		ps := PhaseState{Name: p.Name, Duration: p.Duration, TargetsMet: true}
		for _, t := range e.targets(p) {
			ps.Targets = append(ps.Targets, t)
			if t.State != Met {
				ps.TargetsMet = false
			}
		}
		for _, t := range p.EnterNext {
			ck, err := e.trigger(p, t)
			if err != nil {
				return nil, fmt.Errorf("phase %q: %w", p.Name, err)
			}
			ps.EnterNext = append(ps.EnterNext, ck)
		}
		if err := e.costCheckError(p); err != nil {
			return nil, err
		}
		if ps.TargetsMet && reached == i-1 {
			reached = i
		}
		s.Phases = append(s.Phases, ps)
	}
	switch {
	case reached < 0:
		s.Next = c.Sequence[0].Name
		s.Summary = c.Sequence[0].Name + " in progress"
		s.Blockers = unmet(s.Phases[0].Targets, "target: ")
	case reached == len(c.Sequence)-1:
		s.Current = c.Sequence[reached].Name
		s.Summary = s.Current + " reached: the last phase's targets are met"
	default:
		s.Current = c.Sequence[reached].Name
		s.Next = c.Sequence[reached+1].Name
		s.Summary = fmt.Sprintf("%s reached; %s not yet", s.Current, s.Next)
		s.Blockers = append(unmet(s.Phases[reached].EnterNext, "trigger: "), unmet(s.Phases[reached+1].Targets, "target: ")...)
	}
	s.Measured = e.measured()
	s.Table = e.table()
	return s, nil
}

// costCheckError fails when a cost target and the measured cost are in
// different currencies: comparing them would need a rate nobody gave.
func (e *evaluator) costCheckError(p Phase) error {
	if p.Targets.MonthlyCost == nil || e.m.MonthlyCost == nil {
		return nil
	}
	goal, known, err := e.costGoal(p.Targets.MonthlyCost)
	if !known || err != nil || goal.Currency == e.m.MonthlyCost.Amount.Currency {
		return err
	}
	return fmt.Errorf("phase %q: monthly cost target %s and measured cost %s: %w", p.Name, goal, e.m.MonthlyCost.Amount, money.ErrCurrencyMismatch)
}

func unmet(cs []Check, prefix string) []string {
	var out []string
	for _, c := range cs {
		if c.State == Met {
			continue
		}
		line := fmt.Sprintf("%s%s %s: %s", prefix, c.What, c.Goal, c.State)
		if c.Detail != "" {
			line += " (" + c.Detail + ")"
		}
		out = append(out, line)
	}
	return out
}

func (e *evaluator) baseline() error {
	b := e.c.Baseline
	switch {
	case b.MonthlyCost != "":
		a, err := ParseAmount(b.MonthlyCost)
		if err != nil {
			return fmt.Errorf("phases.baseline.monthlyCost: %w", err)
		}
		e.baseCost = &a
	case e.m.BaselineCost != nil:
		a := e.m.BaselineCost.Amount
		e.baseCost = &a
	}
	return nil
}

func (e *evaluator) countNamespaces() int {
	n := 0
	for _, ns := range e.m.Namespaces {
		if e.c.ExcludeSystemNamespaces && slices.Contains(SystemNamespaces(), ns) {
			continue
		}
		n++
	}
	return n
}

// costGoal is a cost target's ceiling, a reduction computed in integer
// money: baseline × (100 − p) / 100, rounded half away from zero. known
// is false when the target is a reduction and the baseline cost is not
// known.
func (e *evaluator) costGoal(t *CostTarget) (goal money.Amount, known bool, err error) {
	if t.Amount != "" {
		goal, err = ParseAmount(t.Amount)
		return goal, true, err
	}
	if e.baseCost == nil {
		return money.Amount{}, false, nil
	}
	goal, err = e.baseCost.MulRat(int64(100-*t.ReductionPercent), 100)
	return goal, true, err
}

// countGoal is a count target's ceiling: a reduction rounds down, since
// a ceiling of 1.6 errors allows 1.
func countGoal(t *CountTarget, base *int) int {
	if t.Max != nil {
		return *t.Max
	}
	return *base * (100 - *t.ReductionPercent) / 100
}

func (e *evaluator) targets(p Phase) []Check {
	var out []Check
	if t := p.Targets.MonthlyCost; t != nil {
		out = append(out, e.costTarget(t))
	}
	return append(out, e.otherTargets(p)...)
}

func (e *evaluator) costTarget(t *CostTarget) Check {
	ck := Check{What: kpiCost, Goal: "≤ ?", Measured: "-", State: NotMeasured}
	goal, known, err := e.costGoal(t)
	if !known || err != nil {
		ck.Detail = "the baseline month's cost is not measured: " + e.note("baseline cost")
		return ck
	}
	ck.Goal = "≤ " + goal.String()
	mc := e.m.MonthlyCost
	if mc == nil {
		ck.Detail = e.note(kpiCost)
		return ck
	}
	ck.Measured = mc.Amount.String()
	ck.State = NotMet
	if mc.Amount.Currency == goal.Currency && mc.Amount.Micros <= goal.Micros {
		ck.State = Met
	}
	return ck
}

func (e *evaluator) otherTargets(p Phase) []Check {
	var out []Check
	t := p.Targets
	if t.Namespaces != nil {
		goal := countGoal(t.Namespaces, e.c.Baseline.Namespaces)
		out = append(out, countCheck(kpiNamespaces, goal, e.nsCount, e.note(kpiNamespaces)))
	}
	if t.OpenErrors != nil {
		goal := countGoal(t.OpenErrors, e.c.Baseline.OpenErrors)
		var got *int
		if e.m.OpenErrors != nil {
			got = &e.m.OpenErrors.Count
		}
		out = append(out, countCheck(kpiErrors, goal, got, e.note(kpiErrors)))
	}
	if g := t.TrafficGrowth; g != nil {
		out = append(out, e.growth(*g))
	}
	return out
}

func countCheck(what string, goal int, got *int, note string) Check {
	ck := Check{What: what, Goal: fmt.Sprintf("≤ %d", goal), Measured: "-", State: NotMeasured}
	if got == nil {
		ck.Detail = note
		return ck
	}
	ck.Measured = fmt.Sprint(*got)
	ck.State = NotMet
	if *got <= goal {
		ck.State = Met
	}
	return ck
}

func (e *evaluator) growth(g Growth) Check {
	ck := Check{What: kpiTraffic, Goal: fmt.Sprintf("≥ +%d%% over %s", g.Percent, g.Over), Measured: "-", State: NotMeasured}
	m, ok := e.m.Traffic[g.Over]
	if !ok {
		ck.Detail = e.note("traffic")
		return ck
	}
	ck.Measured = formatBasisPoints(m.BasisPoints)
	ck.State = NotMet
	if m.BasisPoints >= int64(g.Percent)*100 {
		ck.State = Met
	}
	return ck
}

func (e *evaluator) trigger(p Phase, t Trigger) (Check, error) {
	switch {
	case t.CostTargetMet != nil:
		return e.costSustained(p, t.CostTargetMet.Months)
	case t.IncidentFree != nil:
		return e.incidentFree(t.IncidentFree.Days), nil
	case t.TrafficGrowth != nil:
		return e.growth(*t.TrafficGrowth), nil
	}
	a := t.Attested
	ck := Check{What: "attested", Goal: a.Condition, Measured: "not attested", State: NotMet, Detail: "set met: true in purser.yaml once it holds"}
	if a.Met {
		ck.Measured, ck.State, ck.Detail = "attested in purser.yaml", Met, ""
	}
	return ck, nil
}

// costSustained checks this phase's cost target in each of the last n
// full calendar months before Now's.
func (e *evaluator) costSustained(p Phase, n int) (Check, error) {
	when := "in the last full month"
	if n > 1 {
		when = fmt.Sprintf("in each of the last %d full months", n)
	}
	ck := Check{What: "cost target met", Measured: "-", State: NotMeasured}
	goal, known, err := e.costGoal(p.Targets.MonthlyCost)
	if err != nil {
		return ck, err
	}
	if !known {
		ck.Goal = when
		ck.Detail = "the baseline month's cost is not measured: " + e.note("baseline cost")
		return ck, nil
	}
	ck.Goal = fmt.Sprintf("≤ %s %s", goal, when)
	if len(e.m.CostMonths) < n {
		ck.Detail = fmt.Sprintf("the store holds %d full month(s) of costs, %d needed", len(e.m.CostMonths), n)
		if e.m.CostMonths == nil {
			ck.Detail = e.note("cost history")
		}
		return ck, nil
	}
	var seen []string
	ck.State = Met
	for _, mc := range e.m.CostMonths[:n] {
		if mc.Amount.Currency != goal.Currency {
			return ck, fmt.Errorf("cost of %s %s against a target in %s: %w", mc.Month, mc.Amount, goal.Currency, money.ErrCurrencyMismatch)
		}
		s := mc.Month + " " + mc.Amount.String()
		if mc.Estimate {
			s += " (estimate)"
		}
		seen = append(seen, s)
		if mc.Amount.Micros > goal.Micros {
			ck.State = NotMet
		}
	}
	ck.Measured = strings.Join(seen, ", ")
	return ck, nil
}

func (e *evaluator) incidentFree(days int) Check {
	ck := Check{What: "incident-free", Measured: "-", State: NotMeasured}
	if days == 0 {
		ck.Goal = "no open error finding"
		if e.m.OpenErrors == nil {
			ck.Detail = e.note(kpiErrors)
			return ck
		}
		ck.Measured = fmt.Sprintf("%d open", e.m.OpenErrors.Count)
		ck.State = NotMet
		if e.m.OpenErrors.Count == 0 {
			ck.State = Met
		}
		return ck
	}
	ck.Goal = fmt.Sprintf("no error finding open in the last %d days", days)
	h := e.m.Errors
	if h == nil {
		ck.Detail = e.note("error history")
		return ck
	}
	from := e.m.Now.Add(-time.Duration(days) * 24 * time.Hour)
	if h.Since.After(from) {
		ck.Detail = fmt.Sprintf("the store's history starts on %s, %d days ago", h.Since.UTC().Format(time.DateOnly), int(e.m.Now.Sub(h.Since).Hours()/24))
		return ck
	}
	if h.LastOpen.IsZero() || h.LastOpen.Before(from) {
		ck.State = Met
		ck.Measured = "none since " + from.UTC().Format(time.DateOnly)
		return ck
	}
	ck.State = NotMet
	ck.Measured = "last open " + h.LastOpen.UTC().Format(time.DateOnly)
	return ck
}

func (e *evaluator) note(kpi string) string {
	if n := e.m.Notes[kpi]; n != "" {
		return n
	}
	return "not measured"
}

// measured lists each KPI's measured value with its source.
func (e *evaluator) measured() []Measured {
	var out []Measured
	usesCost, usesErrors := e.c.Uses()
	usesNamespaces := slices.ContainsFunc(e.c.Sequence, func(p Phase) bool { return p.Targets.Namespaces != nil })
	if mc := e.m.MonthlyCost; mc != nil {
		a := mc.Amount
		out = append(out, Measured{KPI: kpiCost, Value: a.String(), Amount: &a, Source: mc.Source})
	} else if usesCost {
		out = append(out, Measured{KPI: kpiCost, Value: NotMeasured, Source: e.note(kpiCost)})
	}
	if e.nsCount != nil {
		sys := 0
		for _, ns := range e.m.Namespaces {
			if slices.Contains(SystemNamespaces(), ns) {
				sys++
			}
		}
		how := fmt.Sprintf("%d system namespaces (%s) counted, as the strategy counts them", sys, strings.Join(SystemNamespaces(), ", "))
		if e.c.ExcludeSystemNamespaces {
			how = fmt.Sprintf("%d system namespaces (%s) left out (excludeSystemNamespaces)", sys, strings.Join(SystemNamespaces(), ", "))
		}
		n := *e.nsCount
		out = append(out, Measured{KPI: kpiNamespaces, Value: fmt.Sprint(n), Count: &n, Source: e.m.NamespacesSource + "; " + how})
	} else if usesNamespaces {
		out = append(out, Measured{KPI: kpiNamespaces, Value: NotMeasured, Source: e.note(kpiNamespaces)})
	}
	if oe := e.m.OpenErrors; oe != nil {
		n := oe.Count
		out = append(out, Measured{KPI: kpiErrors, Value: fmt.Sprint(n), Count: &n, Source: oe.Source})
	} else if usesErrors {
		out = append(out, Measured{KPI: kpiErrors, Value: NotMeasured, Source: e.note(kpiErrors)})
	}
	for _, w := range e.windows() {
		if g, ok := e.m.Traffic[w]; ok {
			bp := g.BasisPoints
			out = append(out, Measured{KPI: kpiTraffic + " over " + w, Value: formatBasisPoints(bp), BasisPoints: &bp, Source: g.Source})
		} else {
			out = append(out, Measured{KPI: kpiTraffic + " over " + w, Value: NotMeasured, Source: e.note("traffic")})
		}
	}
	return out
}

// windows are the traffic windows the config names, in order.
func (e *evaluator) windows() []string {
	var out []string
	add := func(g *Growth) {
		if g != nil && !slices.Contains(out, g.Over) {
			out = append(out, g.Over)
		}
	}
	for _, p := range e.c.Sequence {
		add(p.Targets.TrafficGrowth)
		for _, t := range p.EnterNext {
			add(t.TrafficGrowth)
		}
	}
	return out
}

// Windows are the traffic windows c names, for the edge to measure.
func (c *Config) Windows() []string { return (&evaluator{c: c}).windows() }

// table lays the KPIs out as the strategy does: the baseline, each
// phase's target with its change from the baseline, and the measured
// value.
func (e *evaluator) table() Table {
	base := "baseline"
	if e.c.Baseline.Month != "" {
		base += " (" + e.c.Baseline.Month + ")"
	}
	t := Table{Header: []string{"KPI", base}}
	for _, p := range e.c.Sequence {
		t.Header = append(t.Header, p.Name)
	}
	t.Header = append(t.Header, "measured")

	costRow := []string{kpiCost, "-"}
	if e.baseCost != nil {
		costRow[1] = e.baseCost.String()
	}
	nsRow := []string{kpiNamespaces, optInt(e.c.Baseline.Namespaces)}
	errRow := []string{kpiErrors, optInt(e.c.Baseline.OpenErrors)}
	trafficRow := []string{kpiTraffic, "-"}
	var anyCost, anyNS, anyErr, anyTraffic bool
	for _, p := range e.c.Sequence {
		pt := p.Targets
		cell := "-"
		if pt.MonthlyCost != nil {
			anyCost = true
			cell = "?"
			if goal, known, err := e.costGoal(pt.MonthlyCost); known && err == nil {
				cell = goal.String() + e.costChange(pt.MonthlyCost, goal)
			}
		}
		costRow = append(costRow, cell)
		nsRow = append(nsRow, e.countCell(pt.Namespaces, e.c.Baseline.Namespaces, &anyNS))
		errRow = append(errRow, e.countCell(pt.OpenErrors, e.c.Baseline.OpenErrors, &anyErr))
		cell = "-"
		if g := pt.TrafficGrowth; g != nil {
			anyTraffic = true
			cell = fmt.Sprintf("+%d%% over %s", g.Percent, g.Over)
		}
		trafficRow = append(trafficRow, cell)
	}
	for _, m := range e.measured() {
		switch {
		case m.KPI == kpiCost:
			costRow = append(costRow, m.Value)
		case m.KPI == kpiNamespaces:
			nsRow = append(nsRow, m.Value)
		case m.KPI == kpiErrors:
			errRow = append(errRow, m.Value)
		case strings.HasPrefix(m.KPI, kpiTraffic) && len(trafficRow) == len(t.Header)-1:
			trafficRow = append(trafficRow, m.Value)
		}
	}
	for _, r := range []struct {
		row  []string
		show bool
	}{{costRow, anyCost}, {nsRow, anyNS}, {errRow, anyErr}, {trafficRow, anyTraffic}} {
		if r.show {
			t.Rows = append(t.Rows, r.row)
		}
	}
	return t
}

// costChange is " (-40%)": the configured reduction, or the change an
// absolute target makes from the baseline.
func (e *evaluator) costChange(t *CostTarget, goal money.Amount) string {
	if t.ReductionPercent != nil {
		return fmt.Sprintf(" (-%d%%)", *t.ReductionPercent)
	}
	if e.baseCost == nil || e.baseCost.Micros == 0 || e.baseCost.Currency != goal.Currency {
		return ""
	}
	return " (" + changePercent(e.baseCost.Micros, goal.Micros) + ")"
}

func (e *evaluator) countCell(t *CountTarget, base *int, any *bool) string {
	if t == nil {
		return "-"
	}
	*any = true
	goal := countGoal(t, base)
	cell := fmt.Sprint(goal)
	switch {
	case t.ReductionPercent != nil:
		cell += fmt.Sprintf(" (-%d%%)", *t.ReductionPercent)
	case base != nil && *base > 0:
		cell += " (" + changePercent(int64(*base), int64(goal)) + ")"
	}
	return cell
}

// changePercent is the change from base to v in whole percent, rounded
// half away from zero: 69 → 27 is -61%.
func changePercent(base, v int64) string {
	num := (v - base) * 100
	q := num / base
	if r := num % base; 2*abs(r) >= abs(base) {
		if (num < 0) != (base < 0) {
			q--
		} else {
			q++
		}
	}
	if q > 0 {
		return fmt.Sprintf("+%d%%", q)
	}
	return fmt.Sprintf("%d%%", q)
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func optInt(v *int) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

// formatBasisPoints writes 5000 as "+50.00%".
func formatBasisPoints(bp int64) string {
	sign := "+"
	if bp < 0 {
		sign, bp = "-", -bp
	}
	return fmt.Sprintf("%s%d.%02d%%", sign, bp/100, bp%100)
}
