package history

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/output"
)

// DayCost is one group's cost on one day, as the store keeps it.
type DayCost struct {
	Day    string       `json:"day"` // 2026-03-01
	By     string       `json:"by"`
	Key    string       `json:"key"`
	Amount money.Amount `json:"amount"`
}

// MonthToDate is the cost of the month so far, from daily costs.
type MonthToDate struct {
	From     string `json:"from"`
	Through  string `json:"through"`
	Days     int    `json:"days"`
	Currency string `json:"currency"`
	// Recorded are the days with a cost; Missing the days without.
	Recorded int      `json:"recordedDays"`
	Missing  []string `json:"missingDays"`
	// Estimate is set when days are missing: each group's missing days
	// are counted at the average of its recorded days.
	Estimate  bool              `json:"estimate"`
	Groupings []MonthToDateList `json:"groupings"`
}

// MonthToDateList is the month to date by one grouping.
type MonthToDateList struct {
	By    string           `json:"by"`
	Rows  []MonthToDateRow `json:"rows"`
	Total money.Amount     `json:"total"`
}

// MonthToDateRow is one group's month to date: Amount, of which
// Recorded is what the recorded days hold.
type MonthToDateRow struct {
	Key      string       `json:"key"`
	Amount   money.Amount `json:"amount"`
	Recorded money.Amount `json:"recorded"`
}

// ComputeMonthToDate sums the daily costs of today's month through
// today (UTC), by the groupings they hold, estimating the missing days.
func ComputeMonthToDate(days []DayCost, today time.Time) (*MonthToDate, error) {
	today = today.UTC()
	first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	m := &MonthToDate{From: first.Format(time.DateOnly), Through: today.Format(time.DateOnly), Days: today.Day(), Missing: []string{}, Groupings: []MonthToDateList{}}
	have := map[string]bool{}
	type group struct{ by, key string }
	sums := map[group]money.Amount{}
	daysOf := map[group]int64{}
	var bys []string
	for _, d := range days {
		if d.Day < m.From || d.Day > m.Through {
			continue
		}
		if m.Currency == "" {
			m.Currency = d.Amount.Currency
		}
		if d.Amount.Currency != m.Currency {
			return nil, fmt.Errorf("cost of %s %s on %s: %w: %s and %s", d.By, d.Key, d.Day, money.ErrCurrencyMismatch, d.Amount.Currency, m.Currency)
		}
		have[d.Day] = true
		g := group{d.By, d.Key}
		sum, err := sums[g].Add(d.Amount)
		if err != nil {
			return nil, fmt.Errorf("cost of %s %s: %w", d.By, d.Key, err)
		}
		sums[g] = sum
		daysOf[g]++
		if !slices.Contains(bys, d.By) {
			bys = append(bys, d.By)
		}
	}
	for day := first; !day.After(today); day = day.AddDate(0, 0, 1) {
		if !have[day.Format(time.DateOnly)] {
			m.Missing = append(m.Missing, day.Format(time.DateOnly))
		}
	}
	m.Recorded = m.Days - len(m.Missing)
	m.Estimate = len(m.Missing) > 0
	slices.Sort(bys)
	for _, by := range bys {
		l := MonthToDateList{By: by, Total: money.New(m.Currency, 0)}
		for g, sum := range sums {
			if g.by != by {
				continue
			}
			// A group's missing days are the days of the period it has
			// no cost for: it is counted at its own average.
			amount, err := sum.MulRat(int64(m.Days), daysOf[g])
			if err != nil {
				return nil, fmt.Errorf("estimating the cost of %s %s: %w", g.by, g.key, err)
			}
			l.Rows = append(l.Rows, MonthToDateRow{Key: g.key, Amount: amount, Recorded: sum})
			if l.Total, err = l.Total.Add(amount); err != nil {
				return nil, fmt.Errorf("total by %s: %w", by, err)
			}
		}
		slices.SortFunc(l.Rows, func(a, b MonthToDateRow) int {
			if a.Amount.Micros != b.Amount.Micros {
				if a.Amount.Micros > b.Amount.Micros {
					return -1
				}
				return 1
			}
			return strings.Compare(a.Key, b.Key)
		})
		m.Groupings = append(m.Groupings, l)
	}
	return m, nil
}

// Label says, in one line, what the figures are: recorded, or an
// estimate and why.
func (m *MonthToDate) Label() string {
	if m.Recorded == 0 {
		return fmt.Sprintf("no cost recorded from %s to %s: record one with purser cost --store or purser audit --store", m.From, m.Through)
	}
	if !m.Estimate {
		return fmt.Sprintf("recorded: every day from %s to %s has a stored cost", m.From, m.Through)
	}
	return fmt.Sprintf("ESTIMATE: %d of %d days have no stored cost; each group's missing days are counted at the average of its recorded days",
		len(m.Missing), m.Days)
}

// MonthToDateTable writes m for a terminal.
func MonthToDateTable(w io.Writer, m *MonthToDate) error {
	var b strings.Builder
	days := "days"
	if m.Days == 1 {
		days = "day"
	}
	fmt.Fprintf(&b, "Month to date: %s to %s (%d %s), %s\n%s\n", m.From, m.Through, m.Days, days, m.Currency, m.Label())
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, l := range m.Groupings {
		fmt.Fprintf(tw, "\n%s\tMONTH TO DATE\tRECORDED\t\n", strings.ToUpper(l.By))
		for _, r := range l.Rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", output.CellText(r.Key), r.Amount.Format(2), r.Recorded.Format(2))
		}
		fmt.Fprintf(tw, "TOTAL\t%s\t\t\n", l.Total.Format(2))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}
