package engine

import (
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustSchedule(t *testing.T, text string) *Schedule {
	t.Helper()
	s, err := ParseSchedule(text)
	if err != nil {
		t.Fatalf("ParseSchedule(%q): %v", text, err)
	}
	return s
}

// TestScheduleDST covers the nights the clocks change in both zones: the
// window reads 20:00 to 08:00 on the wall, so it lasts 11 hours in spring
// and 13 in autumn, and the instants either side of each end are exact.
func TestScheduleDST(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, schedule string
		start, end     string // UTC instants of the window's ends
		hours          float64
	}{
		{"Paris spring forward", "Sat 20:00-08:00 Europe/Paris", "2026-03-28T19:00:00Z", "2026-03-29T06:00:00Z", 11},
		{"Paris fall back", "Sat 20:00-08:00 Europe/Paris", "2026-10-24T18:00:00Z", "2026-10-25T07:00:00Z", 13},
		{"New York spring forward", "Sat 20:00-08:00 America/New_York", "2026-03-08T01:00:00Z", "2026-03-08T12:00:00Z", 11},
		{"New York fall back", "Sat 20:00-08:00 America/New_York", "2026-11-01T00:00:00Z", "2026-11-01T13:00:00Z", 13},
		// Wall times the change skips start when the clock jumps past them.
		{"Paris skipped start", "Sun 02:30-04:00 Europe/Paris", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z", 1},
		{"New York skipped start", "Sun 02:30-05:00 America/New_York", "2026-03-08T07:00:00Z", "2026-03-08T09:00:00Z", 2},
		// Wall times the change repeats are their first occurrence.
		{"Paris repeated start", "Sun 02:30-04:00 Europe/Paris", "2026-10-25T00:30:00Z", "2026-10-25T03:00:00Z", 2.5},
		{"New York repeated start", "Sun 01:30-03:00 America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T08:00:00Z", 2.5},
		{"Paris repeated end", "Sat 22:00-02:30 Europe/Paris", "2026-10-24T20:00:00Z", "2026-10-25T00:30:00Z", 4.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mustSchedule(t, tc.schedule)
			start, end := utc(tc.start), utc(tc.end)
			for _, p := range []struct {
				at   time.Time
				want bool
			}{
				{start.Add(-time.Second), false}, {start, true}, {end.Add(-time.Second), true}, {end, false},
			} {
				got, until := s.Asleep(p.at)
				if got != p.want {
					t.Errorf("Asleep(%s) = %v, want %v", p.at, got, p.want)
				}
				if got && !until.Equal(end) {
					t.Errorf("Asleep(%s) until %s, want %s", p.at, until.UTC(), end)
				}
			}
			if h := s.SleepHours(start.Add(-time.Hour), end.Add(time.Hour)); h != tc.hours {
				t.Errorf("sleeps %v hours, want %v", h, tc.hours)
			}
			if next := s.NextSleep(start.Add(-time.Minute)); !next.Equal(start) {
				t.Errorf("NextSleep = %s, want %s", next.UTC(), start)
			}
		})
	}
}

// TestScheduleWeek walks a week of "Mon-Fri 20:00-08:00": the days name the
// night a window starts, so Friday night ends on Saturday morning and
// Sunday night is awake.
func TestScheduleWeek(t *testing.T) {
	t.Parallel()
	s := mustSchedule(t, "Mon-Fri 20:00-08:00 UTC")
	for _, tc := range []struct {
		at    string
		want  bool
		until string
	}{
		{"2026-01-05T07:59:59Z", false, ""}, // Monday morning: Sunday night is not in the list
		{"2026-01-05T08:00:00Z", false, ""},
		{"2026-01-05T19:59:59Z", false, ""},
		{"2026-01-05T20:00:00Z", true, "2026-01-06T08:00:00Z"}, // Monday night
		{"2026-01-05T23:59:59Z", true, "2026-01-06T08:00:00Z"},
		{"2026-01-06T00:00:00Z", true, "2026-01-06T08:00:00Z"}, // past midnight
		{"2026-01-06T08:00:00Z", false, ""},
		{"2026-01-09T20:00:00Z", true, "2026-01-10T08:00:00Z"}, // Friday night ends Saturday
		{"2026-01-10T07:59:59Z", true, "2026-01-10T08:00:00Z"},
		{"2026-01-10T12:00:00Z", false, ""},
		{"2026-01-11T21:00:00Z", false, ""}, // Sunday night
	} {
		got, until := s.Asleep(utc(tc.at))
		if got != tc.want || got && !until.Equal(utc(tc.until)) {
			t.Errorf("Asleep(%s) = %v until %s, want %v until %s", tc.at, got, until.UTC(), tc.want, tc.until)
		}
	}
	if h := s.SleepHours(utc("2026-01-05T00:00:00Z"), utc("2026-01-12T00:00:00Z")); h != 60 {
		t.Errorf("a week sleeps %v hours, want 60", h)
	}
	// Several windows, a wrapped range and full days.
	w := mustSchedule(t, "Fri-Mon 22:00-06:00 UTC; Sat,Sun 00:00-24:00 UTC")
	for _, tc := range []struct {
		at    string
		want  bool
		until string
	}{
		{"2026-01-09T23:00:00Z", true, "2026-01-12T06:00:00Z"}, // Friday night runs into the weekend, then Sunday night
		{"2026-01-10T12:00:00Z", true, "2026-01-12T06:00:00Z"},
		{"2026-01-12T23:00:00Z", true, "2026-01-13T06:00:00Z"}, // Monday is in Fri-Mon
		{"2026-01-13T23:00:00Z", false, ""},                    // Tuesday is not
	} {
		got, until := w.Asleep(utc(tc.at))
		if got != tc.want || got && !until.Equal(utc(tc.until)) {
			t.Errorf("%s: Asleep(%s) = %v until %s, want %v until %s", w.Text, tc.at, got, until.UTC(), tc.want, tc.until)
		}
	}
}

