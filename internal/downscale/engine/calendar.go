package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Calendar is a set of holidays: whole days, each one day or a yearly
// recurring one (25 December every year).
type Calendar struct {
	dates  map[civilDate]bool
	yearly []yearlyRule
}

type civilDate struct {
	y int
	m time.Month
	d int
}

// yearlyRule is an all-day event that recurs every Interval years from
// its first date, Count times or until Until (both optional).
type yearlyRule struct {
	first    civilDate
	days     int // length of the event in days
	interval int
	count    int
	until    civilDate
}

// Has tells whether the date is a holiday.
func (c *Calendar) Has(y int, m time.Month, d int) bool {
	if c == nil {
		return false
	}
	if c.dates[civilDate{y, m, d}] {
		return true
	}
	day := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	for _, r := range c.yearly {
		for k := 0; k < r.days; k++ {
			// The date k days before d falls on the rule's month and day.
			s := day.AddDate(0, 0, -k)
			if s.Month() != r.first.m || s.Day() != r.first.d {
				continue
			}
			n := s.Year() - r.first.y
			if n < 0 || n%r.interval != 0 {
				continue
			}
			if r.count > 0 && n/r.interval >= r.count {
				continue
			}
			if r.until.y != 0 && (civilDate{s.Year(), s.Month(), s.Day()}).after(r.until) {
				continue
			}
			return true
		}
	}
	return false
}

func (a civilDate) after(b civilDate) bool {
	return time.Date(a.y, a.m, a.d, 0, 0, 0, 0, time.UTC).After(time.Date(b.y, b.m, b.d, 0, 0, 0, 0, time.UTC))
}

// Len is how many single dates and yearly rules the calendar holds.
func (c *Calendar) Len() int {
	if c == nil {
		return 0
	}
	return len(c.dates) + len(c.yearly)
}

// ParseDates reads holidays given as YYYY-MM-DD; the error names the
// index of the wrong one.
func ParseDates(list []string) (*Calendar, error) {
	c := &Calendar{dates: map[civilDate]bool{}}
	for i, s := range list {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, fmt.Errorf("holidays[%d] %q: expected a date as YYYY-MM-DD", i, s)
		}
		c.dates[civilDate{t.Year(), t.Month(), t.Day()}] = true
	}
	return c, nil
}

// Merge adds o's holidays to c.
func (c *Calendar) Merge(o *Calendar) {
	if o == nil {
		return
	}
	for d := range o.dates {
		c.dates[d] = true
	}
	c.yearly = append(c.yearly, o.yearly...)
}

// ParseICS reads the all-day events of an iCalendar file (RFC 5545): each
// VEVENT with DTSTART;VALUE=DATE, an optional DTEND (exclusive, as the RFC
// says) and an optional RRULE of FREQ=YEARLY with INTERVAL, COUNT or UNTIL.
// It is strict: an event with a time of day, another recurrence or an
// unknown rule part is an error naming its line, because a holiday read
// wrongly would sleep or wake a cluster on the wrong day. Other properties
// (SUMMARY, UID, ...) and components are ignored.
func ParseICS(name string, data []byte) (*Calendar, error) {
	c := &Calendar{dates: map[civilDate]bool{}}
	lines, err := unfold(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(lines) == 0 || !strings.EqualFold(lines[0].text, "BEGIN:VCALENDAR") {
		return nil, fmt.Errorf("%s: not an iCalendar file: expected BEGIN:VCALENDAR on line 1", name)
	}
	type event struct {
		line       int
		start, end *civilDate
		rrule      string
		rruleLine  int
	}
	var ev *event
	for _, l := range lines {
		prop, value, ok := strings.Cut(l.text, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected NAME:VALUE", name, l.no)
		}
		params := strings.Split(prop, ";")
		key := strings.ToUpper(params[0])
		switch {
		case key == "BEGIN" && strings.EqualFold(value, "VEVENT"):
			if ev != nil {
				return nil, fmt.Errorf("%s:%d: VEVENT inside a VEVENT", name, l.no)
			}
			ev = &event{line: l.no}
		case key == "END" && strings.EqualFold(value, "VEVENT"):
			if ev == nil {
				return nil, fmt.Errorf("%s:%d: END:VEVENT without BEGIN", name, l.no)
			}
			if ev.start == nil {
				return nil, fmt.Errorf("%s:%d: event without DTSTART", name, ev.line)
			}
			days := 1
			if ev.end != nil {
				s := time.Date(ev.start.y, ev.start.m, ev.start.d, 0, 0, 0, 0, time.UTC)
				e := time.Date(ev.end.y, ev.end.m, ev.end.d, 0, 0, 0, 0, time.UTC)
				days = int(e.Sub(s).Hours() / 24)
				if days < 1 || days > 366 {
					return nil, fmt.Errorf("%s:%d: DTEND must follow DTSTART by 1 to 366 days", name, ev.line)
				}
			}
			if ev.rrule == "" {
				s := time.Date(ev.start.y, ev.start.m, ev.start.d, 12, 0, 0, 0, time.UTC)
				for k := range days {
					d := s.AddDate(0, 0, k)
					c.dates[civilDate{d.Year(), d.Month(), d.Day()}] = true
				}
			} else {
				r, err := parseYearly(ev.rrule)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: RRULE %q: %w", name, ev.rruleLine, ev.rrule, err)
				}
				r.first, r.days = *ev.start, days
				c.yearly = append(c.yearly, r)
			}
			ev = nil
		case ev == nil:
			// Outside events: calendar properties, time zones, alarms.
		case key == "DTSTART" || key == "DTEND":
			d, err := allDay(params[1:], value)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", name, l.no, key, err)
			}
			if key == "DTSTART" {
				ev.start = &d
			} else {
				ev.end = &d
			}
		case key == "RRULE":
			ev.rrule, ev.rruleLine = value, l.no
		case key == "RDATE" || key == "EXDATE" || key == "EXRULE" || key == "DURATION":
			return nil, fmt.Errorf("%s:%d: %s is not supported: give each holiday as its own event or a yearly RRULE", name, l.no, key)
		}
	}
	if ev != nil {
		return nil, fmt.Errorf("%s:%d: event without END:VEVENT", name, ev.line)
	}
	return c, nil
}

