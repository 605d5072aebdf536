package budget

import (
	"fmt"
	"math"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
)

// Forecast windows: a day is forecast from the recorded days among the
// Lookback days before it, and only when at least MinTrain of them are
// recorded (a week, so that both weekdays and weekends can be seen).
const (
	Lookback = 28
	MinTrain = 7
)

// Spend sources.
const (
	SourceHistory = "stored-daily-costs"
	SourceRunRate = "run-rate-estimate"
)

// Forecast methods.
const (
	MethodDayOfWeek = "day-of-week"
	MethodLinear    = "linear"
	MethodRunRate   = "run-rate"
)

// Namespace is what the engine needs of a namespace of the snapshot.
type Namespace struct {
	Name        string
	Team        string
	Environment string
	Labels      map[string]string
}

// Input is what budgets are evaluated on.
type Input struct {
	Now time.Time
	// Currency is the price book's.
	Currency   string
	Namespaces []Namespace
	// Days are the stored daily costs (history.CostGroupings), through
	// today; enough before the period for the backtest.
	Days []history.DayCost
	// RunRate is the snapshot's monthly cost by grouping ("namespace",
	// "team", "environment") and key: the spend figure when the store
	// holds no day of the period.
	RunRate map[string]map[string]money.Amount
}

// Spend is a budget's spend to date.
type Spend struct {
	Amount money.Amount `json:"amount"`
	// Source is SourceHistory or SourceRunRate; Label says the same in a
	// sentence, with what is estimated.
	Source string `json:"source"`
	Label  string `json:"label"`
	// Recorded are the period's days to date with a stored cost.
	Recorded int      `json:"recordedDays"`
	Missing  []string `json:"missingDays"`
}

// Forecast is the spend projected to the end of the period.
type Forecast struct {
	Method string       `json:"method"`
	Amount money.Amount `json:"amount"`
	// Rounding says how the projection became money.
	Rounding string   `json:"rounding"`
	Backtest Backtest `json:"backtest"`
}

// Backtest is the error of a forecast method replayed over the stored
// history: each day d with MinTrain recorded days among the Lookback
// before it is forecast from those days alone, and compared with what d
// cost.
type Backtest struct {
	// MAPE is the mean absolute percentage error over Days, in percent.
	MAPE float64 `json:"mapePercent"`
	// Days are the days forecast and compared.
	Days []string `json:"days"`
	// ZeroDays are days that could be forecast but cost nothing: a
	// percentage of nothing is undefined, so they are left out.
	ZeroDays []string `json:"zeroDays,omitempty"`
	// TooShort is set when no day could be forecast; Note says why.
	TooShort bool   `json:"tooShort"`
	Note     string `json:"note"`
}

// ThresholdStatus is one threshold of a budget now.
type ThresholdStatus struct {
	ID string `json:"id"`
	At string `json:"at"`
	// Amount is the spend the threshold stands for (the budget for the
	// forecast threshold).
	Amount  money.Amount `json:"amount"`
	Crossed bool         `json:"crossed"`
	Actions []string     `json:"actions"`
}

// Status is one budget evaluated.
type Status struct {
	Budget   string       `json:"budget"`
	Scope    string       `json:"scope"`
	Period   Period       `json:"period"`
	Limit    money.Amount `json:"budgetAmount"`
	Spend    Spend        `json:"spend"`
	Forecast Forecast     `json:"forecast"`
	// Linear is the plain linear forecast, for comparison.
	Linear Forecast `json:"linearForecast"`
	// SpentPercent and ForecastPercent are shares of the budget.
	SpentPercent    float64           `json:"spentPercent"`
	ForecastPercent float64           `json:"forecastPercent"`
	Thresholds      []ThresholdStatus `json:"thresholds"`
	// Namespaces are the scope's namespaces in the snapshot;
	// DevNamespaces those of them scale-down-dev acts on.
	Namespaces    []string `json:"namespaces"`
	DevNamespaces []string `json:"devNamespaces"`
}

