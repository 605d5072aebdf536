package phase

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/money"
)

func ptr[T any](v T) *T { return &v }

func usd(micros int64) *CostMeasure {
	return &CostMeasure{Amount: money.New("USD", micros), Source: "test"}
}

// strategy is BlueOcean's shape: three phases, cost as reductions from
// USD 1,289.30, namespaces as counts, errors as a reduction from 8.
func strategy() *Config {
	return &Config{
		Baseline: Baseline{Month: "2025-09", MonthlyCost: "1289.30 USD", Namespaces: ptr(69), OpenErrors: ptr(8)},
		Traffic:  Traffic{Query: "sum(rate(requests_total[1d]))"},
		Sequence: []Phase{
			{Name: "one", Targets: Targets{MonthlyCost: &CostTarget{ReductionPercent: ptr(40)}, Namespaces: &CountTarget{Max: ptr(27)}, OpenErrors: &CountTarget{ReductionPercent: ptr(80)}},
				EnterNext: []Trigger{{CostTargetMet: &Months{Months: 2}}, {IncidentFree: &Days{Days: 0}}, {Attested: &Attested{Condition: "cash flow", Met: true}}}},
			{Name: "two", Targets: Targets{MonthlyCost: &CostTarget{ReductionPercent: ptr(60)}, Namespaces: &CountTarget{Max: ptr(8)}, OpenErrors: &CountTarget{ReductionPercent: ptr(90)}},
				EnterNext: []Trigger{{TrafficGrowth: &Growth{Percent: 50, Over: "90d"}}, {IncidentFree: &Days{Days: 60}}}},
			{Name: "three", Targets: Targets{MonthlyCost: &CostTarget{ReductionPercent: ptr(70)}, Namespaces: &CountTarget{Max: ptr(8)}, OpenErrors: &CountTarget{Max: ptr(0)}}},
		},
	}
}

