package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDownscaleSection(t *testing.T) {
	t.Parallel()
	head := "apiVersion: purser.dev/v1alpha1\nkind: Config\ndownscale:\n"
	for _, tc := range []struct{ name, body, want string }{
		{"valid", "  gitops: pause\n  schedules:\n  - name: dev\n    schedule: Mon-Fri 20:00-08:00 Europe/Paris\n    environments: [dev]\n", ""},
		{"bad schedule", "  schedules:\n  - name: dev\n    schedule: Mon-Fri 20:00-08:00 Mars/Olympus\n    namespaces: [dev]\n",
			`t.yaml:6: downscale.schedules[0].schedule: schedule "Mon-Fri 20:00-08:00 Mars/Olympus"`},
		{"bad mode", "  gitops: fight\n", `t.yaml:4: downscale.gitops: expected skip or pause, got "fight"`},
		{"bad holiday", "  holidays: [2026-02-30]\n", `t.yaml:4: downscale.holidays[0]`},
		{"matches everything", "  schedules:\n  - name: all\n    schedule: Mon 20:00-08:00 UTC\n", `downscale.schedules[0]: matches every workload`},
		{"bad selector", "  schedules:\n  - name: s\n    schedule: Mon 20:00-08:00 UTC\n    selector: 'a in ('\n", `t.yaml:7: downscale.schedules[0].selector`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("t.yaml", []byte(head+tc.body))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid config rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDownscaleHolidays(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ics := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if err := os.WriteFile(filepath.Join(dir, "hol.ics"), []byte(ics), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.ics"), []byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261225T100000Z\nEND:VEVENT\nEND:VCALENDAR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\ndownscale:\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := Load(write("ok.yaml", "  holidays: ['2026-05-01']\n  holidaysFile: hol.ics\n"))
	if err != nil {
		t.Fatal(err)
	}
	cal, err := c.DownscaleHolidays()
	if err != nil {
		t.Fatal(err)
	}
	if !cal.Has(2026, time.May, 1) || !cal.Has(2031, time.December, 25) || cal.Has(2026, time.December, 24) {
		t.Errorf("calendar misses the list or the file's yearly event")
	}
	c, err = Load(write("bad.yaml", "  holidaysFile: bad.ics\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DownscaleHolidays(); err == nil || !strings.Contains(err.Error(), "bad.yaml:4: downscale.holidaysFile") || !strings.Contains(err.Error(), "bad.ics:3: DTSTART") {
		t.Errorf("error %v, want the config line and the file's line", err)
	}
}
