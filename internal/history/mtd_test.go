package history_test

import (
	"errors"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
)

func TestMonthToDate(t *testing.T) {
	t.Parallel()
	usd := func(m int64) money.Amount { return money.New("USD", m) }
	day := func(d, by, key string, m int64) history.DayCost {
		return history.DayCost{Day: d, By: by, Key: key, Amount: usd(m)}
	}
	today := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		days     []history.DayCost
		estimate bool
		missing  int
		want     map[string]int64 // pool key -> month to date
	}{
		{name: "every day recorded", days: []history.DayCost{
			day("2026-03-01", "pool", "a", 10), day("2026-03-02", "pool", "a", 10), day("2026-03-03", "pool", "a", 20), day("2026-03-04", "pool", "a", 20)},
			want: map[string]int64{"a": 60}},
		{name: "two days missing", days: []history.DayCost{day("2026-03-01", "pool", "a", 10), day("2026-03-03", "pool", "a", 20)},
			estimate: true, missing: 2, want: map[string]int64{"a": 60}},
		{name: "last month and next ignored", days: []history.DayCost{day("2026-02-28", "pool", "a", 1000), day("2026-03-05", "pool", "a", 1000),
			day("2026-03-01", "pool", "a", 10), day("2026-03-02", "pool", "a", 10), day("2026-03-03", "pool", "a", 10), day("2026-03-04", "pool", "a", 10)},
			want: map[string]int64{"a": 40}},
		{name: "a group that started late is counted at its own average", days: []history.DayCost{
			day("2026-03-01", "pool", "a", 10), day("2026-03-02", "pool", "a", 10), day("2026-03-03", "pool", "a", 10), day("2026-03-04", "pool", "a", 10),
			day("2026-03-04", "pool", "b", 5)},
			want: map[string]int64{"a": 40, "b": 20}},
		{name: "nothing recorded", estimate: true, missing: 4, want: map[string]int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := history.ComputeMonthToDate(tt.days, today)
			if err != nil {
				t.Fatal(err)
			}
			if m.Estimate != tt.estimate || len(m.Missing) != tt.missing || m.Days != 4 {
				t.Errorf("estimate %v, missing %v of %d days; want %v, %d of 4", m.Estimate, m.Missing, m.Days, tt.estimate, tt.missing)
			}
			got := map[string]int64{}
			for _, l := range m.Groupings {
				for _, r := range l.Rows {
					got[r.Key] = r.Amount.Micros
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("groups %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s: %d, want %d", k, got[k], v)
				}
			}
		})
	}
	_, err := history.ComputeMonthToDate([]history.DayCost{day("2026-03-01", "pool", "a", 1),
		{Day: "2026-03-02", By: "pool", Key: "a", Amount: money.New("EUR", 1)}}, today)
	if !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Errorf("two currencies: %v", err)
	}
}