// Evaluate evaluates every budget of c on in.
func Evaluate(c Config, in Input) ([]Status, error) {
	if err := c.CheckCurrency(in.Currency); err != nil {
		return nil, err
	}
	loc, err := c.Location()
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(c.Items))
	for _, b := range c.Items {
		s, err := evaluate(c, b, loc, in)
		if err != nil {
			return nil, fmt.Errorf("budget %s: %w", b.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func evaluate(c Config, b Budget, loc *time.Location, in Input) (Status, error) {
	limit, err := b.Limit()
	if err != nil {
		return Status{}, err
	}
	p, err := PeriodAt(b.PeriodKind(), loc, in.Now)
	if err != nil {
		return Status{}, err
	}
	s := Status{Budget: b.Name, Scope: b.Scope.String(), Period: p, Limit: limit, Namespaces: []string{}, DevNamespaces: []string{}}
	by, keys, err := scopeKeys(b.Scope, in.Namespaces)
	if err != nil {
		return Status{}, err
	}
	for _, ns := range in.Namespaces {
		if inScope(b.Scope, ns, by, keys) {
			s.Namespaces = append(s.Namespaces, ns.Name)
			if slices.Contains(c.DevEnvs(), ns.Environment) {
				s.DevNamespaces = append(s.DevNamespaces, ns.Name)
			}
		}
	}
	slices.Sort(s.Namespaces)
	slices.Sort(s.DevNamespaces)

	zero := money.New(in.Currency, 0)
	// series is the scope's cost on each recorded day through today; a
	// day the store recorded without a row for the scope cost it nothing.
	series := map[string]money.Amount{}
	for _, d := range in.Days {
		if d.Day > p.Today {
			continue
		}
		if d.Amount.Currency != in.Currency && d.Amount.Micros != 0 {
			return Status{}, fmt.Errorf("stored cost of %s %s on %s: %w: %s, the price book is in %s", d.By, d.Key, d.Day, money.ErrCurrencyMismatch, d.Amount.Currency, in.Currency)
		}
		sum, ok := series[d.Day]
		if !ok {
			sum = zero
		}
		if d.By == by && keys[d.Key] {
			if sum, err = sum.Add(d.Amount); err != nil {
				return Status{}, fmt.Errorf("cost on %s: %w", d.Day, err)
			}
		}
		series[d.Day] = sum
	}
	runRate := zero
	for key, a := range in.RunRate[by] {
		if keys[key] {
			if runRate, err = runRate.Add(a); err != nil {
				return Status{}, fmt.Errorf("run-rate: %w", err)
			}
		}
	}

	if s.Spend, err = spendToDate(p, series, runRate, zero); err != nil {
		return Status{}, err
	}
	if s.Spend.Source == SourceRunRate {
		proj, err := runRate.MulRat(int64(24*p.Remaining), 730)
		if err != nil {
			return Status{}, err
		}
		total, err := s.Spend.Amount.Add(proj)
		if err != nil {
			return Status{}, err
		}
		bt := Backtest{TooShort: true, Days: []string{}, Note: "no stored history: no backtest; the forecast is the run-rate carried to the end of the period"}
		s.Forecast = Forecast{Method: MethodRunRate, Amount: total, Rounding: "the monthly run-rate × 24/730 per day, rounded once to the micro-unit, half away from zero", Backtest: bt}
		s.Linear = s.Forecast
	} else {
		if s.Forecast, err = forecast(MethodDayOfWeek, p, series, s.Spend.Amount); err != nil {
			return Status{}, err
		}
		if s.Linear, err = forecast(MethodLinear, p, series, s.Spend.Amount); err != nil {
			return Status{}, err
		}
	}
	s.SpentPercent = percent(s.Spend.Amount, limit)
	s.ForecastPercent = percent(s.Forecast.Amount, limit)
	for _, t := range b.EffectiveThresholds() {
		pct, err := t.Percent()
		if err != nil {
			return Status{}, err
		}
		ts := ThresholdStatus{ID: t.ID(), At: t.At, Actions: slices.Clone(t.Actions)}
		if t.At == ForecastThreshold {
			ts.Amount, ts.Crossed = limit, s.Forecast.Amount.Micros > limit.Micros
		} else {
			if ts.Amount, err = limit.MulRat(pct, 100); err != nil {
				return Status{}, err
			}
			ts.Crossed = s.Spend.Amount.Micros >= ts.Amount.Micros
		}
		if ts.Actions == nil {
			ts.Actions = []string{}
		}
		s.Thresholds = append(s.Thresholds, ts)
	}
	return s, nil
}

func percent(a, of money.Amount) float64 {
	if of.Micros == 0 {
		return 0
	}
	return math.Round(float64(a.Micros)*10000/float64(of.Micros)) / 100
}

// scopeKeys is the grouping of the stored costs a scope reads and its
// keys.
func scopeKeys(sc Scope, nss []Namespace) (string, map[string]bool, error) {
	switch {
	case sc.Team != "":
		return "team", map[string]bool{sc.Team: true}, nil
	case sc.Environment != "":
		return "environment", map[string]bool{sc.Environment: true}, nil
	case len(sc.Namespaces) > 0:
		keys := map[string]bool{}
		for _, n := range sc.Namespaces {
			keys[n] = true
		}
		return "namespace", keys, nil
	}
	sel, err := labels.Parse(sc.Selector)
	if err != nil {
		return "", nil, fmt.Errorf("selector %q: %w", sc.Selector, err)
	}
	keys := map[string]bool{}
	for _, ns := range nss {
		if sel.Matches(labels.Set(ns.Labels)) {
			keys[ns.Name] = true
		}
	}
	return "namespace", keys, nil
}

func inScope(sc Scope, ns Namespace, by string, keys map[string]bool) bool {
	switch by {
	case "team":
		return keys[ns.Team]
	case "environment":
		return keys[ns.Environment]
	}
	return keys[ns.Name]
}

func spendToDate(p Period, series map[string]money.Amount, runRate, zero money.Amount) (Spend, error) {
	sp := Spend{Amount: zero, Source: SourceHistory, Missing: []string{}}
	for _, d := range dates(p.First, p.Today) {
		a, ok := series[d]
		if !ok {
			sp.Missing = append(sp.Missing, d)
			continue
		}
		sp.Recorded++
		var err error
		if sp.Amount, err = sp.Amount.Add(a); err != nil {
			return sp, err
		}
	}
	if sp.Recorded == 0 {
		amount, err := runRate.MulRat(int64(24*p.Elapsed), 730)
		if err != nil {
			return sp, err
		}
		sp.Amount, sp.Source = amount, SourceRunRate
		sp.Label = fmt.Sprintf("RUN-RATE ESTIMATE, not history: no stored daily cost from %s to %s; the snapshot's monthly cost of the scope (%s) × 24/730 per day × %d days elapsed",
			p.First, p.Today, runRate, p.Elapsed)
		return sp, nil
	}
	sp.Label = fmt.Sprintf("stored daily costs: %d of %d days from %s to %s recorded", sp.Recorded, p.Elapsed, p.First, p.Today)
	if len(sp.Missing) > 0 {
		est, err := sp.Amount.MulRat(int64(p.Elapsed), int64(sp.Recorded))
		if err != nil {
			return sp, err
		}
		sp.Amount = est
		sp.Label += fmt.Sprintf("; ESTIMATE: the %d missing days are counted at the average of the recorded ones", len(sp.Missing))
	}
	return sp, nil
}

// training sums the recorded days among the Lookback days before
// (excluding) day, all of them and weekdays and weekends apart.
type training struct {
	n, nWeekday, nWeekend      int64
	all, weekdays, weekends    money.Amount
	allF, weekdaysF, weekendsF float64
}

func trainOn(series map[string]money.Amount, before string, zero money.Amount) (training, error) {
	tr := training{all: zero, weekdays: zero, weekends: zero}
	for _, d := range dates(addDays(before, -Lookback), addDays(before, -1)) {
		a, ok := series[d]
		if !ok {
			continue
		}
		var err error
		tr.n++
		if tr.all, err = tr.all.Add(a); err != nil {
			return tr, err
		}
		if weekend(d) {
			tr.nWeekend++
			if tr.weekends, err = tr.weekends.Add(a); err != nil {
				return tr, err
			}
		} else {
			tr.nWeekday++
			if tr.weekdays, err = tr.weekdays.Add(a); err != nil {
				return tr, err
			}
		}
	}
	tr.allF, tr.weekdaysF, tr.weekendsF = float64(tr.all.Micros), float64(tr.weekdays.Micros), float64(tr.weekends.Micros)
	return tr, nil
}

// predictDay is the method's forecast of one day's cost, in micros:
// the day-of-week method takes the mean of the same kind of day
// (weekday or weekend), or of all days when there was none of that kind.
func (tr training) predictDay(method, day string) float64 {
	if method == MethodDayOfWeek {
		if weekend(day) && tr.nWeekend > 0 {
			return tr.weekendsF / float64(tr.nWeekend)
		}
		if !weekend(day) && tr.nWeekday > 0 {
			return tr.weekdaysF / float64(tr.nWeekday)
		}
	}
	return tr.allF / float64(tr.n)
}

// project is the method's forecast of the remaining days, in exact
// money: each kind of day's sum × days of that kind ÷ days it was
// learnt from, rounded to the micro-unit, half away from zero.
func (tr training) project(method string, remaining []string) (money.Amount, error) {
	var rWeekday, rWeekend int64
	for _, d := range remaining {
		if weekend(d) {
			rWeekend++
		} else {
			rWeekday++
		}
	}
	if method != MethodDayOfWeek {
		return tr.all.MulRat(rWeekday+rWeekend, tr.n)
	}
	part := func(sum money.Amount, n, r int64) (money.Amount, error) {
		if n == 0 {
			return tr.all.MulRat(r, tr.n)
		}
		return sum.MulRat(r, n)
	}
	wd, err := part(tr.weekdays, tr.nWeekday, rWeekday)
	if err != nil {
		return money.Amount{}, err
	}
	we, err := part(tr.weekends, tr.nWeekend, rWeekend)
	if err != nil {
		return money.Amount{}, err
	}
	return wd.Add(we)
}

func forecast(method string, p Period, series map[string]money.Amount, spend money.Amount) (Forecast, error) {
	zero := money.New(spend.Currency, 0)
	f := Forecast{Method: method}
	tr, err := trainOn(series, addDays(p.Today, 1), zero)
	if err != nil {
		return f, err
	}
	remaining := dates(addDays(p.Today, 1), p.Last)
	proj, err := tr.project(method, remaining)
	if err != nil {
		return f, err
	}
	if f.Amount, err = spend.Add(proj); err != nil {
		return f, err
	}
	if method == MethodDayOfWeek {
		f.Rounding = fmt.Sprintf("spend to date + weekday and weekend means of the %d recorded days among the last %d, each × its remaining days (%d), rounded to the micro-unit, half away from zero", tr.n, Lookback, len(remaining))
	} else {
		f.Rounding = fmt.Sprintf("spend to date + the mean of the %d recorded days among the last %d × %d remaining days, rounded to the micro-unit, half away from zero", tr.n, Lookback, len(remaining))
	}
	f.Backtest, err = backtest(method, series, zero)
	return f, err
}

// backtest replays the method over every recorded day: for each day d,
// a forecast from the days before d only.
func backtest(method string, series map[string]money.Amount, zero money.Amount) (Backtest, error) {
	days := make([]string, 0, len(series))
	for d := range series {
		days = append(days, d)
	}
	slices.Sort(days)
	bt := Backtest{Days: []string{}}
	var sum float64
	for _, d := range days {
		tr, err := trainOn(series, d, zero)
		if err != nil {
			return bt, err
		}
		if tr.n < MinTrain {
			continue
		}
		actual := float64(series[d].Micros)
		if actual == 0 {
			bt.ZeroDays = append(bt.ZeroDays, d)
			continue
		}
		sum += math.Abs(actual-tr.predictDay(method, d)) / actual
		bt.Days = append(bt.Days, d)
	}
	if len(bt.Days) == 0 {
		bt.TooShort = true
		bt.Note = fmt.Sprintf("history too short for a backtest: a day is forecast from the recorded days among the %d before it and needs %d of them; %d days are recorded",
			Lookback, MinTrain, len(days))
		return bt, nil
	}
	bt.MAPE = sum * 100 / float64(len(bt.Days))
	bt.Note = fmt.Sprintf("MAPE over %d days, %s to %s, each forecast from the days before it only", len(bt.Days), bt.Days[0], bt.Days[len(bt.Days)-1])
	return bt, nil
}