func names(n int) []string {
	out := SystemNamespaces()
	for i := len(out); i < n; i++ {
		out = append(out, "ns-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	return out[:n]
}

var now = time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)

func TestEvaluate(t *testing.T) {
	t.Parallel()
	full := func(m Measurements) Measurements {
		m.Now = now
		return m
	}
	twoGoodMonths := []MonthCost{{Month: "2026-11", Amount: money.New("USD", 700_000_000)}, {Month: "2026-10", Amount: money.New("USD", 770_000_000)}}
	for _, tc := range []struct {
		name     string
		m        Measurements
		current  string
		next     string
		summary  string
		blockers []string
	}{
		{
			name:    "the demo's figures: Phase 1 in progress",
			m:       full(Measurements{MonthlyCost: usd(1_289_300_000), Namespaces: names(69), OpenErrors: &Count{Count: 8}}),
			next:    "one",
			summary: "one in progress",
			blockers: []string{
				"target: monthly cost ≤ USD 773.58: not met",
				"target: namespaces ≤ 27: not met",
				"target: open error findings ≤ 1: not met",
			},
		},
		{
			name:    "a cost exactly at the target is met; an unmeasured KPI blocks",
			m:       full(Measurements{MonthlyCost: usd(773_580_000), Namespaces: names(27), Notes: map[string]string{kpiErrors: "no audit"}}),
			next:    "one",
			summary: "one in progress",
			blockers: []string{
				"target: open error findings ≤ 1: not measured (no audit)",
			},
		},
		{
			name:    "one micro above the target is not met",
			m:       full(Measurements{MonthlyCost: usd(773_580_001), Namespaces: names(27), OpenErrors: &Count{Count: 1}}),
			next:    "one",
			summary: "one in progress",
			blockers: []string{
				"target: monthly cost ≤ USD 773.58: not met",
			},
		},
		{
			name:    "phase one reached: its triggers and phase two's targets block",
			m:       full(Measurements{MonthlyCost: usd(700_000_000), Namespaces: names(27), OpenErrors: &Count{Count: 1}, CostMonths: twoGoodMonths[:1]}),
			current: "one",
			next:    "two",
			summary: "one reached; two not yet",
			blockers: []string{
				"trigger: cost target met ≤ USD 773.58 in each of the last 2 full months: not measured (the store holds 1 full month(s) of costs, 2 needed)",
				"trigger: incident-free no open error finding: not met",
				"target: monthly cost ≤ USD 515.72: not met",
				"target: namespaces ≤ 8: not met",
				"target: open error findings ≤ 0: not met",
			},
		},
		{
			name:    "phase one reached with its triggers met: only phase two's targets block",
			m:       full(Measurements{MonthlyCost: usd(600_000_000), Namespaces: names(20), OpenErrors: &Count{Count: 0}, CostMonths: twoGoodMonths}),
			current: "one",
			next:    "two",
			summary: "one reached; two not yet",
			blockers: []string{
				"target: monthly cost ≤ USD 515.72: not met",
				"target: namespaces ≤ 8: not met",
			},
		},
		{
			name: "phase two reached: traffic and incident history block phase three",
			m: full(Measurements{MonthlyCost: usd(500_000_000), Namespaces: names(8), OpenErrors: &Count{Count: 0},
				Traffic: map[string]GrowthMeasure{"90d": {BasisPoints: 4999}},
				Errors:  &ErrorHistory{Since: now.AddDate(0, 0, -30)}}),
			current: "two",
			next:    "three",
			summary: "two reached; three not yet",
			blockers: []string{
				"trigger: traffic growth ≥ +50% over 90d: not met",
				"trigger: incident-free no error finding open in the last 60 days: not measured (the store's history starts on 2026-11-10, 30 days ago)",
				"target: monthly cost ≤ USD 386.79: not met",
			},
		},
		{
			name: "the last phase reached",
			m: full(Measurements{MonthlyCost: usd(386_790_000), Namespaces: names(8), OpenErrors: &Count{Count: 0},
				Traffic: map[string]GrowthMeasure{"90d": {BasisPoints: 5000}},
				Errors:  &ErrorHistory{Since: now.AddDate(0, -6, 0), LastOpen: now.AddDate(0, 0, -61)}}),
			current: "three",
			summary: "three reached: the last phase's targets are met",
		},
		{
			name:    "a later phase's targets do not count while an earlier one's are unmet",
			m:       full(Measurements{MonthlyCost: usd(300_000_000), Namespaces: names(8), OpenErrors: &Count{Count: 2}}),
			next:    "one",
			summary: "one in progress",
			blockers: []string{
				"target: open error findings ≤ 1: not met",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Evaluate(strategy(), tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if s.Current != tc.current || s.Next != tc.next || s.Summary != tc.summary {
				t.Errorf("current %q next %q summary %q, want %q %q %q", s.Current, s.Next, s.Summary, tc.current, tc.next, tc.summary)
			}
			if !slices.Equal(s.Blockers, append([]string{}, tc.blockers...)) {
				t.Errorf("blockers:\n%s\nwant:\n%s", strings.Join(s.Blockers, "\n"), strings.Join(tc.blockers, "\n"))
			}
		})
	}
}

func TestCostGoalInIntegerMoney(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base      string
		reduction int
		want      int64 // micros
	}{
		{"1289.30 USD", 40, 773_580_000},
		{"1289.30 USD", 60, 515_720_000},
		{"1289.30 USD", 70, 386_790_000},
		{"2000 EUR", 40, 1_200_000_000},
		// 0.000003 × 0.5 = 1.5 micros: half away from zero, never a float.
		{"0.000003 USD", 50, 2},
		{"0.000001 USD", 100, 0},
		{"9000000000000.000001 USD", 0, 9_000_000_000_000_000_001},
	} {
		c := &Config{Baseline: Baseline{MonthlyCost: tc.base}}
		e := &evaluator{c: c}
		if err := e.baseline(); err != nil {
			t.Fatal(err)
		}
		got, known, err := e.costGoal(&CostTarget{ReductionPercent: ptr(tc.reduction)})
		if err != nil || !known {
			t.Fatalf("%s -%d%%: %v (known %v)", tc.base, tc.reduction, err, known)
		}
		if got.Micros != tc.want {
			t.Errorf("%s -%d%%: %d micros, want %d", tc.base, tc.reduction, got.Micros, tc.want)
		}
	}
}

func TestTriggers(t *testing.T) {
	t.Parallel()
	phase := Phase{Name: "p", Targets: Targets{MonthlyCost: &CostTarget{Amount: "100 USD"}}}
	months := func(a ...int64) []MonthCost {
		var out []MonthCost
		for i, v := range a {
			out = append(out, MonthCost{Month: time.Date(2026, time.Month(11-i), 1, 0, 0, 0, 0, time.UTC).Format("2006-01"), Amount: money.New("USD", v)})
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		trigger  Trigger
		m        Measurements
		state    string
		measured string
	}{
		{"two months under the target", Trigger{CostTargetMet: &Months{Months: 2}}, Measurements{CostMonths: months(99e6, 100e6)}, Met, "2026-11 USD 99.00, 2026-10 USD 100.00"},
		{"the older month over it", Trigger{CostTargetMet: &Months{Months: 2}}, Measurements{CostMonths: months(99e6, 101e6, 1)}, NotMet, "2026-11 USD 99.00, 2026-10 USD 101.00"},
		{"only the months asked for count", Trigger{CostTargetMet: &Months{Months: 1}}, Measurements{CostMonths: months(99e6, 500e6)}, Met, "2026-11 USD 99.00"},
		{"too few months stored", Trigger{CostTargetMet: &Months{Months: 3}}, Measurements{CostMonths: months(1, 1)}, NotMeasured, "-"},
		{"no store", Trigger{CostTargetMet: &Months{Months: 1}}, Measurements{}, NotMeasured, "-"},
		{"no error open now", Trigger{IncidentFree: &Days{}}, Measurements{OpenErrors: &Count{Count: 0}}, Met, "0 open"},
		{"an error open now", Trigger{IncidentFree: &Days{}}, Measurements{OpenErrors: &Count{Count: 1}}, NotMet, "1 open"},
		{"last error 61 days ago", Trigger{IncidentFree: &Days{Days: 60}}, Measurements{Errors: &ErrorHistory{Since: now.AddDate(-1, 0, 0), LastOpen: now.AddDate(0, 0, -61)}}, Met, "none since 2026-10-11"},
		{"never an error", Trigger{IncidentFree: &Days{Days: 60}}, Measurements{Errors: &ErrorHistory{Since: now.AddDate(0, 0, -60)}}, Met, "none since 2026-10-11"},
		{"an error 59 days ago", Trigger{IncidentFree: &Days{Days: 60}}, Measurements{Errors: &ErrorHistory{Since: now.AddDate(-1, 0, 0), LastOpen: now.AddDate(0, 0, -59)}}, NotMet, "last open 2026-10-12"},
		{"history shorter than the window", Trigger{IncidentFree: &Days{Days: 60}}, Measurements{Errors: &ErrorHistory{Since: now.AddDate(0, 0, -59)}}, NotMeasured, "-"},
		{"traffic grown enough", Trigger{TrafficGrowth: &Growth{Percent: 100, Over: "12w"}}, Measurements{Traffic: map[string]GrowthMeasure{"12w": {BasisPoints: 10000}}}, Met, "+100.00%"},
		{"traffic fell", Trigger{TrafficGrowth: &Growth{Percent: 1, Over: "12w"}}, Measurements{Traffic: map[string]GrowthMeasure{"12w": {BasisPoints: -1250}}}, NotMet, "-12.50%"},
		{"traffic of another window", Trigger{TrafficGrowth: &Growth{Percent: 1, Over: "12w"}}, Measurements{Traffic: map[string]GrowthMeasure{"90d": {BasisPoints: 9000}}}, NotMeasured, "-"},
		{"attested", Trigger{Attested: &Attested{Condition: "x", Met: true}}, Measurements{}, Met, "attested in purser.yaml"},
		{"not attested", Trigger{Attested: &Attested{Condition: "x"}}, Measurements{}, NotMet, "not attested"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.m.Now = now
			e := &evaluator{c: &Config{}, m: tc.m}
			ck, err := e.trigger(phase, tc.trigger)
			if err != nil {
				t.Fatal(err)
			}
			if ck.State != tc.state || ck.Measured != tc.measured {
				t.Errorf("state %q measured %q (%s), want %q %q", ck.State, ck.Measured, ck.Detail, tc.state, tc.measured)
			}
		})
	}
}

func TestCurrencyMismatchIsAnError(t *testing.T) {
	t.Parallel()
	_, err := Evaluate(strategy(), Measurements{Now: now, MonthlyCost: &CostMeasure{Amount: money.New("EUR", 1)}})
	if !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Fatalf("got %v, want a currency mismatch", err)
	}
	c := &Config{Sequence: []Phase{{Name: "p", Targets: Targets{MonthlyCost: &CostTarget{Amount: "1 USD"}}, EnterNext: []Trigger{{CostTargetMet: &Months{Months: 1}}}}, {Name: "q", Targets: Targets{Namespaces: &CountTarget{Max: ptr(1)}}}}}
	_, err = Evaluate(c, Measurements{Now: now, CostMonths: []MonthCost{{Month: "2026-11", Amount: money.New("EUR", 1)}}})
	if !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Fatalf("stored month in EUR: got %v, want a currency mismatch", err)
	}
}