type icsLine struct {
	no   int
	text string
}

// unfold joins continuation lines (those starting with a space or tab)
// and numbers each logical line by its first physical one.
func unfold(data []byte) ([]icsLine, error) {
	var out []icsLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for no := 1; sc.Scan(); no++ {
		t := strings.TrimRight(sc.Text(), "\r")
		switch {
		case t == "":
		case (t[0] == ' ' || t[0] == '\t') && len(out) > 0:
			out[len(out)-1].text += t[1:]
		default:
			out = append(out, icsLine{no: no, text: t})
		}
	}
	return out, sc.Err()
}

func allDay(params []string, value string) (civilDate, error) {
	isDate := false
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(k, "VALUE") && strings.EqualFold(v, "DATE") {
			isDate = true
		}
	}
	t, err := time.Parse("20060102", value)
	if !isDate || err != nil {
		return civilDate{}, fmt.Errorf("%q: expected an all-day date (;VALUE=DATE:YYYYMMDD); events with a time of day are not holidays", value)
	}
	return civilDate{t.Year(), t.Month(), t.Day()}, nil
}

func parseYearly(rule string) (yearlyRule, error) {
	r := yearlyRule{interval: 1}
	yearly := false
	for part := range strings.SplitSeq(rule, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch strings.ToUpper(k) {
		case "FREQ":
			if !strings.EqualFold(v, "YEARLY") {
				return r, fmt.Errorf("FREQ=%s: only YEARLY recurrences are holidays", v)
			}
			yearly = true
		case "INTERVAL":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return r, fmt.Errorf("INTERVAL=%s: expected a positive number", v)
			}
			r.interval = n
		case "COUNT":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return r, fmt.Errorf("COUNT=%s: expected a positive number", v)
			}
			r.count = n
		case "UNTIL":
			if len(v) < 8 {
				return r, fmt.Errorf("UNTIL=%s: expected YYYYMMDD", v)
			}
			t, err := time.Parse("20060102", v[:8])
			if err != nil {
				return r, fmt.Errorf("UNTIL=%s: expected YYYYMMDD", v)
			}
			r.until = civilDate{t.Year(), t.Month(), t.Day()}
		default:
			// BYMONTH, BYDAY and the like would make the date move
			// (Thanksgiving); read as a fixed date it would be wrong.
			return r, fmt.Errorf("%s is not supported: only FREQ=YEARLY with INTERVAL, COUNT or UNTIL on the event's own date", k)
		}
	}
	if !yearly {
		return r, fmt.Errorf("FREQ is missing")
	}
	return r, nil
}
