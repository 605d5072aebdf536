// Package engine decides which workloads sleep and which wake: schedules,
// holiday calendars and the per-workload decision, as pure functions of a
// snapshot, the downscale config and the time. The executor that carries
// the decisions out lives in the parent package, so nothing here talks to
// a cluster.
package engine

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	// Schedules name IANA zones; the binary carries the zone database so
	// that a machine without /usr/share/zoneinfo reads them the same way.
	_ "time/tzdata"
)

// Schedule is a set of downtime windows, such as
// "Mon-Fri 20:00-08:00 Europe/Paris": the days name the day a window
// starts, so that window runs from Friday 20:00 to Saturday 08:00. Several
// windows are separated by ";": "Mon-Fri 20:00-08:00 Europe/Paris; Sat,Sun
// 00:00-24:00 Europe/Paris" also sleeps all weekend. Windows are half-open
// intervals [start, end) of real time.
//
// Wall times that a DST change skips or repeats are resolved as follows:
// a start or end that does not exist that day (02:30 on the spring-forward
// day in Europe/Paris) is the instant the clock jumps past it (03:00
// summer time); one that occurs twice (02:30 on the fall-back day) is its
// first occurrence. A window 20:00-08:00 over a DST night therefore lasts
// 11 or 13 hours, from 20:00 to 08:00 as the clocks on the wall read them.
type Schedule struct {
	// Text is the schedule as written.
	Text    string
	Windows []Window
	// Holidays sleep all day, 00:00 to 24:00 in the first window's zone.
	Holidays *Calendar
}

// Window is one line of a schedule.
type Window struct {
	Days       [7]bool // by time.Weekday
	Start, End Clock
	Loc        *time.Location
}

// Clock is a wall time; 24:00 is the end of the day.
type Clock struct{ Hour, Minute int }

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

func (c Clock) minutes() int { return c.Hour*60 + c.Minute }

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseSchedule reads a schedule; the error says which part is wrong and
// what was expected.
func ParseSchedule(text string) (*Schedule, error) {
	s := &Schedule{Text: text}
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("empty schedule: expected windows such as \"Mon-Fri 20:00-08:00 Europe/Paris\"")
	}
	for part := range strings.SplitSeq(text, ";") {
		w, err := parseWindow(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %w", text, err)
		}
		s.Windows = append(s.Windows, w)
	}
	return s, nil
}

func parseWindow(text string) (Window, error) {
	var w Window
	f := strings.Fields(text)
	if len(f) != 3 {
		return w, fmt.Errorf("window %q: expected three parts, days, hours and a time zone, as in \"Mon-Fri 20:00-08:00 Europe/Paris\"", text)
	}
	if err := w.parseDays(f[0]); err != nil {
		return w, fmt.Errorf("window %q: %w", text, err)
	}
	from, to, ok := strings.Cut(f[1], "-")
	if !ok {
		return w, fmt.Errorf("window %q: hours %q: expected HH:MM-HH:MM", text, f[1])
	}
	var err error
	if w.Start, err = parseClock(from); err != nil {
		return w, fmt.Errorf("window %q: %w", text, err)
	}
	if w.End, err = parseClock(to); err != nil {
		return w, fmt.Errorf("window %q: %w", text, err)
	}
	if w.Start == w.End {
		return w, fmt.Errorf("window %q: starts and ends at %s: an empty window", text, w.Start)
	}
	if w.Start.Hour == 24 {
		return w, fmt.Errorf("window %q: a window starts at 23:59 at the latest, not 24:00", text)
	}
	// A zone name must be an IANA name: "Local" would make the schedule
	// depend on the machine that runs it, and abbreviations are ambiguous.
	if f[2] == "Local" || f[2] == "" {
		return w, fmt.Errorf("window %q: time zone %q: expected an IANA name such as Europe/Paris or UTC", text, f[2])
	}
	if w.Loc, err = time.LoadLocation(f[2]); err != nil {
		return w, fmt.Errorf("window %q: time zone %q: expected an IANA name such as Europe/Paris or UTC: %w", text, f[2], err)
	}
	return w, nil
}

func (w *Window) parseDays(text string) error {
	for item := range strings.SplitSeq(text, ",") {
		from, to, isRange := strings.Cut(item, "-")
		a, ok := dayIndex(from)
		if !ok {
			return fmt.Errorf("day %q: expected Mon, Tue, Wed, Thu, Fri, Sat or Sun", from)
		}
		if !isRange {
			w.Days[a] = true
			continue
		}
		b, ok := dayIndex(to)
		if !ok {
			return fmt.Errorf("day %q: expected Mon, Tue, Wed, Thu, Fri, Sat or Sun", to)
		}
		// A range wraps over the week's end: Fri-Mon is Fri, Sat, Sun, Mon.
		for d := a; ; d = (d + 1) % 7 {
			w.Days[d] = true
			if d == b {
				break
			}
		}
	}
	return nil
}

func dayIndex(s string) (int, bool) {
	s = strings.ToLower(s)
	if len(s) > 3 {
		full := []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
		i := slices.Index(full, s)
		return i, i >= 0
	}
	i := slices.Index(dayNames[:], s)
	return i, i >= 0
}

func parseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return Clock{}, fmt.Errorf("time %q: expected HH:MM from 00:00 to 24:00", s)
	}
	return Clock{hh, mm}, nil
}