func TestNamespaceCountAndTable(t *testing.T) {
	t.Parallel()
	c := strategy()
	m := Measurements{Now: now, MonthlyCost: usd(1_289_300_000), Namespaces: names(69), OpenErrors: &Count{Count: 8}}
	s, err := Evaluate(c, m)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"monthly cost", "USD 1,289.30", "USD 773.58 (-40%)", "USD 515.72 (-60%)", "USD 386.79 (-70%)", "USD 1,289.30"},
		{"namespaces", "69", "27 (-61%)", "8 (-88%)", "8 (-88%)", "69"},
		{"open error findings", "8", "1 (-80%)", "0 (-90%)", "0 (-100%)", "8"},
	}
	if !slices.EqualFunc(s.Table.Rows, want, slices.Equal) {
		t.Errorf("table rows:\n%q\nwant\n%q", s.Table.Rows, want)
	}
	if h := strings.Join(s.Table.Header, "|"); h != "KPI|baseline (2025-09)|one|two|three|measured" {
		t.Errorf("header %s", h)
	}
	c.ExcludeSystemNamespaces = true
	s, err = Evaluate(c, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Table.Rows[1][5]; got != "65" {
		t.Errorf("without the 4 system namespaces: %s, want 65", got)
	}
}

func TestChangePercent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base, v int64
		want    string
	}{{69, 27, "-61%"}, {69, 8, "-88%"}, {8, 0, "-100%"}, {100, 150, "+50%"}, {200, 199, "-1%"}, {200, 201, "+1%"}, {3, 2, "-33%"}, {100, 100, "0%"}} {
		if got := changePercent(tc.base, tc.v); got != tc.want {
			t.Errorf("%d → %d: %s, want %s", tc.base, tc.v, got, tc.want)
		}
	}
}
