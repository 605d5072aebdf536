package budget

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/yamldoc"
)

func eur(units float64) money.Amount { return money.FromFloat("EUR", units) }

// days gives team t's cost on consecutive days from first, and a row of
// another team each day so that the store's day is recorded.
func days(first string, team string, units ...float64) []history.DayCost {
	var out []history.DayCost
	for i, u := range units {
		d := addDays(first, i)
		out = append(out, history.DayCost{Day: d, By: "team", Key: team, Amount: eur(u)},
			history.DayCost{Day: d, By: "team", Key: "other", Amount: eur(1000)})
	}
	return out
}

func TestPeriodAt(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		kind string
		loc  *time.Location
		now  time.Time
		want Period
	}{
		{"monthly UTC", Monthly, time.UTC, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC),
			Period{Kind: Monthly, Key: "2026-03", First: "2026-03-01", Last: "2026-03-31", Today: "2026-03-10", Days: 31, Elapsed: 10, Remaining: 21}},
		// 23:30 UTC on the last day of February is already March 1st in Paris.
		{"monthly Paris at midnight", Monthly, paris, time.Date(2026, 2, 28, 23, 30, 0, 0, time.UTC),
			Period{Kind: Monthly, Key: "2026-03", First: "2026-03-01", Last: "2026-03-31", Today: "2026-03-01", Days: 31, Elapsed: 1, Remaining: 30}},
		// The week of the DST change (29 March 2026) still has 7 days.
		{"weekly across DST", Weekly, paris, time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC),
			Period{Kind: Weekly, Key: "2026-W13", First: "2026-03-23", Last: "2026-03-29", Today: "2026-03-29", Days: 7, Elapsed: 7, Remaining: 0}},
		{"weekly Monday", Weekly, time.UTC, time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC),
			Period{Kind: Weekly, Key: "2026-W11", First: "2026-03-09", Last: "2026-03-15", Today: "2026-03-09", Days: 7, Elapsed: 1, Remaining: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PeriodAt(tt.kind, tt.loc, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestForecastAndBacktestByHand checks the forecasts and their backtest
// against figures computed by hand on nine days (Mon 2 to Tue 10 March
// 2026: weekdays 10, weekends 4, then 12 and 8).
//
// Backtest, each day from the recorded days before it, which must be 7:
// 9 March (Mon) from 2-8 March: weekday mean 10, linear 58/7; actual 12.
// 10 March (Tue) from 2-9 March: weekday mean 62/6, linear 70/8; actual 8.
// Day-of-week MAPE = (2/12 + (62/6-8)/8)/2 = (1/6 + 7/24)/2 = 11/48.
// Linear MAPE = ((12-58/7)/12 + (70/8-8)/8)/2 = (13/42 + 3/32)/2.
//
// Forecast of the week of 9 March on the 10th: spend 12+8 = 20; 3
// weekdays left at 70/7 and 2 weekend days at 8/2: 20+30+8 = 58. Linear:
// 20 + 78/9 × 5 = 63.333333.
func TestForecastAndBacktestByHand(t *testing.T) {
	t.Parallel()
	c := Config{Items: []Budget{{Name: "kvibes", Scope: Scope{Team: "kvibes"}, Period: Weekly, Amount: "50", Currency: "EUR"}}}
	in := Input{Now: time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC), Currency: "EUR",
		Days: days("2026-03-02", "kvibes", 10, 10, 10, 10, 10, 4, 4, 12, 8)}
	sts, err := Evaluate(c, in)
	if err != nil {
		t.Fatal(err)
	}
	st := sts[0]
	if st.Spend.Amount != eur(20) || st.Spend.Source != SourceHistory || st.Spend.Recorded != 2 {
		t.Errorf("spend = %+v, want EUR 20 from 2 stored days", st.Spend)
	}
	if st.Forecast.Method != MethodDayOfWeek || st.Forecast.Amount != eur(58) {
		t.Errorf("forecast = %s %s, want day-of-week EUR 58", st.Forecast.Method, st.Forecast.Amount)
	}
	if st.Linear.Amount != money.New("EUR", 63_333_333) {
		t.Errorf("linear forecast = %s, want EUR 63.333333", st.Linear.Amount)
	}
	wantDays := []string{"2026-03-09", "2026-03-10"}
	for _, c := range []struct {
		f    Forecast
		mape float64
	}{{st.Forecast, 11.0 / 48 * 100}, {st.Linear, (13.0/42 + 3.0/32) / 2 * 100}} {
		bt := c.f.Backtest
		if bt.TooShort || !slices.Equal(bt.Days, wantDays) || math.Abs(bt.MAPE-c.mape) > 1e-9 {
			t.Errorf("%s backtest = %+v, want MAPE %.6f over %v", c.f.Method, bt, c.mape, wantDays)
		}
		if !strings.Contains(bt.Note, "2 days, 2026-03-09 to 2026-03-10") {
			t.Errorf("backtest note %q does not say which days", bt.Note)
		}
	}
	// 58 > 50: the forecast threshold is crossed; 20 is 40%: no other.
	var crossed []string
	for _, th := range st.Thresholds {
		if th.Crossed {
			crossed = append(crossed, th.ID)
		}
	}
	if !slices.Equal(crossed, []string{ForecastThreshold}) {
		t.Errorf("crossed = %v, want [forecast]", crossed)
	}
}

func TestBacktestTooShortAndRunRate(t *testing.T) {
	t.Parallel()
	c := Config{Items: []Budget{{Name: "shop", Scope: Scope{Namespaces: []string{"shop"}}, Amount: "310", Currency: "EUR"}}}
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	t.Run("three days of history", func(t *testing.T) {
		t.Parallel()
		var ds []history.DayCost
		for i := range 3 {
			ds = append(ds, history.DayCost{Day: addDays("2026-03-08", i), By: "namespace", Key: "shop", Amount: eur(10)})
		}
		sts, err := Evaluate(c, Input{Now: now, Currency: "EUR", Days: ds})
		if err != nil {
			t.Fatal(err)
		}
		bt := sts[0].Forecast.Backtest
		if !bt.TooShort || !strings.Contains(bt.Note, "history too short") || !strings.Contains(bt.Note, "3 days are recorded") {
			t.Errorf("backtest = %+v, want too short, saying 3 days", bt)
		}
		// 7 of 10 days missing: the spend is an estimate and says so.
		if sp := sts[0].Spend; sp.Amount != eur(100) || !strings.Contains(sp.Label, "ESTIMATE") || len(sp.Missing) != 7 {
			t.Errorf("spend = %+v, want an estimate of EUR 100 with 7 missing days", sp)
		}
	})
	t.Run("no history", func(t *testing.T) {
		t.Parallel()
		in := Input{Now: now, Currency: "EUR", RunRate: map[string]map[string]money.Amount{"namespace": {"shop": eur(730)}}}
		sts, err := Evaluate(c, in)
		if err != nil {
			t.Fatal(err)
		}
		st := sts[0]
		// 730 a month is 24 a day: 10 days 240, the month 744.
		if st.Spend.Source != SourceRunRate || st.Spend.Amount != eur(240) || !strings.Contains(st.Spend.Label, "RUN-RATE ESTIMATE") {
			t.Errorf("spend = %+v, want the labelled run-rate EUR 240", st.Spend)
		}
		if st.Forecast.Method != MethodRunRate || st.Forecast.Amount != eur(744) || !st.Forecast.Backtest.TooShort {
			t.Errorf("forecast = %+v, want run-rate EUR 744 without a backtest", st.Forecast)
		}
	})
}

func TestCurrencyMismatchNamesTheBudget(t *testing.T) {
	t.Parallel()
	c := Config{Items: []Budget{{Name: "kvibes", Scope: Scope{Team: "kvibes"}, Amount: "300", Currency: "EUR"}}}
	_, err := Evaluate(c, Input{Now: time.Now(), Currency: "USD"})
	var fe *yamldoc.FieldError
	if !errors.As(err, &fe) || fe.Path != "items[0].currency" || !strings.Contains(err.Error(), "budget kvibes is in EUR, the price book is in USD") {
		t.Fatalf("err = %v, want a field error naming budget kvibes", err)
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	nss := []Namespace{
		{Name: "kvibes-dev", Team: "kvibes", Environment: "dev", Labels: map[string]string{"tier": "app"}},
		{Name: "kvibes-prod", Team: "kvibes", Environment: "production", Labels: map[string]string{"tier": "app"}},
		{Name: "monitoring", Team: "platform", Environment: "production", Labels: map[string]string{"tier": "core"}},
	}
	tests := []struct {
		scope    Scope
		ns, devs []string
	}{
		{Scope{Team: "kvibes"}, []string{"kvibes-dev", "kvibes-prod"}, []string{"kvibes-dev"}},
		{Scope{Environment: "production"}, []string{"kvibes-prod", "monitoring"}, []string{}},
		{Scope{Namespaces: []string{"monitoring", "gone"}}, []string{"monitoring"}, []string{}},
		{Scope{Selector: "tier=app"}, []string{"kvibes-dev", "kvibes-prod"}, []string{"kvibes-dev"}},
	}
	for _, tt := range tests {
		t.Run(tt.scope.String(), func(t *testing.T) {
			t.Parallel()
			c := Config{Items: []Budget{{Name: "b", Scope: tt.scope, Amount: "1", Currency: "EUR"}}}
			sts, err := Evaluate(c, Input{Now: time.Now(), Currency: "EUR", Namespaces: nss})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sts[0].Namespaces, tt.ns) || !slices.Equal(sts[0].DevNamespaces, tt.devs) {
				t.Errorf("namespaces %v dev %v, want %v and %v", sts[0].Namespaces, sts[0].DevNamespaces, tt.ns, tt.devs)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := Budget{Name: "a", Scope: Scope{Team: "t"}, Amount: "10", Currency: "EUR"}
	with := func(f func(b *Budget)) Config { b := ok; f(&b); return Config{Items: []Budget{b}} }
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"valid", Config{Items: []Budget{ok}}, ""},
		{"two scopes", with(func(b *Budget) { b.Scope.Environment = "dev" }), "items[0].scope"},
		{"no scope", with(func(b *Budget) { b.Scope = Scope{} }), "items[0].scope"},
		{"bad selector", with(func(b *Budget) { b.Scope = Scope{Selector: "a in (("} }), "items[0].scope"},
		{"bad period", with(func(b *Budget) { b.Period = "daily" }), "items[0].period"},
		{"bad amount", with(func(b *Budget) { b.Amount = "-3" }), "items[0].amount"},
		{"bad threshold", with(func(b *Budget) { b.Thresholds = []Threshold{{At: "80"}} }), "items[0].thresholds[0].at"},
		{"bad action", with(func(b *Budget) { b.Thresholds = []Threshold{{At: "80%", Actions: []string{"page"}}} }), "items[0].thresholds[0].actions[0]"},
		{"bad zone", Config{TimeZone: "Mars/Olympus"}, "timeZone"},
		{"twice", Config{Items: []Budget{ok, ok}}, "items[1].name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.c.Validate()
			var fe *yamldoc.FieldError
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.want != "" && (!errors.As(err, &fe) || fe.Path != tt.want):
				t.Fatalf("err = %v, want one at %s", err, tt.want)
			}
		})
	}
}

func TestPlanLiftsAndApproval(t *testing.T) {
	t.Parallel()
	st := Status{Budget: "kvibes", Period: Period{Key: "2026-03"}, Namespaces: []string{"a", "a-dev"}, DevNamespaces: []string{"a-dev"},
		Thresholds: []ThresholdStatus{{ID: "100", At: "100%", Crossed: true, Actions: []string{ActionNotify, ActionRequireApproval, ActionScaleDownDev, ActionBlockNewResources}}}}
	steps := Plan([]Status{st}, nil, nil, nil)
	var got []string
	for _, s := range steps {
		got = append(got, s.Action+"/"+strings.Join(s.Namespaces, ",")+"/"+map[bool]string{true: "waits", false: "go"}[s.WaitsApproval])
	}
	want := []string{"block-new-resources/a,a-dev/waits", "notify//go", "scale-down-dev/a-dev/waits"}
	if !slices.Equal(got, want) {
		t.Errorf("steps = %v, want %v", got, want)
	}
	approved := Plan([]Status{st}, nil, nil, map[string]bool{"kvibes/2026-03": true})
	for _, s := range approved {
		if s.WaitsApproval {
			t.Errorf("approved budget still waits: %+v", s)
		}
	}
	// Next month: nothing crossed; last month's actions are lifted,
	// the notification is not (its alert resolves instead).
	inEffect := []Applied{
		{Budget: "kvibes", Threshold: "100", Period: "2026-03", Action: ActionScaleDownDev, Operation: Operation("kvibes", "100", "2026-03", ActionScaleDownDev), Namespaces: []string{"a-dev"}},
		{Budget: "kvibes", Threshold: "100", Period: "2026-03", Action: ActionNotify, Operation: Operation("kvibes", "100", "2026-03", ActionNotify)},
	}
	april := st
	april.Period.Key = "2026-04"
	april.Thresholds = []ThresholdStatus{{ID: "100", At: "100%", Actions: st.Thresholds[0].Actions}}
	steps = Plan([]Status{april}, inEffect, nil, nil)
	if len(steps) != 1 || !steps[0].Lift || steps[0].Action != ActionScaleDownDev || !strings.Contains(steps[0].Why, "period 2026-03 is over") {
		t.Errorf("steps = %+v, want the scale-down lifted because March is over", steps)
	}
}

func TestTransitionsOncePerPeriod(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	st := Status{Budget: "kvibes", Scope: "team kvibes", Period: Period{Key: "2026-03"}, Spend: Spend{Source: SourceRunRate},
		Forecast:   Forecast{Method: MethodRunRate, Backtest: Backtest{TooShort: true, Note: "no stored history: no backtest"}},
		Thresholds: []ThresholdStatus{{ID: ForecastThreshold, At: ForecastThreshold, Crossed: true}}}
	ts := Transitions("c", []Status{st}, nil, nil, now)
	if len(ts) != 1 || ts[0].State.Phase != alert.Firing || ts[0].State.Subject != "2026-03" ||
		!strings.Contains(ts[0].State.Summary, "none: no stored history") || !strings.Contains(ts[0].State.Summary, "run-rate estimate") {
		t.Fatalf("first evaluation: %+v", ts)
	}
	firing := ts[0].State
	if ts := Transitions("c", []Status{st}, []alert.State{firing}, map[string]bool{firing.Key(): true}, now); len(ts) != 0 {
		t.Errorf("still crossed and firing: %+v, want nothing", ts)
	}
	// Resolved earlier in the period: crossed again, it does not fire again.
	if ts := Transitions("c", []Status{st}, nil, map[string]bool{firing.Key(): true}, now); len(ts) != 0 {
		t.Errorf("fired before in the period: %+v, want nothing", ts)
	}
	april := st
	april.Period.Key = "2026-04"
	april.Thresholds = []ThresholdStatus{{ID: ForecastThreshold, At: ForecastThreshold}}
	ts = Transitions("c", []Status{april}, []alert.State{firing}, map[string]bool{firing.Key(): true}, now)
	if len(ts) != 1 || ts[0].From != alert.Firing || ts[0].State.Phase != alert.Resolved || ts[0].State.Subject != "2026-03" {
		t.Errorf("new period: %+v, want March's alert resolved", ts)
	}
}