// at is the instant a wall time of a date reads in loc, with the DST rules
// of Schedule: a skipped time is the end of the gap, a repeated one its
// first occurrence.
func at(y int, m time.Month, d int, c Clock, loc *time.Location) time.Time {
	if c.Hour == 24 {
		return at(y, m, d+1, Clock{}, loc)
	}
	naive := time.Date(y, m, d, c.Hour, c.Minute, 0, 0, loc)
	// time.Date normalises the date (d+1 past a month's end); read it back.
	y, m, d = naive.Date()
	wall := time.Date(y, m, d, c.Hour, c.Minute, 0, 0, time.UTC)
	var best time.Time
	// The offsets in force around the wall time: at most two differ on a
	// day with a change.
	for _, probe := range []time.Time{naive.Add(-26 * time.Hour), naive, naive.Add(26 * time.Hour)} {
		_, off := probe.Zone()
		cand := wall.Add(-time.Duration(off) * time.Second)
		lt := cand.In(loc)
		if lt.Year() == y && lt.Month() == m && lt.Day() == d && lt.Hour() == c.Hour && lt.Minute() == c.Minute {
			if best.IsZero() || cand.Before(best) {
				best = cand
			}
		}
	}
	if !best.IsZero() {
		return best.In(loc)
	}
	// The wall time does not exist: read with the offset in force after
	// the change, it lands before the change, whose instant ends the zone
	// period it lands in.
	_, after := naive.Add(26 * time.Hour).Zone()
	_, end := wall.Add(-time.Duration(after) * time.Second).In(loc).ZoneBounds()
	return end.In(loc)
}

// interval is the window's occurrence starting on the date y-m-d of its
// zone.
func (w Window) interval(y int, m time.Month, d int) (time.Time, time.Time) {
	start := at(y, m, d, w.Start, w.Loc)
	endDay := d
	if w.End.minutes() <= w.Start.minutes() {
		endDay++ // crosses midnight
	}
	return start, at(y, m, endDay, w.End, w.Loc)
}

// occurrences are the window's intervals that start on the dates from two
// days before t to the day of t, in the window's zone: every interval that
// may contain t (a window lasts at most 24 hours, plus a DST hour).
func (w Window) occurrences(t time.Time) [][2]time.Time {
	lt := t.In(w.Loc)
	y, m, d := lt.Date()
	var out [][2]time.Time
	for back := 2; back >= 0; back-- {
		day := time.Date(y, m, d-back, 12, 0, 0, 0, w.Loc)
		if !w.Days[day.Weekday()] {
			continue
		}
		s, e := w.interval(day.Year(), day.Month(), day.Day())
		out = append(out, [2]time.Time{s, e})
	}
	return out
}

// intervalAt returns the interval of the schedule (a window, or a
// holiday) that contains t, the one that ends last when several do.
func (s *Schedule) intervalAt(t time.Time) (time.Time, time.Time, bool) {
	var from, until time.Time
	found := false
	consider := func(a, b time.Time) {
		if !t.Before(a) && t.Before(b) && (!found || b.After(until)) {
			from, until, found = a, b, true
		}
	}
	for _, w := range s.Windows {
		for _, iv := range w.occurrences(t) {
			consider(iv[0], iv[1])
		}
	}
	if s.Holidays != nil && len(s.Windows) > 0 {
		loc := s.Windows[0].Loc
		lt := t.In(loc)
		if s.Holidays.Has(lt.Year(), lt.Month(), lt.Day()) {
			y, m, d := lt.Date()
			consider(at(y, m, d, Clock{}, loc), at(y, m, d+1, Clock{}, loc))
		}
	}
	return from, until, found
}

// Asleep tells whether t falls in a downtime window or on a holiday and,
// if so, until when the workloads sleep: the end of that window, carried
// on through windows and holidays that overlap or follow without a gap.
func (s *Schedule) Asleep(t time.Time) (bool, time.Time) {
	_, until, ok := s.intervalAt(t)
	if !ok {
		return false, time.Time{}
	}
	// A year of back-to-back windows is the most a chain can hold.
	for range 800 {
		_, next, more := s.intervalAt(until)
		if !more || !next.After(until) {
			break
		}
		until = next
	}
	return true, until
}

// NextSleep is the start of the first window or holiday after t, zero if
// none starts within two weeks (a schedule always has one within eight
// days; a calendar of holidays alone does not).
func (s *Schedule) NextSleep(t time.Time) time.Time {
	var best time.Time
	for _, w := range s.Windows {
		lt := t.In(w.Loc)
		y, m, d := lt.Date()
		for ahead := range 9 {
			day := time.Date(y, m, d+ahead, 12, 0, 0, 0, w.Loc)
			if !w.Days[day.Weekday()] {
				continue
			}
			start, _ := w.interval(day.Year(), day.Month(), day.Day())
			if start.After(t) && (best.IsZero() || start.Before(best)) {
				best = start
			}
		}
	}
	return best
}

// SleepHours is how long the schedule sleeps between from and to, in
// hours, holidays included: the basis of a month's savings.
func (s *Schedule) SleepHours(from, to time.Time) float64 {
	var total time.Duration
	for t := from; t.Before(to); {
		asleep, until := s.Asleep(t)
		if !asleep {
			next := s.NextSleep(t)
			if s.Holidays != nil && len(s.Windows) > 0 {
				// A holiday may start before the next window.
				loc := s.Windows[0].Loc
				lt := t.In(loc)
				midnight := at(lt.Year(), lt.Month(), lt.Day()+1, Clock{}, loc)
				if next.IsZero() || midnight.Before(next) {
					next = midnight
				}
			}
			if next.IsZero() || !next.After(t) {
				break
			}
			t = next
			continue
		}
		if until.After(to) {
			until = to
		}
		total += until.Sub(t)
		t = until
	}
	return total.Hours()
}
