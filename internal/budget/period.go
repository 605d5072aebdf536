package budget

import (
	"fmt"
	"time"
)

// Period is one month or week of a budget, in the budget's time zone.
type Period struct {
	Kind string `json:"kind"`
	// Key identifies the period in alerts and the action log: 2026-03
	// for a month, 2026-W10 (ISO week) for a week. A new period is a new
	// key, so that its thresholds fire again.
	Key string `json:"key"`
	// First and Last are its first and last dates; Today is the date of
	// the evaluation, within it.
	First string `json:"first"`
	Last  string `json:"last"`
	Today string `json:"today"`
	// Days is the number of dates in the period; Elapsed those through
	// Today; Remaining those after it.
	Days      int `json:"days"`
	Elapsed   int `json:"elapsed"`
	Remaining int `json:"remaining"`
}

// PeriodAt is the period of kind that holds now in loc. Months begin at
// midnight on the 1st, weeks at midnight on Monday.
func PeriodAt(kind string, loc *time.Location, now time.Time) (Period, error) {
	t := now.In(loc)
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	var first, next time.Time
	p := Period{Kind: kind}
	switch kind {
	case Monthly:
		first = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		next = first.AddDate(0, 1, 0)
		p.Key = first.Format("2006-01")
	case Weekly:
		// Dates computed in UTC from the local date, so that a DST change
		// never makes a day 23 or 25 hours long in the count.
		back := (int(today.Weekday()) + 6) % 7
		first = today.AddDate(0, 0, -back)
		next = first.AddDate(0, 0, 7)
		y, w := first.ISOWeek()
		p.Key = fmt.Sprintf("%04d-W%02d", y, w)
	default:
		return Period{}, fmt.Errorf("unknown period %q", kind)
	}
	p.First, p.Last, p.Today = first.Format(time.DateOnly), next.AddDate(0, 0, -1).Format(time.DateOnly), today.Format(time.DateOnly)
	p.Days = int(next.Sub(first) / (24 * time.Hour))
	p.Elapsed = int(today.Sub(first)/(24*time.Hour)) + 1
	p.Remaining = p.Days - p.Elapsed
	return p, nil
}

// dates lists the dates from first through last.
func dates(first, last string) []string {
	a, err1 := time.Parse(time.DateOnly, first)
	b, err2 := time.Parse(time.DateOnly, last)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []string
	for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func addDays(day string, n int) string {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

func weekend(day string) bool {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return false
	}
	return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
}