func TestScheduleHolidays(t *testing.T) {
	t.Parallel()
	list, err := ParseDates([]string{"2026-01-12"})
	if err != nil {
		t.Fatal(err)
	}
	ics, err := ParseICS("holidays.ics", []byte(strings.Join([]string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN",
		"BEGIN:VEVENT", "UID:xmas", "SUMMARY:Christmas", "DTSTART;VALUE=DATE:20201225", "RRULE:FREQ=YEARLY", "END:VEVENT",
		"BEGIN:VEVENT", "UID:break", "SUMMARY:Winter", "DTSTART;VALUE=DATE:20260216",
		"DTEND;VALUE=DATE:20", " 260218", // folded line
		"END:VEVENT",
		"BEGIN:VEVENT", "DTSTART;VALUE=DATE:20240704", "RRULE:FREQ=YEARLY;INTERVAL=2;COUNT=3", "END:VEVENT",
		"END:VCALENDAR",
	}, "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		cal   *Calendar
		at    string
		want  bool
		until string
	}{
		{"listed Monday", list, "2026-01-12T03:00:00Z", true, "2026-01-13T07:00:00Z"}, // holiday then Monday night, Paris time
		{"listed Monday noon", list, "2026-01-12T11:00:00Z", true, "2026-01-13T07:00:00Z"},
		{"day after", list, "2026-01-13T11:00:00Z", false, ""},
		{"yearly Christmas", ics, "2026-12-25T11:00:00Z", true, "2026-12-26T07:00:00Z"},
		{"before the first Christmas", ics, "2019-12-25T11:00:00Z", false, ""},
		{"two-day break, second day", ics, "2026-02-17T11:00:00Z", true, "2026-02-18T07:00:00Z"},
		{"DTEND is exclusive", ics, "2026-02-18T11:00:00Z", false, ""},
		{"every other year", ics, "2026-07-04T11:00:00Z", true, "2026-07-04T22:00:00Z"},
		{"off year", ics, "2025-07-04T11:00:00Z", false, ""},
		{"past COUNT", ics, "2030-07-04T11:00:00Z", false, ""},
	} {
		s := mustSchedule(t, "Mon-Fri 20:00-08:00 Europe/Paris")
		s.Holidays = tc.cal
		got, until := s.Asleep(utc(tc.at))
		if got != tc.want || got && !until.Equal(utc(tc.until)) {
			t.Errorf("%s: Asleep(%s) = %v until %s, want %v until %s", tc.name, tc.at, got, until.UTC(), tc.want, tc.until)
		}
	}
}

func TestScheduleMalformed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"", "empty schedule"},
		{"Mon-Fri 20:00-08:00", "expected three parts"},
		{"Mon-Fry 20:00-08:00 UTC", `day "Fry"`},
		{"Mon-Fri 20:00 UTC", "expected HH:MM-HH:MM"},
		{"Mon-Fri 25:00-08:00 UTC", `time "25:00"`},
		{"Mon-Fri 8:00-20:00 UTC", `time "8:00"`},
		{"Mon-Fri 20:00-20:00 UTC", "empty window"},
		{"Mon-Fri 20:00-08:00 Europe/Pariss", `time zone "Europe/Pariss"`},
		{"Mon-Fri 20:00-08:00 Local", `time zone "Local"`},
		{"Mon-Fri 20:00-08:00 UTC;", "expected three parts"},
	} {
		if _, err := ParseSchedule(tc.text); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSchedule(%q) = %v, want an error with %q", tc.text, err, tc.want)
		}
	}
	for _, tc := range []struct{ ics, want string }{
		{"BEGIN:VEVENT\nEND:VEVENT", "expected BEGIN:VCALENDAR on line 1"},
		{"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261225T090000Z\nEND:VEVENT\nEND:VCALENDAR", "holidays.ics:3: DTSTART"},
		{"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261125\nRRULE:FREQ=YEARLY;BYDAY=4TH\nEND:VEVENT\nEND:VCALENDAR", "holidays.ics:4: RRULE"},
		{"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261125\nRRULE:FREQ=WEEKLY\nEND:VEVENT\nEND:VCALENDAR", "only YEARLY"},
		{"BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR", "holidays.ics:2: event without DTSTART"},
		{"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261125\nEND:VCALENDAR", "holidays.ics:2: event without END:VEVENT"},
		{"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261125\nEXDATE;VALUE=DATE:20271125\nEND:VEVENT\nEND:VCALENDAR", "EXDATE is not supported"},
	} {
		if _, err := ParseICS("holidays.ics", []byte(tc.ics)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseICS(%q) = %v, want an error with %q", tc.ics, err, tc.want)
		}
	}
	if _, err := ParseDates([]string{"2026-01-01", "2026-13-01"}); err == nil || !strings.Contains(err.Error(), `holidays[1] "2026-13-01"`) {
		t.Errorf("ParseDates: %v, want an error naming holidays[1]", err)
	}
}
